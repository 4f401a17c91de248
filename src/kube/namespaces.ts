/**
 * Namespace objects, for their annotations (kube-job-alerts.io/route, /mention, /runbook): one cluster-wide informer,
 * run only when config.namespaceAnnotations is true (WATCH_NAMESPACES=*; RBAC then grants namespaces get, list and
 * watch through the ClusterRole, see deploy/components/namespace-annotations).
 *
 * Why an informer and not a read per alert: a storm of failures in one namespace would read the same object once
 * per Job, and a cluster has few Namespaces that rarely change. Why a read when the cache misses: a Namespace and a
 * Job in it can be created together and fail at once, before the Namespace's watch event arrives.
 *
 * Callers get only what routing needs (name and annotations, the shape route/owners.ts reads), and the informer's
 * cache holds only that too (slim.ts slimNamespace): a Namespace's other annotations (last-applied-configuration,
 * a policy engine's) can be large.
 */
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { describeError, statusOf, withTimeout, type KubeClients } from './client.ts';
import { Informer } from './informer.ts';
import { slimNamespace } from './slim.ts';

/** What routing reads of a Namespace: the shape route/owners.ts calls Annotated. */
export interface NamespaceAnnotations {
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> };
}

export interface NamespaceWatchOptions {
  readonly clients: KubeClients;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly silenceMs?: number;
  /** A direct read (cache miss) gives up after this long. */
  readonly callTimeoutMs?: number;
}

export class NamespaceWatch {
  readonly #informer: Informer<KubernetesObject>;
  readonly #clients: KubeClients;
  readonly #logger: Logger;
  readonly #callTimeoutMs: number;

  constructor(options: NamespaceWatchOptions) {
    const { clients, logger, metrics, silenceMs } = options;
    this.#clients = clients;
    this.#logger = logger;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#informer = new Informer<KubernetesObject>({
      resource: 'namespaces',
      path: '/api/v1/namespaces',
      slim: slimNamespace,
      kubeconfig: clients.config,
      logger: logger.child({ informer: 'namespaces' }),
      ...(metrics ? { metrics } : {}),
      ...(silenceMs !== undefined ? { silenceMs } : {}),
    });
  }

  get resource(): string {
    return this.#informer.resource;
  }

  get synced(): boolean {
    return this.#informer.synced;
  }

  whenSynced(): Promise<void> {
    return this.#informer.whenSynced();
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  /**
   * The Namespace's name and annotations, from the cache or else from the API server; undefined when it is gone or
   * cannot be read (logged: the alert is then routed without the Namespace's annotations, never held back).
   */
  async namespace(name: string, signal?: AbortSignal): Promise<NamespaceAnnotations | undefined> {
    const cached = this.#informer.get(name);
    if (cached) return slim(cached);
    try {
      return slim(await withTimeout(this.#clients.core.readNamespace({ name }), this.#callTimeoutMs, signal));
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.#logger.warn({ namespace: name, err: describeError(error) }, 'could not read the Namespace: its route, mention and runbook annotations are not used for this alert');
      }
      return undefined;
    }
  }
}

function slim(namespace: V1Namespace | KubernetesObject): NamespaceAnnotations {
  const name = namespace.metadata?.name ?? '';
  const annotations = namespace.metadata?.annotations;
  return { metadata: annotations ? { name, annotations } : { name } };
}

/**
 * The informers the daemon runs: Jobs (the subject) and CronJobs (their annotations, schedule and story), in each
 * watched namespace or cluster-wide. Their caches hold slim copies (slim.ts), and their events, slim copies too, go
 * to the record cache (record-cache.ts), which the workers read. And whether they work right now (`notReady()`, what
 * /readyz says).
 */
import type { KubernetesObject, V1CronJob } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { BackoffPolicy } from '../queue/backoff.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { errorForLog, statusOf, withTimeout, type KubeClients } from './client.ts';
import { Informer, type InformerHealth } from './informer.ts';
import { identity, slimCronJob, slimJob } from './slim.ts';

export interface JobWatchOptions {
  readonly clients: KubeClients;
  readonly namespaces: readonly string[] | 'all';
  /** A Job's slim copy (slim.ts slimJob): what detection, routing and the messages read of it. */
  readonly onJob: (job: KubernetesObject) => void;
  readonly onJobDeleted: (job: KubernetesObject) => void;
  readonly onCronJob?: (cronJob: KubernetesObject) => void;
  readonly onCronJobDeleted?: (cronJob: KubernetesObject) => void;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly silenceMs?: number;
  /** Bounds the one direct read (a CronJob not yet cached). */
  readonly callTimeoutMs?: number;
  /** JOB_LABEL_SELECTOR and the exact EXCLUDE_NAMESPACES, sent to the API server (route/watched.ts jobListOptions). */
  readonly jobSelectors?: { readonly labelSelector?: string; readonly fieldSelector?: string };
  /** settings.informer: restart backoff, list deadline, and NOT_READY_AFTER. */
  readonly restartBackoff?: BackoffPolicy;
  readonly listTimeoutMs?: number;
  /** Objects per list page (default settings.informer.pageSize). */
  readonly pageSize?: number;
  readonly notReadyAfterMs?: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

export class JobWatch {
  readonly #jobs: Informer<KubernetesObject>[] = [];
  readonly #cronJobs = new Map<string, Informer<KubernetesObject>>();
  readonly #clients: KubeClients;
  readonly #logger: Logger;
  readonly #callTimeoutMs: number;
  readonly #notReadyAfterMs: number;
  readonly #now: () => number;

  constructor(options: JobWatchOptions) {
    const { clients, logger, metrics, silenceMs, listTimeoutMs, pageSize, now } = options;
    this.#clients = clients;
    this.#logger = logger;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    // /metrics' ready gauge says what /readyz says (this object is /readyz's source too).
    metrics.reportReadiness(() => this.notReady().length === 0);
    this.#notReadyAfterMs = options.notReadyAfterMs ?? DEFAULT_SETTINGS.informer.notReadyAfterMs;
    this.#now = now ?? Date.now;
    const scopes: (string | undefined)[] = options.namespaces === 'all' ? [undefined] : [...options.namespaces];
    // A namespace exclusion (field selector) only applies to the cluster-wide list; the label selector to every one.
    const { labelSelector, fieldSelector } = options.jobSelectors ?? {};
    const selectors = {
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector && options.namespaces === 'all' ? { fieldSelector } : {}),
    };
    for (const namespace of scopes) {
      const where = namespace === undefined ? '' : `/namespaces/${namespace}`;
      const common = { kubeconfig: clients.config, metrics, silenceMs, listTimeoutMs, pageSize, backoff: options.restartBackoff, now };
      // Labels are kept only where the cache's edge matches JOB_LABEL_SELECTOR again (route/watched.ts isJobWatched).
      const keepLabels = labelSelector !== undefined;
      this.#cronJobs.set(
        namespace ?? '*',
        new Informer<KubernetesObject>({
          ...common,
          resource: `cronjobs${namespace ? `/${namespace}` : ''}`,
          path: `/apis/batch/v1${where}/cronjobs`,
          slim: slimCronJob,
          keep: identity, // record-cache.ts keeps the record
          logger: logger.child({ informer: 'cronjobs', namespace: namespace ?? '*' }),
          onAdd: options.onCronJob,
          onUpdate: options.onCronJob,
          onDelete: options.onCronJobDeleted,
        }),
      );
      this.#jobs.push(
        new Informer<KubernetesObject>({
          ...common,
          resource: `jobs${namespace ? `/${namespace}` : ''}`,
          path: `/apis/batch/v1${where}/jobs`,
          slim: (job) => slimJob(job, { labels: keepLabels }),
          keep: identity, // record-cache.ts keeps the record
          ...selectors,
          logger: logger.child({ informer: 'jobs', namespace: namespace ?? '*' }),
          onAdd: options.onJob,
          onUpdate: options.onJob,
          onDelete: options.onJobDeleted,
        }),
      );
    }
  }

  get #all(): Informer<KubernetesObject>[] {
    return [...this.#cronJobs.values(), ...this.#jobs];
  }

  /** Starts every informer; a failed first list is retried by the informer itself. */
  async start(): Promise<void> {
    await Promise.all(this.#all.map((informer) => informer.start()));
  }

  /** Resolves once every informer has listed: then the caches hold the cluster. */
  async whenSynced(): Promise<void> {
    await Promise.all(this.#all.map((informer) => informer.whenSynced()));
  }

  /** Why the daemon should not be counted on right now (see notReadyReasons); empty when ready. */
  notReady(): readonly string[] {
    return notReadyReasons(this.#all.map((informer) => informer.health()), this.#now(), this.#notReadyAfterMs);
  }

  /**
   * The CronJob from the API server, for one the cache does not hold yet: a CronJob and its first Job can be
   * created together, and its watch event may arrive after the Job's. Undefined when it is gone (404); any other
   * error throws, so the caller retries the whole decision later rather than judge without the CronJob.
   */
  async readCronJob(namespace: string, name: string): Promise<V1CronJob | undefined> {
    try {
      return await withTimeout(this.#clients.batch.readNamespacedCronJob({ name, namespace }), this.#callTimeoutMs);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      this.#logger.warn({ cronJob: `${namespace}/${name}`, err: errorForLog(error) }, 'could not read the CronJob: retrying');
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all.map((informer) => informer.stop()));
  }
}

/**
 * One line per informer in trouble; empty when ready. An informer is in trouble until its first list, and once it has
 * been unable to list or watch for `notReadyAfterMs` or longer: a short outage, a relist or a dropped watch is not
 * worth taking the pod out of service for, two minutes of 500s, 401s or a hung list are.
 */
export function notReadyReasons(healths: readonly InformerHealth[], nowMs: number, notReadyAfterMs: number): string[] {
  const reasons: string[] = [];
  for (const { resource, synced, unableSince, lastError, listing } of healths) {
    if (!synced) reasons.push(`${resource}: waiting for the first list${lastError === undefined ? '' : `: ${lastError}`}`);
    else if (unableSince !== undefined && nowMs - unableSince >= notReadyAfterMs) {
      const why = lastError ?? (listing ? 'a list has not answered yet' : 'unknown');
      reasons.push(`${resource}: unable to list or watch for ${seconds(nowMs - unableSince)} s: ${why}`);
    }
  }
  return reasons;
}

/** 0.4, 9.5, 130: tenths only where they matter. */
function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

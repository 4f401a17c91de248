/**
 * The informers the daemon runs: Jobs (the subject) and CronJobs (their annotations, schedule and story), in each
 * watched namespace or cluster-wide. Their events go to the record cache (record-cache.ts), which the workers read.
 */
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { describeError, statusOf, withTimeout, type KubeClients } from './client.ts';
import { Informer } from './informer.ts';

export interface JobWatchOptions {
  readonly clients: KubeClients;
  readonly namespaces: readonly string[] | 'all';
  readonly onJob: (job: V1Job) => void;
  readonly onJobDeleted: (job: V1Job) => void;
  readonly onCronJob?: (cronJob: V1CronJob) => void;
  readonly onCronJobDeleted?: (cronJob: V1CronJob) => void;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly silenceMs?: number;
  /** Bounds the one direct read (a CronJob not yet cached). */
  readonly callTimeoutMs?: number;
  /** JOB_LABEL_SELECTOR and the exact EXCLUDE_NAMESPACES, sent to the API server (route/watched.ts jobListOptions). */
  readonly jobSelectors?: { readonly labelSelector?: string; readonly fieldSelector?: string };
}

export class JobWatch {
  readonly #jobs: Informer<V1Job>[] = [];
  readonly #cronJobs = new Map<string, Informer<V1CronJob>>();
  readonly #clients: KubeClients;
  readonly #logger: Logger;
  readonly #callTimeoutMs: number;

  constructor(options: JobWatchOptions) {
    const { clients, logger, metrics, silenceMs } = options;
    this.#clients = clients;
    this.#logger = logger;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    // /metrics' ready gauge says what /readyz says (this object is /readyz's source too).
    metrics.reportReadiness(() => this.notSynced().length === 0);
    const scopes: (string | undefined)[] = options.namespaces === 'all' ? [undefined] : [...options.namespaces];
    // A namespace exclusion (field selector) only applies to the cluster-wide list; the label selector to every one.
    const { labelSelector, fieldSelector } = options.jobSelectors ?? {};
    const selectors = {
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector && options.namespaces === 'all' ? { fieldSelector } : {}),
    };
    for (const namespace of scopes) {
      const where = namespace === undefined ? '' : `/namespaces/${namespace}`;
      const common = { kubeconfig: clients.config, metrics, silenceMs };
      this.#cronJobs.set(
        namespace ?? '*',
        new Informer<V1CronJob>({
          ...common,
          resource: `cronjobs${namespace ? `/${namespace}` : ''}`,
          path: `/apis/batch/v1${where}/cronjobs`,
          list: () => (namespace ? clients.batch.listNamespacedCronJob({ namespace }) : clients.batch.listCronJobForAllNamespaces()),
          logger: logger.child({ informer: 'cronjobs', namespace: namespace ?? '*' }),
          onAdd: options.onCronJob,
          onUpdate: options.onCronJob,
          onDelete: options.onCronJobDeleted,
        }),
      );
      this.#jobs.push(
        new Informer<V1Job>({
          ...common,
          resource: `jobs${namespace ? `/${namespace}` : ''}`,
          path: `/apis/batch/v1${where}/jobs`,
          list: () => (namespace ? clients.batch.listNamespacedJob({ namespace, ...selectors }) : clients.batch.listJobForAllNamespaces({ ...selectors })),
          ...selectors,
          logger: logger.child({ informer: 'jobs', namespace: namespace ?? '*' }),
          onAdd: options.onJob,
          onUpdate: options.onJob,
          onDelete: options.onJobDeleted,
        }),
      );
    }
  }

  get #all(): Informer<V1Job | V1CronJob>[] {
    return [...this.#cronJobs.values(), ...this.#jobs] as Informer<V1Job | V1CronJob>[];
  }

  /** Starts every informer; a failed first list is retried by the informer itself. */
  async start(): Promise<void> {
    await Promise.all(this.#all.map((informer) => informer.start()));
  }

  /** Resolves once every informer has listed: then the caches hold the cluster. */
  async whenSynced(): Promise<void> {
    await Promise.all(this.#all.map((informer) => informer.whenSynced()));
  }

  notSynced(): readonly string[] {
    return this.#all.filter((informer) => !informer.synced).map((informer) => informer.resource);
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
      this.#logger.warn({ cronJob: `${namespace}/${name}`, err: describeError(error) }, 'could not read the CronJob: retrying');
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all.map((informer) => informer.stop()));
  }
}

/**
 * The slim cache the workers read: each Job and CronJob as the record decisions use (detect/records.ts), indexed
 * the ways the workers look them up: a Job by UID, a CronJob by namespace/name, and a CronJob's runs.
 *
 * Informer events go through here, and here only: an object is reduced to its record at the edge, so the rest of
 * the daemon never holds a whole Job. Malformed objects are dropped with one warning naming them.
 */
import { cronJobRecord, jobRecord, type CronJobRecord, type JobRecord } from '../detect/records.ts';
import type { Logger } from '../log.ts';

export interface RecordCacheListener {
  job(record: JobRecord, previous: JobRecord | undefined): void;
  jobDeleted(record: JobRecord): void;
  cronJob(record: CronJobRecord, previous: CronJobRecord | undefined): void;
  cronJobDeleted(record: CronJobRecord): void;
}

export const cronJobKeyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export class RecordCache {
  readonly #jobs = new Map<string, JobRecord>();
  readonly #runs = new Map<string, Set<string>>();
  readonly #cronJobs = new Map<string, CronJobRecord>();
  readonly #logger: Logger;
  readonly #accept: (object: unknown) => boolean;
  #listener: RecordCacheListener | undefined;

  /** `accept`: the edge filter for what the API server cannot select (EXCLUDE_NAMESPACES prefixes such as `sandbox-*`). */
  constructor(logger: Logger, accept: (object: unknown) => boolean = () => true) {
    this.#logger = logger;
    this.#accept = accept;
  }

  /** Who hears about changes (the controller); set once, before the informers start. */
  listen(listener: RecordCacheListener): void {
    this.#listener = listener;
  }

  /** Informer add/update of a Job. Never throws. */
  putJob(object: unknown): void {
    if (!this.#accept(object)) return;
    const record = this.#read(object, jobRecord, 'Job');
    if (!record) return;
    const previous = this.#jobs.get(record.uid);
    // Our own writes and resyncs come back with the same or a newer resourceVersion; the same one is no news.
    if (previous && previous.resourceVersion !== undefined && previous.resourceVersion === record.resourceVersion) return;
    this.#jobs.set(record.uid, record);
    if (record.cronJob !== undefined) this.#runsOf(record.namespace, record.cronJob, true)!.add(record.uid);
    this.#listener?.job(record, previous);
  }

  deleteJob(object: unknown): void {
    const record = this.#read(object, jobRecord, 'Job');
    if (!record) return;
    const known = this.#jobs.get(record.uid) ?? record;
    this.#jobs.delete(record.uid);
    if (known.cronJob !== undefined) {
      const runs = this.#runsOf(known.namespace, known.cronJob, false);
      runs?.delete(known.uid);
      if (runs?.size === 0) this.#runs.delete(cronJobKeyOf(known.namespace, known.cronJob));
    }
    this.#listener?.jobDeleted(known);
  }

  putCronJob(object: unknown): void {
    const record = this.#read(object, cronJobRecord, 'CronJob');
    if (!record) return;
    const key = cronJobKeyOf(record.namespace, record.name);
    const previous = this.#cronJobs.get(key);
    this.#cronJobs.set(key, record);
    this.#listener?.cronJob(record, previous);
  }

  deleteCronJob(object: unknown): void {
    const record = this.#read(object, cronJobRecord, 'CronJob');
    if (!record) return;
    this.#cronJobs.delete(cronJobKeyOf(record.namespace, record.name));
    this.#listener?.cronJobDeleted(record);
  }

  job(uid: string): JobRecord | undefined {
    return this.#jobs.get(uid);
  }

  cronJob(namespace: string, name: string): CronJobRecord | undefined {
    return this.#cronJobs.get(cronJobKeyOf(namespace, name));
  }

  /** The cached Jobs owned by this CronJob. */
  runsOf(namespace: string, cronJob: string): JobRecord[] {
    return [...(this.#runsOf(namespace, cronJob, false) ?? [])].map((uid) => this.#jobs.get(uid)).filter((run): run is JobRecord => run !== undefined);
  }

  get size(): { jobs: number; cronJobs: number } {
    return { jobs: this.#jobs.size, cronJobs: this.#cronJobs.size };
  }

  #runsOf(namespace: string, cronJob: string, create: boolean): Set<string> | undefined {
    const key = cronJobKeyOf(namespace, cronJob);
    let runs = this.#runs.get(key);
    if (!runs && create) this.#runs.set(key, (runs = new Set()));
    return runs;
  }

  #read<T>(object: unknown, read: (object: unknown) => T | undefined, kind: string): T | undefined {
    try {
      const record = read(object);
      if (record === undefined) this.#logger.warn({ kind, name: describe(object) }, `ignored a ${kind} object without a name or uid`);
      return record;
    } catch (error) {
      this.#logger.warn({ kind, name: describe(object), err: String(error) }, `could not read a ${kind} object: ignored`);
      return undefined;
    }
  }
}

function describe(object: unknown): string {
  const metadata = (object as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
  return `${String(metadata?.namespace ?? '?')}/${String(metadata?.name ?? '?')}`;
}

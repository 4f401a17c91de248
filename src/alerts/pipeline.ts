/**
 * The alert corridor's middle: from "the informer holds this Job" to "Slack has it, and it is marked".
 *
 * Informer handlers only call observe(): it reads the Job's conditions (pure, cheap) and queues failed Jobs by
 * UID. Alerting on the *transition* to failed is done by keying: a UID is alerted once, whatever number of times
 * the informer replays it (initial list, 410 relists, resyncs, label edits, our own annotation patch).
 * Workers do the I/O (evidence, Slack, the mark), and start only once the caches have synced, so the opt-out
 * annotation on a CronJob is known before any of its Jobs is judged.
 */
import type { Alert, Clock, Evidence, JobFailure } from '../alert.ts';
import { failureOf, isOptedOut } from '../detect/failure.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { buildAlert } from '../slack/format.ts';
import type { Deliverer } from '../slack/deliver.ts';
import type { AlertMarks } from '../state/marks.ts';

export interface PipelineOptions {
  readonly clusterName: string | undefined;
  /** Failures older than this when first seen (at start, after an outage) are not alerted. */
  readonly maxAgeMs: number;
  readonly marks: AlertMarks;
  readonly deliverer: Deliverer;
  /** Best effort, never throws: what is missing is said in Evidence.notes. */
  readonly gatherEvidence: (failure: JobFailure, signal: AbortSignal) => Promise<Evidence>;
  /** The owning CronJob, for its opt-out annotation; undefined when it is gone or cannot be read. */
  readonly cronJobOf: (namespace: string, name: string) => Promise<unknown>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly workers?: number;
}

/** Why a UID needs no more work in this process. */
type Settled = 'alerted' | 'too_old' | 'gave_up';

export class AlertPipeline {
  readonly #options: PipelineOptions;
  /** Failed Jobs waiting for a worker, by UID, with the newest object seen. */
  readonly #pending = new Map<string, unknown>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #settled = new Map<string, Settled>();
  readonly #abort = new AbortController();
  #running = false;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  /** Informer add/update: queue the Job if it has failed and still needs an alert. Never throws. */
  observe(job: unknown): void {
    let failure: JobFailure | undefined;
    try {
      failure = failureOf(job);
    } catch (error) {
      this.#options.logger.warn({ err: String(error) }, 'could not read a Job object: ignored');
      return;
    }
    if (!failure || this.#settled.has(failure.uid)) return;
    this.#pending.set(failure.uid, job);
    this.#options.metrics.queueDepth.set(this.#pending.size);
    this.#pump();
  }

  /** Informer delete: the UID will not come back. A queued failure is still alerted (its evidence may be gone). */
  forget(job: unknown): void {
    const uid = (job as { metadata?: { uid?: unknown } } | null)?.metadata?.uid;
    if (typeof uid !== 'string' || this.#pending.has(uid) || this.#inFlight.has(uid)) return;
    this.#settled.delete(uid);
    this.#options.marks.forget(uid);
  }

  /** Start the workers: call once the informer caches have synced. */
  start(): void {
    this.#running = true;
    this.#pump();
  }

  get queued(): number {
    return this.#pending.size;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Stop taking work; give in-flight alerts `graceMs` to finish, then abort them. An aborted alert is not marked,
   * so the next process picks it up (if it is younger than ALERT_MAX_AGE then).
   */
  async stop(graceMs: number): Promise<void> {
    this.#running = false;
    const inFlight = Promise.allSettled(this.#inFlight.values());
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([inFlight, grace]);
    clearTimeout(timer);
    this.#abort.abort();
    await inFlight;
  }

  #pump(): void {
    const workers = this.#options.workers ?? 4;
    while (this.#running && this.#inFlight.size < workers) {
      const next = this.#nextPending();
      if (next === undefined) return;
      const job = this.#pending.get(next);
      this.#pending.delete(next);
      this.#options.metrics.queueDepth.set(this.#pending.size);
      const work = this.#alertOnce(next, job).finally(() => {
        this.#inFlight.delete(next);
        this.#pump();
      });
      this.#inFlight.set(next, work);
    }
  }

  /** The oldest queued UID not being worked on: at most `workers` steps, whatever the queue's length. */
  #nextPending(): string | undefined {
    for (const uid of this.#pending.keys()) if (!this.#inFlight.has(uid)) return uid;
    return undefined;
  }

  async #alertOnce(uid: string, job: unknown): Promise<void> {
    const { marks, logger, metrics, clock } = this.#options;
    const failure = failureOf(job);
    if (!failure || this.#settled.has(uid)) return;
    const key = `${failure.namespace}/${failure.name}`;
    try {
      if (marks.isMarked(uid, job)) {
        metrics.alertsSkipped.inc({ why: 'already_alerted' });
        this.#settled.set(uid, 'alerted');
        return;
      }
      const cronJob = failure.cronJob === undefined ? undefined : await this.#options.cronJobOf(failure.namespace, failure.cronJob);
      if (isOptedOut(job, cronJob)) {
        // Not settled: the annotation may be removed again while the Job is still recent.
        metrics.alertsSkipped.inc({ why: 'opted_out' });
        logger.debug({ job: key }, 'job failed, but alerts are disabled for it by annotation');
        return;
      }
      const ageMs = clock.now().getTime() - (failure.failedAt ?? clock.now()).getTime();
      if (ageMs > this.#options.maxAgeMs) {
        this.#settled.set(uid, 'too_old');
        metrics.alertsSkipped.inc({ why: 'too_old' });
        logger.debug({ job: key, failedAt: failure.failedAt }, 'job failed before ALERT_MAX_AGE: not alerted');
        return;
      }
      metrics.failuresDetected.inc({ reason: failure.reason });
      logger.info({ job: key, uid, reason: failure.reason, cronJob: failure.cronJob }, 'job failed');
      const evidence = await this.#options.gatherEvidence(failure, this.#abort.signal);
      const alert: Alert = { cluster: this.#options.clusterName, failure, evidence };
      const result = await this.#options.deliverer.deliver(buildAlert(alert), this.#abort.signal);
      if (result.ok) {
        this.#settled.set(uid, 'alerted');
        await marks.mark(failure, clock);
        logger.info({ job: key, uid }, 'alert delivered');
      } else if (result.permanent) {
        this.#settled.set(uid, 'gave_up');
      } else {
        logger.info({ job: key, uid }, 'alert not delivered before shutdown: the next start will send it');
      }
    } catch (error) {
      // A bug or an odd object must not stop the other alerts, nor spin on this one.
      this.#settled.set(uid, 'gave_up');
      metrics.alertsFailed.inc({ reason: 'internal_error' });
      logger.error({ job: key, uid, err: error instanceof Error ? error.stack : String(error) }, 'could not alert this failure');
    }
  }
}

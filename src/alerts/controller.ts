/**
 * The workers: a key from the queue -> the records from the cache -> decide (pure) -> evidence (best effort) ->
 * the outbox (render, send) -> marks, once the transport answered. The corridor's middle, in sample-controller's
 * shape.
 *
 * - Informer events only enqueue keys (`job/<uid>` for a standalone Job, `cronjob/<namespace>/<name>` for a
 *   CronJob and all its runs); nothing is decided in a handler. Keys are processed one worker at a time each, so a
 *   CronJob's story has a single writer.
 * - Alerting is on the transition to failed, by key and marks: the initial list, every 410 relist and our own
 *   patches replay objects, and each replay finds the failure decided already.
 * - ALERT_MAX_AGE is judged against the time this process first saw the failure, never against the time a worker
 *   got to it: a failure seen live is not dropped for waiting.
 * - Errors a retry can fix (an API call that failed) requeue the key with backoff; anything else is logged and
 *   absorbed: the daemon never dies of one object.
 */
import type { Evidence, JobFailure } from '../alert.ts';
import type { Addressed } from './addressing.ts';
import { decide, type Decision, type Subject, type Verdict } from '../decide/decide.ts';
import type { PolicyDefaults } from '../decide/policy.ts';
import { knows, withOutcome, withSettled, type Story } from '../decide/story.ts';
import type { CronJobRecord, JobRecord } from '../detect/records.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { subjectOf, type CronJobContext, type Notification } from '../notify/notification.ts';
import type { SendResult } from '../notify/transport.ts';
import type { BackoffPolicy } from '../queue/backoff.ts';
import { WorkQueue, type QueueTimers } from '../queue/workqueue.ts';
import type { Marks } from '../state/marks.ts';
import type { Clock } from '../time.ts';

export type SubjectKey = `job/${string}` | `cronjob/${string}/${string}`;

export const jobKey = (uid: string): SubjectKey => `job/${uid}`;
export const cronJobKey = (namespace: string, name: string): SubjectKey => `cronjob/${namespace}/${name}`;

export function parseKey(key: SubjectKey): { kind: 'job'; uid: string } | { kind: 'cronjob'; namespace: string; name: string } {
  if (key.startsWith('job/')) return { kind: 'job', uid: key.slice(4) };
  const [, namespace = '', name = ''] = key.split('/');
  return { kind: 'cronjob', namespace, name };
}

/** What the workers read: the slim cache (kube/record-cache.ts). */
export interface Records {
  job(uid: string): JobRecord | undefined;
  cronJob(namespace: string, name: string): CronJobRecord | undefined;
  runsOf(namespace: string, cronJob: string): JobRecord[];
}

/** Where decided notifications go (notify/outbox.ts). */
export interface Sender {
  send(notification: Notification): void;
}

export interface ControllerOptions {
  readonly records: Records;
  /** A CronJob missing from the cache, from the API (bounded in time); undefined when it is gone. Throws to retry. */
  readonly readCronJob: (namespace: string, name: string) => Promise<CronJobRecord | undefined>;
  readonly marks: Marks;
  readonly sender: Sender;
  /** Captured once per failure (alerts/evidence-store.ts); never throws. */
  readonly evidence: (failure: JobFailure, signal: AbortSignal) => Promise<Evidence>;
  readonly forgetEvidence: (uid: string) => void;
  /** Where a notification goes (its route, a copy, mentions, links): alerts/addressing.ts, with the Namespace read. */
  readonly address: (notification: Notification, objects: { job?: JobRecord; cronJob?: CronJobRecord }, signal: AbortSignal) => Promise<Addressed>;
  /** The CronJob's next scheduled run after `after`, when its schedule can be read. */
  readonly nextRun: (cronJob: CronJobRecord, after: Date) => Date | undefined;
  readonly policy: PolicyDefaults;
  readonly cluster: string | undefined;
  readonly workers: number;
  readonly requeueBackoff: BackoffPolicy;
  /** A key that keeps failing is given up after this many retries (a bug, not a passing fault). */
  readonly maxRetries?: number;
  readonly clock: Clock;
  readonly timers?: QueueTimers;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Failed Jobs deleted before they were decided, kept so their failure is still reported (bounded). */
const MAX_TOMBSTONES = 1000;

export class AlertController {
  readonly #options: ControllerOptions;
  readonly #queue: WorkQueue<SubjectKey>;
  readonly #firstSeen = new Map<string, Date>();
  readonly #tombstones = new Map<string, JobRecord>();
  /** What was logged about each Job (skip reasons), so each is said once per process; warnings under ''. */
  readonly #said = new Map<string, Set<string>>();
  readonly #abort = new AbortController();
  readonly #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#queue = new WorkQueue<SubjectKey>({
      backoff: options.requeueBackoff,
      timers: options.timers,
      onDepth: (depth) => options.metrics.queueDepth.set(depth),
    });
  }

  // --- informer side: records in, keys out; no I/O, no decisions ---------------------------------------------

  job(record: JobRecord, previous: JobRecord | undefined): void {
    if (record.state === 'active') return;
    if (record.state === 'failed' && !this.#firstSeen.has(record.uid)) this.#firstSeen.set(record.uid, this.#options.clock.now());
    if (previous?.state === record.state && previous.annotations.alertedAt === record.annotations.alertedAt && previous.suspended === record.suspended) {
      return; // nothing a decision reads has changed (a label edit, our own story patch on the CronJob side)
    }
    this.#queue.add(record.cronJob === undefined ? jobKey(record.uid) : cronJobKey(record.namespace, record.cronJob));
  }

  jobDeleted(record: JobRecord): void {
    const pending = record.state === 'failed' && !this.#options.marks.isDecided(record.uid) && record.annotations.alertedAt === undefined;
    if (pending && this.#tombstones.size < MAX_TOMBSTONES) {
      this.#tombstones.set(record.uid, record);
      this.#queue.add(record.cronJob === undefined ? jobKey(record.uid) : cronJobKey(record.namespace, record.cronJob));
      return;
    }
    this.#forget(record.uid);
  }

  cronJob(record: CronJobRecord, previous: CronJobRecord | undefined): void {
    // Its opt-out or policy annotations changed: undecided runs are judged again. Our own story writes are no news.
    if (previous && JSON.stringify({ ...previous.annotations, story: undefined }) === JSON.stringify({ ...record.annotations, story: undefined })) return;
    if (this.#options.records.runsOf(record.namespace, record.name).some((run) => run.state !== 'active')) this.#queue.add(cronJobKey(record.namespace, record.name));
  }

  cronJobDeleted(record: CronJobRecord): void {
    this.#options.marks.forgetCronJob(`${record.namespace}/${record.name}`);
  }

  // --- workers ------------------------------------------------------------------------------------------------

  /** Starts the workers: call once the caches have synced, so every decision sees the whole cluster. */
  start(): void {
    for (let i = 0; i < this.#options.workers; i++) this.#workers.push(this.#work());
  }

  get queued(): number {
    return this.#queue.depth;
  }

  /** Keys queued (ready, not waiting for a time) or being processed: 0 when the workers have caught up. */
  get busy(): number {
    return this.#queue.depth - this.#queue.waiting + this.#queue.processing;
  }

  /** Stops taking keys; workers finish the key in hand (or give up at `graceMs`, when their API calls abort). */
  async stop(graceMs: number): Promise<void> {
    this.#queue.shutDown();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.#workers), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.#abort.abort();
    await Promise.allSettled(this.#workers);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        await this.#sync(key);
        this.#queue.forget(key);
      } catch (error) {
        this.#retryLater(key, error);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  #retryLater(key: SubjectKey, error: unknown): void {
    const retries = this.#queue.retries(key);
    const err = error instanceof Error ? error.message : String(error);
    if (retries >= (this.#options.maxRetries ?? 12)) {
      this.#queue.forget(key);
      this.#options.metrics.alertsFailed.inc({ slack_error: 'internal_error' });
      this.#options.logger.error({ key, err, retries }, 'giving up on this object after repeated errors');
      return;
    }
    this.#options.logger.warn({ key, err, retry: retries + 1 }, 'could not process this object: retrying with backoff');
    this.#queue.addRateLimited(key);
  }

  async #sync(key: SubjectKey): Promise<void> {
    const parsed = parseKey(key);
    if (parsed.kind === 'job') return this.#syncJob(parsed.uid);
    return this.#syncCronJob(parsed.namespace, parsed.name);
  }

  async #syncJob(uid: string): Promise<void> {
    const run = this.#options.records.job(uid) ?? this.#tombstones.get(uid);
    if (!run || run.state !== 'failed') return;
    const decision = decide({ kind: 'job', run }, this.#history(undefined), this.#options.policy, this.#options.clock.now());
    await this.#carryOut(decision, undefined, undefined);
    if (this.#tombstones.delete(uid)) this.#forget(uid);
  }

  async #syncCronJob(namespace: string, name: string): Promise<void> {
    const { records, marks } = this.#options;
    const key = `${namespace}/${name}`;
    const runs = records.runsOf(namespace, name);
    for (const tombstone of this.#tombstones.values()) if (tombstone.namespace === namespace && tombstone.cronJob === name) runs.push(tombstone);
    const cached = records.cronJob(namespace, name);
    if (runs.length === 0) {
      // Nothing to decide; a story confirmed meanwhile (its runs deleted since) is still written.
      if (cached && cached.uid !== '') await marks.persistStory({ kind: 'CronJob', namespace, name, uid: cached.uid }, key);
      return;
    }
    const cronJob = cached ?? (await this.#options.readCronJob(namespace, name));
    const subject: Subject = { kind: 'cronjob', namespace, name, cronJob, runs };
    const story = marks.story(key, cronJob);
    const decision = decide(subject, this.#history(story), this.#options.policy, this.#options.clock.now());
    marks.setStory(key, decision.story!);
    await this.#carryOut(decision, cronJob, { namespace, name });
    for (const tombstone of runs.filter((run) => this.#tombstones.has(run.uid))) {
      if (knows(decision.story!, tombstone.uid) || marks.isDecided(tombstone.uid)) {
        this.#tombstones.delete(tombstone.uid);
        this.#forget(tombstone.uid);
      }
    }
    if (cronJob && cronJob.uid !== '') await marks.persistStory({ kind: 'CronJob', namespace, name, uid: cronJob.uid }, key);
  }

  #history(story: Story | undefined) {
    return { story, decided: (uid: string) => this.#options.marks.isDecided(uid), firstSeen: (uid: string) => this.#firstSeen.get(uid) };
  }

  async #carryOut(decision: Decision, cronJob: CronJobRecord | undefined, owner: { namespace: string; name: string } | undefined): Promise<void> {
    const { logger, metrics, marks } = this.#options;
    for (const warning of decision.warnings) this.#once('', warning, () => logger.warn(warning));
    const now = this.#options.clock.now();
    for (const verdict of decision.verdicts) {
      switch (verdict.do) {
        case 'skip':
          this.#skipped(verdict);
          break;
        case 'recheck':
          if (owner) this.#queue.addAfter(cronJobKey(owner.namespace, owner.name), verdict.at.getTime() - now.getTime());
          break;
        case 'notify': {
          const context = owner ? this.#context(owner, cronJob, now) : undefined;
          if (verdict.kind === 'recovery') {
            logger.info({ cronJob: `${owner?.namespace}/${owner?.name}`, failures: verdict.failures, run: verdict.run.name }, 'cronjob recovered');
            await this.#send(cronJob, undefined, {
              kind: 'recovery',
              at: now,
              cluster: this.#options.cluster,
              cronJob: context!,
              failures: verdict.failures,
              since: verdict.since,
              run: { namespace: verdict.run.namespace, name: verdict.run.name, uid: verdict.run.uid, startedAt: verdict.run.startedAt, succeededAt: verdict.run.succeededAt },
            });
            break;
          }
          const failure = verdict.run.failure!;
          marks.decided(verdict.run.uid);
          metrics.failuresDetected.inc({ job_reason: failure.reason });
          logger.info(
            { job: `${failure.namespace}/${failure.name}`, uid: failure.uid, reason: failure.reason, cronJob: failure.cronJob, streak: verdict.streak?.count, kind: verdict.kind },
            'job failed',
          );
          const evidence = await this.#options.evidence(failure, this.#abort.signal);
          logger.debug({ job: `${failure.namespace}/${failure.name}`, pod: evidence.pod, exitCode: evidence.exitCode, logLines: evidence.logTail?.length ?? 0, notes: evidence.notes }, 'evidence captured');
          const common = { at: now, cluster: this.#options.cluster, failure, evidence };
          await this.#send(
            cronJob,
            verdict.run,
            verdict.kind === 'reminder' && context && verdict.streak
              ? { ...common, kind: 'reminder', cronJob: context, streak: verdict.streak }
              : { ...common, kind: 'failure', ...(context ? { cronJob: context } : {}), ...(verdict.streak ? { streak: verdict.streak } : {}) },
          );
          break;
        }
      }
    }
  }

  /** Addresses the notification (route, copies, mentions, links) and hands each to the sender. */
  async #send(cronJob: CronJobRecord | undefined, job: JobRecord | undefined, notification: Notification): Promise<void> {
    const { notifications, warnings } = await this.#options.address(notification, { job, cronJob }, this.#abort.signal);
    for (const warning of warnings) this.#once('', warning, () => this.#options.logger.warn(warning));
    for (const addressed of notifications) this.#options.sender.send(addressed);
  }

  #skipped(verdict: Extract<Verdict, { do: 'skip' }>): void {
    const { run, why, detail } = verdict;
    // This process sent it: the replay of our own patch is no news worth a log line.
    if (why === 'already_alerted' && this.#options.marks.isDecided(run.uid)) return;
    // Final reasons need no second look in this process; opt-outs and suspensions can be undone.
    if (run.cronJob === undefined && (why === 'already_alerted' || why === 'too_old')) this.#options.marks.decided(run.uid);
    this.#once(run.uid, why, () => {
      this.#options.metrics.alertsSkipped.inc({ why });
      this.#options.logger.info({ job: `${run.namespace}/${run.name}`, uid: run.uid, cronJob: run.cronJob, why }, `job failed, not alerted: ${detail}`);
    });
  }

  #context(owner: { namespace: string; name: string }, cronJob: CronJobRecord | undefined, now: Date): CronJobContext {
    return {
      namespace: owner.namespace,
      name: owner.name,
      schedule: cronJob?.schedule,
      timeZone: cronJob?.timeZone,
      suspended: cronJob?.suspended ?? false,
      lastSuccessAt: cronJob?.lastSuccessfulTime,
      nextRunAt: cronJob ? this.#options.nextRun(cronJob, now) : undefined,
    };
  }

  // --- after the transport answered ---------------------------------------------------------------------------

  /** The outbox's onSettled: mark what was delivered, on the objects and in the CronJob's story. */
  async settled(notification: Notification, result: SendResult): Promise<void> {
    const { marks, logger, clock } = this.#options;
    if (notification.copy) return; // a copy for ALSO_SEND_TO: the original's delivery is what marks
    if (!result.ok && !result.permanent) {
      logger.info({ kind: notification.kind, subject: subjectOf(notification) }, 'message not delivered before shutdown: the next start sends it');
      return;
    }
    const now = clock.now();
    switch (notification.kind) {
      case 'recovery': {
        const key = `${notification.cronJob.namespace}/${notification.cronJob.name}`;
        const story = marks.story(key, undefined);
        marks.setStory(key, { ...story, recovering: undefined });
        if (result.ok) logger.info({ cronJob: key, kind: 'recovery' }, 'message delivered');
        this.#queue.add(cronJobKey(notification.cronJob.namespace, notification.cronJob.name));
        return;
      }
      case 'digest':
        if (result.ok) logger.info({ kind: 'digest', why: notification.why, jobs: notification.failures.length, part: notification.part }, 'digest delivered');
        for (const failure of notification.failures) await this.#settledFailure(failure.failure, failure.kind, undefined, result.ok, now);
        return;
      default:
        await this.#settledFailure(notification.failure, notification.kind, notification.streak?.count, result.ok, now);
    }
  }

  async #settledFailure(failure: JobFailure, kind: string, streak: number | undefined, ok: boolean, now: Date): Promise<void> {
    const { marks, logger } = this.#options;
    if (ok) {
      await marks.markAlerted({ namespace: failure.namespace, name: failure.name, uid: failure.uid }, now);
      logger.info({ job: `${failure.namespace}/${failure.name}`, uid: failure.uid, kind, streak }, 'alert delivered');
    }
    if (failure.cronJob === undefined) return;
    const key = `${failure.namespace}/${failure.cronJob}`;
    const story = marks.story(key, undefined);
    const inStreak = story.failures.some((entry) => entry.uid === failure.uid) || story.recovering?.failures.some((entry) => entry.uid === failure.uid);
    marks.setStory(key, inStreak ? withOutcome(story, failure.uid, ok ? 'notified' : 'undeliverable', now.getTime()) : withSettled(story, [failure.uid]));
    this.#queue.add(cronJobKey(failure.namespace, failure.cronJob)); // its worker writes the story
  }

  #once(uid: string, what: string, act: () => void): void {
    let said = this.#said.get(uid);
    if (said?.has(what)) return;
    if (!said) this.#said.set(uid, (said = new Set()));
    said.add(what);
    act();
  }

  #forget(uid: string): void {
    this.#firstSeen.delete(uid);
    this.#options.marks.forgetJob(uid);
    this.#options.forgetEvidence(uid);
    this.#said.delete(uid);
  }
}

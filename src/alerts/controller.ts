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
import { decideNeverSucceeded, decideRun, decideSchedule, decideWarnings, type HealthDecision, type HealthVerdict } from '../decide/health.ts';
import { optedOut, resolvePolicy, type PolicyDefaults } from '../decide/policy.ts';
import { missedSchedule, neverSucceeded, type MissedScheduleOptions } from '../detect/cronjob-health.ts';
import { cronJobWarning, type CronJobWarning } from '../detect/cronjob-warning.ts';
import { child, text, time } from '../detect/fields.ts';
import { pendingReason, runFactsOf, runLimit, slowRunLimitMs, stuckRun, type PendingRun } from '../detect/run-health.ts';
import { knows, streakLength, withOutcome, withSettled, type Story } from '../decide/story.ts';
import type { CronJobRecord, JobRecord } from '../detect/records.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { subjectOf, type CronJobContext, type Notification } from '../notify/notification.ts';
import type { SendResult } from '../notify/transport.ts';
import type { BackoffPolicy } from '../queue/backoff.ts';
import { WorkQueue, type QueueTimers } from '../queue/workqueue.ts';
import type { Marks } from '../state/marks.ts';
import { Stretch } from '../stretch.ts';
import type { Clock } from '../time.ts';

/** A failed standalone Job by UID; a run's time checks (stuck, pending) by UID; a CronJob by namespace/name. */
export type SubjectKey = `job/${string}` | `run/${string}` | `cronjob/${string}/${string}`;

export const jobKey = (uid: string): SubjectKey => `job/${uid}`;
export const runKey = (uid: string): SubjectKey => `run/${uid}`;
export const cronJobKey = (namespace: string, name: string): SubjectKey => `cronjob/${namespace}/${name}`;

export function parseKey(key: SubjectKey): { kind: 'job' | 'run'; uid: string } | { kind: 'cronjob'; namespace: string; name: string } {
  if (key.startsWith('job/')) return { kind: 'job', uid: key.slice(4) };
  if (key.startsWith('run/')) return { kind: 'run', uid: key.slice(4) };
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
  /** Missed-schedule checks (MISSED_SCHEDULE_GRACE, SCHEDULE_TIME_ZONE, settings.schedule). */
  readonly schedule: Pick<MissedScheduleOptions, 'graceMs' | 'defaultZone' | 'minGraceMs' | 'countLimit'>;
  /** A run's time checks: STUCK_AFTER (none: only annotated Jobs are timed) and PENDING_ALERT_AFTER. */
  readonly runChecks: { readonly stuckAfterMs: number | undefined; readonly pendingAfterMs: number };
  /** NEVER_SUCCEEDED_AFTER (0: off), SKIPPED_RUNS_ALERT, SLOW_RUNS (3x the median of >= 5 successful runs). */
  readonly health: { readonly neverSucceededAfter: number; readonly skippedRunsAlert: number; readonly slowRuns: boolean };
  /** A Job's pods, for pods that cannot start (bounded in time; throws to retry). */
  readonly podsOf: (job: { namespace: string; uid: string }, signal: AbortSignal) => Promise<readonly unknown[]>;
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
/** Jobs of one digest marked at the same time. */
const DIGEST_MARKS_AT_ONCE = 8;

export class AlertController {
  readonly #options: ControllerOptions;
  readonly #queue: WorkQueue<SubjectKey>;
  readonly #firstSeen = new Map<string, Date>();
  /** CronJob `namespace/name` -> controller warnings not judged yet. */
  readonly #warnings = new Map<string, CronJobWarning[]>();
  /** CronJob `namespace/name` -> when this process saw it unsuspended (runs due before are not missed). */
  readonly #activeSince = new Map<string, Date>();
  readonly #tombstones = new Map<string, JobRecord>();
  /** What was logged about each Job (skip reasons), so each is said once per process; warnings under ''. */
  readonly #said = new Map<string, Set<string>>();
  readonly #abort = new AbortController();
  readonly #workers: Promise<void>[] = [];
  /** The workers give the event loop back every 20 ms, all of them together. */
  readonly #stretch = new Stretch();

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
    if (record.state === 'failed' && !this.#firstSeen.has(record.uid)) this.#firstSeen.set(record.uid, this.#options.clock.now());
    const same =
      previous?.state === record.state &&
      previous.annotations.alertedAt === record.annotations.alertedAt &&
      previous.suspended === record.suspended &&
      previous.startedAt?.getTime() === record.startedAt?.getTime() &&
      previous.annotations.maxDuration === record.annotations.maxDuration;
    if (same) return; // nothing a decision reads has changed (a label edit, our own patches)
    // Its time checks: a running Job's limit and pods; a finished one reported as stuck gets its follow-up.
    if (record.state === 'active' || record.annotations.health !== undefined || this.#options.marks.health(`Job/${record.uid}`, undefined).stuck !== undefined) {
      this.#queue.add(runKey(record.uid));
    }
    if (record.state === 'active') return;
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
    const key = `${record.namespace}/${record.name}`;
    // Unsuspended now: runs due while it was suspended are not missed (the controller skips them too).
    if (previous?.suspended && !record.suspended) this.#activeSince.set(key, this.#options.clock.now());
    // Our own story and health writes are no news; anything else (schedule, status, opt-out, policy) may be.
    const facts = (r: CronJobRecord) => JSON.stringify({ ...r, annotations: { ...r.annotations, story: undefined, health: undefined } });
    if (previous && facts(previous) === facts(record)) return;
    this.#queue.add(cronJobKey(record.namespace, record.name));
  }

  /** An Event about a CronJob (kube/cronjob-events.ts): a controller warning is judged by the CronJob's worker. */
  cronJobEvent(event: unknown): void {
    const warning = cronJobWarning(event, this.#options.health.skippedRunsAlert);
    if (!warning) return;
    const key = `${warning.cronJob.namespace}/${warning.cronJob.name}`;
    const pending = (this.#warnings.get(key) ?? []).filter((w) => w.reason !== warning.reason || w.eventUid !== warning.eventUid);
    this.#warnings.set(key, [...pending, warning].slice(-20));
    this.#queue.add(cronJobKey(warning.cronJob.namespace, warning.cronJob.name));
  }

  cronJobDeleted(record: CronJobRecord): void {
    this.#options.marks.forgetCronJob(`${record.namespace}/${record.name}`);
    this.#activeSince.delete(`${record.namespace}/${record.name}`);
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
      // A key decided without I/O resolves at once, so a long queue (every cached Job after a sync) would otherwise be
      // worked off in one stretch of microtasks, with /healthz, the watches and Slack's answers waiting.
      const pause = this.#stretch.pause();
      if (pause) await pause;
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
    if (parsed.kind === 'cronjob') return this.#syncCronJob(parsed.namespace, parsed.name);
    return parsed.kind === 'job' ? this.#syncJob(parsed.uid) : this.#syncRun(parsed.uid);
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
    if (runs.length > 0) {
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
    }
    if (!cached) return;
    await this.#checkSchedule(cached);
    // The story, with what Slack confirmed (also when its runs are gone by now).
    if (cached.uid !== '') await marks.persistStory({ kind: 'CronJob', namespace, name, uid: cached.uid }, key);
  }

  /** Missed schedules and unreadable schedules: one timer per CronJob, at its next deadline (queue.addAfter). */
  async #checkSchedule(cronJob: CronJobRecord): Promise<void> {
    const { marks, clock } = this.#options;
    const key = `${cronJob.namespace}/${cronJob.name}`;
    const now = clock.now();
    if (optedOut(undefined, cronJob)) return; // kube-job-alerts.io/enabled: "false" silences its schedule too
    let said = marks.health(`CronJob/${key}`, cronJob.annotations.health);
    // When it was last unsuspended, as seen by this process, else as written on the CronJob by an earlier one (the
    // API keeps no such time): a restart must not take the runs skipped while suspended for missed ones.
    const seen = this.#activeSince.get(key);
    if (seen !== undefined && said['activeSince'] !== seen.toISOString() && !cronJob.suspended) {
      said = { ...said, activeSince: seen.toISOString() };
      marks.noteHealth(`CronJob/${key}`, said);
      if (cronJob.uid !== '') await marks.persistHealth({ kind: 'CronJob', namespace: cronJob.namespace, name: cronJob.name, uid: cronJob.uid }, `CronJob/${key}`);
    }
    const activeSince = seen ?? time(said['activeSince']);
    const missed = missedSchedule(cronJob, now, { ...this.#options.schedule, activeSince });
    const { policy } = resolvePolicy(undefined, cronJob, this.#options.policy);
    const schedule = decideSchedule(missed, said, policy.repeat, now);
    const warnings = decideWarnings(this.#warnings.get(key) ?? [], schedule.said);
    this.#warnings.delete(key);
    // Never succeeded: no status.lastSuccessfulTime, and the streak (which survives deleted history) is long enough.
    const runs = streakLength(marks.story(key, cronJob));
    const never = decideNeverSucceeded(
      this.#options.health.neverSucceededAfter > 0 && neverSucceeded(cronJob, runs, this.#options.health.neverSucceededAfter),
      runs,
      warnings.said,
      now,
    );
    const decision: HealthDecision = { verdicts: [...schedule.verdicts, ...warnings.verdicts, ...never.verdicts], said: never.said };
    await this.#carryOutHealth(decision, `CronJob/${key}`, cronJobKey(cronJob.namespace, cronJob.name), (verdict) => {
      const context = this.#context(cronJob, cronJob, now);
      const common = { at: now, cluster: this.#options.cluster, cronJob: context };
      switch (verdict.kind) {
        case 'missed':
          return { ...common, kind: 'missed', missedSince: verdict.missedSince, missedCount: verdict.missedCount, reminder: verdict.reminder, schedule: missed.schedule };
        case 'resumed':
          return { ...common, kind: 'resumed', missedSince: verdict.missedSince };
        case 'schedule-problem':
          return { ...common, kind: 'schedule-problem', reason: verdict.reason, problem: verdict.problem };
        case 'cronjob-warning': {
          const { warning } = verdict;
          return { ...common, kind: 'cronjob-warning', reason: warning.reason, message: warning.message, count: warning.count, lastSeen: warning.lastSeen };
        }
        case 'never-succeeded':
          return { ...common, kind: 'never-succeeded', runs: verdict.runs };
        default:
          return undefined;
      }
    }, { cronJob });
  }

  /** A run's time checks: past its max-duration (and its end), and pods that cannot start. */
  async #syncRun(uid: string): Promise<void> {
    const { records, marks, clock, runChecks } = this.#options;
    const run = records.job(uid);
    if (!run) return;
    const cronJob = run.cronJob === undefined ? undefined : records.cronJob(run.namespace, run.cronJob);
    const now = clock.now();
    const said = marks.health(`Job/${uid}`, run.annotations.health);
    // SLOW_RUNS: 3x the median duration of the CronJob's recent successful runs (at least 5 in the cache).
    const medianLimitMs = this.#options.health.slowRuns && run.cronJob !== undefined
      ? slowRunLimitMs(records.runsOf(run.namespace, run.cronJob).filter((r) => r.state === 'succeeded').map(runFactsOf))
      : undefined;
    const limit = runLimit(run, cronJob, { stuckAfterMs: runChecks.stuckAfterMs, medianLimitMs });
    if (limit.problem) this.#once(uid, `limit:${limit.problem}`, () => this.#options.logger.warn({ job: `${run.namespace}/${run.name}` }, `${limit.problem}: using the next limit`));
    const state = limit.ms !== undefined || said['stuck'] !== undefined ? stuckRun(runFactsOf(run), limit.ms ?? Number.POSITIVE_INFINITY, now) : undefined;
    let pending: PendingRun | undefined;
    const since = run.startedAt ?? run.createdAt;
    if (run.state === 'active' && !run.suspended && said['pending'] === undefined && since !== undefined) {
      const due = since.getTime() + runChecks.pendingAfterMs;
      if (now.getTime() < due) this.#queue.addAfter(runKey(uid), due - now.getTime());
      else {
        const pods = await this.#options.podsOf(run, this.#abort.signal);
        pending = pendingReason(pods, now, runChecks.pendingAfterMs);
        // Pods still starting (ContainerCreating, a pull in progress): look again; a pull can fail later.
        if (!pending && pods.some((pod) => text(child(pod, 'status'), 'phase') === 'Pending')) this.#queue.addAfter(runKey(uid), Math.min(runChecks.pendingAfterMs, 300_000));
      }
    }
    const decision = decideRun(state, limit.ms, pending, said);
    await this.#carryOutHealth(decision, `Job/${uid}`, runKey(uid), (verdict) => {
      const ref = { namespace: run.namespace, name: run.name, uid: run.uid, cronJob: run.cronJob, startedAt: run.startedAt };
      const common = { at: now, cluster: this.#options.cluster, run: ref };
      if (verdict.kind === 'stuck') return { ...common, kind: 'stuck', runningForMs: verdict.runningForMs, limitMs: verdict.limitMs, limitSource: limit.source };
      if (verdict.kind === 'stuck-over') return { ...common, kind: 'stuck-over', outcome: verdict.outcome, durationMs: verdict.durationMs };
      if (verdict.kind === 'pending') {
        const { pending: p } = verdict;
        return { ...common, kind: 'pending', reason: p.reason, message: p.message, pod: p.pod, container: p.container, pendingForMs: p.pendingForMs };
      }
      return undefined;
    }, { job: run, cronJob });
  }

  async #carryOutHealth(
    decision: HealthDecision,
    healthKey: string,
    key: SubjectKey,
    notificationOf: (verdict: Extract<HealthVerdict, { do: 'notify' }>) => Notification | undefined,
    objects: { job?: JobRecord; cronJob?: CronJobRecord },
  ): Promise<void> {
    const now = this.#options.clock.now();
    const notify = decision.verdicts.filter((verdict): verdict is Extract<HealthVerdict, { do: 'notify' }> => verdict.do === 'notify');
    // Noted now, so this process says it once; written on the object once Slack has it (settled()).
    if (notify.length > 0 || JSON.stringify(decision.said) !== JSON.stringify(this.#options.marks.health(healthKey, undefined))) this.#options.marks.noteHealth(healthKey, decision.said);
    for (const verdict of decision.verdicts) {
      if (verdict.do === 'recheck') this.#queue.addAfter(key, Math.max(0, verdict.at.getTime() - now.getTime()));
    }
    for (const verdict of notify) {
      const notification = notificationOf(verdict);
      if (!notification) continue;
      this.#options.logger.info({ kind: notification.kind, subject: subjectOf(notification) }, `${notification.kind}: notifying`);
      await this.#send(objects.cronJob, objects.job, notification);
    }
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

  #context(owner: { readonly namespace: string; readonly name: string }, cronJob: CronJobRecord | undefined, now: Date): CronJobContext {
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
    if (!result.ok) {
      // The transport said why (without knowing about what): this names what was not said.
      const jobs = notification.kind === 'digest' ? notification.failures.map((f) => `${f.failure.namespace}/${f.failure.name}`) : undefined;
      logger.error(
        { kind: notification.kind, subject: subjectOf(notification), ...(jobs ? { jobs } : {}), error: result.error, status: result.status },
        'this message was refused for good: it is marked as said and not retried',
      );
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
        // Several marks at a time: a leader that stops halfway through a 50-Job digest leaves fewer Jobs unmarked
        // (the next leader names those again). Each Job's story update is synchronous, so none is lost.
        await eachAtMost(DIGEST_MARKS_AT_ONCE, notification.failures, (failure) => this.#settledFailure(failure.failure, failure.kind, undefined, result.ok, now));
        return;
      case 'failure':
      case 'reminder':
        await this.#settledFailure(notification.failure, notification.kind, notification.streak?.count, result.ok, now);
        return;
      default: {
        // A health message: what was said is written on the object (a refused one too: retrying cannot help).
        if (result.ok) logger.info({ kind: notification.kind, subject: subjectOf(notification) }, 'message delivered');
        if ('run' in notification) {
          await marks.persistHealth({ kind: 'Job', namespace: notification.run.namespace, name: notification.run.name, uid: notification.run.uid }, `Job/${notification.run.uid}`);
        } else {
          const cronJob = this.#options.records.cronJob(notification.cronJob.namespace, notification.cronJob.name);
          const key = `CronJob/${notification.cronJob.namespace}/${notification.cronJob.name}`;
          if (cronJob?.uid) await marks.persistHealth({ kind: 'CronJob', namespace: cronJob.namespace, name: cronJob.name, uid: cronJob.uid }, key);
        }
      }
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

/** Runs `act` on every item, at most `limit` at a time; settles when all have. */
async function eachAtMost<T>(limit: number, items: readonly T[], act: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await act(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

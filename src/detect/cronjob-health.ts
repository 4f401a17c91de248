/**
 * Is a CronJob running on schedule? Pure: a CronJob's schedule facts (a CronJobRecord fits; `scheduleFacts` reads
 * them from a CronJob object of either shape) and `now` in, a verdict and the time to look again out. The wiring keeps one timer per CronJob (the work queue's addAfter at
 * `nextCheckAt`), never a scan of every object.
 *
 * A run is missed when its expected time plus a grace has passed and `status.lastScheduleTime` (the scheduled time
 * of the last Job the controller created) has not reached it. The grace is `spec.startingDeadlineSeconds` when set
 * (the controller gives up on a run after it: MissSchedule), else MISSED_SCHEDULE_GRACE; never more than half the
 * time to the next run (so a per-minute schedule is judged within 30 s, before its next run is due), and never less
 * than `minGraceMs` (the controller and the watch need a moment to report a run that did start).
 *
 * Only the first missed time matters for alerting (`missedSince`): a per-minute schedule that stops is one missed
 * state, not sixty. Runs due before the CronJob existed, before it was last unsuspended (`activeSince`, tracked by
 * the caller: the API keeps no such time) or at and before lastScheduleTime are never missed, and a suspended
 * CronJob misses nothing. With `concurrencyPolicy: Forbid` and a run still active, the controller skips runs on
 * purpose (JobAlreadyActive events, alerted separately): those are reported as `heldByActiveRun`, not missed.
 */
import { child, count, fields, list, text, time } from './fields.ts';
import { parseSchedule, type ScheduleProblemReason } from './schedule.ts';

/**
 * What a missed-schedule check reads of a CronJob. detect/records.ts's CronJobRecord has the first five; the
 * optional three refine the verdict (unset: no starting deadline, runs never held by an active one).
 */
export interface ScheduleFacts {
  readonly schedule: string | undefined;
  readonly timeZone: string | undefined;
  readonly suspended: boolean;
  readonly createdAt: Date | undefined;
  readonly lastScheduleTime: Date | undefined;
  /** spec.startingDeadlineSeconds. */
  readonly startingDeadlineSeconds?: number | undefined;
  /** spec.concurrencyPolicy: Allow, Forbid or Replace. */
  readonly concurrencyPolicy?: string | undefined;
  /** How many Jobs status.active lists. */
  readonly activeRuns?: number | undefined;
}

/** The schedule facts of a CronJob object, class instance or plain JSON. */
export function scheduleFacts(cronJob: unknown): ScheduleFacts {
  const spec = child(cronJob, 'spec');
  const status = child(cronJob, 'status');
  const timeZone = fields(spec)?.['timeZone'];
  return {
    schedule: text(spec, 'schedule'),
    // An empty timeZone is set, not absent (Go loads "" as UTC); null is absent.
    timeZone: typeof timeZone === 'string' ? timeZone : undefined,
    suspended: fields(spec)?.['suspend'] === true,
    createdAt: time(child(cronJob, 'metadata')?.['creationTimestamp']),
    lastScheduleTime: time(status?.['lastScheduleTime']),
    startingDeadlineSeconds: count(spec, 'startingDeadlineSeconds'),
    concurrencyPolicy: text(spec, 'concurrencyPolicy'),
    activeRuns: list(status, 'active').length,
  };
}

export interface MissedScheduleOptions {
  /** MISSED_SCHEDULE_GRACE: the grace when spec.startingDeadlineSeconds is unset. */
  readonly graceMs: number;
  /** SCHEDULE_TIME_ZONE: the zone of a schedule without spec.timeZone (the controller's local zone). */
  readonly defaultZone: string;
  /** When the caller saw this CronJob go from suspended to not suspended, if it did. */
  readonly activeSince?: Date | undefined;
  /** The grace is never shorter than this (settings: schedule.minGraceMs). */
  readonly minGraceMs: number;
  /** Missed runs are counted up to this many (settings: schedule.missedCountLimit). */
  readonly countLimit: number;
}

export interface MissedSchedule {
  /** The first expected run time that was missed; undefined while on schedule. */
  readonly missedSince?: Date;
  /** How many expected runs were missed since then (counted up to `countLimit`). */
  readonly missedCount: number;
  /**
   * When the verdict can next change without the object changing: the next run's deadline. Undefined when only an
   * update of the CronJob can change it (suspended, a schedule problem, a schedule that never runs again).
   */
  readonly nextCheckAt?: Date;
  /** Why runs cannot be predicted: invalid schedule or time zone (the controller creates no Jobs then). */
  readonly problem?: string;
  readonly problemReason?: ScheduleProblemReason | 'InvalidSchedule';
  /** Runs past their deadline while a Forbid CronJob's previous run is still active: skipped, not missed. */
  readonly heldByActiveRun?: boolean;
  /** "0 2 * * * (Europe/Berlin)", for messages. */
  readonly schedule?: string;
}

export function missedSchedule(cronJob: ScheduleFacts, now: Date, options: MissedScheduleOptions): MissedSchedule {
  if (cronJob.suspended) return { missedCount: 0 };

  const scheduleText = cronJob.schedule;
  if (scheduleText === undefined) return { missedCount: 0, problem: 'spec.schedule is missing', problemReason: 'UnparseableSchedule' };
  const parsed = parseSchedule(scheduleText, cronJob.timeZone, options.defaultZone);
  if (!parsed.ok) return { missedCount: 0, problem: parsed.problem, problemReason: parsed.reason };
  const schedule = parsed.schedule;
  const described = schedule.describe();

  const deadlineSeconds = cronJob.startingDeadlineSeconds;
  const baseGraceMs = Math.max(deadlineSeconds === undefined || deadlineSeconds < 0 ? options.graceMs : deadlineSeconds * 1000, options.minGraceMs);
  /** A run's deadline: its time plus the grace, capped at half the time to the run after it. */
  const deadlineOf = (run: Date): { deadline: Date; next: Date | undefined } => {
    const next = schedule.nextAfter(run);
    const halfGap = next === undefined ? Infinity : (next.getTime() - run.getTime()) / 2;
    return { deadline: new Date(run.getTime() + Math.min(baseGraceMs, halfGap)), next };
  };

  // Runs at or before the latest of these are not ours to judge.
  const reached = [cronJob.lastScheduleTime, cronJob.createdAt, options.activeSince]
    .filter((at): at is Date => at !== undefined && !Number.isNaN(at.getTime()))
    .reduce<Date | undefined>((latest, at) => (latest === undefined || at > latest ? at : latest), undefined) ?? now;

  let run = schedule.nextAfter(reached);
  if (run === undefined) {
    return {
      missedCount: 0,
      problem: `schedule ${JSON.stringify(scheduleText)} has no run time in the five years after ${reached.toISOString()}`,
      problemReason: 'InvalidSchedule',
      schedule: described,
    };
  }
  let missedSince: Date | undefined;
  let missedCount = 0;
  let nextCheckAt: Date | undefined;
  while (run !== undefined) {
    const { deadline, next } = deadlineOf(run);
    if (deadline > now) {
      nextCheckAt = deadline;
      break;
    }
    missedSince ??= run;
    missedCount += 1;
    if (missedCount >= options.countLimit) {
      // Far behind (a per-minute schedule stopped for days): stop counting, find the first deadline after now.
      nextCheckAt = firstDeadlineAfter(now, schedule.nextAfter(new Date(now.getTime() - baseGraceMs)), deadlineOf);
      break;
    }
    run = next;
  }

  if (missedSince !== undefined && cronJob.concurrencyPolicy === 'Forbid' && (cronJob.activeRuns ?? 0) > 0) {
    return { missedCount: 0, heldByActiveRun: true, schedule: described, ...(nextCheckAt && { nextCheckAt }) };
  }
  return { missedCount, schedule: described, ...(missedSince && { missedSince }), ...(nextCheckAt && { nextCheckAt }) };
}

function firstDeadlineAfter(now: Date, from: Date | undefined, deadlineOf: (run: Date) => { deadline: Date; next: Date | undefined }): Date | undefined {
  for (let run = from; run !== undefined;) {
    const { deadline, next } = deadlineOf(run);
    if (deadline > now) return deadline;
    run = next;
  }
  return undefined;
}

/**
 * True when a CronJob has never completed a run (no status.lastSuccessfulTime; a CronJobRecord fits) although
 * `scheduledRunsSeen` of its runs have come and gone, and that is at least `n`.
 */
export function neverSucceeded(cronJob: { readonly lastSuccessfulTime: Date | undefined }, scheduledRunsSeen: number, n: number): boolean {
  return cronJob.lastSuccessfulTime === undefined && n > 0 && scheduledRunsSeen >= n;
}

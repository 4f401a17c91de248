/**
 * What the daemon tells a channel, as plain data: one kind per story beat. The decision (decide/) says which kind;
 * the worker adds what it gathered (evidence, the CronJob's schedule); a renderer per transport turns it into a
 * message (slack/render.ts). Later kinds (missed run, stuck run, pending run, digest) join this union.
 */
import type { Alert, CronJobContext } from '../alert.ts';
import type { StreakFacts } from '../decide/decide.ts';
import type { Link } from '../route/links.ts';
import type { Mention } from '../route/mentions.ts';

export type { CronJobContext };

interface Common {
  /** When it was decided: "3 h ago" in a message is relative to this. */
  readonly at: Date;
  readonly cluster: string | undefined;
  /** The destination (a route name; `default` is SLACK_WEBHOOK_URL). Unset: `default`. */
  readonly route?: string;
  /** A copy for ALSO_SEND_TO: delivered like the original, but marks nothing. */
  readonly copy?: boolean;
  /** Validated mentions (route/mentions.ts): the only text that reaches Slack unescaped. */
  readonly mentions?: readonly Mention[];
  readonly links?: readonly Link[];
}

/** A Job failed. For a CronJob's run, with the CronJob and the streak. */
export interface FailureNotification extends Common, Omit<Alert, 'at'> {
  readonly kind: 'failure';
}

/** A CronJob is still failing (repeat: <duration>): the latest failure, and the streak so far. */
export interface ReminderNotification extends Common, Omit<Alert, 'at'> {
  readonly kind: 'reminder';
  readonly cronJob: CronJobContext;
  readonly streak: StreakFacts;
}

/** A CronJob whose failures were reported has a run that succeeded. */
export interface RecoveryNotification extends Common {
  readonly kind: 'recovery';
  readonly cronJob: CronJobContext;
  /** How many consecutive failures it recovered from, and since when. */
  readonly failures: number;
  readonly since: Date | undefined;
  readonly run: { readonly namespace: string; readonly name: string; readonly uid: string; readonly startedAt: Date | undefined; readonly succeededAt: Date | undefined };
}

/**
 * Many failures as one message: a storm (more than GROUP_THRESHOLD within GROUP_WINDOW), or the oldest of a backlog
 * folded together when the outbox is full. Every Job is named; each is marked once this message is delivered.
 */
export interface DigestNotification extends Common {
  readonly kind: 'digest';
  readonly why: 'storm' | 'backlog';
  readonly failures: readonly FailureNotification[];
  /** When one digest had to be split to fit Slack's limits: this part, of how many. */
  readonly part: { readonly index: number; readonly total: number } | undefined;
  /** How long the failures it names took to arrive, for "57 Jobs failed within 10 s". */
  readonly windowMs: number;
}

/** A CronJob stopped running on schedule (or, with `reminder`, still has not run again). */
export interface MissedNotification extends Common {
  readonly kind: 'missed';
  readonly cronJob: CronJobContext;
  readonly missedSince: Date;
  readonly missedCount: number;
  readonly reminder: boolean;
  /** How the schedule was read: `0 * * * * (Europe/Berlin)`. */
  readonly schedule: string | undefined;
}

/** A CronJob that had missed its schedule runs again. */
export interface ResumedNotification extends Common {
  readonly kind: 'resumed';
  readonly cronJob: CronJobContext;
  readonly missedSince: Date;
}

/** The controller cannot read a CronJob's schedule or time zone, so it creates no Jobs. */
export interface ScheduleProblemNotification extends Common {
  readonly kind: 'schedule-problem';
  readonly cronJob: CronJobContext;
  /** UnknownTimeZone, UnparseableSchedule, InvalidSchedule. */
  readonly reason: string;
  readonly problem: string;
}

/** The Job a run-health message is about. */
export interface RunRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly cronJob: string | undefined;
  readonly startedAt: Date | undefined;
}

/** A run is still running past its limit (kube-job-alerts.io/max-duration, or STUCK_AFTER). */
export interface StuckNotification extends Common {
  readonly kind: 'stuck';
  readonly run: RunRef;
  readonly runningForMs: number;
  readonly limitMs: number;
  readonly limitSource: string | undefined;
}

/** A run reported as stuck has finished. */
export interface StuckOverNotification extends Common {
  readonly kind: 'stuck-over';
  readonly run: RunRef;
  readonly outcome: 'succeeded' | 'failed';
  readonly durationMs: number | undefined;
}

/** A run's pods cannot start: Unschedulable, ImagePullBackOff, CreateContainerConfigError, ... */
export interface PendingNotification extends Common {
  readonly kind: 'pending';
  readonly run: RunRef;
  readonly reason: string;
  readonly message: string | undefined;
  readonly pod: string;
  readonly container: string | undefined;
  readonly pendingForMs: number;
}

/** One of the CronJob controller's warnings (MissSchedule, FailedCreate, JobAlreadyActive repeated, ...). */
export interface CronJobWarningNotification extends Common {
  readonly kind: 'cronjob-warning';
  readonly cronJob: CronJobContext;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly lastSeen: Date | undefined;
}

/** A CronJob that has run `runs` times and never succeeded. */
export interface NeverSucceededNotification extends Common {
  readonly kind: 'never-succeeded';
  readonly cronJob: CronJobContext;
  readonly runs: number;
}

export type HealthNotification =
  | MissedNotification
  | ResumedNotification
  | ScheduleProblemNotification
  | CronJobWarningNotification
  | NeverSucceededNotification
  | StuckNotification
  | StuckOverNotification
  | PendingNotification;

export type Notification = FailureNotification | ReminderNotification | RecoveryNotification | DigestNotification | HealthNotification;
export type NotificationKind = Notification['kind'];
export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  'failure', 'reminder', 'recovery', 'digest', 'missed', 'resumed', 'schedule-problem', 'cronjob-warning', 'never-succeeded', 'stuck', 'stuck-over', 'pending',
];

/** The object a notification is about, for logs: `batch/nightly-29000000` or `batch/nightly`. */
export function subjectOf(notification: Notification): string {
  if (notification.kind === 'digest') return `${notification.failures.length} Jobs`;
  if ('run' in notification && notification.kind !== 'recovery') return `${notification.run.namespace}/${notification.run.name}`;
  if (!('failure' in notification)) return `${notification.cronJob.namespace}/${notification.cronJob.name}`;
  return `${notification.failure.namespace}/${notification.failure.name}`;
}

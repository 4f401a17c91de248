/**
 * The CronJob controller's own complaints, read from Events (core/v1 or events.k8s.io/v1; class instances or
 * plain JSON). Reasons and messages as kube-controller-manager's cronjob-controller records them
 * (pkg/controller/cronjob/cronjob_controllerv2.go, utils.go):
 *
 * - MissSchedule (Warning): "Missed scheduled time to start a job: <RFC 1123 time>", a run past
 *   startingDeadlineSeconds. The run's time is read from the message.
 * - TooManyMissedTimes (Warning): more than 100 runs missed; the controller still starts the latest.
 * - UnknownTimeZone (Warning): spec.timeZone cannot be loaded; the controller creates no Jobs at all.
 * - UnparseableSchedule, UnParseableCronJobSchedule, InvalidSchedule (Warning): the schedule cannot be read or never
 *   runs; no Jobs either.
 * - FailedCreate (Warning): the Job could not be created (quota, admission webhook, RBAC...).
 * - FailedNeedsStart (Warning): the pre-1.21 controller's "Cannot determine if job needs to be started".
 * - JobAlreadyActive (Normal!): a run skipped because concurrencyPolicy is Forbid and the previous run is still
 *   going. The recorder folds repeats into one Event and counts them: it is due at SKIPPED_RUNS_ALERT repeats.
 */
import { child, count, fields, text, time } from './fields.ts';

export const CRONJOB_WARNING_REASONS = [
  'MissSchedule',
  'TooManyMissedTimes',
  'UnknownTimeZone',
  'UnparseableSchedule',
  'UnParseableCronJobSchedule',
  'InvalidSchedule',
  'FailedCreate',
  'FailedNeedsStart',
  'JobAlreadyActive',
] as const;
export type CronJobWarningReason = (typeof CRONJOB_WARNING_REASONS)[number];

export interface CronJobWarning {
  readonly reason: CronJobWarningReason;
  readonly cronJob: { readonly namespace: string; readonly name: string; readonly uid?: string };
  readonly message: string;
  /** How many times the controller recorded it (the recorder aggregates identical events). */
  readonly count: number;
  readonly firstSeen?: Date;
  readonly lastSeen?: Date;
  /** MissSchedule: the scheduled time that was missed. */
  readonly scheduledTime?: Date;
  /** Alert now: always, except JobAlreadyActive before `skippedRunsAlert` repeats. */
  readonly due: boolean;
  /** The Event's own uid (a new Event, not a repeat, has a new one). */
  readonly eventUid?: string;
}

const MISSED_AT = /^Missed scheduled time to start a job: ((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4})$/;

/** The warning `event` carries about a CronJob, or undefined for any other Event. */
export function cronJobWarning(event: unknown, skippedRunsAlert: number): CronJobWarning | undefined {
  const reason = text(event, 'reason');
  if (!(CRONJOB_WARNING_REASONS as readonly string[]).includes(reason ?? '')) return undefined;
  const regarding = child(event, 'involvedObject') ?? child(event, 'regarding');
  const apiVersion = text(regarding, 'apiVersion');
  if (text(regarding, 'kind') !== 'CronJob' || (apiVersion !== undefined && !apiVersion.startsWith('batch/'))) return undefined;
  const namespace = text(regarding, 'namespace') ?? text(child(event, 'metadata'), 'namespace');
  const name = text(regarding, 'name');
  if (namespace === undefined || name === undefined) return undefined;

  const message = text(event, 'message') ?? text(event, 'note') ?? '';
  const series = child(event, 'series');
  const repeats = count(series, 'count') ?? count(event, 'count') ?? count(event, 'deprecatedCount') ?? 1;
  const firstSeen = time(fields(event)?.['firstTimestamp']) ?? time(fields(event)?.['deprecatedFirstTimestamp']) ?? time(fields(event)?.['eventTime']);
  const lastSeen = time(fields(series)?.['lastObservedTime']) ?? time(fields(event)?.['lastTimestamp']) ?? time(fields(event)?.['deprecatedLastTimestamp']) ?? firstSeen;
  const missedAt = reason === 'MissSchedule' ? MISSED_AT.exec(message)?.[1] : undefined;
  const scheduledTime = missedAt === undefined ? undefined : new Date(missedAt);
  const uid = text(regarding, 'uid');
  const eventUid = text(child(event, 'metadata'), 'uid');
  return {
    reason: reason as CronJobWarningReason,
    cronJob: { namespace, name, ...(uid !== undefined && { uid }) },
    message,
    count: repeats,
    ...(firstSeen && { firstSeen }),
    ...(lastSeen && { lastSeen }),
    ...(scheduledTime && !Number.isNaN(scheduledTime.getTime()) && { scheduledTime }),
    due: reason !== 'JobAlreadyActive' || repeats >= skippedRunsAlert,
    ...(eventUid !== undefined && { eventUid }),
  };
}

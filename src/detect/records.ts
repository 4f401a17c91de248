/**
 * The slim records every decision reads: a Job run and a CronJob, reduced to the fields that detection, the
 * CronJob story and the messages use. Built once per informer event, from either object shape (class instances
 * with Dates from a list, plain JSON from a watch) and from malformed objects alike; never throws.
 *
 * Why records and not the objects: decisions become functions of small plain values (table tests), and the cache
 * of the future need hold only these (a Job object is ~6 KB with its pod template and managedFields).
 */
import type { JobFailure } from '../alert.ts';
import { ANNOTATIONS } from '../state/annotations.ts';
import { failureOf, owningCronJob, ANNOTATION_CRONJOB_SCHEDULED } from './failure.ts';
import { annotation, child, count, fields, list, text, time } from './fields.ts';

/** The Job controller's own name in `spec.managedBy`; any other value means another controller owns the status. */
export const JOB_CONTROLLER = 'kubernetes.io/job-controller';

export type RunState = 'active' | 'succeeded' | 'failed';

export interface JobRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string | undefined;
  readonly createdAt: Date | undefined;
  /** The owning CronJob's name (ownerReference kind CronJob, controller true). */
  readonly cronJob: string | undefined;
  /** batch.kubernetes.io/cronjob-scheduled-timestamp, when the CronJob created it. */
  readonly scheduledAt: Date | undefined;
  readonly state: RunState;
  readonly failure: JobFailure | undefined;
  /** When it succeeded (the Complete condition, else status.completionTime). */
  readonly succeededAt: Date | undefined;
  readonly startedAt: Date | undefined;
  /** spec.suspend: Kueue and others suspend Jobs on purpose. */
  readonly suspended: boolean;
  /** spec.managedBy when it names a controller other than the Job controller (MultiKueue mirrors remote Jobs). */
  readonly managedBy: string | undefined;
  /** The daemon's annotations as written on the Job (raw strings; parsed where they are used). */
  readonly annotations: Readonly<Partial<Record<keyof typeof ANNOTATIONS, string>>>;
}

export interface CronJobRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly schedule: string | undefined;
  readonly timeZone: string | undefined;
  readonly suspended: boolean;
  readonly createdAt: Date | undefined;
  readonly lastScheduleTime: Date | undefined;
  readonly lastSuccessfulTime: Date | undefined;
  /** spec.startingDeadlineSeconds, spec.concurrencyPolicy, and how many runs status.active lists (missed schedules). */
  readonly startingDeadlineSeconds: number | undefined;
  readonly concurrencyPolicy: string | undefined;
  readonly activeRuns: number;
  readonly annotations: Readonly<Partial<Record<keyof typeof ANNOTATIONS, string>>>;
}

/** The record of a Job, or undefined for an object that is not a Job with a uid. */
export function jobRecord(job: unknown): JobRecord | undefined {
  const metadata = child(job, 'metadata');
  const kind = text(job, 'kind');
  if (metadata === undefined || (kind !== undefined && kind !== 'Job')) return undefined;
  const uid = text(metadata, 'uid');
  if (uid === undefined || uid === '') return undefined;
  const spec = child(job, 'spec');
  const status = child(job, 'status');
  const failure = failureOf(job);
  const success = failure ? undefined : completion(status);
  const managedBy = text(spec, 'managedBy');
  return {
    uid,
    namespace: text(metadata, 'namespace') ?? '',
    name: text(metadata, 'name') ?? '',
    resourceVersion: text(metadata, 'resourceVersion'),
    createdAt: time(metadata['creationTimestamp']),
    cronJob: owningCronJob(list(metadata, 'ownerReferences')),
    scheduledAt: time(annotation(job, ANNOTATION_CRONJOB_SCHEDULED)),
    state: failure ? 'failed' : success ? 'succeeded' : 'active',
    failure,
    succeededAt: success?.at,
    startedAt: time(status?.['startTime']),
    suspended: fields(spec)?.['suspend'] === true,
    managedBy: managedBy === undefined || managedBy === JOB_CONTROLLER ? undefined : managedBy,
    annotations: ours(job),
  };
}

/** The record of a CronJob, or undefined for an object that is not one. */
export function cronJobRecord(cronJob: unknown): CronJobRecord | undefined {
  const metadata = child(cronJob, 'metadata');
  const kind = text(cronJob, 'kind');
  if (metadata === undefined || (kind !== undefined && kind !== 'CronJob')) return undefined;
  const name = text(metadata, 'name');
  if (name === undefined || name === '') return undefined;
  const spec = child(cronJob, 'spec');
  const status = child(cronJob, 'status');
  return {
    uid: text(metadata, 'uid') ?? '',
    namespace: text(metadata, 'namespace') ?? '',
    name,
    schedule: text(spec, 'schedule'),
    timeZone: text(spec, 'timeZone'),
    suspended: fields(spec)?.['suspend'] === true,
    createdAt: time(metadata['creationTimestamp']),
    lastScheduleTime: time(status?.['lastScheduleTime']),
    lastSuccessfulTime: time(status?.['lastSuccessfulTime']),
    startingDeadlineSeconds: count(spec, 'startingDeadlineSeconds'),
    concurrencyPolicy: text(spec, 'concurrencyPolicy'),
    activeRuns: list(status, 'active').length,
    annotations: ours(cronJob),
  };
}

/** Where a run stands in its CronJob's order: the scheduled time, else the creation time. */
export function runOrder(run: Pick<JobRecord, 'scheduledAt' | 'createdAt'>): number {
  return (run.scheduledAt ?? run.createdAt)?.getTime() ?? 0;
}

/** A succeeded Job: a Complete condition "True" (at its time, if any), else a completionTime (set only on success). */
function completion(status: Readonly<Record<string, unknown>> | undefined): { at: Date | undefined } | undefined {
  const completedAt = time(status?.['completionTime']);
  for (const condition of list(status, 'conditions')) {
    if (text(condition, 'type') === 'Complete' && text(condition, 'status') === 'True') {
      return { at: time(fields(condition)?.['lastTransitionTime']) ?? completedAt };
    }
  }
  return completedAt ? { at: completedAt } : undefined;
}

/** The annotations of most objects: none of ours. One shared (frozen) object rather than one per cached Job. */
const NONE: Readonly<Partial<Record<keyof typeof ANNOTATIONS, string>>> = Object.freeze({});

function ours(object: unknown): Readonly<Partial<Record<keyof typeof ANNOTATIONS, string>>> {
  let found: Partial<Record<keyof typeof ANNOTATIONS, string>> | undefined;
  for (const [key, name] of Object.entries(ANNOTATIONS) as [keyof typeof ANNOTATIONS, string][]) {
    const value = annotation(object, name);
    if (value !== undefined) (found ??= {})[key] = value;
  }
  return found ?? NONE;
}

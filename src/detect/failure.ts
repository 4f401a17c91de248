/**
 * Is this Job failed, and why? Read from the Job object alone, so it is a pure function of one object.
 *
 * A Job has failed when a `FailureTarget` or `Failed` condition is "True". Since Kubernetes 1.31 the Job controller
 * sets `FailureTarget` as soon as it decides the Job failed and `Failed` only once every pod has terminated; both
 * carry the same reason and message. Alerting on whichever came first alerts as early as the cluster knows.
 * Pods are deliberately not consulted: a failed pod is not a failed Job while retries remain.
 */
import type { JobFailure } from '../alert.ts';
import { ANNOTATIONS } from '../state/annotations.ts';
import { annotation, child, count, fields, list, text, time } from './fields.ts';

/** Set by the CronJob controller on every Job it creates (Kubernetes >= 1.28). */
export const ANNOTATION_CRONJOB_SCHEDULED = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

const FAILURE_CONDITIONS: ReadonlySet<string> = new Set(['Failed', 'FailureTarget']);

interface FailureCondition {
  readonly type: JobFailure['condition'];
  readonly reason: string;
  readonly message: string;
  readonly at: Date | undefined;
}

/** The failure of `job`, or undefined when it has not failed or is not a Job-like object. */
export function failureOf(job: unknown): JobFailure | undefined {
  const metadata = child(job, 'metadata');
  const kind = text(job, 'kind');
  // Items of a list response carry no kind, so only a kind that says otherwise rules an object out.
  if (metadata === undefined || (kind !== undefined && kind !== 'Job')) return undefined;
  // Everything downstream (dedupe, queue, the alerted-at mark) is keyed by uid, because a Job's name is reused by
  // the next Job of that name; a Job without one cannot be alerted exactly once, so the caller logs and drops it.
  const uid = text(metadata, 'uid');
  if (uid === undefined || uid === '') return undefined;

  const status = child(job, 'status');
  const condition = firstFailureCondition(list(status, 'conditions'));
  if (condition === undefined) return undefined;

  const spec = child(job, 'spec');
  return {
    uid,
    namespace: text(metadata, 'namespace') ?? '',
    name: text(metadata, 'name') ?? '',
    condition: condition.type,
    reason: condition.reason,
    message: condition.message,
    failedAt: condition.at,
    startedAt: time(status?.['startTime']),
    failedPods: count(status, 'failed') ?? 0,
    succeededPods: count(status, 'succeeded') ?? 0,
    backoffLimit: count(spec, 'backoffLimit'),
    failedIndexes: text(status, 'failedIndexes'),
    cronJob: owningCronJob(list(metadata, 'ownerReferences')),
    scheduledAt: time(annotation(job, ANNOTATION_CRONJOB_SCHEDULED)),
  };
}

/**
 * The failure condition that was set first: the earliest lastTransitionTime when both are timed, otherwise the
 * order of the list (the controller appends `FailureTarget` before `Failed`).
 */
function firstFailureCondition(conditions: readonly unknown[]): FailureCondition | undefined {
  let first: FailureCondition | undefined;
  for (const raw of conditions) {
    const type = text(raw, 'type');
    if (type === undefined || !FAILURE_CONDITIONS.has(type) || text(raw, 'status') !== 'True') continue;
    const candidate: FailureCondition = {
      type: type as JobFailure['condition'],
      reason: nonEmpty(text(raw, 'reason')) ?? 'Unknown',
      message: text(raw, 'message') ?? '',
      at: time(fields(raw)?.['lastTransitionTime']),
    };
    if (first === undefined || (candidate.at !== undefined && first.at !== undefined && candidate.at < first.at)) {
      first = candidate;
    }
  }
  return first;
}

export function owningCronJob(ownerReferences: readonly unknown[]): string | undefined {
  const owner = ownerReferences.find((ref) => text(ref, 'kind') === 'CronJob' && fields(ref)?.['controller'] === true);
  return text(owner, 'name');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * Whether alerts are switched off with `kube-job-alerts.io/enabled: "false"` (case-insensitive) on the Job or on
 * its CronJob. A value set on the Job wins, so one Job of an opted-out CronJob can opt back in with "true".
 */
export function isOptedOut(job: unknown, cronJob?: unknown): boolean {
  const value = nonEmpty(annotation(job, ANNOTATIONS.enabled)) ?? nonEmpty(annotation(cronJob, ANNOTATIONS.enabled));
  return value?.trim().toLowerCase() === 'false';
}

/** When this daemon marked the Job as alerted (`kube-job-alerts.io/alerted-at`), or undefined. */
export function alertedAt(job: unknown): Date | undefined {
  return time(annotation(job, ANNOTATIONS.alertedAt)?.trim());
}

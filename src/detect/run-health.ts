/**
 * Runs that do not end, or do not start. Pure: a run's facts (from a JobRecord, `runFactsOf`, or a Job object,
 * `runFacts`), Pods (either shape, see fields.ts) and `now` in; a state and, while nothing is wrong yet, the time to
 * look again (the work queue's addAfter) out.
 *
 * - stuckRun: a Job still running after its limit (`kube-job-alerts.io/max-duration` on the Job or its CronJob,
 *   else STUCK_AFTER, else 3x the median of the CronJob's recent successful runs when it has at least 5).
 * - pendingReason: a Job whose pods cannot be scheduled or cannot start their containers (image pull, config).
 *   A container's waiting state carries no time, so "for how long" is measured from when the pod started on its
 *   node (or from the end of the container's previous attempt), and from the PodScheduled condition when it could
 *   not be scheduled at all.
 */
import { ANNOTATIONS } from '../state/annotations.ts';
import { parseDuration } from '../time.ts';
import { child, fields, list, text, time } from './fields.ts';
import type { JobRecord } from './records.ts';

/** What the time checks read of a Job. */
export interface RunFacts {
  readonly startedAt: Date | undefined;
  readonly suspended: boolean;
  /** Undefined while it runs. */
  readonly finished?: { readonly outcome: 'succeeded' | 'failed'; readonly at: Date | undefined } | undefined;
}

/** The facts of a JobRecord (detect/records.ts). */
export function runFactsOf(record: JobRecord): RunFacts {
  const { startedAt, suspended, state } = record;
  if (state === 'active') return { startedAt, suspended };
  return { startedAt, suspended, finished: { outcome: state, at: state === 'failed' ? record.failure?.failedAt : record.succeededAt } };
}

/** The facts of a Job object, class instance or plain JSON. */
export function runFacts(job: unknown): RunFacts {
  const startedAt = time(child(job, 'status')?.['startTime']);
  const suspended = fields(child(job, 'spec'))?.['suspend'] === true;
  const finished = finishOf(job);
  return { startedAt, suspended, ...(finished && { finished: { outcome: finished.outcome, at: finished.finishedAt } }) };
}

export type RunState =
  /** No status.startTime yet (or reset by a suspension): nothing to time. */
  | { readonly state: 'not-started' }
  | { readonly state: 'suspended' }
  /** Under its limit: look again at `checkAt` (its start plus the limit). */
  | { readonly state: 'running'; readonly startedAt: Date; readonly runningForMs: number; readonly checkAt: Date }
  | { readonly state: 'stuck'; readonly startedAt: Date; readonly runningForMs: number }
  | {
    readonly state: 'finished';
    readonly outcome: 'succeeded' | 'failed';
    readonly startedAt?: Date;
    readonly finishedAt?: Date;
    readonly durationMs?: number;
  };

/** Where a run is against its time limit (`maxDurationMs` > 0). A finished run is 'finished' whatever its duration. */
export function stuckRun(run: RunFacts, maxDurationMs: number, now: Date): RunState {
  const { startedAt, finished } = run;
  if (finished !== undefined) {
    const finishedAt = finished.at;
    const durationMs = startedAt && finishedAt ? finishedAt.getTime() - startedAt.getTime() : undefined;
    return { state: 'finished', outcome: finished.outcome, ...(startedAt && { startedAt }), ...(finishedAt && { finishedAt }), ...(durationMs !== undefined && { durationMs }) };
  }
  if (run.suspended) return { state: 'suspended' };
  if (startedAt === undefined) return { state: 'not-started' };
  const runningForMs = now.getTime() - startedAt.getTime();
  if (runningForMs >= maxDurationMs) return { state: 'stuck', startedAt, runningForMs };
  return { state: 'running', startedAt, runningForMs, checkAt: new Date(startedAt.getTime() + maxDurationMs) };
}

const SUCCEEDED = ['Complete', 'SuccessCriteriaMet'];
const FAILED = ['FailureTarget', 'Failed'];

/** Finished (Kubernetes >= 1.31 sets SuccessCriteriaMet or FailureTarget first, then Complete or Failed). */
function finishOf(job: unknown): { outcome: 'succeeded' | 'failed'; finishedAt: Date | undefined } | undefined {
  const conditions = list(child(job, 'status'), 'conditions').filter((condition) => text(condition, 'status') === 'True');
  const ofTypes = (types: readonly string[]) => conditions.filter((condition) => types.includes(text(condition, 'type') ?? ''));
  const earliest = (found: readonly unknown[]) => found
    .map((condition) => time(fields(condition)?.['lastTransitionTime']))
    .filter((at): at is Date => at !== undefined)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  const failed = ofTypes(FAILED);
  if (failed.length > 0) return { outcome: 'failed', finishedAt: earliest(failed) };
  const succeeded = ofTypes(SUCCEEDED);
  if (succeeded.length > 0) return { outcome: 'succeeded', finishedAt: time(child(job, 'status')?.['completionTime']) ?? earliest(succeeded) };
  return undefined;
}

export type ParsedMaxDuration = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly problem: string };

/** The `kube-job-alerts.io/max-duration` annotation's value: `45m`, `2h`, `1h30m`, `1d`. */
export function parseMaxDuration(value: string): ParsedMaxDuration {
  const ms = parseDuration(value);
  if (ms === undefined) return { ok: false, problem: `${ANNOTATIONS.maxDuration}: ${JSON.stringify(value)} is not a duration such as 45m, 2h or 1h30m` };
  if (ms <= 0) return { ok: false, problem: `${ANNOTATIONS.maxDuration}: ${JSON.stringify(value)} must be longer than 0` };
  return { ok: true, ms };
}

export interface RunLimit {
  /** The limit to apply, if any. */
  readonly ms?: number;
  readonly source?: 'job annotation' | 'cronjob annotation' | 'STUCK_AFTER' | 'median';
  /** A max-duration annotation that could not be read, naming the object and the value; the next source applies. */
  readonly problem?: string;
}

/** An object with the daemon's annotations as raw strings: a JobRecord or CronJobRecord fits. */
export interface Annotated {
  readonly namespace: string;
  readonly name: string;
  readonly annotations: { readonly maxDuration?: string | undefined };
}

/**
 * Which limit a Job runs under: the Job's max-duration annotation, else its CronJob's, else STUCK_AFTER, else
 * `medianLimitMs` (slowRunLimitMs of the CronJob's successful runs, when that option is on).
 */
export function runLimit(job: Annotated, cronJob: Annotated | undefined, defaults: { readonly stuckAfterMs?: number | undefined; readonly medianLimitMs?: number | undefined }): RunLimit {
  const problems: string[] = [];
  for (const [object, source] of [[job, 'job annotation'], [cronJob, 'cronjob annotation']] as const) {
    const value = object?.annotations.maxDuration;
    if (object === undefined || value === undefined) continue;
    const parsed = parseMaxDuration(value);
    if (parsed.ok) return { ms: parsed.ms, source, ...(problems.length > 0 && { problem: problems.join('; ') }) };
    problems.push(`${source === 'job annotation' ? 'Job' : 'CronJob'} ${object.namespace}/${object.name}: ${parsed.problem}`);
  }
  const problem = problems.length > 0 ? { problem: problems.join('; ') } : {};
  if (defaults.stuckAfterMs !== undefined) return { ms: defaults.stuckAfterMs, source: 'STUCK_AFTER', ...problem };
  if (defaults.medianLimitMs !== undefined) return { ms: defaults.medianLimitMs, source: 'median', ...problem };
  return problem;
}

/** Runs needed before the median means anything, and how far past it a run is slow (the rule). */
export const MEDIAN_MIN_RUNS = 5;
export const SLOW_FACTOR = 3;
/** Only recent runs count: the most recent this many successful ones. */
const MEDIAN_WINDOW = 20;

/** The median duration of the most recent successful runs among `runs`, or undefined with fewer than 5 of them. */
export function medianDurationMs(runs: readonly RunFacts[]): number | undefined {
  const durations = runs
    .flatMap(({ startedAt, finished }) => {
      if (finished?.outcome !== 'succeeded' || finished.at === undefined || startedAt === undefined || finished.at < startedAt) return [];
      return [{ durationMs: finished.at.getTime() - startedAt.getTime(), finishedAt: finished.at.getTime() }];
    })
    .sort((a, b) => b.finishedAt - a.finishedAt)
    .slice(0, MEDIAN_WINDOW)
    .map((run) => run.durationMs)
    .sort((a, b) => a - b);
  if (durations.length < MEDIAN_MIN_RUNS) return undefined;
  const middle = Math.floor(durations.length / 2);
  return durations.length % 2 === 1 ? durations[middle]! : (durations[middle - 1]! + durations[middle]!) / 2;
}

/** 3x the median of recent successful runs: the limit past which a run of this CronJob is slow; undefined below 5 runs. */
export function slowRunLimitMs(runs: readonly RunFacts[]): number | undefined {
  const median = medianDurationMs(runs);
  return median === undefined ? undefined : median * SLOW_FACTOR;
}

/** Reasons a pod of a Job cannot start, as the scheduler and the kubelet report them. */
export const PENDING_REASONS = ['Unschedulable', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError'] as const;
export type PendingReason = (typeof PENDING_REASONS)[number];

export interface PendingRun {
  readonly reason: PendingReason;
  /** The scheduler's or kubelet's message, e.g. `0/3 nodes are available: 3 Insufficient cpu.`. */
  readonly message?: string;
  readonly pod: string;
  readonly container?: string;
  readonly since: Date;
  readonly pendingForMs: number;
  /** Pending for at least `pendingAfterMs` (PENDING_ALERT_AFTER): alert now. */
  readonly due: boolean;
  /** When it becomes due: `since` plus `pendingAfterMs`. */
  readonly checkAt: Date;
}

/** Of a Job's pods, the one stuck before starting for the longest, with why; undefined when none is. */
export function pendingReason(pods: readonly unknown[], now: Date, pendingAfterMs: number): PendingRun | undefined {
  let longest: PendingRun | undefined;
  for (const pod of pods) {
    const found = podTrouble(pod);
    if (found === undefined || (longest !== undefined && longest.since <= found.since)) continue;
    const pendingForMs = now.getTime() - found.since.getTime();
    longest = { ...found, pendingForMs, due: pendingForMs >= pendingAfterMs, checkAt: new Date(found.since.getTime() + pendingAfterMs) };
  }
  return longest;
}

function podTrouble(pod: unknown): Pick<PendingRun, 'reason' | 'message' | 'pod' | 'container' | 'since'> | undefined {
  const metadata = child(pod, 'metadata');
  const status = child(pod, 'status');
  const phase = text(status, 'phase');
  if (phase === 'Succeeded' || phase === 'Failed' || time(metadata?.['deletionTimestamp']) !== undefined) return undefined;
  const name = text(metadata, 'name') ?? '?';
  const created = time(metadata?.['creationTimestamp']);
  const conditions = list(status, 'conditions');
  const scheduled = conditions.find((condition) => text(condition, 'type') === 'PodScheduled');
  if (text(scheduled, 'status') === 'False' && text(scheduled, 'reason') === 'Unschedulable') {
    const since = time(fields(scheduled)?.['lastTransitionTime']) ?? created;
    const message = text(scheduled, 'message');
    return since && { reason: 'Unschedulable', pod: name, since, ...(message !== undefined && { message }) };
  }
  const podStarted = time(status?.['startTime']) ?? time(fields(scheduled)?.['lastTransitionTime']) ?? created;
  for (const container of [...list(status, 'initContainerStatuses'), ...list(status, 'containerStatuses')]) {
    const waiting = child(child(container, 'state'), 'waiting');
    const reason = text(waiting, 'reason');
    if (!(PENDING_REASONS as readonly string[]).includes(reason ?? '') || reason === 'Unschedulable') continue;
    const since = time(child(child(container, 'lastState'), 'terminated')?.['finishedAt']) ?? podStarted;
    if (since === undefined) continue;
    const message = text(waiting, 'message');
    const containerName = text(container, 'name');
    return { reason: reason as PendingReason, pod: name, since, ...(containerName !== undefined && { container: containerName }), ...(message !== undefined && { message }) };
  }
  return undefined;
}

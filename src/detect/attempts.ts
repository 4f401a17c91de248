/**
 * Every attempt a failed Job made, read from its pods: "4 failed attempts: 3x OOMKilled (exit 137), 1x Error
 * (exit 1)", and for an Indexed Job how each index ended. Pure: kube/evidence.ts lists the pods.
 *
 * One failed pod is one attempt (restartPolicy Never). With restartPolicy OnFailure the kubelet restarts the
 * container in the same pod, and the Job controller counts each restart as a failure, so restarts are attempts too;
 * but the kubelet keeps only the last termination (`lastState`), so earlier restarts are counted without a reason.
 * Sidecars (init containers with `restartPolicy: Always`) restart by design and are not attempts.
 */
import type { Evidence } from '../alert.ts';
import { failureIn, type Failure } from './container.ts';
import { annotation, child, count, fields, list, text } from './fields.ts';

export type Attempts = NonNullable<Evidence['attempts']>;
export type AttemptGroup = Attempts['groups'][number];
export type IndexFailure = NonNullable<Evidence['indexes']>[number];

/** Groups kept; the others still count in `total`. Exit codes are a program's choice, so there may be many. */
export const MAX_ATTEMPT_GROUPS = 8;
/** Indexes kept (the lowest); an Indexed Job may have 100,000 completions. */
export const MAX_INDEXES = 100;

/** Set on every pod of an Indexed Job (annotation since 1.21, also a label since 1.28). */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

interface PodAttempts {
  /** Known failures (reason and exit code), in no particular order. */
  readonly failures: readonly Failure[];
  /** Restarts whose termination the kubelet no longer keeps. */
  readonly unknown: number;
  /** The failure that ended last, for the per-index summary. */
  readonly last: Failure | undefined;
}

/** The failed attempts among `pods`, grouped; undefined when there are none. */
export function attemptsOf(pods: readonly unknown[]): Attempts | undefined {
  const groups = new Map<string, { reason?: string; exitCode?: number; count: number }>();
  let total = 0;
  const add = (reason: string | undefined, exitCode: number | undefined, count: number): void => {
    if (count <= 0) return;
    const key = JSON.stringify([reason ?? null, exitCode ?? null]);
    const group = groups.get(key) ?? { ...(reason === undefined ? {} : { reason }), ...(exitCode === undefined ? {} : { exitCode }), count: 0 };
    group.count += count;
    groups.set(key, group);
    total += count;
  };
  for (const pod of pods) {
    const attempts = podAttempts(pod);
    for (const failure of attempts.failures) add(failure.reason, failure.exitCode, 1);
    add(undefined, undefined, attempts.unknown);
  }
  if (total === 0) return undefined;
  // Most frequent first; a stable sort keeps the pods' order among equals. Unknown restarts go last.
  const sorted = [...groups.values()].sort((a, b) => known(b) - known(a) || b.count - a.count);
  return { total, groups: sorted.slice(0, MAX_ATTEMPT_GROUPS) };
}

const known = (group: AttemptGroup): number => (group.reason === undefined && group.exitCode === undefined ? 0 : 1);

/**
 * For an Indexed Job: how each index's last failed attempt ended, lowest index first. Pods without a completion
 * index (a NonIndexed Job) give nothing.
 */
export function indexFailuresOf(pods: readonly unknown[]): IndexFailure[] {
  const byIndex = new Map<number, { last: Failure | undefined; failures: number }>();
  for (const pod of pods) {
    const index = completionIndex(pod);
    if (index === undefined) continue;
    const attempts = podAttempts(pod);
    const failures = attempts.failures.length + attempts.unknown;
    if (failures === 0) continue;
    const seen = byIndex.get(index) ?? { last: undefined, failures: 0 };
    seen.failures += failures;
    if (seen.last === undefined || (attempts.last !== undefined && endedAfter(attempts.last, seen.last))) seen.last = attempts.last;
    byIndex.set(index, seen);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .slice(0, MAX_INDEXES)
    .map(([index, { last, failures }]) => ({
      index,
      ...(last?.exitCode === undefined ? {} : { exitCode: last.exitCode }),
      ...(last?.reason === undefined ? {} : { reason: last.reason }),
      failures,
    }));
}

/**
 * `status.failedIndexes` ("1,3-5,7") as numbers, in order, at most `max` of them; undefined when it is not that
 * format. The Job controller writes it, but a range may be huge, so it is never expanded beyond `max`.
 */
export function parseIndexes(value: string | undefined, max = MAX_INDEXES): { readonly indexes: number[]; readonly total: number } | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const indexes: number[] = [];
  let total = 0;
  for (const part of value.split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) return undefined;
    total += last - first + 1;
    for (let index = first; index <= last && indexes.length < max; index++) indexes.push(index);
  }
  return { indexes, total };
}

function podAttempts(raw: unknown): PodAttempts {
  const pod = fields(raw);
  const spec = child(pod, 'spec');
  const status = child(pod, 'status');
  const sidecars = new Set(
    list(spec, 'initContainers').filter((c) => text(c, 'restartPolicy') === 'Always').map((c) => text(c, 'name')),
  );
  const statuses = [...list(status, 'initContainerStatuses'), ...list(status, 'containerStatuses')]
    .filter((s) => !sidecars.has(text(s, 'name')));
  const failures: Failure[] = [];
  let unknown = 0;
  for (const containerStatus of statuses) {
    const restarts = Math.max(0, Math.floor(count(containerStatus, 'restartCount') ?? 0));
    if (restarts === 0) continue;
    const previous = failureIn(containerStatus, 'lastState', true);
    if (previous !== undefined) failures.push(previous);
    unknown += restarts - (previous === undefined ? 0 : 1);
  }
  // The pod's own end: the first container that failed (the others are then killed), or the pod itself.
  const current = statuses.map((s) => failureIn(s, 'state', false)).filter((f) => f !== undefined);
  const first = current.reduce<Failure | undefined>((a, b) => (a === undefined || endedAfter(a, b) ? b : a), undefined);
  const podReason = text(status, 'reason') || undefined;
  if (first !== undefined) {
    failures.push(podReason === undefined ? first : { ...first, reason: podReason });
  } else if (text(status, 'phase') === 'Failed') {
    failures.push({ container: undefined, exitCode: undefined, reason: podReason ?? 'Failed', message: undefined, finishedAt: undefined, previous: false });
  }
  const last = failures.reduce<Failure | undefined>((a, b) => (a === undefined || endedAfter(b, a) ? b : a), undefined);
  return { failures, unknown, last };
}

/** Whether `a` ended after `b`; an untimed failure counts as the later one (a current state is newer than lastState). */
function endedAfter(a: Failure, b: Failure): boolean {
  if (a.finishedAt === undefined || b.finishedAt === undefined) return a.finishedAt === undefined && !a.previous;
  return a.finishedAt > b.finishedAt;
}

function completionIndex(pod: unknown): number | undefined {
  const value = annotation(pod, COMPLETION_INDEX) ?? text(child(child(pod, 'metadata'), 'labels'), COMPLETION_INDEX);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

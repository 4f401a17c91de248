/**
 * Which container to blame: from a failed Job's pods, the facts about the failing container (or, for a pod that
 * failed before any container ran, the pod). Pure: the caller (kube/evidence.ts) lists the pods and reads the log.
 *
 * The most recently failed pod is chosen because it is the Job's last attempt, the one that exhausted the retries.
 * Within it the container that failed first is chosen: when one container fails, the kubelet then kills the others,
 * and their exit codes 137/143 would hide the cause.
 */
import type { Evidence } from '../alert.ts';
import type { Fields } from './fields.ts';
import { child, count, fields, list, text, time } from './fields.ts';

/** What the pods say about the one failing container (the rest of Evidence comes from attempts.ts and events.ts). */
export type ContainerEvidence = Pick<
  Evidence,
  'pod' | 'node' | 'container' | 'exitCode' | 'reason' | 'signal' | 'message' | 'previous' | 'image' | 'memoryLimit'
>;

/** A container termination that counts as a failure. */
export interface Failure {
  readonly container: string | undefined;
  readonly exitCode: number | undefined;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly finishedAt: Date | undefined;
  readonly previous: boolean;
}

interface FailedPod {
  readonly pod: Fields;
  readonly failure: Failure | undefined;
  /** When it failed, for picking the latest: the termination's finishedAt, else the pod's creationTimestamp. */
  readonly at: number;
}

/** The failing container among `pods`, or `{}` when there are none or none is recognizable. */
export function evidenceFromPods(pods: unknown[]): ContainerEvidence {
  if (!Array.isArray(pods)) return {};
  let latest: FailedPod | undefined;
  for (const raw of pods) {
    const candidate = failedPod(raw);
    if (candidate !== undefined && (latest === undefined || candidate.at > latest.at)) latest = candidate;
  }
  return latest === undefined ? {} : evidenceOf(latest);
}

function failedPod(raw: unknown): FailedPod | undefined {
  const pod = fields(raw);
  if (pod === undefined) return undefined;
  const status = child(pod, 'status');
  const failure = firstFailure(status);
  if (failure === undefined && text(status, 'phase') !== 'Failed') return undefined;
  const at = failure?.finishedAt ?? time(child(pod, 'metadata')?.['creationTimestamp']);
  return { pod, failure, at: at?.getTime() ?? Number.NEGATIVE_INFINITY };
}

/** The earliest failed termination among init and app containers; a current one is preferred over a previous one. */
function firstFailure(status: Fields | undefined): Failure | undefined {
  const statuses = [...list(status, 'initContainerStatuses'), ...list(status, 'containerStatuses')];
  const current = statuses.map((s) => failureIn(s, 'state', false));
  const previous = statuses.map((s) => failureIn(s, 'lastState', true));
  for (const failures of [current, previous]) {
    let first: Failure | undefined;
    for (const failure of failures) {
      if (failure === undefined) continue;
      if (first === undefined || (failure.finishedAt !== undefined && first.finishedAt !== undefined && failure.finishedAt < first.finishedAt)) {
        first = failure;
      }
    }
    if (first !== undefined) return first;
  }
  return undefined;
}

/** The termination under `state` or `lastState` of a container status, when it is a failure. */
export function failureIn(containerStatus: unknown, key: 'state' | 'lastState', previous: boolean): Failure | undefined {
  const terminated = child(child(containerStatus, key), 'terminated');
  if (terminated === undefined) return undefined;
  const exitCode = count(terminated, 'exitCode');
  const reason = text(terminated, 'reason');
  // OOMKilled can be reported with exit code 0, so a reason other than Completed counts as much as the code.
  const failed = (exitCode !== undefined && exitCode !== 0) || (reason !== undefined && reason !== '' && reason !== 'Completed');
  if (!failed) return undefined;
  return {
    container: text(containerStatus, 'name'),
    exitCode,
    reason,
    message: text(terminated, 'message'),
    finishedAt: time(terminated['finishedAt']),
    previous,
  };
}

function evidenceOf({ pod, failure }: FailedPod): ContainerEvidence {
  const status = child(pod, 'status');
  const evidence: Record<string, unknown> = {
    pod: text(child(pod, 'metadata'), 'name'),
    node: text(child(pod, 'spec'), 'nodeName'),
  };
  if (failure === undefined) {
    // Evicted, UnexpectedAdmissionError, NodeAffinity...: the pod failed before a container ran, so the pod says why.
    evidence['reason'] = text(status, 'reason');
    evidence['message'] = text(status, 'message');
  } else {
    evidence['container'] = failure.container;
    evidence['exitCode'] = failure.exitCode;
    // A pod-level reason (Evicted, DeadlineExceeded, Shutdown...) explains the container's end better than what
    // the kubelet wrote for the container then (ContainerStatusUnknown, or Error with 137).
    evidence['reason'] = text(status, 'reason') || failure.reason;
    evidence['signal'] = failure.exitCode === undefined ? undefined : signalOf(failure.exitCode);
    evidence['message'] = text(status, 'message') || failure.message;
    if (failure.previous) evidence['previous'] = true;
    const spec = containerSpec(pod, failure.container);
    evidence['image'] = text(spec, 'image');
    // The limit explains an OOMKill (or its absence does: then the node ran short); for other failures it is noise.
    if (failure.reason === 'OOMKilled') evidence['memoryLimit'] = text(child(child(spec, 'resources'), 'limits'), 'memory');
  }
  return withoutUndefined(evidence) as ContainerEvidence;
}

/** The spec of the container named `name`, among the pod's init and app containers. */
export function containerSpec(pod: unknown, name: string | undefined): Fields | undefined {
  if (name === undefined) return undefined;
  const spec = child(pod, 'spec');
  return fields([...list(spec, 'initContainers'), ...list(spec, 'containers')].find((container) => text(container, 'name') === name));
}

/** Shells and runtimes report death by signal N as exit code 128 + N; only 1..64 are signals (255 is exit(-1)). */
export function signalOf(exitCode: number): number | undefined {
  const signal = exitCode - 128;
  return signal >= 1 && signal <= 64 ? signal : undefined;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

const SIGNAL_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'SIGHUP'], [2, 'SIGINT'], [3, 'SIGQUIT'], [4, 'SIGILL'], [5, 'SIGTRAP'], [6, 'SIGABRT'], [7, 'SIGBUS'],
  [8, 'SIGFPE'], [9, 'SIGKILL'], [10, 'SIGUSR1'], [11, 'SIGSEGV'], [12, 'SIGUSR2'], [13, 'SIGPIPE'], [14, 'SIGALRM'],
  [15, 'SIGTERM'],
]);

/** The Linux name of a signal number (9 -> SIGKILL), or undefined for one without a well-known name here. */
export function signalName(signal: number): string | undefined {
  return SIGNAL_NAMES.get(signal);
}

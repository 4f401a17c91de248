/**
 * Enrichment: what the cluster still holds about a failed Job. Best effort and bounded in time and size: a lookup
 * that fails or hangs gives an alert without that part and a one-line note saying why, never a lost alert.
 *
 * The calls, each bounded by `timeoutMs` (and each granted in deploy/role.yaml and listed in permissions.ts):
 * - list pods by the Job's controller-uid label: the failing container (detect/container.ts), every attempt and
 *   how each index ended (detect/attempts.ts);
 * - list events with the field selector `involvedObject.uid=<uid>,type=Warning`, once for the Job (in parallel
 *   with the pods) and once for the failing pod (in parallel with its log): FailedCreate, quota, image pulls. The
 *   uid rather than kind and name, because a Job's name is reused by the next Job of that name; Warning only,
 *   because Normal events (SuccessfulCreate...) say nothing about a failure. The real API server indexes both
 *   fields for core/v1 events;
 * - get pods/log of the failing container, read so that the tail ends with the log's last line (detect/log-tail.ts).
 *
 * Log contents are never logged: a log line may hold a secret the program printed.
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Evidence, JobFailure } from '../alert.ts';
import { attemptsOf, indexFailuresOf } from '../detect/attempts.ts';
import { evidenceFromPods } from '../detect/container.ts';
import { warningEventsOf } from '../detect/events.ts';
import { cutByLimit, fewerLines, keepEnd, logLines } from '../detect/log-tail.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_SETTINGS, type Settings } from '../settings.ts';
import { describeError, withTimeout } from './client.ts';

export interface EvidenceOptions {
  readonly core: CoreV1Api;
  readonly tailLines: number;
  readonly logger: Logger;
  /** Per API call. */
  readonly timeoutMs?: number;
  /** Log read and keep bounds, and how many events; tests make them small. */
  readonly limits?: Partial<Settings['gather']>;
}

export type GatherEvidence = (failure: JobFailure, signal: AbortSignal) => Promise<Evidence>;

type Bound = <T>(call: Promise<T>) => Promise<T>;

export function evidenceGatherer(options: EvidenceOptions): GatherEvidence {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SETTINGS.api.callTimeoutMs;
  const limits = { ...DEFAULT_SETTINGS.gather, ...options.limits };
  const { core, logger } = options;
  return async (failure, signal) => {
    const bound: Bound = (call) => withTimeout(call, timeoutMs, signal);
    const job = `${failure.namespace}/${failure.name}`;
    const notes: string[] = [];
    const jobEvents = warningEvents(core, failure.namespace, failure.uid, bound);

    let pods: V1Pod[] | undefined;
    try {
      pods = await jobPods(core, failure, bound);
    } catch (error) {
      logger.warn({ job, err: describeError(error) }, 'could not list the job\'s pods');
      notes.push(`Pods unavailable: ${describeError(error)}`);
    }
    const found = pods === undefined ? {} : evidenceFromPods(pods);
    const attempts = pods === undefined ? undefined : attemptsOf(pods);
    const indexes = pods === undefined ? [] : indexFailuresOf(pods);
    if (pods?.length === 0) notes.push('No pods left for this Job (already deleted), so no exit code or logs.');
    else if (pods !== undefined && found.pod === undefined) notes.push(`No failed container found in ${pods.length} pod(s).`);

    const podUid = pods?.find((pod) => pod.metadata?.name === found.pod)?.metadata?.uid;
    const [events, podEvents, log] = await Promise.all([
      jobEvents,
      podUid === undefined ? Promise.resolve([]) : warningEvents(core, failure.namespace, podUid, bound),
      found.pod === undefined || found.container === undefined || options.tailLines === 0
        ? Promise.resolve(undefined)
        : logTail(core, { namespace: failure.namespace, pod: found.pod, container: found.container, previous: found.previous === true }, options.tailLines, limits, bound),
    ]);

    for (const result of [events, podEvents]) {
      if (result instanceof Error && !notes.includes(`Events unavailable: ${result.message}`)) {
        logger.warn({ job, err: result.message }, 'could not list the job\'s warning events');
        notes.push(`Events unavailable: ${result.message}`);
      }
    }
    const warnings = warningEventsOf([...(Array.isArray(events) ? events : []), ...(Array.isArray(podEvents) ? podEvents : [])], limits.events);

    let logTailLines: string[] | undefined;
    if (log instanceof Error) {
      logger.warn({ job, pod: found.pod, container: found.container, err: log.message }, 'could not read the failed container\'s log');
      notes.push(`Logs unavailable: ${log.message}`);
    } else if (log !== undefined) {
      logTailLines = log.lines;
      if (log.lines.length === 0) notes.push('The container wrote no log lines.');
      if (log.cut) notes.push(`The log's last line is longer than ${Math.round(limits.logReadBytes / 1024)} KiB: only part of it was read.`);
    }
    logger.debug(
      { job, pods: pods?.length, attempts: attempts?.total, events: warnings.length, logLines: logTailLines?.length, logReads: log instanceof Error ? undefined : log?.reads },
      'evidence gathered',
    );
    return {
      ...found,
      ...(logTailLines === undefined ? {} : { logTail: logTailLines }),
      ...(attempts === undefined ? {} : { attempts }),
      ...(indexes.length === 0 ? {} : { indexes }),
      ...(warnings.length === 0 ? {} : { events: warnings }),
      notes,
    };
  };
}

/** Pods carry `batch.kubernetes.io/controller-uid` since Kubernetes 1.27, and `controller-uid` before. */
/** A Job's pods (for a run's time checks: pods that cannot start), bounded in time; throws on an API error. */
export function jobPodLister(core: CoreV1Api, timeoutMs: number): (job: { namespace: string; uid: string }, signal: AbortSignal) => Promise<V1Pod[]> {
  return (job, signal) => jobPods(core, job, (call) => withTimeout(call, timeoutMs, signal));
}

async function jobPods(core: CoreV1Api, failure: Pick<JobFailure, 'namespace' | 'uid'>, bound: Bound): Promise<V1Pod[]> {
  for (const label of ['batch.kubernetes.io/controller-uid', 'controller-uid']) {
    const list = await bound(core.listNamespacedPod({ namespace: failure.namespace, labelSelector: `${label}=${failure.uid}` }));
    if (list.items.length > 0) return list.items;
  }
  return [];
}

/** The Warning events about the object with `uid`, or the error as a value (events are the least of the evidence). */
async function warningEvents(core: CoreV1Api, namespace: string, uid: string, bound: Bound): Promise<unknown[] | Error> {
  try {
    const list = await bound(core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid},type=Warning` }));
    return list.items;
  } catch (error) {
    return new Error(describeError(error));
  }
}

interface LogTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly previous: boolean;
}

/**
 * The last `tailLines` lines of the container's log, ending with its last line. A read that comes back as long as
 * its limitBytes was cut before the window's end (the kubelet counts the limit from the window's start), so it is
 * read again with fewer lines; the last allowed read asks for one line. `cut`: even that one was longer than the
 * limit, so only its beginning is known.
 */
async function logTail(
  core: CoreV1Api,
  target: LogTarget,
  tailLines: number,
  limits: Settings['gather'],
  bound: Bound,
): Promise<{ lines: string[]; cut: boolean; reads: number } | Error> {
  let asked = tailLines;
  for (let reads = 1; ; reads++) {
    let text: string;
    try {
      text = String(
        (await bound(
          core.readNamespacedPodLog({
            name: target.pod,
            namespace: target.namespace,
            container: target.container,
            tailLines: asked,
            limitBytes: limits.logReadBytes,
            previous: target.previous ? true : undefined,
          }),
        )) ?? '',
      );
    } catch (error) {
      return new Error(describeError(error));
    }
    const cut = cutByLimit(text, limits.logReadBytes);
    if (!cut || asked === 1 || reads >= limits.logReads) {
      // A cut read that cannot be retried ends wherever the limit fell: its last line is partial, not the log's last.
      const lines = logLines(text);
      if (cut && asked > 1) lines.pop();
      const kept = keepEnd(lines, tailLines, limits.logKeepBytes);
      return { lines: kept.lines, cut: cut && asked === 1, reads };
    }
    asked = reads === limits.logReads - 1 ? 1 : fewerLines(text, asked);
  }
}

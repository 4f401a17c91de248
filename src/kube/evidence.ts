/**
 * Enrichment: what the cluster still holds about the failing container. Best effort and bounded in time: a lookup
 * that fails or hangs gives an alert without that part and a one-line note saying why, never a lost alert.
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Evidence, JobFailure } from '../alert.ts';
import { evidenceFromPods } from '../detect/container.ts';
import type { Logger } from '../log.ts';
import { describeError, withTimeout } from './client.ts';

export interface EvidenceOptions {
  readonly core: CoreV1Api;
  readonly tailLines: number;
  readonly logger: Logger;
  /** Per API call. */
  readonly timeoutMs?: number;
  /** Caps the log read even when lines are very long. */
  readonly limitBytes?: number;
}

export type GatherEvidence = (failure: JobFailure, signal: AbortSignal) => Promise<Evidence>;

export function evidenceGatherer(options: EvidenceOptions): GatherEvidence {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (failure, signal) => {
    const notes: string[] = [];
    let pods: V1Pod[];
    try {
      pods = await jobPods(options.core, failure, (call) => withTimeout(call, timeoutMs, signal));
    } catch (error) {
      options.logger.warn({ job: `${failure.namespace}/${failure.name}`, err: describeError(error) }, 'could not list the job\'s pods');
      return { notes: [`Pods unavailable: ${describeError(error)}`] };
    }
    if (pods.length === 0) return { notes: ['No pods left for this Job (already deleted), so no exit code or logs.'] };
    const { previous, ...found } = evidenceFromPods(pods);
    if (found.pod === undefined) return { notes: [`No failed container found in ${pods.length} pod(s).`] };
    if (found.container === undefined || options.tailLines === 0) return { ...found, notes };
    try {
      const log = await withTimeout(
        options.core.readNamespacedPodLog({
          name: found.pod,
          namespace: failure.namespace,
          container: found.container,
          tailLines: options.tailLines,
          limitBytes: options.limitBytes ?? 64 * 1024,
          previous: previous === true ? true : undefined,
        }),
        timeoutMs,
        signal,
      );
      const lines = String(log ?? '').split('\n');
      if (lines.at(-1) === '') lines.pop();
      if (lines.length === 0) notes.push('The container wrote no log lines.');
      return { ...found, logTail: lines.slice(-options.tailLines), notes };
    } catch (error) {
      return { ...found, notes: [...notes, `Logs unavailable: ${describeError(error)}`] };
    }
  };
}

/** Pods carry `batch.kubernetes.io/controller-uid` since Kubernetes 1.27, and `controller-uid` before. */
async function jobPods(core: CoreV1Api, failure: JobFailure, bound: <T>(call: Promise<T>) => Promise<T>): Promise<V1Pod[]> {
  for (const label of ['batch.kubernetes.io/controller-uid', 'controller-uid']) {
    const list = await bound(core.listNamespacedPod({ namespace: failure.namespace, labelSelector: `${label}=${failure.uid}` }));
    if (list.items.length > 0) return list.items;
  }
  return [];
}

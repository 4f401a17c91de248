/** Writes to Jobs and CronJobs: only the daemon's own annotations. */
import { PatchStrategy, setHeaderOptions, type BatchV1Api } from '@kubernetes/client-node';
import type { ObjectRef, WriteAnnotations, WriteErrorKind } from '../state/marks.ts';
import { statusOf, withTimeout } from './client.ts';

/**
 * A merge patch that carries the object's UID: the API server treats a UID in a patch as a precondition, so an
 * object deleted and re-created under the same name is never marked for its predecessor (409). Bounded in time:
 * a hung PATCH is a retry, not a stalled worker.
 */
export function annotationWriter(batch: BatchV1Api, timeoutMs: number): WriteAnnotations {
  return async ({ kind, namespace, name, uid }: ObjectRef, annotations) => {
    const body = { metadata: { uid, annotations } };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const call: Promise<unknown> = kind === 'Job' ? batch.patchNamespacedJob({ name, namespace, body }, options) : batch.patchNamespacedCronJob({ name, namespace, body }, options);
    await withTimeout(call, timeoutMs);
  };
}

export function classifyWriteError(error: unknown): WriteErrorKind {
  const status = statusOf(error);
  if (status === 404 || status === 409) return 'gone';
  if (status === 401 || status === 403) return 'denied';
  if (status === undefined || status === 429 || status >= 500) return 'retry';
  return 'other';
}

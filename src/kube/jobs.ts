/** Writes to Jobs: only the daemon's own annotations. */
import { PatchStrategy, setHeaderOptions, type BatchV1Api } from '@kubernetes/client-node';
import type { AnnotateJob, PatchErrorKind } from '../state/marks.ts';
import { statusOf } from './client.ts';

/**
 * A merge patch that carries the Job's UID: the API server treats a UID in a patch as a precondition, so a Job
 * deleted and re-created under the same name is never marked for its predecessor's failure (409).
 */
export function jobAnnotator(batch: BatchV1Api): AnnotateJob {
  return async ({ namespace, name, uid }, annotations) => {
    await batch.patchNamespacedJob(
      { name, namespace, body: { metadata: { uid, annotations } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
}

export function classifyPatchError(error: unknown): PatchErrorKind {
  const status = statusOf(error);
  if (status === 404 || status === 409) return 'gone';
  if (status === 401 || status === 403) return 'denied';
  if (status === undefined || status === 429 || status >= 500) return 'retry';
  return 'other';
}

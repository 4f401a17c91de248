/**
 * Exactly once: which failures have been posted. Keyed by Job UID, because names are reused (a CronJob's Jobs, a
 * re-created Job) and UIDs are not.
 *
 * `memory` remembers in this process only: a restart re-alerts failures younger than ALERT_MAX_AGE.
 * `annotation` also writes `kube-job-alerts.io/alerted-at` on the Job after Slack accepted the post; the next
 * process reads it from its informer cache, so a restart or a relist sends nothing twice. The in-memory mark is
 * set first, so the updates that race with our own patch (and the patch's own MODIFIED event) are dropped.
 */
import type { Clock, JobFailure } from '../alert.ts';
import { ANNOTATION_ALERTED_AT } from '../alert.ts';
import { alertedAt } from '../detect/failure.ts';
import type { Logger } from '../log.ts';
import { backoffDelay } from '../queue/backoff.ts';

export interface AlertMarks {
  /** Whether this Job's failure was posted already. `job` is the Job object as the informer holds it. */
  isMarked(uid: string, job: unknown): boolean;
  /** Records a post that Slack accepted. Never throws: a mark that cannot be persisted is logged. */
  mark(failure: JobFailure, clock: Clock): Promise<void>;
  /** The Job is gone: its UID will not be seen again. */
  forget(uid: string): void;
}

export class MemoryMarks implements AlertMarks {
  readonly #uids = new Set<string>();

  isMarked(uid: string): boolean {
    return this.#uids.has(uid);
  }

  async mark(failure: JobFailure): Promise<void> {
    this.#uids.add(failure.uid);
  }

  forget(uid: string): void {
    this.#uids.delete(uid);
  }
}

/** Writes annotations on a Job, only if it still has this UID. Implemented in kube/jobs.ts. */
export type AnnotateJob = (job: { namespace: string; name: string; uid: string }, annotations: Record<string, string>) => Promise<void>;

/** Whether retrying an annotation patch can help, from the error the annotate function threw. */
export type PatchErrorKind = 'retry' | 'gone' | 'denied' | 'other';

export interface AnnotationMarksOptions {
  readonly annotate: AnnotateJob;
  readonly classify: (error: unknown) => PatchErrorKind;
  readonly describe: (error: unknown) => string;
  readonly logger: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly attempts?: number;
}

export class AnnotationMarks implements AlertMarks {
  readonly #memory = new MemoryMarks();
  readonly #options: AnnotationMarksOptions;

  constructor(options: AnnotationMarksOptions) {
    this.#options = options;
  }

  isMarked(uid: string, job: unknown): boolean {
    return this.#memory.isMarked(uid) || alertedAt(job) !== undefined;
  }

  async mark(failure: JobFailure, clock: Clock): Promise<void> {
    await this.#memory.mark(failure);
    const { annotate, classify, describe, logger } = this.#options;
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const attempts = this.#options.attempts ?? 4;
    const job = { namespace: failure.namespace, name: failure.name, uid: failure.uid };
    for (let attempt = 1; ; attempt++) {
      try {
        await annotate(job, { [ANNOTATION_ALERTED_AT]: clock.now().toISOString() });
        return;
      } catch (error) {
        const kind = classify(error);
        if (kind === 'gone') return; // deleted or replaced since: nothing left to mark
        if (kind === 'retry' && attempt < attempts) {
          await sleep(backoffDelay({ baseMs: 1000, maxMs: 8000, jitter: 'none' }, attempt - 1));
          continue;
        }
        logger.error(
          { job: `${job.namespace}/${job.name}`, err: describe(error), hint: kind === 'denied' ? 'grant patch on jobs, or set STATE_STORE=memory' : undefined },
          'could not write the alerted-at annotation: this process will not alert it again, but a restart may',
        );
        return;
      }
    }
  }

  forget(uid: string): void {
    this.#memory.forget(uid);
  }
}

/**
 * Evidence captured once, when a failure is first decided on, and kept until its Job is gone.
 *
 * Why capture early: pods vanish fast (a TTL, failedJobsHistoryLimit, `restartPolicy: OnFailure` replacing pods,
 * the Job controller deleting the rest after FailureTarget), and a message may be rendered later than decided (a
 * storm window, a retry). The first look, moments after FailureTarget, is the best one. Bounded in count and in
 * bytes (log tails dominate): the oldest captures are dropped first, and a dropped one is simply captured again.
 */
import type { Evidence, JobFailure } from '../alert.ts';

export interface EvidenceStoreOptions {
  readonly gather: (failure: JobFailure, signal: AbortSignal) => Promise<Evidence>;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export class EvidenceStore {
  readonly #options: EvidenceStoreOptions;
  /** uid -> captured evidence (Map order is capture order: the oldest first). */
  readonly #captured = new Map<string, { evidence: Evidence; bytes: number }>();
  readonly #inProgress = new Map<string, Promise<Evidence>>();
  #bytes = 0;

  constructor(options: EvidenceStoreOptions) {
    this.#options = options;
  }

  /** The evidence for this failure: captured before, or gathered now (best effort: never throws). */
  capture(failure: JobFailure, signal: AbortSignal): Promise<Evidence> {
    const known = this.#captured.get(failure.uid);
    if (known) return Promise.resolve(known.evidence);
    const running = this.#inProgress.get(failure.uid);
    if (running) return running;
    const gathering = this.#options
      .gather(failure, signal)
      .catch((error: unknown): Evidence => ({ notes: [`Evidence unavailable: ${error instanceof Error ? error.message : String(error)}`] }))
      .then((evidence) => {
        this.#keep(failure.uid, evidence);
        return evidence;
      })
      .finally(() => this.#inProgress.delete(failure.uid));
    this.#inProgress.set(failure.uid, gathering);
    return gathering;
  }

  /** The Job is gone: its evidence is of no more use. */
  forget(uid: string): void {
    const entry = this.#captured.get(uid);
    if (!entry) return;
    this.#captured.delete(uid);
    this.#bytes -= entry.bytes;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.#captured.size, bytes: this.#bytes };
  }

  #keep(uid: string, evidence: Evidence): void {
    const bytes = JSON.stringify(evidence).length * 2; // UTF-16: an upper bound of what the strings hold
    if (bytes > this.#options.maxBytes) return;
    this.forget(uid);
    this.#captured.set(uid, { evidence, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#captured) {
      if (this.#captured.size <= this.#options.maxEntries && this.#bytes <= this.#options.maxBytes) break;
      this.#captured.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }
}

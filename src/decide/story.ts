/**
 * A CronJob's story: its current failure streak, what was said about each failure, and its last success. Pure.
 *
 * Why it is kept (on the CronJob, see state/story-codec.ts) rather than recounted from the Jobs: with
 * `failedJobsHistoryLimit: 1` the earlier failed Jobs are deleted, so after a restart only the story can say that
 * this is the 3rd consecutive failure. Runs are ordered by their scheduled time (else creation time), so events
 * that arrive out of order still count right.
 */

/** What was decided about one failed run. `pending`: a message is on its way (not yet confirmed by Slack). */
export type Outcome = 'notified' | 'pending' | 'suppressed' | 'skipped' | 'undeliverable';

export interface StoryEntry {
  readonly uid: string;
  readonly name: string;
  /** Scheduled (else creation) time, ms. */
  readonly order: number;
  readonly failedAt: number | undefined;
  readonly outcome: Outcome;
  /** When a message about it was decided (pending) or confirmed (notified). */
  readonly notifiedAt?: number;
}

export interface Story {
  /** The latest successful run seen; failures before it are history. */
  readonly lastSuccess?: { readonly uid: string; readonly name: string; readonly order: number };
  /** The current streak's failures, oldest first (at most MAX_ENTRIES; older ones are folded into `earlier`). */
  readonly failures: readonly StoryEntry[];
  /** Failures of this streak folded out of `failures`, and how many of them were notified, and the last time. */
  readonly earlier: { readonly count: number; readonly notified: number; readonly lastNotifiedAt?: number; readonly since?: number };
  /** Failed runs already accounted for outside the streak (an ended streak, overlapping runs, suspended), newest last. */
  readonly settled?: readonly string[];
  /**
   * A recovery message is on its way: the story before the success, which is what must be kept on the CronJob
   * until Slack confirms it (so a restart sends the recovery again rather than never).
   */
  readonly recovering?: Story;
}

export const EMPTY_STORY: Story = Object.freeze({ failures: [], earlier: { count: 0, notified: 0 } });

/** Bounds the story (it is written into an annotation): 50 entries are ~5 KB. */
export const MAX_ENTRIES = 50;
export const MAX_SETTLED = 50;

/** The story with these runs accounted for outside the streak. */
export function withSettled(story: Story, uids: readonly string[]): Story {
  if (uids.length === 0) return story;
  const settled = [...(story.settled ?? []).filter((uid) => !uids.includes(uid)), ...uids].slice(-MAX_SETTLED);
  return { ...story, settled };
}

/** How many consecutive failures the streak has. */
export function streakLength(story: Story): number {
  return story.earlier.count + story.failures.length;
}

/** When the streak began: the first failure's time. */
export function streakSince(story: Story): number | undefined {
  return story.earlier.since ?? story.failures[0]?.failedAt ?? story.failures[0]?.order;
}

const SAID: ReadonlySet<Outcome> = new Set(['notified', 'pending']);

/** Messages sent (or on their way) about this streak. */
export function notifiedCount(story: Story): number {
  return story.earlier.notified + story.failures.filter((entry) => SAID.has(entry.outcome)).length;
}

export function lastNotifiedAt(story: Story): number | undefined {
  let last = story.earlier.lastNotifiedAt;
  for (const entry of story.failures) {
    if (SAID.has(entry.outcome) && entry.notifiedAt !== undefined && (last === undefined || entry.notifiedAt > last)) last = entry.notifiedAt;
  }
  return last;
}

/** Adds a failure at its place in the order, folding the oldest entries into `earlier` beyond MAX_ENTRIES. */
export function withFailure(story: Story, entry: StoryEntry): Story {
  const failures = [...story.failures, entry].sort((a, b) => a.order - b.order || a.uid.localeCompare(b.uid));
  let earlier = story.earlier;
  while (failures.length > MAX_ENTRIES) {
    const oldest = failures.shift()!;
    const said = SAID.has(oldest.outcome);
    earlier = {
      count: earlier.count + 1,
      notified: earlier.notified + (said ? 1 : 0),
      lastNotifiedAt: said && oldest.notifiedAt !== undefined ? Math.max(oldest.notifiedAt, earlier.lastNotifiedAt ?? 0) : earlier.lastNotifiedAt,
      since: earlier.since ?? oldest.failedAt ?? oldest.order,
    };
  }
  return { ...story, failures, earlier };
}

/** The entry's 1-based place in the streak. */
export function positionOf(story: Story, uid: string): number | undefined {
  const index = story.failures.findIndex((entry) => entry.uid === uid);
  return index === -1 ? undefined : story.earlier.count + index + 1;
}

/** The story with one entry's outcome changed (a pending message confirmed, or refused for good). */
export function withOutcome(story: Story, uid: string, outcome: Outcome, at?: number): Story {
  const failures = story.failures.map((entry) => (entry.uid === uid ? { ...entry, outcome, ...(at === undefined ? {} : { notifiedAt: at }) } : entry));
  const recovering = story.recovering && withOutcome(story.recovering, uid, outcome, at);
  return { ...story, failures, ...(recovering ? { recovering } : {}) };
}

/** What may be kept on the CronJob now: nothing that Slack has not confirmed. */
export function durable(story: Story): Story {
  if (story.recovering) return durable(story.recovering);
  const failures = story.failures.filter((entry) => entry.outcome !== 'pending');
  return {
    ...(story.lastSuccess ? { lastSuccess: story.lastSuccess } : {}),
    failures,
    earlier: story.earlier,
    ...(story.settled?.length ? { settled: story.settled } : {}),
  };
}

export function knows(story: Story, uid: string): boolean {
  return story.failures.some((entry) => entry.uid === uid) || story.lastSuccess?.uid === uid || (story.settled?.includes(uid) ?? false);
}

/**
 * The CronJob story as the `kube-job-alerts.io/story` annotation holds it: compact JSON, times in RFC 3339 so that
 * `kubectl get cronjob -o yaml` reads well. Decoding never throws: an annotation someone edited by hand into
 * nonsense gives a problem to log and an empty story (counts restart at 1; nothing is lost or sent twice, because
 * each Job's own alerted-at still says what was sent).
 */
import { EMPTY_STORY, type Outcome, type Story, type StoryEntry } from '../decide/story.ts';

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['notified', 'suppressed', 'skipped', 'undeliverable']);

interface Encoded {
  v: 1;
  lastSuccess?: { uid: string; name: string; at: string };
  failures: { uid: string; name: string; at: string; failedAt?: string; outcome: string; notifiedAt?: string }[];
  earlier?: { count: number; notified: number; lastNotifiedAt?: string; since?: string };
  settled?: string[];
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString());

/** The annotation value for a story (which must be durable: no pending entries). */
export function encodeStory(story: Story): string {
  const encoded: Encoded = {
    v: 1,
    ...(story.lastSuccess ? { lastSuccess: { uid: story.lastSuccess.uid, name: story.lastSuccess.name, at: iso(story.lastSuccess.order)! } } : {}),
    failures: story.failures.map((entry) => ({
      uid: entry.uid,
      name: entry.name,
      at: iso(entry.order)!,
      ...(entry.failedAt !== undefined ? { failedAt: iso(entry.failedAt) } : {}),
      outcome: entry.outcome,
      ...(entry.notifiedAt !== undefined ? { notifiedAt: iso(entry.notifiedAt) } : {}),
    })),
    ...(story.earlier.count > 0
      ? { earlier: { count: story.earlier.count, notified: story.earlier.notified, lastNotifiedAt: iso(story.earlier.lastNotifiedAt), since: iso(story.earlier.since) } }
      : {}),
    ...(story.settled?.length ? { settled: [...story.settled] } : {}),
  };
  return JSON.stringify(encoded);
}

export type Decoded = { readonly story: Story; readonly problem?: string };

export function decodeStory(text: string | undefined): Decoded {
  if (text === undefined || text.trim() === '') return { story: EMPTY_STORY };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { story: EMPTY_STORY, problem: 'is not JSON' };
  }
  const value = raw as Partial<Encoded> | null;
  if (typeof value !== 'object' || value === null || value.v !== 1 || !Array.isArray(value.failures)) return { story: EMPTY_STORY, problem: 'is not a version 1 story' };
  const time = (s: unknown): number | undefined => (typeof s === 'string' && !Number.isNaN(Date.parse(s)) ? Date.parse(s) : undefined);
  const failures: StoryEntry[] = [];
  for (const f of value.failures) {
    const order = time(f?.at);
    if (typeof f?.uid !== 'string' || order === undefined || !OUTCOMES.has(String(f.outcome))) return { story: EMPTY_STORY, problem: 'has an unreadable failure entry' };
    const notifiedAt = time(f.notifiedAt);
    failures.push({ uid: f.uid, name: typeof f.name === 'string' ? f.name : '', order, failedAt: time(f.failedAt), outcome: f.outcome as Outcome, ...(notifiedAt === undefined ? {} : { notifiedAt }) });
  }
  const success = value.lastSuccess;
  const successAt = time(success?.at);
  const earlier = value.earlier;
  const count = typeof earlier?.count === 'number' && earlier.count >= 0 ? Math.floor(earlier.count) : 0;
  return {
    story: {
      ...(success && typeof success.uid === 'string' && successAt !== undefined ? { lastSuccess: { uid: success.uid, name: String(success.name ?? ''), order: successAt } } : {}),
      failures: failures.sort((a, b) => a.order - b.order),
      earlier: {
        count,
        notified: typeof earlier?.notified === 'number' && earlier.notified >= 0 ? Math.min(Math.floor(earlier.notified), count) : 0,
        lastNotifiedAt: time(earlier?.lastNotifiedAt),
        since: time(earlier?.since),
      },
      ...(Array.isArray(value.settled) ? { settled: value.settled.filter((uid): uid is string => typeof uid === 'string') } : {}),
    },
  };
}

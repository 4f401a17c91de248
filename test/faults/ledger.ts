/**
 * The fault suite's bookkeeping: which Jobs Slack named, how often, and what that means for a scenario's promise.
 *
 * A Job counts as named whether it arrived alone (the header `Job failed: ns/name`) or in a digest (one line per Job,
 * `• \`ns/name\`: ...`, slack/digest.ts), since a digest is how a storm or a folded backlog is reported. A Job named
 * in two accepted messages is a duplicate, whatever their kinds; reminders and recoveries name no failed Job here.
 */
import type { ReceivedPost } from '../world/slack.ts';

const SINGLE = /^:rotating_light: Job failed: (\S+)$/;
const DIGEST = /^:rotating_light: \d+ Jobs? failed/;
const DIGEST_LINE = /^• `([^`]+)`:/gm;

/** The Jobs (`ns/name`) one accepted message names, each once, in the order it names them. */
export function jobsNamedIn(body: unknown): string[] {
  const blocks = (body as { blocks?: { type?: string; text?: { text?: unknown } }[] } | undefined)?.blocks;
  if (!Array.isArray(blocks)) return [];
  const header = blocks.find((block) => block.type === 'header')?.text?.text;
  if (typeof header !== 'string') return [];
  const single = SINGLE.exec(header);
  if (single) return [single[1]!];
  if (!DIGEST.test(header)) return [];
  const names: string[] = [];
  for (const block of blocks) {
    if (block.type !== 'section' || typeof block.text?.text !== 'string') continue;
    for (const match of block.text.text.matchAll(DIGEST_LINE)) names.push(match[1]!);
  }
  return [...new Set(names)];
}

export interface Tally {
  /** Jobs named at least once, of those expected. */
  readonly delivered: number;
  /** Expected Jobs never named. */
  readonly lost: readonly string[];
  /** Jobs named in more than one message (expected or not), with how many times. */
  readonly duplicated: ReadonlyMap<string, number>;
  /** Jobs named that were not expected (e.g. a failure the scenario did not inject): a bug in the daemon or here. */
  readonly unexpected: readonly string[];
  /** When the last expected Job was first named (ms since the epoch); undefined when none was. */
  readonly lastNamedAt: number | undefined;
  /** When each Job was first named. */
  readonly firstNamed: ReadonlyMap<string, number>;
}

/** What the accepted posts say about the expected Jobs. `ignore` names Jobs that may appear freely (sentinels). */
export function tally(posts: readonly ReceivedPost[], expected: Iterable<string>, ignore: Iterable<string> = []): Tally {
  const wanted = new Set(expected);
  const ignored = new Set(ignore);
  const times = new Map<string, number>();
  const firstNamed = new Map<string, number>();
  for (const post of posts) {
    if (post.status !== 200) continue;
    for (const job of jobsNamedIn(post.body)) {
      times.set(job, (times.get(job) ?? 0) + 1);
      if (!firstNamed.has(job)) firstNamed.set(job, post.at);
    }
  }
  const duplicated = new Map([...times].filter(([, count]) => count > 1));
  const lost = [...wanted].filter((job) => !times.has(job));
  const unexpected = [...times.keys()].filter((job) => !wanted.has(job) && !ignored.has(job));
  const namedTimes = [...wanted].map((job) => firstNamed.get(job)).filter((at) => at !== undefined);
  return {
    delivered: wanted.size - lost.length,
    lost,
    duplicated,
    unexpected,
    lastNamedAt: namedTimes.length === 0 ? undefined : Math.max(...namedTimes),
    firstNamed,
  };
}

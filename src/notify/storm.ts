/**
 * Storms become digests. When a node, a registry or a database goes down, a hundred Jobs fail within seconds, and a
 * hundred messages (at Slack's one per second per webhook) would bury the channel for minutes and bury the cause.
 *
 * Per route: the first GROUP_THRESHOLD failures within GROUP_WINDOW go out at once as usual (a storm is not known
 * yet, and a single failure must never wait). From the next one on, failures are held and, at the end of the
 * window, sent as digests naming every Job (split only where Slack's limits require); while failures keep coming,
 * another digest follows each window. Reminders and recoveries pass straight through. Held failures are unmarked:
 * a stop before the digest is sent leaves them to the next start.
 */
import type { DigestNotification, FailureNotification, Notification } from './notification.ts';

export interface StormOptions {
  readonly next: { send(notification: Notification): void };
  /** More failures than this within the window make a storm; 0 turns grouping off. */
  readonly threshold: number;
  readonly windowMs: number;
  /** Jobs named per digest message (Slack's limits: see slack/digest.ts). */
  readonly perDigest: number;
  /** The destination a notification goes to: storms are counted per route. */
  readonly routeOf?: (notification: Notification) => string;
  readonly now: () => number;
  readonly setTimer?: (callback: () => void, ms: number) => unknown;
  readonly clearTimer?: (timer: unknown) => void;
  readonly onStorm?: (route: string, held: number) => void;
}

interface RouteState {
  /** Arrival times of failures sent singly within the window. */
  recent: number[];
  held: FailureNotification[];
  since: number;
  timer: unknown;
}

export class StormGate {
  readonly #options: StormOptions;
  readonly #routes = new Map<string, RouteState>();
  #stopped = false;

  constructor(options: StormOptions) {
    this.#options = options;
  }

  send(notification: Notification): void {
    if (this.#stopped) return;
    const { threshold, windowMs, now } = this.#options;
    if (notification.kind !== 'failure' || threshold <= 0) return this.#options.next.send(notification);
    const route = this.#options.routeOf?.(notification) ?? `${notification.route ?? 'default'}${notification.copy ? ' (copy)' : ''}`;
    const state = this.#routes.get(route) ?? { recent: [], held: [], since: 0, timer: undefined };
    this.#routes.set(route, state);
    const at = now();
    if (state.timer !== undefined) {
      state.held.push(notification);
      return;
    }
    state.recent = state.recent.filter((time) => at - time < windowMs);
    if (state.recent.length < threshold) {
      state.recent.push(at);
      this.#options.next.send(notification);
      return;
    }
    state.held.push(notification);
    state.since = at;
    this.#options.onStorm?.(route, 1);
    this.#arm(route, state);
  }

  /** Failures held for a digest not sent yet, over all routes. */
  get held(): number {
    let count = 0;
    for (const state of this.#routes.values()) count += state.held.length;
    return count;
  }

  /** Sends nothing more; held failures stay unmarked, so the next start sends them. */
  stop(): void {
    this.#stopped = true;
    for (const state of this.#routes.values()) {
      if (state.timer !== undefined) (this.#options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)))(state.timer);
      state.timer = undefined;
    }
  }

  #arm(route: string, state: RouteState): void {
    const set = this.#options.setTimer ?? ((callback: () => void, ms: number) => setTimeout(callback, ms));
    const timer = set(() => this.#flush(route, state), this.#options.windowMs);
    (timer as { unref?: () => void } | undefined)?.unref?.(); // a pending digest must not keep a stopping process alive
    state.timer = timer;
  }

  #flush(route: string, state: RouteState): void {
    state.timer = undefined;
    if (this.#stopped) return;
    const held = state.held.splice(0);
    if (held.length === 0) {
      state.recent = []; // the storm is over: the next failures go out singly again
      return;
    }
    for (const digest of digestsOf(held, 'storm', this.#options.perDigest, this.#options.now() - state.since)) this.#options.next.send(digest);
    this.#options.onStorm?.(route, held.length);
    // Still storming? Hold what comes in the next window too; an empty window ends the storm.
    state.since = this.#options.now();
    this.#arm(route, state);
  }
}

/** Failures as digests of at most `perDigest` Jobs each, numbered when there is more than one. */
export function digestsOf(failures: readonly FailureNotification[], why: DigestNotification['why'], perDigest: number, windowMs: number): DigestNotification[] {
  const size = Math.max(1, perDigest);
  const total = Math.ceil(failures.length / size);
  const at = failures.reduce((latest, failure) => (failure.at > latest ? failure.at : latest), failures[0]!.at);
  return Array.from({ length: total }, (_, index) => ({
    kind: 'digest',
    why,
    at,
    cluster: failures[0]!.cluster,
    ...(failures[0]!.route === undefined ? {} : { route: failures[0]!.route }),
    ...(failures[0]!.copy ? { copy: true } : {}),
    failures: failures.slice(index * size, (index + 1) * size),
    part: total > 1 ? { index: index + 1, total } : undefined,
    windowMs,
  }));
}

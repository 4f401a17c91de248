/**
 * A keyed, time-aware work queue, after client-go's workqueue (queue.go, delaying_queue.go, rate_limiting_queue.go).
 *
 * Why keys and not objects: informer handlers only say "look at this again"; the worker reads the newest state when
 * it gets to it. So ten updates to one Job while a worker is busy become one unit of work, and the worker never
 * acts on a stale copy.
 * - A key is queued at most once however often it is added (the dirty set).
 * - A key being processed is never handed to a second worker; added meanwhile, it is queued again once `done`.
 * - `addAfter(key, ms)` for time-driven work (a reminder, a deadline): one timer for the earliest due key, not one
 *   per key, and an earlier `addAfter` for the same key wins.
 * - `addRateLimited(key)` requeues after a transient error with per-key exponential backoff; `forget(key)` resets
 *   it after a success. One retry policy, in one place (backoff.ts).
 * Time comes from an injected clock and timer, so tests move time without sleeping.
 */
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export interface QueueTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: QueueTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref(); // a pending reminder must not keep a stopping process alive
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  readonly backoff: BackoffPolicy;
  readonly timers?: QueueTimers;
  readonly random?: () => number;
  /** Called whenever the number of queued keys changes (for a metric). */
  readonly onDepth?: (depth: number) => void;
}

export class WorkQueue<K extends string = string> {
  /** Keys ready for a worker, in order. */
  readonly #ready: K[] = [];
  /** Keys that need processing: queued, or added again while being processed. */
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  /** Keys due later: key -> due time (ms). The earliest due key has the timer. */
  readonly #waiting = new Map<K, number>();
  readonly #failures = new Map<K, number>();
  #timer: unknown;
  #timerDue = Number.POSITIVE_INFINITY;
  #waiters: ((key: K | undefined) => void)[] = [];
  #shuttingDown = false;
  readonly #options: WorkQueueOptions;
  readonly #timers: QueueTimers;

  constructor(options: WorkQueueOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
  }

  /** Queue `key` now (a no-op when it is queued already). */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // queued again by done()
    this.#push(key);
  }

  /** Queue `key` once `delayMs` has passed; the earliest of several pending times wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = this.#timers.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending !== undefined && pending <= due) return;
    this.#waiting.set(key, due);
    this.#schedule();
  }

  /** Queue `key` again after its own exponential backoff: for transient errors. */
  addRateLimited(key: K): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.addAfter(key, backoffDelay(this.#options.backoff, failures, this.#options.random));
  }

  /** How often `key` has been requeued by addRateLimited since it last succeeded. */
  retries(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** `key` succeeded: its next error starts from the shortest backoff again. */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  /** The next key to process, waiting for one; undefined once the queue shuts down. Call done(key) after. */
  get(): Promise<K | undefined> {
    const key = this.#take();
    if (key !== undefined || this.#shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The worker finished `key`; if it was added meanwhile, it is queued again now. */
  done(key: K): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Keys ready or waiting for their time (not those being processed). */
  get depth(): number {
    return this.#ready.length + this.#waiting.size;
  }

  get processing(): number {
    return this.#processing.size;
  }

  /** Keys waiting for their time (addAfter, addRateLimited). */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** When `key` is due, if it is waiting for a time. */
  dueAt(key: K): number | undefined {
    return this.#waiting.get(key);
  }

  /** Takes no more keys; workers waiting in get() receive undefined. Keys being processed finish normally. */
  shutDown(): void {
    this.#shuttingDown = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #push(key: K): void {
    this.#waiting.delete(key); // due now: a later timer for it is moot
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#ready.push(key);
    }
    this.#options.onDepth?.(this.depth);
  }

  #take(): K | undefined {
    const key = this.#ready.shift();
    if (key === undefined) return undefined;
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#options.onDepth?.(this.depth);
    return key;
  }

  /** Keeps one timer, for the earliest waiting key. */
  #schedule(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const due of this.#waiting.values()) if (due < earliest) earliest = due;
    if (earliest === this.#timerDue && this.#timer !== undefined) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.#timer = this.#timers.setTimeout(() => this.#fire(), Math.max(0, earliest - this.#timers.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    const now = this.#timers.now();
    const due = [...this.#waiting].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [key] of due) {
      this.#waiting.delete(key);
      this.add(key);
    }
    this.#schedule();
  }
}

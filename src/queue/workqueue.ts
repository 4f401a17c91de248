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
  /** Keys ready for a worker, in order, from #head on (a shift() per key would copy the array: O(n²) over 30,000). */
  #ready: K[] = [];
  #head = 0;
  /** Keys that need processing: queued, or added again while being processed. */
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  /** Keys due later: key -> due time (ms). The earliest due key has the timer. */
  readonly #waiting = new Map<K, number>();
  /**
   * The same, as a min-heap on the due time (client-go's waitForPriorityQueue), so that adding a waiting key and
   * finding the earliest cost log n, not n. Entries whose key is no longer waiting for that time are stale: skipped
   * when they reach the top, and dropped when the heap is rebuilt.
   */
  #heap: { readonly key: K; readonly due: number }[] = [];
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
    this.#heapPush({ key, due });
    if (this.#heap.length > 2 * this.#waiting.size + 1024) this.#rebuild();
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
    return this.#ready.length - this.#head + this.#waiting.size;
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
    this.#timerDue = Number.POSITIVE_INFINITY;
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
    if (this.#head >= this.#ready.length) return undefined;
    const key = this.#ready[this.#head]!;
    this.#head += 1;
    if (this.#head === this.#ready.length) {
      this.#ready = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#options.onDepth?.(this.depth);
    return key;
  }

  /** Keeps one timer, for the earliest waiting key. */
  #schedule(): void {
    const earliest = this.#earliest();
    if (earliest === this.#timerDue && this.#timer !== undefined) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.#timer = this.#timers.setTimeout(() => this.#fire(), Math.max(0, earliest - this.#timers.now()));
  }

  /** The earliest due time of a waiting key (stale heap tops are dropped on the way). */
  #earliest(): number {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined) return Number.POSITIVE_INFINITY;
      if (this.#waiting.get(top.key) === top.due) return top.due;
      this.#heapPop();
    }
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    if (this.#shuttingDown) return;
    const now = this.#timers.now();
    // Due keys in the order of their times (the heap's order).
    for (;;) {
      const earliest = this.#earliest();
      if (earliest > now) break;
      const { key } = this.#heapPop()!;
      this.#waiting.delete(key);
      this.add(key);
    }
    this.#schedule();
  }

  /** Drops the stale entries: the heap holds exactly the waiting keys again. */
  #rebuild(): void {
    this.#heap = [];
    for (const [key, due] of this.#waiting) this.#heapPush({ key, due });
  }

  #heapPush(entry: { readonly key: K; readonly due: number }): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.due <= entry.due) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #heapPop(): { readonly key: K; readonly due: number } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.due < heap[left]!.due ? right : left;
      if (heap[child]!.due >= last.due) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

// Failures a test can inject, each aimed by an optional matcher (e.g. only Job watches), to prove the
// daemon survives what real API servers do: dropped and expired watches, 5xx, slowness, silence, and being down.
import type { Store, StoreSnapshot } from './store.ts';
import type { RecordedRequest, RequestMatcher } from './types.ts';
import type { OpenWatch } from './watch.ts';

export interface Faults {
  /** Ends the matching open watch streams now, cleanly (the response body finishes). */
  dropWatches(match?: RequestMatcher): void;
  /** Moves the compaction point to the current resourceVersion: resuming from before it gets 410 Expired. */
  compact(): void;
  /** Takes a backup of the store, as `etcdctl snapshot save` does, for resetHistory. */
  snapshot(): StoreSnapshot;
  /**
   * An etcd restore from `backup`: objects and resourceVersion go back to it, open watches end (the API servers are
   * restarted), and resuming from a resourceVersion handed out since gets 504 "Too large resource version" (cause
   * ResourceVersionTooLarge), for a list and for a watch. Writes after it reuse resourceVersions already handed out.
   */
  resetHistory(backup: StoreSnapshot): void;
  /** The next n matching requests get `status` (default 500) with a Status body. */
  failNext(n: number, options?: { status?: number; match?: RequestMatcher }): void;
  delay(ms: number, match?: RequestMatcher): void;
  clearDelay(): void;
  /** Matching requests get no answer, not even headers, until clearHang(), reset() or close(). */
  hang(match?: RequestMatcher): void;
  clearHang(): void;
  /** The matching watches open now stay open but send nothing (no events, no bookmarks) until unsilenced. */
  silenceWatches(match?: RequestMatcher): void;
  unsilenceWatches(): void;
  /**
   * The API server is down: it stops listening (new connections get ECONNREFUSED, as from a stopped kube-apiserver or
   * a load balancer with no backend) and resets every open connection, watches and hung requests included. Until
   * reachable(); the store and its history are kept, as etcd keeps them while the API servers restart.
   */
  unreachable(): void;
  /** Listens again on the same port. */
  reachable(): Promise<void>;
  /** Clears every rule above and releases hung requests; the compaction point stays where it is. */
  reset(): void;
}

/** What the server itself does for unreachable() and reachable(): only it owns the listening socket. */
export interface Network {
  refuse(): void;
  accept(): Promise<void>;
}

const always: RequestMatcher = () => true;

interface FailureRule {
  remaining: number;
  status: number;
  match: RequestMatcher;
}

/** The rules as the request handler consults them, behind the public `Faults` face. */
export class FaultRules implements Faults {
  readonly #store: Store;
  readonly #watches: Set<OpenWatch>;
  #failures: FailureRule[] = [];
  #delays: { ms: number; match: RequestMatcher }[] = [];
  #hangs: RequestMatcher[] = [];
  #releaseHung = new Set<() => void>();

  readonly #network: Network | undefined;

  constructor(store: Store, watches: Set<OpenWatch>, network?: Network) {
    this.#store = store;
    this.#watches = watches;
    this.#network = network;
  }

  dropWatches(match: RequestMatcher = always): void {
    for (const watch of [...this.#watches]) if (match(watch.request)) watch.end();
  }

  compact(): void {
    this.#store.compact();
  }

  snapshot(): StoreSnapshot {
    return this.#store.snapshot();
  }

  resetHistory(backup: StoreSnapshot): void {
    this.#store.restore(backup);
    this.dropWatches();
  }

  failNext(n: number, options: { status?: number; match?: RequestMatcher } = {}): void {
    this.#failures.push({ remaining: n, status: options.status ?? 500, match: options.match ?? always });
  }

  delay(ms: number, match: RequestMatcher = always): void {
    this.#delays.push({ ms, match });
  }

  clearDelay(): void {
    this.#delays = [];
  }

  hang(match: RequestMatcher = always): void {
    this.#hangs.push(match);
  }

  clearHang(): void {
    this.#hangs = [];
    for (const release of this.#releaseHung) release();
    this.#releaseHung.clear();
  }

  silenceWatches(match: RequestMatcher = always): void {
    for (const watch of this.#watches) if (match(watch.request)) watch.silenced = true;
  }

  unsilenceWatches(): void {
    for (const watch of this.#watches) watch.silenced = false;
  }

  unreachable(): void {
    if (!this.#network) throw new Error('this server cannot be made unreachable');
    this.#network.refuse();
  }

  async reachable(): Promise<void> {
    await this.#network?.accept();
  }

  reset(): void {
    this.#failures = [];
    this.clearDelay();
    this.clearHang();
    this.unsilenceWatches();
  }

  /** The status to fail this request with, if a failNext rule takes it. */
  takeFailure(request: RecordedRequest): number | undefined {
    const rule = this.#failures.find((candidate) => candidate.remaining > 0 && candidate.match(request));
    if (!rule) return undefined;
    rule.remaining--;
    this.#failures = this.#failures.filter((candidate) => candidate.remaining > 0);
    return rule.status;
  }

  delayFor(request: RecordedRequest): number {
    return this.#delays.filter((rule) => rule.match(request)).reduce((total, rule) => total + rule.ms, 0);
  }

  /** A promise that resolves when this hung request's hang is cleared; undefined when it is not hung. */
  holdIfHung(request: RecordedRequest): Promise<void> | undefined {
    if (!this.#hangs.some((match) => match(request))) return undefined;
    return new Promise<void>((resolve) => this.#releaseHung.add(resolve));
  }
}

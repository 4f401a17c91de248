/**
 * Work done in stretches: a loop that runs without I/O (a list page already received, a queue of keys decided from
 * the cache) gives the event loop back once it has run `ms` in one stretch, so /healthz, the watches and Slack's
 * answers are never kept waiting longer than that.
 */
export class Stretch {
  readonly #ms: number;
  #since = performance.now();
  #yielding: Promise<void> | undefined;

  constructor(ms = 20) {
    this.#ms = ms;
  }

  /**
   * Nothing while the stretch lasts; after it, one turn of the event loop, the same one for every caller waiting now
   * (each waiting for an immediate of its own would run one after another in that turn, each for another stretch).
   */
  pause(): Promise<void> | undefined {
    if (performance.now() - this.#since < this.#ms) return undefined;
    this.#yielding ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#yielding = undefined;
        this.#since = performance.now();
        resolve();
      }),
    );
    return this.#yielding;
  }
}

/**
 * A supervised informer over @kubernetes/client-node's ListWatch.
 *
 * Why a wrapper: the client's informer stops for good on any error other than 410 (a 500, a refused connection,
 * an expired token), and it never asks for bookmarks or a server-side timeout. Here an error restarts it with
 * jittered backoff (1 s .. 30 s), every watch asks for `allowWatchBookmarks=true` and a `timeoutSeconds` of 5-10
 * minutes, and a watch that goes silent is ended by the client's inactivity timer and resumed from the last
 * resourceVersion. A self-inflicted abort (stop, restart) is not an error.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { backoffDelay } from '../queue/backoff.ts';
import { describeError } from './client.ts';
import type { Metrics } from '../metrics.ts';

export interface InformerOptions<T extends KubernetesObject> {
  /** Short name for logs and metrics: `jobs`, `cronjobs`. */
  readonly resource: string;
  /** The watch path, e.g. `/apis/batch/v1/namespaces/ns/jobs` or `/apis/batch/v1/jobs`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly kubeconfig: KubeConfig;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** A watch that sends nothing (not even a bookmark) for this long is ended and resumed. */
  readonly silenceMs?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
  /** Server-side selectors for list and watch: objects they leave out never reach this process. */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly onAdd?: (obj: T) => void;
  readonly onUpdate?: (obj: T) => void;
  readonly onDelete?: (obj: T) => void;
}

/** A Watch that asks for bookmarks and a server-side timeout, and reports silences. */
class BookmarkingWatch extends Watch {
  readonly #onSilence: () => void;
  readonly #onActivity: () => void;
  readonly #random: () => number;

  constructor(kubeconfig: KubeConfig, silenceMs: number, random: () => number, onSilence: () => void, onActivity: () => void) {
    super(kubeconfig);
    // The client's own inactivity timer is the watchdog; it is private in the typings, so check it still exists.
    if (!('requestTimeoutMs' in this)) throw new Error('@kubernetes/client-node Watch has no requestTimeoutMs: the watchdog needs updating');
    Reflect.set(this, 'requestTimeoutMs', silenceMs);
    this.#onSilence = onSilence;
    this.#onActivity = onActivity;
    this.#random = random;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const timeoutSeconds = 300 + Math.floor(this.#random() * 300);
    const onEvent = (phase: string, apiObj: unknown, watchObj?: unknown) => {
      this.#onActivity();
      callback(phase, apiObj, watchObj);
    };
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds }, onEvent, (err) => {
      if ((err as Error | null)?.name === 'TimeoutError') this.#onSilence();
      done(err);
    });
  }
}

export class Informer<T extends KubernetesObject> {
  readonly resource: string;
  #synced = false;
  #markSynced!: () => void;
  readonly #whenSynced = new Promise<void>((resolve) => (this.#markSynced = resolve));
  #stopped = true;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #listWatch: ListWatch<T>;
  readonly #options: InformerOptions<T>;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.#options = options;
    options.metrics?.informerCreated(options.resource);
    const random = options.random ?? Math.random;
    const onSilence = () => {
      options.logger.info({ resource: options.resource }, 'watch was silent: resuming it from the last resourceVersion');
      options.metrics?.informerRestarts.inc({ resource: options.resource });
    };
    // A watch that delivers events (or bookmarks) is healthy again: the next error starts from the short delay.
    const onActivity = () => (this.#failures = 0);
    const watch = new BookmarkingWatch(options.kubeconfig, options.silenceMs ?? 90_000, random, onSilence, onActivity);
    const list = async () => {
      const result = await options.list();
      this.#synced = true;
      this.#markSynced();
      this.#failures = 0;
      return result;
    };
    this.#listWatch = new ListWatch<T>(options.path, watch, list, false, options.labelSelector, options.fieldSelector);
    if (options.onAdd) this.#listWatch.on('add', options.onAdd);
    if (options.onUpdate) this.#listWatch.on('update', options.onUpdate);
    if (options.onDelete) this.#listWatch.on('delete', options.onDelete);
    this.#listWatch.on('error', (err) => this.#restartAfter(err));
  }

  /** True once the informer has listed at least once: its cache then reflects the cluster. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first successful list. */
  whenSynced(): Promise<void> {
    return this.#whenSynced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#listWatch.list(namespace);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#listWatch.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#listWatch.stop();
  }

  #restartAfter(err: unknown): void {
    if (this.#stopped) return; // our own abort while stopping
    this.#failures += 1;
    const { baseMs, maxMs } = this.#options.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    // Equal jitter (half to all of the ceiling): never at once, and many daemons restarted by one outage spread out.
    const delayMs = backoffDelay({ baseMs, maxMs, jitter: 'equal' }, this.#failures - 1, this.#options.random);
    this.#options.logger.warn(
      { resource: this.resource, err: describeError(err), attempt: this.#failures, retryInMs: delayMs },
      'informer stopped on an error: restarting it',
    );
    this.#options.metrics?.informerRestarts.inc({ resource: this.resource });
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#listWatch.start().catch((startErr: unknown) => this.#restartAfter(startErr));
    }, delayMs);
  }
}

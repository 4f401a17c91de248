/**
 * A supervised informer over @kubernetes/client-node's ListWatch.
 *
 * Why a wrapper: the client's informer stops for good on any error other than 410 (a 500, a refused connection,
 * an expired token), never asks for bookmarks or a server-side timeout, puts no deadline on its LIST, and knows only
 * 410 as "my resourceVersion is unusable". Here:
 * - an error restarts it with jittered backoff (settings.informer.restartBackoff); a self-inflicted abort (stop,
 *   restart) is not an error;
 * - every watch asks for `allowWatchBookmarks=true` and a `timeoutSeconds` of 5-10 minutes, and a watch that goes
 *   silent is ended by the client's inactivity timer and resumed from the last resourceVersion;
 * - every list has a deadline (settings.informer.listTimeoutMs): a hung list is abandoned and retried;
 * - the informer relists (like client-go's reflector: `isExpiredError`, `isTooLargeResourceVersionError`) whenever
 *   the API server says its resourceVersion is unusable: 410 Expired/Gone, and 504 "Too large resource version"
 *   (cause ResourceVersionTooLarge), which is what a server whose history went back (etcd restored from a backup)
 *   answers to a watch from the future. The old code resumed from that resourceVersion forever.
 *   After a history reset, resourceVersions are handed out again, so an object changed since can carry the very
 *   version the cache holds for its older self: ListWatch would take it for "unchanged" and say nothing. So the
 *   relist after a 504 reports every listed object whose version looks unchanged as an update.
 * - it knows whether it works right now (`health()`): since when it has been unable to list or watch, and why.
 *   /readyz and the informer_healthy gauge read that.
 */
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { backoffDelay, type BackoffPolicy } from '../queue/backoff.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { describeError, errorForLog, statusBody, statusOf } from './client.ts';
import type { Metrics } from '../metrics.ts';

export interface InformerOptions<T extends KubernetesObject> {
  /** Short name for logs and metrics: `jobs`, `cronjobs/batch`. */
  readonly resource: string;
  /** The watch path, e.g. `/apis/batch/v1/namespaces/ns/jobs` or `/apis/batch/v1/jobs`. */
  readonly path: string;
  /** One LIST; `signal` aborts it when it has taken too long or the informer stops. */
  readonly list: (signal: AbortSignal) => Promise<KubernetesListObject<T>>;
  readonly kubeconfig: KubeConfig;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** A watch that sends nothing (not even a bookmark) for this long is ended and resumed. */
  readonly silenceMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly listTimeoutMs?: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  readonly random?: () => number;
  /** Server-side selectors for list and watch: objects they leave out never reach this process. */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly onAdd?: (obj: T) => void;
  readonly onUpdate?: (obj: T) => void;
  readonly onDelete?: (obj: T) => void;
}

/** What an informer can say about itself right now. */
export interface InformerHealth {
  readonly resource: string;
  /** Has listed at least once. */
  readonly synced: boolean;
  /**
   * Since when (ms since the epoch) it has been unable to list or watch: its first error or silent watch since it
   * last worked, or the start of a list that has not answered yet. Undefined while it works.
   */
  readonly unableSince: number | undefined;
  /** The last error, one line, while unable. */
  readonly lastError: string | undefined;
  /** A list is in flight (it has not answered yet). */
  readonly listing: boolean;
}

/**
 * Why a resourceVersion cannot be resumed from, if the error says so: `expired` (410: compacted away; relist) or
 * `too_large` (504 ResourceVersionTooLarge: the server's history is behind it, e.g. after an etcd restore; relist
 * and distrust the versions held). A bare 504 on a watch counts as too_large: the client drops watch error bodies,
 * and relisting is what client-go does after such a watch error anyway.
 */
export function unusableResourceVersion(error: unknown): 'expired' | 'too_large' | undefined {
  const status = statusOf(error);
  const body = statusBody(error);
  const reason = typeof body?.reason === 'string' ? body.reason : undefined;
  if (status === 410 || reason === 'Expired' || reason === 'Gone') return 'expired';
  const causes = Array.isArray(body?.details?.causes) ? (body.details.causes as { reason?: unknown; message?: unknown }[]) : [];
  if (causes.some((cause) => cause?.reason === 'ResourceVersionTooLarge' || cause?.message === 'Too large resource version')) return 'too_large';
  if (status === 504 && (body === undefined || /too large resource version/i.test(String(body.message)))) return 'too_large';
  return undefined;
}

/** A watch's ERROR event, as an error: the v1 Status it carried is its body, its code the status. */
export class WatchErrorEvent extends Error {
  readonly statusCode: number | undefined;
  readonly body: unknown;

  constructor(status: unknown) {
    const object = (typeof status === 'object' && status !== null ? status : {}) as { code?: unknown; message?: unknown };
    super(typeof object.message === 'string' ? object.message : 'the watch sent an ERROR event');
    this.name = 'WatchErrorEvent';
    this.statusCode = typeof object.code === 'number' ? object.code : undefined;
    this.body = status;
  }
}

interface WatchHooks {
  readonly silenceMs: number;
  /** The informer was stopped: open no watch (ListWatch opens one after a list even when stopped meanwhile). */
  readonly stopped: () => boolean;
  readonly random: () => number;
  /** The watch was answered 200: it is open. */
  readonly onOpen: () => void;
  /** An event or bookmark arrived. */
  readonly onActivity: () => void;
  /** Nothing arrived for silenceMs (or the watch request itself got no answer in that time). */
  readonly onSilence: () => void;
}

/** A Watch that asks for bookmarks and a server-side timeout, reports silences, and ends on an ERROR event. */
class BookmarkingWatch extends Watch {
  readonly #hooks: WatchHooks;

  constructor(kubeconfig: KubeConfig, hooks: WatchHooks) {
    super(kubeconfig);
    // The client's own inactivity timer is the watchdog; it is private in the typings, so check it still exists.
    if (!('requestTimeoutMs' in this)) throw new Error('@kubernetes/client-node Watch has no requestTimeoutMs: the watchdog needs updating');
    Reflect.set(this, 'requestTimeoutMs', hooks.silenceMs);
    this.#hooks = hooks;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const hooks = this.#hooks;
    if (hooks.stopped()) {
      const controller = new AbortController();
      controller.abort();
      return controller;
    }
    const timeoutSeconds = 300 + Math.floor(hooks.random() * 300);
    let finished = false;
    // The stream's controller, once Watch.watch has returned it; an ERROR event may come before that.
    const stream: { controller?: AbortController; abortWhenKnown?: boolean } = {};
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      if ((err as Error | null)?.name === 'TimeoutError') hooks.onSilence();
      done(err);
    };
    const onEvent = (phase: string, apiObj: unknown, watchObj?: unknown): void => {
      if (finished) return;
      // ListWatch handles a 410 ERROR event itself (it relists when the stream ends) but takes any other ERROR
      // event (a 504 "Too large resource version", a 500) for nothing and resumes from the same resourceVersion.
      // End the watch with it as an error instead, so that the informer can judge it.
      if (phase === 'ERROR' && (apiObj as { code?: unknown } | null)?.code !== 410) {
        finish(new WatchErrorEvent(apiObj));
        if (stream.controller) stream.controller.abort();
        else stream.abortWhenKnown = true;
        return;
      }
      hooks.onActivity();
      callback(phase, apiObj, watchObj);
    };
    const controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds }, onEvent, finish);
    stream.controller = controller;
    if (stream.abortWhenKnown) controller.abort();
    // Watch.watch reports a refused request through `done` before it returns; not done by now means answered 200.
    if (!finished) hooks.onOpen();
    return controller;
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
  /** Aborts the list in flight when the informer stops. */
  #stopping = new AbortController();
  #unableSince: number | undefined;
  #lastError: string | undefined;
  #listStartedAt: number | undefined;
  #lastContactAt = 0;
  /** After a history reset: report objects whose resourceVersion looks unchanged as updated, once. */
  #distrustVersions = false;
  readonly #listWatch: ListWatch<T>;
  readonly #options: InformerOptions<T>;
  readonly #now: () => number;
  readonly #listTimeoutMs: number;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.#options = options;
    options.metrics?.informerCreated(options.resource);
    this.#now = options.now ?? Date.now;
    this.#listTimeoutMs = options.listTimeoutMs ?? DEFAULT_SETTINGS.informer.listTimeoutMs;
    const silenceMs = options.silenceMs ?? DEFAULT_SETTINGS.informer.silenceMs;
    const watch = new BookmarkingWatch(options.kubeconfig, {
      silenceMs,
      stopped: () => this.#stopped,
      random: options.random ?? Math.random,
      onOpen: () => this.#contact(),
      // A watch that delivers events (or bookmarks) is healthy again: the next error starts from the short delay.
      onActivity: () => {
        this.#failures = 0;
        this.#contact();
      },
      onSilence: () => {
        options.logger.info({ resource: options.resource, silentForMs: silenceMs }, 'watch was silent: resuming it from the last resourceVersion');
        options.metrics?.informerRestarts.inc({ resource: options.resource });
        this.#trouble(`the watch sent nothing for ${silenceMs / 1000} s`, this.#lastContactAt || this.#now());
      },
    });
    this.#listWatch = new ListWatch<T>(
      options.path,
      watch,
      (() => this.#list()) as () => Promise<KubernetesListObject<T>>,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    // Relisting means clearing ListWatch's resourceVersion, which is private in the typings: check it still exists.
    if (!('resourceVersion' in this.#listWatch)) throw new Error('@kubernetes/client-node ListWatch has no resourceVersion: relisting needs updating');
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

  health(): InformerHealth {
    return {
      resource: this.resource,
      synced: this.#synced,
      unableSince: this.#unableSince ?? this.#listStartedAt,
      lastError: this.#lastError,
      listing: this.#listStartedAt !== undefined,
    };
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#listWatch.list(namespace);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#stopping = new AbortController();
    await this.#listWatch.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#stopping.abort();
    await this.#listWatch.stop();
  }

  /** One list, with a deadline: a hung list fails (and is retried) rather than blinding the informer. */
  async #list(): Promise<KubernetesListObject<T>> {
    this.#listStartedAt ??= this.#now();
    const deadline = AbortSignal.timeout(this.#listTimeoutMs);
    const signal = AbortSignal.any([deadline, this.#stopping.signal]);
    let result: KubernetesListObject<T>;
    try {
      result = await untilAborted(this.#options.list(signal), signal);
    } catch (error) {
      if (deadline.aborted) throw new Error(`the list did not answer within ${this.#listTimeoutMs / 1000} s`, { cause: error });
      throw error;
    }
    this.#listStartedAt = undefined;
    this.#synced = true;
    this.#markSynced();
    this.#failures = 0;
    this.#contact();
    if (this.#distrustVersions) {
      this.#distrustVersions = false;
      this.#forgetLookalikeVersions(result.items);
    }
    return result;
  }

  /**
   * After a history reset: a listed object whose resourceVersion equals the cached one's may still be a different
   * version of it (versions are handed out again). ListWatch stores and reports a listed object only when its version
   * differs, so the cached copy's version is cleared: the list then replaces it and reports it as updated.
   */
  #forgetLookalikeVersions(items: readonly T[]): void {
    for (const item of items) {
      const cached = this.#listWatch.get(item.metadata?.name ?? '', item.metadata?.namespace);
      if (cached?.metadata !== undefined && cached.metadata.resourceVersion === item.metadata?.resourceVersion) cached.metadata.resourceVersion = undefined;
    }
  }

  #contact(): void {
    this.#lastContactAt = this.#now();
    this.#options.metrics?.informerLastContactSeconds.set({ resource: this.resource }, this.#lastContactAt / 1000);
    this.#options.metrics?.informerHealthy.set({ resource: this.resource }, 1);
    if (this.#unableSince !== undefined) {
      this.#options.logger.info({ resource: this.resource, unableForMs: this.#lastContactAt - this.#unableSince }, 'informer works again');
    }
    this.#unableSince = undefined;
    this.#lastError = undefined;
  }

  #trouble(why: string, since: number): void {
    this.#unableSince ??= since;
    this.#lastError = why;
    this.#options.metrics?.informerHealthy.set({ resource: this.resource }, 0);
  }

  #restartAfter(err: unknown): void {
    if (this.#stopped) return; // our own abort while stopping
    this.#failures += 1;
    const unusable = unusableResourceVersion(err);
    if (unusable !== undefined) {
      // The next start lists instead of resuming the watch from a resourceVersion the server will not serve.
      Reflect.set(this.#listWatch, 'resourceVersion', '');
      if (unusable === 'too_large') this.#distrustVersions = true;
    }
    this.#trouble(describeError(err), this.#now());
    const policy: BackoffPolicy = { jitter: 'equal', ...(this.#options.backoff ?? DEFAULT_SETTINGS.informer.restartBackoff) };
    const delayMs = backoffDelay(policy, this.#failures - 1, this.#options.random);
    this.#options.logger.warn(
      { resource: this.resource, err: errorForLog(err), attempt: this.#failures, retryInMs: delayMs, relist: unusable !== undefined },
      unusable === 'too_large'
        ? 'informer stopped on an error: the API server is behind its resourceVersion (history reset, e.g. etcd restored): relisting'
        : 'informer stopped on an error: restarting it',
    );
    this.#options.metrics?.informerRestarts.inc({ resource: this.resource });
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#listWatch.start().catch((startErr: unknown) => this.#restartAfter(startErr));
    }, delayMs);
  }
}

/** `call`, or a rejection as soon as `signal` aborts, whether or not the call itself honours the signal. */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error as Error); },
    );
  });
}

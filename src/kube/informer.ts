/**
 * A supervised informer: a paginated LIST, then a WATCH from its resourceVersion, over @kubernetes/client-node's
 * request layer and Watch, with a cache of slim objects (kube/slim.ts).
 *
 * Why not the client's ListWatch: it caches every object whole (a Job is ~15 KB once parsed, of which decisions read
 * a few hundred bytes), lists in one unpaginated request (55 MB of JSON at 10,000 Jobs, parsed in one piece by the
 * typed client: seconds of blocked event loop, and a sync peak far above the steady state), stops for good on any
 * error other than 410, never asks for bookmarks or a server-side timeout, puts no deadline on its LIST, and knows
 * only 410 as "my resourceVersion is unusable". Here:
 * - every object is reduced by `slim` as soon as it is read (a list page, a watch event): the cache and the handlers
 *   only ever see the slim copy, and the whole object is garbage at once;
 * - lists are paginated (`limit` = pageSize, then `continue`), each page parsed and applied on its own, so memory
 *   during a (re)list stays near the steady state and no single parse blocks the event loop for long. A continue
 *   token that expired (410: the snapshot it pointed into was compacted) restarts the list from its first page, as
 *   the API server says to ("You can start a new list without the continue parameter");
 * - a relist updates the cache in place: unchanged objects (same resourceVersion) are no news, changed ones are
 *   updates, new ones adds, and those the list no longer holds are deletes, once the last page is in (client-go's
 *   Replace); an object back under a cached name with another uid (deleted and re-created while the watch was down)
 *   is the old one's delete and the new one's add, not an update of one into the other;
 * - an error restarts it with jittered backoff (settings.informer.restartBackoff); a self-inflicted abort (stop,
 *   restart) is not an error;
 * - every watch asks for `allowWatchBookmarks=true` and a `timeoutSeconds` of 5-10 minutes; a watch that goes silent
 *   is ended by the client's inactivity timer and resumed from the last resourceVersion; a watch the server ends is
 *   resumed at once when it delivered anything, else after a growing delay (so a server that closes every watch at
 *   once is not hammered);
 * - every list request (each page) has a deadline (settings.informer.listTimeoutMs): a hung list is abandoned and
 *   retried;
 * - the informer relists (like client-go's reflector: `isExpiredError`, `isTooLargeResourceVersionError`) whenever
 *   the API server says its resourceVersion is unusable: 410 Expired/Gone (at once, as a routine), and 504 "Too large
 *   resource version" (cause ResourceVersionTooLarge), which is what a server whose history went back (etcd restored
 *   from a backup) answers to a watch from the future. After a history reset, resourceVersions are handed out again,
 *   so an object changed since can carry the very version the cache holds for its older self: the relist after a 504
 *   reports every listed object whose version looks unchanged as an update;
 * - it knows whether it works right now (`health()`): since when it has been unable to list or watch, and why.
 *   /readyz and the informer_healthy gauge read that.
 */
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  Watch,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { child, fields, text } from '../detect/fields.ts';
import type { Logger } from '../log.ts';
import { backoffDelay, type BackoffPolicy } from '../queue/backoff.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { Stretch } from '../stretch.ts';
import { describeError, errorForLog, statusBody, statusOf } from './client.ts';
import { ListSplitter } from './list-stream.ts';
import type { Metrics } from '../metrics.ts';

export interface InformerOptions<T extends KubernetesObject> {
  /** Short name for logs and metrics: `jobs`, `cronjobs/batch`. */
  readonly resource: string;
  /** The list and watch path, e.g. `/apis/batch/v1/namespaces/ns/jobs` or `/apis/batch/v1/jobs`. */
  readonly path: string;
  readonly kubeconfig: KubeConfig;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** A watch that sends nothing (not even a bookmark) for this long is ended and resumed. */
  readonly silenceMs?: number;
  readonly backoff?: BackoffPolicy;
  /** A list request (one page) that has not answered by then is abandoned, and the list retried. */
  readonly listTimeoutMs?: number;
  /** Objects per list page (`limit`). */
  readonly pageSize?: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  readonly random?: () => number;
  /** Server-side selectors for list and watch: objects they leave out never reach this process. */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * What is kept of each listed or watched object (kube/slim.ts): the cache and the handlers get only this. It must
   * keep metadata name, namespace, uid and resourceVersion. Default: the object as parsed.
   */
  readonly slim?: (object: unknown) => T;
  /**
   * What the cache itself keeps of each object, when the handlers keep their own copy (kube/record-cache.ts keeps
   * the records decisions read): at least metadata name, namespace, uid and resourceVersion, which is all a relist
   * and a re-created name need. get() and list() and a delete found by a relist then see only this. Default: the
   * slim object whole.
   */
  readonly keep?: (object: T) => T;
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
      // An ERROR event (410 Expired, 504 "Too large resource version", a 500) ends the watch, as an error the
      // informer judges: the server ends the stream after it anyway.
      if (phase === 'ERROR') {
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

/** What a list page says besides its items: the snapshot's resourceVersion, and the token for the next page. */
interface Page {
  readonly resourceVersion: string;
  readonly continueToken: string | undefined;
}

/** The client's connection pool (an undici Dispatcher), as its RequestContext hands it out. */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;


/** A continue token that keeps expiring (a server compacting faster than we page) is an error after this many restarts. */
const EXPIRED_CONTINUE_RESTARTS = 3;

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
  /** After a history reset: report objects whose resourceVersion looks unchanged as updated, for one list. */
  #distrustVersions = false;
  /** Where the next watch resumes from; '' means: list first. */
  #resourceVersion = '';
  /** Each list-then-watch attempt's number: callbacks of an older attempt (a watch ended or stopped) are ignored. */
  #attempt = 0;
  #watchController: AbortController | undefined;
  /** The current watch delivered an event or bookmark. */
  #delivered = false;
  /** Watches in a row that the server ended without delivering anything. */
  #emptyWatches = 0;
  /** namespace/name -> the slim object. */
  readonly #objects = new Map<string, T>();
  readonly #watch: BookmarkingWatch;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #options: InformerOptions<T>;
  readonly #slim: (object: unknown) => T;
  readonly #keep: (object: T) => T;
  readonly #now: () => number;
  readonly #listTimeoutMs: number;
  readonly #pageSize: number;
  readonly #backoff: BackoffPolicy;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.#options = options;
    options.metrics?.informerCreated(options.resource);
    this.#slim = options.slim ?? ((object) => object as T);
    this.#keep = options.keep ?? ((object) => object);
    this.#now = options.now ?? Date.now;
    this.#listTimeoutMs = options.listTimeoutMs ?? DEFAULT_SETTINGS.informer.listTimeoutMs;
    this.#pageSize = options.pageSize ?? DEFAULT_SETTINGS.informer.pageSize;
    this.#backoff = { jitter: 'equal', ...(options.backoff ?? DEFAULT_SETTINGS.informer.restartBackoff) };
    const silenceMs = options.silenceMs ?? DEFAULT_SETTINGS.informer.silenceMs;
    this.#watch = new BookmarkingWatch(options.kubeconfig, {
      silenceMs,
      random: options.random ?? Math.random,
      onOpen: () => this.#contact(),
      // A watch that delivers events (or bookmarks) is healthy again: the next error starts from the short delay.
      onActivity: () => {
        this.#failures = 0;
        this.#emptyWatches = 0;
        this.#delivered = true;
        this.#contact();
      },
      onSilence: () => {
        options.logger.info({ resource: options.resource, silentForMs: silenceMs }, 'watch was silent: resuming it from the last resourceVersion');
        options.metrics?.informerRestarts.inc({ resource: options.resource });
        this.#trouble(`the watch sent nothing for ${silenceMs / 1000} s`, this.#lastContactAt || this.#now());
      },
    });
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

  /** The cached (slim) object; `namespace` is omitted for cluster-scoped objects. */
  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(keyOf(namespace ?? '', name));
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.#objects.values()];
    return namespace ? all.filter((object) => object.metadata?.namespace === namespace) : all;
  }

  /** Resolves once the first list has answered (or failed: it is then retried) and the watch is open. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#stopping = new AbortController();
    await this.#listAndWatch();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#attempt += 1;
    clearTimeout(this.#restartTimer);
    this.#stopping.abort();
    this.#watchController?.abort();
    this.#watchController = undefined;
  }

  /** Lists when there is no resourceVersion to resume from, then watches. Never throws: errors restart it. */
  async #listAndWatch(): Promise<void> {
    if (this.#stopped) return;
    const attempt = ++this.#attempt;
    try {
      if (this.#resourceVersion === '') await this.#list();
      if (attempt !== this.#attempt) return; // stopped (or superseded) meanwhile
      this.#delivered = false;
      let ended = false;
      const query = { resourceVersion: this.#resourceVersion, labelSelector: this.#options.labelSelector, fieldSelector: this.#options.fieldSelector };
      const controller = await this.#watch.watch(
        this.#options.path,
        query,
        (phase, object) => {
          if (attempt === this.#attempt) this.#onEvent(phase, object);
        },
        (err) => {
          ended = true;
          if (attempt === this.#attempt) this.#watchEnded(err);
        },
      );
      if (attempt !== this.#attempt) controller.abort();
      else if (!ended) this.#watchController = controller;
    } catch (error) {
      if (attempt === this.#attempt) this.#restartAfter(error);
    }
  }

  #watchEnded(err: unknown): void {
    this.#watchController = undefined;
    if (this.#stopped) return;
    if (err === null || err === undefined) {
      // The server ended it (its timeoutSeconds, a restart, a dropped connection): resume from the last version.
      if (this.#delivered) return this.#after(0);
      this.#emptyWatches += 1;
      this.#after(this.#emptyWatches === 1 ? 0 : backoffDelay(this.#backoff, this.#emptyWatches - 2, this.#options.random));
      return;
    }
    if ((err as Error).name === 'TimeoutError') {
      this.#after(0); // silent: already logged and counted (onSilence); resume from the last resourceVersion
      return;
    }
    if (unusableResourceVersion(err) === 'expired') {
      // Routine (the history moved on while we were away): relist at once, as client-go does; not an outage.
      this.#options.logger.info({ resource: this.resource, err: describeError(err) }, 'resourceVersion expired (410): relisting');
      this.#resourceVersion = '';
      this.#after(0);
      return;
    }
    this.#restartAfter(err);
  }

  #after(delayMs: number): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => void this.#listAndWatch(), delayMs);
  }

  #onEvent(phase: string, object: unknown): void {
    const version = text(child(object, 'metadata'), 'resourceVersion');
    if (phase === 'ADDED' || phase === 'MODIFIED') this.#put(this.#read(object), false);
    else if (phase === 'DELETED') this.#remove(this.#read(object));
    if (version !== undefined && version !== '') this.#resourceVersion = version;
  }

  /**
   * A paginated list applied to the cache item by item as the pages stream in; the snapshot's resourceVersion is
   * where the watch starts. A hung page is abandoned after listTimeoutMs (an error: the informer restarts).
   */
  async #list(): Promise<void> {
    this.#listStartedAt ??= this.#now();
    const distrust = this.#distrustVersions;
    const listed = new Set<string>();
    const onItem = (item: unknown): void => {
      const object = this.#read(item);
      const key = this.#keyOf(object);
      if (key === undefined) return;
      listed.add(key);
      this.#put(object, distrust);
    };
    let resourceVersion = '';
    let continueToken: string | undefined;
    let restarts = 0;
    // One connection for all the pages of a list (the client would open one per request).
    const connection: { dispatcher?: Dispatcher } = {};
    try {
      for (;;) {
        let page: Page;
        try {
          page = await this.#page(continueToken, connection, onItem);
        } catch (error) {
          if (continueToken === undefined || unusableResourceVersion(error) !== 'expired' || restarts >= EXPIRED_CONTINUE_RESTARTS) throw error;
          restarts += 1;
          this.#options.logger.info({ resource: this.resource, err: describeError(error), restarts }, 'the list\'s continue token expired (410): listing again from the first page');
          listed.clear();
          continueToken = undefined;
          continue;
        }
        if (continueToken === undefined) resourceVersion = page.resourceVersion;
        continueToken = page.continueToken;
        if (continueToken === undefined) break;
      }
    } finally {
      void connection.dispatcher?.destroy().catch(() => undefined);
    }
    for (const [key, cached] of this.#objects) {
      if (listed.has(key)) continue;
      this.#objects.delete(key);
      this.#tell(this.#options.onDelete, cached);
    }
    this.#resourceVersion = resourceVersion;
    this.#distrustVersions = false;
    this.#listStartedAt = undefined;
    this.#synced = true;
    this.#markSynced();
    this.#failures = 0;
    this.#emptyWatches = 0; // a list is progress: the watch that follows starts over
    this.#contact();
  }

  /**
   * One list request, `limit` objects from `continueToken` on, with a deadline: each item goes to `onItem` as soon as
   * its text has arrived (list-stream.ts), so that no page is ever held whole.
   */
  async #page(continueToken: string | undefined, connection: { dispatcher?: Dispatcher }, onItem: (item: unknown) => void): Promise<Page> {
    const cluster = this.#options.kubeconfig.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(cluster.server + this.#options.path);
    url.searchParams.set('limit', String(this.#pageSize));
    if (continueToken !== undefined) url.searchParams.set('continue', continueToken);
    if (this.#options.labelSelector) url.searchParams.set('labelSelector', this.#options.labelSelector);
    if (this.#options.fieldSelector) url.searchParams.set('fieldSelector', this.#options.fieldSelector);
    const request = new RequestContext(url.toString(), HttpMethod.GET);
    request.setHeaderParam('Accept', 'application/json');
    // Headers afresh for each page (a token may have been refreshed); the connection of the first page.
    await this.#options.kubeconfig.applySecurityAuthentication(request);
    const fresh = request.getDispatcher();
    if (connection.dispatcher === undefined) connection.dispatcher = fresh;
    else if (fresh !== undefined) {
      request.setDispatcher(connection.dispatcher);
      void fresh.destroy().catch(() => undefined);
    }
    const deadline = AbortSignal.timeout(this.#listTimeoutMs);
    const signal = AbortSignal.any([deadline, this.#stopping.signal]);
    request.setSignal(signal);
    try {
      const response = await untilAborted(this.#http.send(request).toPromise(), signal);
      if (response.httpStatusCode !== 200) {
        const body = await untilAborted(response.body.text(), signal);
        throw new ApiException(response.httpStatusCode, 'the list failed', body.slice(0, 64 * 1024), response.headers);
      }
      const stream = response.body.stream();
      if (!stream) throw new Error('the list response has no body');
      const splitter = new ListSplitter(onItem);
      const decoder = new TextDecoder();
      await untilAborted(
        (async () => {
          // Chunks already received are handed over as microtasks: without a pause now and then, a fast server
          // would have the whole page read in one stretch, with /healthz and the watches waiting.
          const stretch = new Stretch();
          for await (const chunk of stream) {
            splitter.push(decoder.decode(chunk, { stream: true }));
            const pause = stretch.pause();
            if (pause) await pause;
          }
          splitter.push(decoder.decode());
        })(),
        signal,
      );
      const metadata = fields(splitter.end()['metadata']);
      const next = text(metadata, 'continue');
      return { resourceVersion: text(metadata, 'resourceVersion') ?? '', continueToken: next === '' ? undefined : next };
    } catch (error) {
      if (deadline.aborted) throw new Error(`the list did not answer within ${this.#listTimeoutMs / 1000} s`, { cause: error });
      throw error;
    }
  }

  #read(object: unknown): T {
    return this.#slim(object);
  }

  #keyOf(object: T): string | undefined {
    const name = object.metadata?.name;
    if (typeof name !== 'string' || name === '') {
      this.#options.logger.warn({ resource: this.resource }, 'ignored an object without a name');
      return undefined;
    }
    const namespace = object.metadata?.namespace;
    return keyOf(typeof namespace === 'string' ? namespace : '', name);
  }

  /** Adds or updates; `distrust`: a cached object with the same resourceVersion may still differ (history reset). */
  #put(object: T, distrust: boolean): void {
    const key = this.#keyOf(object);
    if (key === undefined) return;
    const cached = this.#objects.get(key);
    if (cached === undefined) {
      this.#objects.set(key, this.#keep(object));
      this.#tell(this.#options.onAdd, object);
      return;
    }
    const version = cached.metadata?.resourceVersion;
    if (!distrust && version !== undefined && version !== '' && version === object.metadata?.resourceVersion) return;
    this.#objects.set(key, this.#keep(object));
    const [was, is] = [cached.metadata?.uid, object.metadata?.uid];
    if (was !== undefined && is !== undefined && was !== is) {
      this.#tell(this.#options.onDelete, cached);
      this.#tell(this.#options.onAdd, object);
      return;
    }
    this.#tell(this.#options.onUpdate, object);
  }

  #remove(object: T): void {
    const key = this.#keyOf(object);
    if (key === undefined || !this.#objects.delete(key)) return;
    this.#tell(this.#options.onDelete, object);
  }

  /** A handler that throws must not stop the informer: the daemon never dies of one object. */
  #tell(handler: ((object: T) => void) | undefined, object: T): void {
    if (!handler) return;
    try {
      handler(object);
    } catch (error) {
      this.#options.logger.error({ resource: this.resource, name: object.metadata?.name, namespace: object.metadata?.namespace, err: errorForLog(error) }, 'an informer handler failed (absorbed)');
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
      this.#resourceVersion = '';
      if (unusable === 'too_large') this.#distrustVersions = true;
    }
    this.#trouble(describeError(err), this.#now());
    const delayMs = backoffDelay(this.#backoff, this.#failures - 1, this.#options.random);
    this.#options.logger.warn(
      { resource: this.resource, err: errorForLog(err), attempt: this.#failures, retryInMs: delayMs, relist: unusable !== undefined },
      unusable === 'too_large'
        ? 'informer stopped on an error: the API server is behind its resourceVersion (history reset, e.g. etcd restored): relisting'
        : 'informer stopped on an error: restarting it',
    );
    this.#options.metrics?.informerRestarts.inc({ resource: this.resource });
    this.#after(delayMs);
  }
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
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

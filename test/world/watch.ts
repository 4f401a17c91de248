// Watch streams: newline-delimited JSON events over a chunked 200 response, one write per event.
//
// A watch starts either from "now" (resourceVersion unset or "0": ADDED for every current object first) or
// from a revision in the history (replay what came after it). Below the compaction point it gets, like the
// real server, a 200 with a single 410 ERROR event: the client must relist. Above the store's revision (its
// history went back: faults.resetHistory) it gets a 200 with a single ERROR event carrying the 504 "Too large
// resource version" Status: the real server's watch cache reports errors found after parsing the
// resourceVersion as an ERROR event, not as an HTTP status.
import type { ServerResponse } from 'node:http';
import type { ResourceInfo } from './resources.ts';
import { apiVersionOf } from './resources.ts';
import { tooLargeResourceVersion } from './status.ts';
import type { ObjectPredicate } from './selectors.ts';
import type { Store } from './store.ts';
import type { RecordedRequest, StoreEvent } from './types.ts';

export interface WatchRequest {
  info: ResourceInfo;
  /** '' for all namespaces. */
  namespace: string;
  matches: ObjectPredicate;
  resourceVersion: string | undefined;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutSeconds: number | undefined;
}

interface WireEvent {
  type: string;
  object: unknown;
}

export class OpenWatch {
  readonly request: RecordedRequest;
  /** A silenced watch keeps its connection but writes nothing; events in that time are lost, as on a dead link. */
  silenced = false;
  readonly #response: ServerResponse;
  readonly #cleanups: (() => void)[] = [];
  #ended = false;

  constructor(request: RecordedRequest, response: ServerResponse) {
    this.request = request;
    this.#response = response;
    response.on('close', () => this.end());
  }

  send(event: WireEvent): void {
    if (this.silenced || this.#ended) return;
    this.#response.write(JSON.stringify(event) + '\n');
  }

  onEnd(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  /** A clean end of the stream: the client sees the body finish, not an error. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const cleanup of this.#cleanups) cleanup();
    if (!this.#response.writableEnded) this.#response.end();
  }
}

export function serveWatch(store: Store, watch: OpenWatch, request: WatchRequest, response: ServerResponse): void {
  const { info, namespace, matches } = request;
  const inScope = (event: StoreEvent): boolean =>
    event.resource === info.resource && (namespace === '' || event.object.metadata.namespace === namespace);

  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  response.flushHeaders();
  watch.request.status = 200;

  const from = request.resourceVersion;
  if (from !== undefined && from !== '' && from !== '0') {
    const revision = Number(from);
    if (!Number.isInteger(revision) || revision < store.compactedRevision) {
      watch.send({ type: 'ERROR', object: expired(from, store.compactedRevision) });
      watch.end();
      return;
    }
    if (revision > store.revision) {
      watch.send({ type: 'ERROR', object: tooLargeResourceVersion(revision, store.revision) });
      watch.end();
      return;
    }
    for (const event of store.eventsAfter(revision)) {
      if (inScope(event)) sendFiltered(watch, event, matches);
    }
  } else {
    for (const object of store.list(info.resource, namespace)) {
      if (matches(object)) watch.send({ type: 'ADDED', object });
    }
  }

  // Subscribing in the same tick as the replay means no write can fall between the two.
  watch.onEnd(store.subscribe((event) => {
    if (inScope(event)) sendFiltered(watch, event, matches);
  }));

  if (request.bookmarks) {
    const timer = setInterval(() => {
      watch.send({
        type: 'BOOKMARK',
        object: { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(store.revision) } },
      });
    }, request.bookmarkIntervalMs);
    watch.onEnd(() => clearInterval(timer));
  }
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
    const timer = setTimeout(() => watch.end(), request.timeoutSeconds * 1000);
    watch.onEnd(() => clearTimeout(timer));
  }
}

/**
 * With a selector, the real server reports an object entering the selection as ADDED and leaving it as
 * DELETED, so that a client's cache never holds an object that no longer matches.
 */
function sendFiltered(watch: OpenWatch, event: StoreEvent, matches: ObjectPredicate): void {
  const now = matches(event.object);
  if (event.type !== 'MODIFIED') {
    if (now) watch.send({ type: event.type, object: event.object });
    return;
  }
  const before = event.previous !== undefined && matches(event.previous);
  if (now && before) watch.send({ type: 'MODIFIED', object: event.object });
  else if (now) watch.send({ type: 'ADDED', object: event.object });
  else if (before) watch.send({ type: 'DELETED', object: event.object });
}

function expired(requested: string, oldest: number): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `too old resource version: ${requested} (${oldest})`,
    reason: 'Expired',
    code: 410,
  };
}

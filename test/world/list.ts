// LIST, as the real API server serves it from etcd: sorted by key, paginated with `limit` and `continue`, the later
// pages read at the first page's revision (a consistent snapshot), and large lists streamed out in pieces.
//
// - `limit=n`: at most n items, and `metadata.continue` when more keys follow; `metadata.remainingItemCount` only when
//   no selector filtered the list (the server cannot count matches it has not read). With a selector a page can hold
//   fewer than n items, even none, while a token still follows: clients must follow it until it is absent.
// - `continue=<token>`: the token is what apiserver's storage.EncodeContinue writes (base64url JSON {v, rv, start}).
//   A token whose revision was compacted away gets 410 Expired "The provided continue parameter is too old..." with a
//   new token in the Status's metadata that continues at the latest revision (rv -1): an inconsistent remainder the
//   client may take, or it lists again from scratch. Also expired here: a token whose snapshot the emulator no longer
//   keeps (older than the last 64 lists).
// - A bad token, or a token sent with a resourceVersion, is 400 BadRequest, as on the real server.
import type { ServerResponse } from 'node:http';
import type { ResourceInfo } from './resources.ts';
import { apiVersionOf } from './resources.ts';
import type { ObjectPredicate } from './selectors.ts';
import { StatusError } from './status.ts';
import type { Store } from './store.ts';
import type { K8sObject, RecordedRequest } from './types.ts';

/** Items serialized per write; between writes the event loop serves others (watches, probes, other lists). */
const ITEMS_PER_WRITE = 200;

const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without ' +
  'the continue parameter, or use the continue token in this response to retrieve the remainder of the results. ' +
  'Continuing with the provided token results in an inconsistent list - objects that were created, modified, or ' +
  'deleted between the time the first chunk was returned and now may show up in the list.';

interface ContinueToken {
  readonly rv: number;
  /** The key to continue from, relative to the list's prefix (`ns/` for a namespaced list). */
  readonly start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.rv, start: token.start })).toString('base64url');
}

export function decodeContinue(value: string): ContinueToken {
  const invalid = (why: string): StatusError => new StatusError(400, `invalid continue token: continue key is not valid: ${why}`, 'BadRequest');
  let token: { v?: unknown; rv?: unknown; start?: unknown };
  try {
    token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as typeof token;
  } catch (error) {
    throw invalid(String(error));
  }
  if (token?.v !== 'meta.k8s.io/v1') throw invalid(`got unrecognized encoded version ${String(token?.v)}`);
  if (typeof token.rv !== 'number' || !Number.isInteger(token.rv) || token.rv === 0) throw invalid('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof token.start !== 'string' || token.start === '') throw invalid('encoded start key empty (version meta.k8s.io/v1)');
  return { rv: token.rv, start: token.start };
}

/** Answers a LIST request: the page it asks for, streamed. */
export async function sendList(
  response: ServerResponse,
  record: RecordedRequest,
  info: ResourceInfo,
  namespace: string,
  store: Store,
  matches: ObjectPredicate,
): Promise<void> {
  const limit = limitOf(record.query.limit);
  const continueValue = record.query.continue ?? '';
  let snapshot = store.listSnapshot(info.resource);
  let after = '';
  if (continueValue !== '') {
    if ((record.query.resourceVersion ?? '') !== '') throw new StatusError(400, 'specifying resource version is not allowed when using continue', 'BadRequest');
    const token = decodeContinue(continueValue);
    after = token.start;
    if (token.rv !== -1) {
      const kept = store.snapshotAt(info.resource, token.rv);
      if (!kept) {
        const expired = new StatusError(410, INCONSISTENT_CONTINUE, 'Expired');
        expired.status.metadata = { continue: encodeContinue({ rv: -1, start: token.start }) };
        throw expired;
      }
      snapshot = kept;
    }
  }
  const { keys, objects } = snapshot;
  const prefix = namespace === '' ? '' : `${namespace}/`;
  // Keys of a namespace are contiguous: from `prefix` up to the first key past it ('/' + 1 is '0').
  const end = prefix === '' ? keys.length : firstAtOrAfter(keys, `${namespace}0`);
  const items: K8sObject[] = [];
  let index = firstAtOrAfter(keys, prefix + after);
  for (; index < end; index++) {
    if (limit !== undefined && items.length === limit) break;
    if (!matches(objects[index]!)) continue;
    items.push(objects[index]!);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.revision) };
  if (index < end) {
    // The page is full and more keys follow (matching or not: like etcd, the server does not look ahead).
    const lastKey = keys[index - 1]!;
    metadata['continue'] = encodeContinue({ rv: snapshot.revision, start: `${lastKey.slice(prefix.length)}\u0000` });
    const selected = (record.query.labelSelector ?? '') !== '' || (record.query.fieldSelector ?? '') !== '';
    if (!selected) metadata['remainingItemCount'] = end - index;
  }
  record.status = 200;
  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  response.write(`{"kind":"${info.kind}List","apiVersion":"${apiVersionOf(info)}","metadata":${JSON.stringify(metadata)},"items":[`);
  for (let start = 0; start < items.length; start += ITEMS_PER_WRITE) {
    const chunk = items.slice(start, start + ITEMS_PER_WRITE).map((item) => JSON.stringify(withoutTypeMeta(item))).join(',');
    const flushed = response.write(start === 0 ? chunk : `,${chunk}`);
    if (start + ITEMS_PER_WRITE >= items.length) break;
    if (!flushed) await drainedOrClosed(response);
    else await new Promise((resolve) => setImmediate(resolve));
    if (response.destroyed) return;
  }
  response.end(']}');
}

/** Resolves once the response can take more, or is gone (the client went away). */
function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** `limit` as the server reads it: absent or 0 is no limit; anything but a whole number >= 0 is a 400. */
function limitOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 0) throw new StatusError(400, `invalid limit: ${value}`, 'BadRequest');
  return limit === 0 ? undefined : limit;
}

/** The index of the first key >= `key` (keys are sorted). */
function firstAtOrAfter(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Items in a real list carry no kind or apiVersion: the list says it once. */
function withoutTypeMeta(object: K8sObject): Omit<K8sObject, 'kind' | 'apiVersion'> {
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
  return rest;
}

// One HTTP request, start to finish: record it, authenticate, apply injected faults, then serve it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discoveryDocument } from './discovery.ts';
import type { FaultRules } from './faults.ts';
import { openApiDocument } from './openapi.ts';
import type { PodLogs } from './logs.ts';
import type { PatchContentType } from './patch.ts';
import { applyPatch, patchContentTypes } from './patch.ts';
import type { ResourceInfo } from './resources.ts';
import type { ResourcePath } from './routes.ts';
import { parseResourcePath } from './routes.ts';
import type { PolicyRule } from './rbac.ts';
import { attributesOf, authorize, forbidden, selfSubjectAccessReview } from './rbac.ts';
import { admitLease } from './leases.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { sendList } from './list.ts';
import { failureStatus, notFound, StatusError, tooLargeResourceVersion } from './status.ts';
import type { Store } from './store.ts';
import type { K8sObject, RecordedRequest, Verb } from './types.ts';
import { OpenWatch, serveWatch } from './watch.ts';

export interface ServerState {
  store: Store;
  logs: PodLogs;
  faults: FaultRules;
  watches: Set<OpenWatch>;
  token: string;
  /** Further bearer tokens, each naming the client it was issued to (writeKubeconfig({ client })). */
  clientTokens: Map<string, string>;
  bookmarkIntervalMs: number;
  serverAddress: string;
  requests: RecordedRequest[];
  /** RBAC rules of the token's user; undefined: every authenticated request is allowed. */
  rbac: PolicyRule[] | undefined;
  /** Who the token authenticates as, for 403 messages. */
  user: string;
  /** Requests answered 403 by RBAC, in arrival order. */
  denied: RecordedRequest[];
  /** Called once the server has decided a request's fate: answered, watch opened, or left hanging. */
  onHandled: (request: RecordedRequest) => void;
}

export async function handleRequest(state: ServerState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'https://emulator');
  const target = parseResourcePath(url.pathname);
  const record = recordOf(request.method ?? 'GET', url, target);
  state.requests.push(record);
  countBytes(response, record);
  try {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const client = bearer === state.token ? '' : bearer === undefined ? undefined : state.clientTokens.get(bearer);
    if (client === undefined) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
    record.client = client;
    // Only await when a fault applies: the common path stays in one tick, so a watch is registered
    // before anyone told of the request can act on it.
    const delayMs = state.faults.delayFor(record);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const hung = state.faults.holdIfHung(record);
    if (hung) {
      state.onHandled(record);
      await hung;
    }
    const failure = state.faults.takeFailure(record);
    if (failure !== undefined) throw new StatusError(failure, `injected failure: ${failure}`);
    if (target && !isSelfSubjectAccessReview(target)) {
      const attributes = attributesOf(record);
      if (!authorize(state.rbac, attributes).allowed) {
        state.denied.push(record);
        throw forbidden(state.user, attributes);
      }
    }
    await serve(state, record, target, url, request, response);
  } catch (error) {
    const status = error instanceof StatusError ? error.status : failureStatus(500, String(error));
    if (status.code === 429) response.setHeader('Retry-After', '1');
    sendJson(response, record, status.code, status);
  }
  if (record.status !== 0) state.onHandled(record);
}

function recordOf(method: string, url: URL, target: ResourcePath | undefined): RecordedRequest {
  const query = Object.fromEntries(url.searchParams);
  return {
    method,
    path: url.pathname,
    query,
    verb: verbOf(method, target, query),
    group: target?.group ?? '',
    resource: target ? target.resourceName + (target.subresource ? `/${target.subresource}` : '') : '',
    namespace: target?.namespace ?? '',
    name: target?.name ?? '',
    status: 0,
    client: '',
    time: Date.now(),
    bytes: 0,
  };
}

/** Counts the body bytes written to `response` into `record.bytes`. */
function countBytes(response: ServerResponse, record: RecordedRequest): void {
  const count = (chunk: unknown): void => {
    if (typeof chunk === 'string') record.bytes += Buffer.byteLength(chunk);
    else if (chunk instanceof Uint8Array) record.bytes += chunk.byteLength;
  };
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.write = ((chunk: unknown, ...rest: unknown[]) => {
    count(chunk);
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  response.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'function') count(chunk);
    return end(chunk, ...rest);
  }) as ServerResponse['end'];
}

function verbOf(method: string, target: ResourcePath | undefined, query: Record<string, string>): Verb {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      if (!target || target.name !== '') return 'get';
      return isWatch(query) ? 'watch' : 'list';
  }
}

function isWatch(query: Record<string, string>): boolean {
  return query.watch === 'true' || query.watch === '1';
}

async function serve(
  state: ServerState,
  record: RecordedRequest,
  target: ResourcePath | undefined,
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (!target) {
    const document = record.method === 'GET' ? (discoveryDocument(url.pathname, state.serverAddress) ?? openApiDocument(url.pathname)) : undefined;
    if (!document) throw new StatusError(404, 'the server could not find the requested resource', 'NotFound');
    sendJson(response, record, 200, document);
    return;
  }
  if (isSelfSubjectAccessReview(target)) {
    if (record.verb !== 'create' || target.name !== '') throw new StatusError(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed');
    sendJson(response, record, 201, selfSubjectAccessReview(state.rbac, await readJson(request)));
    return;
  }
  const { info } = target;
  if (!info) throw new StatusError(404, 'the server could not find the requested resource', 'NotFound');
  const { store } = state;
  const namespace = target.namespace;

  switch (record.verb) {
    case 'list': {
      const exact = record.query.resourceVersionMatch === 'Exact';
      const from = Number(record.query.resourceVersion);
      if (exact && from < store.compactedRevision) {
        throw new StatusError(410, `too old resource version: ${from} (${store.compactedRevision})`, 'Expired');
      }
      // "Not older than" (or exactly) a revision the store has not reached: the real server waits ~3 s, then 504s.
      if (Number.isInteger(from) && from > store.revision) {
        const status = tooLargeResourceVersion(from, store.revision);
        throw new StatusError(status.code, status.message, status.reason, status.details);
      }
      await sendList(response, record, info, namespace, store, selection(record, info));
      return;
    }
    case 'watch': {
      const watch = new OpenWatch(record, response);
      state.watches.add(watch);
      watch.onEnd(() => state.watches.delete(watch));
      const timeoutSeconds = record.query.timeoutSeconds === undefined ? undefined : Number(record.query.timeoutSeconds);
      serveWatch(store, watch, {
        info,
        namespace,
        matches: selection(record, info),
        resourceVersion: record.query.resourceVersion,
        bookmarks: record.query.allowWatchBookmarks === 'true',
        bookmarkIntervalMs: state.bookmarkIntervalMs,
        timeoutSeconds,
      }, response);
      return;
    }
    case 'get': {
      if (target.subresource === 'log' && info.resource === 'pods') {
        const text = state.logs.read(store.get('pods', namespace, target.name), namespace, target.name, {
          container: record.query.container,
          tailLines: numberOrUndefined(record.query.tailLines),
          limitBytes: numberOrUndefined(record.query.limitBytes),
          previous: record.query.previous === 'true',
        });
        record.status = 200;
        response.writeHead(200, { 'Content-Type': 'text/plain' });
        response.end(text);
        return;
      }
      requireSubresource(target, ['', 'status']);
      sendJson(response, record, 200, existing(store, info, namespace, target.name));
      return;
    }
    case 'create': {
      if (target.name !== '') throw new StatusError(405, `the server does not allow this method on the requested resource`, 'MethodNotAllowed');
      const body = await readJson(request);
      const metadata = body.metadata ?? {};
      if (metadata.namespace && metadata.namespace !== namespace) {
        throw new StatusError(400, 'the namespace of the provided object does not match the namespace sent on the request');
      }
      const object = { ...body, metadata: { ...metadata, namespace } };
      // The real server ignores a client-set status on create; only controllers, through /status, set it.
      if (info.hasStatus) object.status = info.resource === 'pods' ? { phase: 'Pending' } : info.resource === 'namespaces' ? { phase: 'Active' } : {};
      sendJson(response, record, 201, store.create(info.resource, admit(info, object, 'create')));
      return;
    }
    case 'update': {
      requireSubresource(target, ['', 'status']);
      const body = await readJson(request);
      if (body.metadata?.name !== undefined && body.metadata.name !== target.name) {
        throw new StatusError(400, 'the name of the object does not match the name on the URL');
      }
      const current = existing(store, info, namespace, target.name);
      const incoming = { ...body, metadata: { ...body.metadata, name: target.name, namespace } };
      sendJson(response, record, 200, store.update(info.resource, admit(info, scopeToSubresource(info, target.subresource, current, incoming), 'update')));
      return;
    }
    case 'patch': {
      requireSubresource(target, ['', 'status']);
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      if (!(patchContentTypes as readonly string[]).includes(contentType)) {
        throw new StatusError(
          415,
          `the body of the request was in an unknown format - accepted media types include: ${patchContentTypes.join(', ')}`,
          'UnsupportedMediaType',
        );
      }
      const patch = await readJson(request);
      const current = existing(store, info, namespace, target.name);
      const patched = applyPatch(contentType as PatchContentType, current, patch) as K8sObject;
      // A patch can lock on resourceVersion by naming it; one that does not, applies to whatever is current.
      const lockedTo = (patch as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
      patched.metadata = {
        ...patched.metadata,
        name: target.name,
        namespace,
        uid: current.metadata.uid,
        resourceVersion: typeof lockedTo === 'string' ? lockedTo : '',
      };
      sendJson(response, record, 200, store.update(info.resource, admit(info, scopeToSubresource(info, target.subresource, current, patched), 'patch')));
      return;
    }
    case 'delete': {
      requireSubresource(target, ['']);
      if (target.name === '') throw new StatusError(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed');
      const deleted = store.remove(info.resource, namespace, target.name);
      // Pods answer with the object (graceful deletion); the rest with a Success Status, as on a real cluster.
      sendJson(response, record, 200, info.resource === 'pods' ? deleted : {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: target.name, group: info.group, kind: info.resource, uid: deleted.metadata.uid },
      });
      return;
    }
  }
}

/** The per-kind checks the real server makes before storing (only Leases have any here: leases.ts). */
function admit(info: ResourceInfo, object: K8sObject, operation: 'create' | 'update' | 'patch'): K8sObject {
  return info.resource === 'leases' ? admitLease(object, operation) : object;
}

/** Open to every authenticated user (the `system:basic-user` ClusterRole): "what may I do?" */
function isSelfSubjectAccessReview(target: ResourcePath): boolean {
  return target.group === 'authorization.k8s.io' && target.resourceName === 'selfsubjectaccessreviews' && target.namespace === '';
}

/** Writes to a resource keep its status; writes to /status change only the status. */
function scopeToSubresource(info: ResourceInfo, subresource: string, current: K8sObject, incoming: K8sObject): K8sObject {
  if (!info.hasStatus) return incoming;
  if (subresource === 'status') {
    return { ...current, status: incoming.status, metadata: { ...current.metadata, resourceVersion: incoming.metadata.resourceVersion ?? '' } };
  }
  const scoped: K8sObject = { ...incoming };
  if (current.status === undefined) delete scoped.status;
  else scoped.status = current.status;
  return scoped;
}

function selection(record: RecordedRequest, info: ResourceInfo): (object: K8sObject) => boolean {
  const labels = parseLabelSelector(record.query.labelSelector);
  const fields = parseFieldSelector(record.query.fieldSelector, info.resource);
  return (object) => labels(object) && fields(object);
}

function existing(store: Store, info: ResourceInfo, namespace: string, name: string): K8sObject {
  const object = store.get(info.resource, namespace, name);
  if (!object) throw notFound(info, name);
  return object;
}

function requireSubresource(target: ResourcePath, allowed: string[]): void {
  if (target.name === '' || !allowed.includes(target.subresource)) {
    throw new StatusError(404, 'the server could not find the requested resource', 'NotFound');
  }
}

function numberOrUndefined(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function readJson(request: IncomingMessage): Promise<any> {
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.includes('protobuf') || contentType.includes('cbor')) {
    // kubectl's typed generators (`create job`, `create cronjob`) send protobuf; the emulator speaks JSON only.
    throw new StatusError(415, `the emulator accepts only JSON bodies, not ${contentType}`, 'UnsupportedMediaType');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new StatusError(400, `the body of the request could not be decoded as JSON: ${String(error)}`);
  }
}

function sendJson(response: ServerResponse, record: RecordedRequest, code: number, body: unknown): void {
  if (response.headersSent) {
    // A watch already streaming cannot change its status; ending it is the only honest signal.
    response.end();
    return;
  }
  record.status = code;
  response.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  response.end(JSON.stringify(body));
}

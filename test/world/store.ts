// The cluster's state: objects per resource, one global resourceVersion, and the history watches replay.
//
// Like etcd behind the real server, every write takes the next revision, and a watch can resume from any
// revision still in the history. `compact()` moves the point below which a resume gets 410 Expired: that
// is what forces an informer to relist, the path on which every Job is replayed to the daemon.
//
// A stored object is never changed in place (a write stores a new object) and never handed out (get and list
// return copies), so the history and list snapshots share it instead of copying it: at 50,000 Jobs a copy each
// would cost the emulator gigabytes. A list snapshot (`listSnapshot`) is a sorted array of the objects as they
// were at one revision; paginated lists read their later pages from it, as the real server reads etcd at the
// first page's revision.
import { randomUUID } from 'node:crypto';
import { apiVersionOf, resourceInfo } from './resources.ts';
import { alreadyExists, conflict, notFound, StatusError } from './status.ts';
import type { K8sObject, Resource, StoreEvent } from './types.ts';

export type StoreListener = (event: StoreEvent) => void;

/** The store as an etcd backup holds it: every object, and the revision it was taken at. */
export interface StoreSnapshot {
  readonly revision: number;
  readonly objects: ReadonlyMap<Resource, ReadonlyMap<string, K8sObject>>;
}

/** One resource's objects at one revision, sorted by key (`namespace/name`) as etcd sorts them. Read only. */
export interface ListSnapshot {
  readonly revision: number;
  readonly keys: readonly string[];
  readonly objects: readonly K8sObject[];
}

/** List snapshots kept for continue tokens; an older token is answered as expired (410), as after a compaction. */
const KEPT_SNAPSHOTS = 64;

// Real clusters never hand out small numbers; starting high catches code that compares them as strings.
const firstRevision = 1000;

export class Store {
  revision = firstRevision;
  /** Watches from a resourceVersion below this get 410 Expired. */
  compactedRevision = 0;
  readonly history: StoreEvent[] = [];
  readonly #objects = new Map<Resource, Map<string, K8sObject>>();
  readonly #listeners = new Set<StoreListener>();
  /** Per resource, its current snapshot, until the next write to it. */
  readonly #current = new Map<Resource, ListSnapshot>();
  /** `resource@revision` -> the snapshots lists were served from, oldest first. */
  readonly #snapshots = new Map<string, ListSnapshot>();

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** `createdAt` backdates the object, as if it had been created then (objects that predate a test). */
  create(resource: Resource, input: object, createdAt?: string): K8sObject {
    const info = resourceInfo[resource];
    const object = structuredClone(input) as K8sObject;
    const metadata = (object.metadata ??= {} as K8sObject['metadata']);
    if (!metadata.name && typeof metadata.generateName === 'string') {
      metadata.name = metadata.generateName + randomUUID().slice(0, 5);
    }
    if (!metadata.name) throw new StatusError(422, `${info.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (info.clusterScoped) delete metadata.namespace;
    else metadata.namespace ||= 'default';
    // The API server labels every Namespace with its own name (NamespaceDefaultLabelName, Kubernetes 1.21+).
    if (resource === 'namespaces') metadata.labels = { ...metadata.labels, 'kubernetes.io/metadata.name': metadata.name };
    const objects = this.#objectsOf(resource);
    const key = keyOf(metadata.namespace ?? '', metadata.name);
    if (objects.has(key)) throw alreadyExists(info, metadata.name);
    object.apiVersion = apiVersionOf(info);
    object.kind = info.kind;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = createdAt ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    metadata.resourceVersion = String(++this.revision);
    objects.set(key, object);
    this.#emit({ revision: this.revision, resource, type: 'ADDED', object });
    return structuredClone(object);
  }

  /** Replaces the stored object; a given metadata.resourceVersion must be the current one (optimistic locking). */
  update(resource: Resource, input: object): K8sObject {
    const info = resourceInfo[resource];
    const object = structuredClone(input) as K8sObject;
    const name = object.metadata?.name ?? '';
    const namespace = info.clusterScoped ? '' : object.metadata?.namespace || 'default';
    const objects = this.#objectsOf(resource);
    const key = keyOf(namespace, name);
    const previous = objects.get(key);
    if (!previous) throw notFound(info, name);
    const given = object.metadata.resourceVersion;
    if (given !== undefined && given !== '' && given !== previous.metadata.resourceVersion) throw conflict(info, name);
    object.apiVersion = apiVersionOf(info);
    object.kind = info.kind;
    if (info.clusterScoped) delete object.metadata.namespace;
    object.metadata = {
      ...object.metadata,
      ...(info.clusterScoped ? {} : { namespace }),
      uid: previous.metadata.uid,
      creationTimestamp: previous.metadata.creationTimestamp,
      resourceVersion: String(++this.revision),
    };
    objects.set(key, object);
    this.#emit({ revision: this.revision, resource, type: 'MODIFIED', object, previous });
    return structuredClone(object);
  }

  /** Read-modify-write, the way a controller changes an object. */
  modify(resource: Resource, namespace: string, name: string, mutate: (object: K8sObject) => void): K8sObject {
    const current = this.get(resource, namespace, name);
    if (!current) throw notFound(resourceInfo[resource], name);
    mutate(current);
    current.metadata.resourceVersion = '';
    if (!resourceInfo[resource].clusterScoped) current.metadata.namespace = namespace;
    current.metadata.name = name;
    return this.update(resource, current);
  }

  remove(resource: Resource, namespace: string, name: string): K8sObject {
    const objects = this.#objectsOf(resource);
    const key = keyOf(namespace, name);
    const previous = objects.get(key);
    if (!previous) throw notFound(resourceInfo[resource], name);
    objects.delete(key);
    // The real server stamps the DELETED event's object with the revision of the delete.
    const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(++this.revision) } };
    this.#emit({ revision: this.revision, resource, type: 'DELETED', object });
    return structuredClone(object);
  }

  get(resource: Resource, namespace: string, name: string): K8sObject | undefined {
    const object = this.#objectsOf(resource).get(keyOf(namespace, name));
    return object && structuredClone(object);
  }

  /** Objects in one namespace, or in all when namespace is undefined or ''; sorted like etcd keys. */
  list(resource: Resource, namespace?: string): K8sObject[] {
    return [...this.#objectsOf(resource).entries()]
      .filter(([, object]) => !namespace || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => structuredClone(object));
  }

  /**
   * The resource's objects now, sorted by key, for a list to be served from (not copies: serialize, never change).
   * Kept for `snapshotAt(revision)`, so that the later pages of a paginated list see the same objects.
   */
  listSnapshot(resource: Resource): ListSnapshot {
    let snapshot = this.#current.get(resource);
    if (!snapshot) {
      const entries = [...this.#objectsOf(resource).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      snapshot = { revision: this.revision, keys: entries.map(([key]) => key), objects: entries.map(([, object]) => object) };
      this.#current.set(resource, snapshot);
    }
    const id = `${resource}@${this.revision}`;
    this.#snapshots.delete(id);
    this.#snapshots.set(id, { ...snapshot, revision: this.revision });
    for (const old of this.#snapshots.keys()) {
      if (this.#snapshots.size <= KEPT_SNAPSHOTS) break;
      this.#snapshots.delete(old);
    }
    return this.#snapshots.get(id)!;
  }

  /** The snapshot a list at `revision` was served from, while it is kept and not compacted away. */
  snapshotAt(resource: Resource, revision: number): ListSnapshot | undefined {
    if (revision < this.compactedRevision) return undefined;
    return this.#snapshots.get(`${resource}@${revision}`);
  }

  /**
   * Objects as a cluster that has run for a while holds them: each created at the next revision, with its own
   * creationTimestamp if it has one, and the history before them compacted away (no watch can replay their
   * creation). The store takes them as they are, without copying: the caller must not change them afterwards, and
   * may share parts between them (50,000 Jobs with one pod template cost the emulator little).
   */
  load(resource: Resource, objects: readonly object[]): void {
    const info = resourceInfo[resource];
    const stored = this.#objectsOf(resource);
    for (const input of objects) {
      const object = input as K8sObject;
      const metadata = object.metadata;
      if (info.clusterScoped) delete metadata.namespace;
      else metadata.namespace ||= 'default';
      const key = keyOf(metadata.namespace ?? '', metadata.name);
      if (stored.has(key)) throw alreadyExists(info, metadata.name);
      object.apiVersion = apiVersionOf(info);
      object.kind = info.kind;
      metadata.uid ||= randomUUID();
      metadata.creationTimestamp ||= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      metadata.resourceVersion = String(++this.revision);
      stored.set(key, object);
    }
    this.#current.delete(resource);
    this.compact();
  }

  /** Events after `revision`, oldest first. */
  eventsAfter(revision: number): StoreEvent[] {
    const start = this.history.findIndex((event) => event.revision > revision);
    return start === -1 ? [] : this.history.slice(start);
  }

  /** A copy of everything, as `etcdctl snapshot save` would take it. */
  snapshot(): StoreSnapshot {
    return { revision: this.revision, objects: structuredClone(this.#objects) };
  }

  /**
   * Goes back to `snapshot`, as `etcdctl snapshot restore` does: objects and revision as they were, the history after
   * it gone. Nothing is told to watchers (etcd sends no events for a restore): the revisions they hold are now ahead of
   * the store's, and the next writes reuse revisions that were already handed out once.
   */
  restore(snapshot: StoreSnapshot): void {
    this.#objects.clear();
    this.#current.clear();
    this.#snapshots.clear();
    for (const [resource, objects] of structuredClone(snapshot.objects)) this.#objects.set(resource, new Map(objects));
    this.revision = snapshot.revision;
    this.compactedRevision = Math.min(this.compactedRevision, snapshot.revision);
    this.history.splice(0, this.history.length, ...this.history.filter((event) => event.revision <= snapshot.revision));
  }

  compact(): void {
    this.compactedRevision = this.revision;
    const keep = this.eventsAfter(this.revision);
    this.history.splice(0, this.history.length, ...keep);
    for (const [id, snapshot] of this.#snapshots) if (snapshot.revision < this.compactedRevision) this.#snapshots.delete(id);
  }

  #objectsOf(resource: Resource): Map<string, K8sObject> {
    let objects = this.#objects.get(resource);
    if (!objects) {
      objects = new Map();
      this.#objects.set(resource, objects);
    }
    return objects;
  }

  #emit(event: StoreEvent): void {
    // The event shares the stored object: it is never changed in place nor handed out, so nothing can rewrite the past.
    this.#current.delete(event.resource);
    this.history.push(event);
    for (const listener of [...this.#listeners]) listener(event);
  }
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

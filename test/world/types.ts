// The shapes shared by the emulator's parts and by the tests that drive it.

export type Resource = 'jobs' | 'cronjobs' | 'pods' | 'events' | 'leases' | 'namespaces';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** A stored object as the API server returns it: plain JSON, timestamps as strings. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // Loose on purpose: tests read spec/status of Jobs, Pods and Events alike without casts everywhere.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write, as kept in the history that watches replay from. */
export interface StoreEvent {
  revision: number;
  resource: Resource;
  type: WatchEventType;
  object: K8sObject;
  /** The object before a MODIFIED, so a selector watch can turn it into ADDED or DELETED like the real server. */
  previous?: K8sObject;
}

/**
 * One HTTP request as the server saw it. Discovery and other non-resource requests have verb 'get' and
 * resource ''. `status` is 0 until the response headers are sent (a hung request stays at 0).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  verb: Verb;
  group: string;
  /** 'jobs', 'jobs/status', 'pods/log', ...; '' for discovery. */
  resource: string;
  namespace: string;
  name: string;
  status: number;
  /**
   * Which kubeconfig sent it: the name given to `writeKubeconfig({ client })`, '' for the server's main token (and for
   * unauthenticated requests). Lets a fault hit one replica of two, as a partition or a frozen process would.
   */
  client: string;
  /** Milliseconds since the epoch when the request arrived. */
  time: number;
  /** Response body bytes sent so far (a watch's grow while it streams): the API load a client causes. */
  bytes: number;
}

export type RequestMatcher = (request: RecordedRequest) => boolean;

// A Kubernetes API server emulator for the integration and end-to-end tests: the real wire protocol over
// HTTPS (discovery, list, watch, get, create, update, patch, delete, pod logs), a store tests drive the way
// the cluster's controllers would, and faults to prove the daemon survives a misbehaving server.
//
// By hand: `node test/world/apiserver.ts [--port 6443]` prints a kubeconfig path and serves until Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Faults } from './faults.ts';
import { FaultRules } from './faults.ts';
import { handleRequest } from './handler.ts';
import type { ServerState } from './handler.ts';
import { writeKubeconfigFile } from './kubeconfig.ts';
import { PodLogs } from './logs.ts';
import type { PolicyRule } from './rbac.ts';
import { defaultUser } from './rbac.ts';
import { Store } from './store.ts';
import { tls } from './tls.ts';
import type { K8sObject, RecordedRequest, RequestMatcher, Resource } from './types.ts';
import type { OpenWatch } from './watch.ts';

export type { Faults } from './faults.ts';
export type { K8sObject, RecordedRequest, RequestMatcher, Resource, Verb } from './types.ts';
export type { PolicyRule } from './rbac.ts';

export interface ApiServerOptions {
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK. Default 1000. */
  bookmarkIntervalMs?: number;
  /** The bearer token every request must carry. Default: random. */
  token?: string;
  /** Default 0: a random free port. */
  port?: number;
  /**
   * The token's user's RBAC rules (a Role's `rules:`). Given, every resource request is authorized like the real
   * server's RBAC (403 Forbidden otherwise); discovery, /version, /openapi and SelfSubjectAccessReview stay open.
   * Default: no authorization at all.
   */
  rbac?: PolicyRule[];
  /** Who the token authenticates as, in 403 messages. Default `system:serviceaccount:kube-job-alerts:kube-job-alerts`. */
  user?: string;
}

export interface ApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  token: string;
  /** Cluster with the CA, user with the token, context with namespace 'default'. */
  kubeconfigPath: string;
  /**
   * Another kubeconfig. `client` issues it a token of its own, for the same user and RBAC, and requests made with it
   * are recorded with that `client`: two replicas of one Deployment, each with its pod's token. `token` sets the
   * token as given (a wrong one gets 401).
   */
  writeKubeconfig(options?: { namespace?: string; token?: string; client?: string }): string;
  /** `createdAt`: as if the object had been created then (a CronJob that predates the test). */
  create(resource: Resource, object: object, options?: { createdAt?: string }): K8sObject;
  /**
   * Many objects at once, as a cluster that has run for a while holds them (store.ts `load`): taken without copying
   * (do not change them afterwards; they may share parts), and the history before them compacted away.
   */
  load(resource: Resource, objects: readonly object[]): void;
  update(resource: Resource, object: object): K8sObject;
  modify(resource: Resource, namespace: string, name: string, mutate: (object: K8sObject) => void): K8sObject;
  remove(resource: Resource, namespace: string, name: string): void;
  get(resource: Resource, namespace: string, name: string): K8sObject | undefined;
  list(resource: Resource, namespace?: string): K8sObject[];
  setPodLog(namespace: string, pod: string, container: string, text: string, options?: { previous?: boolean }): void;
  /** The current (last written) resourceVersion. */
  resourceVersion(): string;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  /** TLS connections accepted so far (a client that reuses its connections opens few). */
  readonly connections: number;
  /** The requests RBAC answered 403 Forbidden, in arrival order. */
  denied: RecordedRequest[];
  /** Replaces the RBAC rules from now on (undefined switches authorization off), as editing a Role would. */
  setRbac(rules: PolicyRule[] | undefined): void;
  /**
   * Resolves with the next matching request once the server has dealt with it: answered it, opened its
   * watch (so it is live and silenceWatches/dropWatches can reach it), or started hanging it.
   */
  nextRequest(match?: RequestMatcher): Promise<RecordedRequest>;
  faults: Faults;
  /** Ends open watches and hung requests, stops the server and deletes the kubeconfig folder. */
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const store = new Store();
  const logs = new PodLogs();
  const watches = new Set<OpenWatch>();
  const requests: RecordedRequest[] = [];
  const waiters = new Set<{ match: RequestMatcher; resolve: (request: RecordedRequest) => void }>();

  // The server is created below; the faults reach it through these (unreachable, reachable).
  let refuse = (): void => {};
  let accept = async (): Promise<void> => {};
  const faults = new FaultRules(store, watches, { refuse: () => refuse(), accept: () => accept() });
  const state: ServerState = {
    store,
    logs,
    faults,
    watches,
    token,
    clientTokens: new Map(),
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    serverAddress: '',
    requests,
    rbac: options.rbac,
    user: options.user ?? defaultUser,
    denied: [],
    onHandled: (request) => {
      for (const waiter of [...waiters]) {
        if (waiter.match(request)) {
          waiters.delete(waiter);
          waiter.resolve(request);
        }
      }
    },
  };

  const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    void handleRequest(state, request, response);
  });
  // Every TCP connection, including those still in their TLS handshake (an aborted client can leave one there),
  // which closeAllConnections does not know about: close() must not wait for them.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let connections = 0;
  server.on('secureConnection', () => void (connections += 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  let listening = true;
  refuse = () => {
    if (!listening) return;
    listening = false;
    server.close();
    for (const watch of [...watches]) watch.end();
    for (const socket of sockets) socket.destroy();
  };
  accept = async () => {
    if (listening) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()));
    });
    listening = true;
  };
  state.serverAddress = `127.0.0.1:${port}`;

  const directory = mkdtempSync(join(tmpdir(), 'kube-apiserver-emulator-'));
  let kubeconfigs = 0;
  const writeKubeconfig = (choices: { namespace?: string; token?: string; client?: string } = {}): string => {
    let chosen = choices.token ?? token;
    if (choices.client !== undefined && choices.token === undefined) {
      chosen = randomBytes(16).toString('hex');
      state.clientTokens.set(chosen, choices.client);
    }
    return writeKubeconfigFile(directory, `kubeconfig-${++kubeconfigs}.yaml`, {
      server: url,
      caPem: tls.ca,
      token: chosen,
      namespace: choices.namespace ?? 'default',
    });
  };
  const kubeconfigPath = writeKubeconfig();

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const watch of [...watches]) watch.end();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets and hung requests would otherwise hold close() open; hung ones are never answered.
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await stopped;
      rmSync(directory, { recursive: true, force: true });
    })();
    return closed;
  };

  return {
    url,
    token,
    kubeconfigPath,
    get connections() {
      return connections;
    },
    writeKubeconfig,
    create: (resource, object, options) => store.create(resource, object, options?.createdAt),
    load: (resource, objects) => store.load(resource, objects),
    update: (resource, object) => store.update(resource, object),
    modify: (resource, namespace, name, mutate) => store.modify(resource, namespace, name, mutate),
    remove: (resource, namespace, name) => void store.remove(resource, namespace, name),
    get: (resource, namespace, name) => store.get(resource, namespace, name),
    list: (resource, namespace) => store.list(resource, namespace),
    setPodLog: (namespace, pod, container, text, logOptions = {}) => logs.set(namespace, pod, container, text, logOptions.previous ?? false),
    resourceVersion: () => String(store.revision),
    requests,
    denied: state.denied,
    setRbac: (rules) => void (state.rbac = rules),
    nextRequest: (match = () => true) => new Promise((resolve) => waiters.add({ match, resolve })),
    faults,
    close,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, token: { type: 'string' } } });
  const server = await startApiServer({ port: values.port ? Number(values.port) : 0, token: values.token });
  console.log(`Kubernetes API server emulator at ${server.url}`);
  console.log(`kubeconfig: ${server.kubeconfigPath}`);
  console.log(`try: kubectl --kubeconfig ${server.kubeconfigPath} get jobs`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.main) await main();

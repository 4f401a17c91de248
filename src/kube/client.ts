/**
 * Connects to the API server. The kubeconfig is found in the standard order (KUBECONFIG, ~/.kube/config, then the
 * in-cluster service account); the library reads those itself.
 */
import {
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  setHeaderMiddleware,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { describeCauses } from '../errors.ts';
import { packageVersion } from '../version.ts';

export interface KubeClients {
  readonly config: KubeConfig;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  /** Where the client talks to, for the start-up log line. */
  readonly server: string;
}

export function connect(kubeconfig: KubeConfig = loadDefaultKubeConfig()): KubeClients {
  return {
    config: kubeconfig,
    batch: apiClient(kubeconfig, BatchV1Api),
    core: apiClient(kubeconfig, CoreV1Api),
    server: kubeconfig.getCurrentCluster()?.server ?? '(none)',
  };
}

/** The pool of each kubeconfig: every API client made for it shares it. */
const pools = new WeakMap<KubeConfig, PooledAuthentication>();

/**
 * A generated API client (kubeconfig.makeApiClient's equivalent) whose requests reuse connections: see
 * PooledAuthentication. All clients made for one kubeconfig share one pool.
 */
export function apiClient<T>(kubeconfig: KubeConfig, type: new (configuration: ReturnType<typeof createConfiguration>) => T): T {
  const cluster = kubeconfig.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  let pooled = pools.get(kubeconfig);
  if (pooled === undefined) pools.set(kubeconfig, (pooled = new PooledAuthentication(kubeconfig)));
  return new type(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: pooled },
      middleware: [setHeaderMiddleware('User-Agent', `kube-job-alerts/${packageVersion()}`)],
    }),
  );
}

/**
 * The kubeconfig's authentication with one pool of keep-alive connections. client-node builds a new connection pool
 * (an undici Agent) for every request it authenticates, so every call paid a TCP and TLS handshake (five per failure,
 * for its evidence) and left an idle socket behind. Here the credentials are still applied per request (a refreshed
 * token, an exec plugin's output), but the request goes through the pool of the first one; the pool is renewed every
 * `renewMs` (rotated client certificates are taken up by then), the old one closing once its requests are done.
 * Watches and list pages (kube/informer.ts) manage their own connections.
 */
export class PooledAuthentication implements SecurityAuthentication {
  readonly #kubeconfig: KubeConfig;
  readonly #renewMs: number;
  readonly #now: () => number;
  #pool: ReturnType<RequestContext['getDispatcher']>;
  #since = 0;

  constructor(kubeconfig: KubeConfig, options: { renewMs?: number; now?: () => number } = {}) {
    this.#kubeconfig = kubeconfig;
    this.#renewMs = options.renewMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  getName(): string {
    return 'default';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.#kubeconfig.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    if (this.#pool === undefined || this.#now() - this.#since >= this.#renewMs) {
      const old = this.#pool;
      this.#pool = fresh;
      this.#since = this.#now();
      void old?.close().catch(() => undefined);
      return;
    }
    context.setDispatcher(this.#pool);
    void fresh.destroy().catch(() => undefined);
  }
}

export function loadDefaultKubeConfig(): KubeConfig {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromDefault();
  const cluster = kubeconfig.getCurrentCluster();
  // With no kubeconfig and no service account, client-node falls back to http://localhost:8080 (kubectl's old
  // insecure port): say plainly that nothing was found instead of retrying a server that is not there forever.
  if (!cluster || (cluster.name === 'cluster' && cluster.server === 'http://localhost:8080' && kubeconfig.getCurrentUser()?.name === 'user')) {
    throw new Error('no Kubernetes cluster configured: no KUBECONFIG, no ~/.kube/config, and not running in a pod');
  }
  return kubeconfig;
}

/**
 * The namespaces to watch: the configured list, 'all', or else the pod's own (POD_NAMESPACE from the downward API),
 * or else the current context's namespace, which in a pod is the service account's (client-node puts it in the
 * in-cluster context), and 'default' as kubectl does.
 */
export function namespacesToWatch(
  configured: readonly string[] | 'all' | undefined,
  podNamespace: string | undefined,
  kubeconfig: KubeConfig,
): readonly string[] | 'all' {
  if (configured !== undefined) return configured;
  if (podNamespace !== undefined) return [podNamespace];
  const context = kubeconfig.getContextObject(kubeconfig.getCurrentContext());
  return [context?.namespace?.trim() || 'default'];
}

/**
 * Bounds an API call: the generated clients take no timeout, and a hung API server must not hang an alert or a
 * check. Rejects after `timeoutMs`, or when `signal` aborts (shutdown); the call itself is left to finish.
 */
export async function withTimeout<T>(call: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    onAbort = () => reject(new Error('shutting down'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** The HTTP status of an error thrown by the generated API clients or the watch, if it has one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

/** The v1 Status an API error carries as its body (a JSON string or already parsed), if it has one. */
export function statusBody(error: unknown): { message?: unknown; reason?: unknown; code?: unknown; details?: { causes?: unknown } } | undefined {
  let body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined; // not a Status object
    }
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as ReturnType<typeof statusBody>) : undefined;
}

/**
 * A short, single-line description of an API error, without bodies that may be large: the Status message for an
 * HTTP error, else what the connection failed on (`fetch failed` unwrapped to `connect ECONNREFUSED 10.0.0.1:443`,
 * `getaddrinfo ENOTFOUND api.example`, `self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`).
 */
export function describeError(error: unknown): string {
  const status = statusOf(error);
  let message = status === undefined ? describeCauses(error) : error instanceof Error ? error.message : String(error);
  const body = statusBody(error);
  if (typeof body?.message === 'string') message = body.message;
  message = message.split('\n')[0]!.slice(0, 300);
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}

/**
 * The error to log as `err` (pino prints type, message, stack): the original's type and stack frames, with
 * describeError's one line as the message, so that an ApiException's multi-line message with the whole response
 * body and headers does not flood the log.
 */
export function errorForLog(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const copy = Object.create(Object.getPrototypeOf(original) as object) as Error & { status?: number; code?: unknown };
  copy.message = describeError(error);
  const frames = (original.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  copy.stack = [`${original.name}: ${copy.message}`, ...frames].join('\n');
  const status = statusOf(error);
  if (status !== undefined) copy.status = status;
  const code = (original as { code?: unknown }).code;
  if (typeof code === 'string') copy.code = code;
  return copy;
}

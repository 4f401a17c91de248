/**
 * One scenario's world: an API-server emulator, a Slack emulator and daemons started as users start them (`npm start`),
 * all on 127.0.0.1, plus the bookkeeping every scenario needs: which Jobs it failed, which it expects named, and what
 * Slack received. Waits are for conditions (a Job named, a log line), each with a deadline, never for a fixed time,
 * except where the scenario itself is about time (an outage lasts so long).
 */
import { request } from 'node:http';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../world/apiserver.ts';
import { failJob, startJob, type FailOptions, type RunningJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { startSlack, type SlackEmulator, type SlackOptions } from '../world/slack.ts';
import { tally, type Tally } from './ledger.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 50 ms until it holds (true) or `timeoutMs` passed (false). */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

export interface WorldOptions {
  api?: ApiServerOptions;
  slack?: SlackOptions;
}

export class World {
  readonly api: ApiServer;
  readonly slack: SlackEmulator;
  readonly daemons: Daemon[] = [];
  /** Every Job this scenario failed, by `ns/name`, with when. */
  readonly failed = new Map<string, number>();
  readonly #extraSlacks: SlackEmulator[] = [];
  readonly #sentinels: string[] = [];

  private constructor(api: ApiServer, slack: SlackEmulator) {
    this.api = api;
    this.slack = slack;
  }

  static async start(options: WorldOptions = {}): Promise<World> {
    const api = await startApiServer({ bookmarkIntervalMs: 1000, ...options.api });
    const slack = await startSlack(options.slack);
    return new World(api, slack);
  }

  /** Another webhook (a route), closed with the world. */
  async anotherSlack(options: SlackOptions = {}): Promise<SlackEmulator> {
    const slack = await startSlack(options);
    this.#extraSlacks.push(slack);
    return slack;
  }

  /**
   * Starts the daemon with production defaults except: a random HTTP port, info logs, and what `env` says. Not
   * waited for: call `ready()` on it.
   */
  daemon(env: Record<string, string> = {}): Daemon {
    const daemon = startDaemon({ KUBECONFIG: this.api.kubeconfigPath, SLACK_WEBHOOK_URL: this.slack.url, HTTP_PORT: '0', LOG_LEVEL: 'info', CLUSTER_NAME: 'faults', ...env });
    this.daemons.push(daemon);
    return daemon;
  }

  /** Creates running Jobs (and their pods) now, to be failed later with `fail`. */
  start(names: readonly string[], namespace = 'default'): RunningJob[] {
    return names.map((name) => startJob(this.api, { name, namespace }));
  }

  /** The Job controller gives up on each: pod failed (exit 1, a log line), FailureTarget, then Failed. */
  fail(jobs: readonly RunningJob[], options: FailOptions = {}): string[] {
    const names: string[] = [];
    for (const job of jobs) {
      failJob(this.api, job, { exitCode: 1, reason: 'Error', log: `${job.name}: connection refused\n`, ...options });
      const name = `${job.namespace}/${job.name}`;
      this.failed.set(name, Date.now());
      names.push(name);
    }
    return names;
  }

  /** Creates and fails Jobs at once. */
  failNew(names: readonly string[], namespace = 'default', options: FailOptions = {}): string[] {
    return this.fail(this.start(names, namespace), options);
  }

  /** True once Slack (this world's main webhook) has named every one of `jobs`. */
  named(jobs: Iterable<string>): boolean {
    const result = tally(this.slack.accepted, jobs);
    return result.lost.length === 0;
  }

  /** Waits until every one of `jobs` is named, or `timeoutMs`; true when all were. */
  waitNamed(jobs: Iterable<string>, timeoutMs: number): Promise<boolean> {
    const wanted = [...jobs];
    return until(() => this.named(wanted), timeoutMs);
  }

  /**
   * Fails one more Job and waits until it is named: messages go out in order, so once it is there, whatever was
   * going to be sent before it has been (the end-to-end tests' way of proving that nothing else comes, without
   * sleeping). True when it arrived in time.
   */
  async sentinel(timeoutMs = 30_000, namespace = 'default'): Promise<boolean> {
    const name = `sentinel-${this.#sentinels.length + 1}`;
    const [job] = this.failNew([name], namespace);
    this.#sentinels.push(job!);
    return this.waitNamed([job!], timeoutMs);
  }

  get sentinels(): readonly string[] {
    return this.#sentinels;
  }

  /** What Slack (the main webhook) says about `expected`, sentinels ignored. */
  tally(expected: Iterable<string>): Tally {
    return tally(this.slack.accepted, expected, this.#sentinels);
  }

  /** When the Job's `alerted-at` annotation was first written (a PATCH answered 200), from the API server's record. */
  markedAt(job: string, client?: string): number | undefined {
    const [namespace, name] = job.split('/');
    return this.api.requests.find((r) => r.verb === 'patch' && r.resource === 'jobs' && r.namespace === namespace && r.name === name && r.status === 200 && (client === undefined || r.client === client))?.time;
  }

  async close(): Promise<void> {
    await Promise.all(this.daemons.map((daemon) => daemon.stop('SIGKILL')));
    await Promise.all([this.slack.close(), ...this.#extraSlacks.map((slack) => slack.close())]);
    await this.api.close();
  }
}

/** The daemon's HTTP port, once it has logged it. */
export async function portOf(daemon: Daemon): Promise<number> {
  const line = await daemon.waitForLog((entry) => entry.msg === 'serving /healthz, /readyz and /metrics', 30_000);
  return line.port as number;
}

/** GET a path of the daemon's HTTP server: status and body (status 0 when it does not answer within 2 s). */
export async function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** The sum of a Prometheus counter's samples whose labels include `labels`, from /metrics. */
export async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { body } = await probe(port, '/metrics');
  let sum = 0;
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) sum += Number(match[4]);
  }
  return sum;
}

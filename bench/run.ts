/**
 * `npm run bench`: the whole benchmark, in one run, against the project's emulators (test/world: the API server over
 * HTTPS, Slack over HTTP), with the daemon a process of its own, started as the image starts it (the Dockerfile's
 * ENTRYPOINT: its node options and the compiled dist/cli.js, built first) or, with `--from src`, as `npm start` does
 * from a checkout (bin/kube-job-alerts.js on the TypeScript sources: ~16 MiB more, for the type stripping), and its
 * peers beside it on the same objects. Never part of `npm test`. Writes bench/results.json and prints the tables
 * that BENCHMARKS.md keeps. About 20 minutes on 2 cores.
 *
 * 1. Memory and start, at each size (1,000 / 10,000 / 30,000 / 50,000 realistic Jobs of ~5.8 KB, bench/jobs.ts): the
 *    daemon, then a plain @kubernetes/client-node informer (bench/plain-informer.ts), each alone on the same emulator:
 *    cold start to synced, RSS steady (5 s after sync), peak RSS (VmHWM: start and sync included), RSS after 5 relists
 *    (each forced the way a real server forces one: the watch dropped and its resourceVersion compacted, 410), the
 *    longest event-loop stall while listing, in the 5 s after (the daemon's workers decide on every cached Job once)
 *    and while relisting (an external probe asks /healthz every 10 ms, probe.ts).
 *    At 10,000 both then sit idle side by side for `--idle` seconds (600: ten minutes of steady state; windows under
 *    a few minutes catch or miss V8's occasional memory-reducing GC by chance): CPU, and the API requests and bytes
 *    each causes (watches and bookmarks only; the emulator sends a bookmark a minute, as real servers do).
 * 2. Storm, at 10,000: 1,000 Jobs failing within 10 s, the daemon with its defaults (GROUP_THRESHOLD 5, GROUP_WINDOW
 *    10s): time until every Job is named in Slack, posts per second, and Slack's limit (1 post a second a webhook).
 * 3. Latency, at 10,000 and 50,000: failures one at a time, 250 ms apart, each from its start to its message arriving
 *    at Slack, enrichment on (pods, events, log tail read per failure). Five routes (five webhooks) and grouping off
 *    (GROUP_THRESHOLD=0), so that neither Slack's pacing nor the storm window is counted as latency. Measured once
 *    the daemon has gone through its startup queue (how long that took is reported) and after 10 failures that warm
 *    it up (reported apart: the first alerts after a start pay for compiling the path).
 *    Then at 10,000, on the same cluster with the daemon stopped: the polling approach (bench/poller.ts: list every
 *    30 s, diff, post), 100 failures 300 ms apart: its latency and bytes.
 *
 *   npm run bench -- [--sizes 1000,10000,30000,50000] [--daemon <checkout>] [--from image|src] [--out bench/results.json] [--idle 600]
 *   npm run bench -- --tables bench/history/<run>.json     (only print the tables of an earlier run)
 *
 * `--daemon` runs another checkout's daemon on the same harness: how BENCHMARKS.md's "before" columns were measured
 * (with `--from src`: that checkout's bin/kube-job-alerts.js).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../test/world/apiserver.ts';
import { failJob, startJob, type RunningJob } from '../test/world/cluster.ts';
import { startSlack, type SlackEmulator } from '../test/world/slack.ts';
import { benchJobs } from './jobs.ts';
import { Probe, Proc, quantile, sleep, type Line } from './proc.ts';

const BENCH = import.meta.dirname;
const REPO = join(BENCH, '..');

const { values: options } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,30000,50000' },
    daemon: { type: 'string', default: REPO },
    out: { type: 'string', default: join(BENCH, 'results.json') },
    idle: { type: 'string', default: '600' },
    tables: { type: 'string' },
    from: { type: 'string', default: 'image' },
    'idle-size': { type: 'string', default: '10000' },
    relists: { type: 'string', default: '5' },
    storm: { type: 'string', default: '1000' },
    'storm-size': { type: 'string', default: '10000' },
    failures: { type: 'string', default: '200' },
    'latency-sizes': { type: 'string', default: '10000,50000' },
    'poll-size': { type: 'string', default: '10000' },
  },
});
if (options.tables !== undefined) {
  // Only the tables of an earlier run's results (how BENCHMARKS.md's "before" tables are printed).
  process.stdout.write(`${renderTables(JSON.parse(readFileSync(options.tables, 'utf8')) as Record<string, unknown>)}\n`);
  process.exit(0);
}
const SIZES = options.sizes.split(',').filter(Boolean).map(Number);
const IDLE_MS = Number(options.idle) * 1000;
const IDLE_SIZE = Number(options['idle-size']);
const RELISTS = Number(options.relists);
const STORM = Number(options.storm);
const STORM_SIZE = Number(options['storm-size']);
const FAILURES = Number(options.failures);
const LATENCY_SIZES = options['latency-sizes'].split(',').filter(Boolean).map(Number);
const POLL_SIZE = Number(options['poll-size']);
/** Failures before the measured ones, right after the start. */
const WARMUP = 10;
/** Failures for the poller: 300 ms apart, over two polls. */
const POLLED = 100;
/** After a sync, and after the relists, before RSS is read (it is flat by then). */
const SETTLE_MS = 5000;
const ROUTES = 5;

const mib = (value: number): number => Math.round(value);
const log = (message: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

// --- the processes ----------------------------------------------------------------------------------------------

/**
 * How the daemon is started: as the image's ENTRYPOINT runs it (`--from image`, the default: its node options and the
 * compiled dist/cli.js, built here first), or as `npm start` runs it from a checkout (`--from src`:
 * bin/kube-job-alerts.js on the TypeScript sources, with the image's node options too). The manifest's requests and
 * limits are set from the image's figures.
 */
function daemonArgs(): string[] {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(options.daemon, 'Dockerfile'), 'utf8'))?.[1];
  const words = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const nodeOptions = words.slice(1, -1).filter((word) => word.startsWith('--'));
  if (options.from === 'src') return [...nodeOptions, 'bin/kube-job-alerts.js'];
  execFileSync('npm', ['run', 'build'], { cwd: options.daemon, stdio: ['ignore', 'ignore', 'inherit'] });
  return [...nodeOptions, words.at(-1) ?? 'dist/cli.js'];
}
const DAEMON_ARGS = daemonArgs();

function startDaemon(api: ApiServer, env: Record<string, string>): Proc {
  return new Proc('daemon', [...DAEMON_ARGS.slice(0, -1), join(options.daemon, DAEMON_ARGS.at(-1)!)], {
    KUBECONFIG: api.writeKubeconfig({ client: 'daemon' }),
    WATCH_NAMESPACES: '*',
    HTTP_PORT: '0',
    CLUSTER_NAME: 'bench',
    LOG_LEVEL: 'info',
    ...env,
  });
}

const startPlain = (api: ApiServer): Proc => new Proc('plain', [join(BENCH, 'plain-informer.ts')], { KUBECONFIG: api.writeKubeconfig({ client: 'plain' }) });

const isSynced = (kind: string) => (line: Line): boolean => (kind === 'daemon' ? line['msg'] === 'caches synced: alerting' : line['event'] === 'synced');
const portOf = async (kind: string, proc: Proc): Promise<number> =>
  Number((await proc.waitFor((line) => (kind === 'daemon' ? line['msg'] === 'serving /healthz, /readyz and /metrics' : line['event'] === 'listening'), 60_000, 'port')).port);

// --- 1. memory and start ------------------------------------------------------------------------------------------

interface ClientFigures {
  coldStartMs: number;
  rssSteadyMiB: number;
  rssPeakSyncMiB: number;
  rssAfterRelistsMiB: number;
  rssPeakMiB: number;
  maxStallSyncMs: number;
  /** The 5 s after sync: the daemon's workers decide on every cached Job once. */
  maxStallAfterSyncMs?: number;
  maxStallRelistsMs: number;
  relistMs: number[];
}

/** Starts one client, lets it sync, settle and relist; leaves it running. */
async function measureClient(kind: 'daemon' | 'plain', api: ApiServer, start: () => Proc): Promise<{ proc: Proc; figures: ClientFigures }> {
  const startedAt = performance.now();
  const proc = start();
  const probe = new Probe(`http://127.0.0.1:${await portOf(kind, proc)}/healthz`);
  const synced = await proc.waitFor(isSynced(kind), 900_000, 'sync');
  const coldStartMs = Number(synced['at']) - startedAt;
  const syncStall = await probe.report();
  await sleep(SETTLE_MS);
  const afterSyncStall = await probe.report();
  const rssSteadyMiB = proc.rss();
  const rssPeakSyncMiB = proc.peakRss();
  const relistMs: number[] = [];
  for (let i = 0; i < RELISTS; i++) {
    const begun = performance.now();
    await forceRelist(api, kind, proc, i);
    relistMs.push(Math.round(performance.now() - begun));
    await sleep(500);
  }
  const relistStall = await probe.report();
  probe.stop();
  await sleep(SETTLE_MS);
  const figures = {
    coldStartMs: Math.round(coldStartMs),
    rssSteadyMiB: mib(rssSteadyMiB),
    rssPeakSyncMiB: mib(rssPeakSyncMiB),
    rssAfterRelistsMiB: mib(proc.rss()),
    rssPeakMiB: mib(proc.peakRss()),
    maxStallSyncMs: syncStall.maxGapMs,
    maxStallAfterSyncMs: afterSyncStall.maxGapMs,
    maxStallRelistsMs: relistStall.maxGapMs,
    relistMs,
  };
  log(`${kind}: ${JSON.stringify(figures)}`);
  return { proc, figures };
}

/** What a real server does to a watch that fell behind: the stream ends and its resourceVersion is compacted (410). */
async function forceRelist(api: ApiServer, kind: 'daemon' | 'plain', proc: Proc, i: number): Promise<void> {
  api.create('events', { metadata: { name: `bench-relist-${kind}-${i}`, namespace: 'default' }, type: 'Normal', reason: 'Bench', message: 'moves the revision on', involvedObject: {} });
  const revision = Number(api.resourceVersion());
  const relisted =
    kind === 'daemon'
      ? api.nextRequest((r) => r.client === 'daemon' && r.verb === 'watch' && r.resource === 'jobs' && Number(r.query.resourceVersion) >= revision)
      : proc.next((line) => line['event'] === 'relisted', 900_000, 'relist');
  api.faults.compact();
  api.faults.dropWatches((r) => r.client === kind && r.resource === 'jobs');
  await relisted;
}

interface Load {
  requests: number;
  bytes: number;
}

function loadOf(api: ApiServer, client: string, since: number): Load {
  const mine = api.requests.filter((r) => r.client === client);
  return { requests: mine.filter((r) => r.time >= since).length, bytes: mine.reduce((sum, r) => sum + r.bytes, 0) };
}

/** Both sit idle side by side: CPU, requests and bytes. */
async function idleWindow(api: ApiServer, procs: Record<string, Proc>): Promise<Record<string, { cpuPercent: number; cpuMs: number; requests: number; bytes: number; windowS: number }>> {
  await sleep(2000);
  const since = Date.now();
  const begun = performance.now();
  const before = Object.fromEntries(Object.entries(procs).map(([name, proc]) => [name, { cpu: proc.cpuMs(), load: loadOf(api, name, since) }]));
  await sleep(IDLE_MS);
  const elapsed = performance.now() - begun;
  return Object.fromEntries(
    Object.entries(procs).map(([name, proc]) => {
      const load = loadOf(api, name, since);
      return [name, { cpuPercent: Number((((proc.cpuMs() - before[name]!.cpu) / elapsed) * 100).toFixed(3)), cpuMs: Math.round(proc.cpuMs() - before[name]!.cpu), requests: load.requests, bytes: load.bytes - before[name]!.load.bytes, windowS: Math.round(elapsed / 1000) }];
    }),
  );
}

/** The emulator's own time to serve every Job: all pages of 500, and the whole list in one response (bytes read, not parsed). */
async function servingTimes(api: ApiServer): Promise<{ pagedMs: number; wholeMs: number; bytes: number }> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(api.writeKubeconfig({ client: 'serving' }));
  const http = new IsomorphicFetchHttpLibrary();
  const get = async (query: string): Promise<string> => {
    const request = new RequestContext(`${api.url}/apis/batch/v1/jobs?${query}`, HttpMethod.GET);
    await kubeconfig.applySecurityAuthentication(request);
    return (await http.send(request).toPromise()).body.text();
  };
  let begun = performance.now();
  let next: string | undefined = '';
  let bytes = 0;
  while (next !== undefined) {
    const body = await get(`limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`);
    bytes += body.length;
    next = /"continue":"([^"]+)"/.exec(body.slice(0, 500))?.[1];
  }
  const pagedMs = performance.now() - begun;
  begun = performance.now();
  await get('');
  return { pagedMs: Math.round(pagedMs), wholeMs: Math.round(performance.now() - begun), bytes };
}

// --- 2. storm ---------------------------------------------------------------------------------------------------

const pad = (i: number): string => String(i).padStart(4, '0');
const named = (name: string): RegExp => new RegExp(`${name}(?![0-9])`);

async function storm(api: ApiServer, slack: SlackEmulator): Promise<Record<string, number>> {
  const jobs: RunningJob[] = [];
  for (let i = 0; i < STORM; i++) jobs.push(startJob(api, { name: `storm-${pad(i)}`, namespace: 'storm' }));
  await sleep(3000);
  const first = slack.accepted.length;
  const begun = Date.now();
  for (let i = 0; i < STORM; i++) {
    failJob(api, jobs[i]!, { log: `storm ${i}: connection refused\n` });
    if (i % 10 === 9) await sleep(100);
  }
  const failedAfterMs = Date.now() - begun;
  const unnamed = new Set(jobs.map((job) => job.name));
  let seen = first;
  const deadline = Date.now() + 300_000;
  let allNamedAt = NaN;
  while (Date.now() < deadline) {
    for (; seen < slack.accepted.length; seen++) for (const name of [...unnamed]) if (named(name).test(slack.accepted[seen]!.rawBody)) unnamed.delete(name);
    if (unnamed.size === 0) {
      allNamedAt = slack.accepted[seen - 1]!.at;
      break;
    }
    await sleep(200);
  }
  const posts = slack.accepted.slice(first);
  const gaps = posts.slice(1).map((post, i) => post.at - posts[i]!.at);
  const perSecond = new Map<number, number>();
  for (const post of posts) perSecond.set(Math.floor((post.at - begun) / 1000), (perSecond.get(Math.floor((post.at - begun) / 1000)) ?? 0) + 1);
  const figures = {
    jobs: STORM,
    failedOverMs: failedAfterMs,
    allNamedAfterMs: allNamedAt - begun,
    unnamed: unnamed.size,
    posts: posts.length,
    firstPostAfterMs: posts.length > 0 ? posts[0]!.at - begun : NaN,
    postsPerSecond: posts.length > 1 ? Number(((posts.length - 1) / ((posts.at(-1)!.at - posts[0]!.at) / 1000)).toFixed(2)) : NaN,
    maxPostsInOneSecond: Math.max(0, ...perSecond.values()),
    minGapMs: gaps.length > 0 ? Math.min(...gaps) : NaN,
    gapsUnder1s: gaps.filter((gap) => gap < 1000).length,
    rateLimited: slack.received.filter((post) => post.status === 429).length,
    slackViolations: slack.violations.length,
  };
  log(`storm: ${JSON.stringify(figures)}`);
  return figures;
}

// --- 3. latency, and the poller -----------------------------------------------------------------------------------

function summary(samples: readonly number[]): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN };
}

/** Fails `jobs` one at a time, `spacingMs` apart: when each was written (Date.now()). */
async function failOneByOne(api: ApiServer, jobs: readonly RunningJob[], spacingMs: number): Promise<number[]> {
  const written: number[] = [];
  for (const [i, job] of jobs.entries()) {
    written.push(Date.now());
    failJob(api, job, { log: `attempt ${i}: exit 1\n` });
    await sleep(spacingMs);
  }
  return written;
}

/** Each Job's failure-to-Slack time: the first post naming it, on its Slack, minus when its failure was written. */
async function deliveryTimes(jobs: readonly RunningJob[], written: readonly number[], slackOf: (i: number) => SlackEmulator, waitMs: number): Promise<number[]> {
  const postOf = (i: number) => slackOf(i).accepted.find((post) => named(jobs[i]!.name).test(post.rawBody));
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && jobs.some((_, i) => !postOf(i))) await sleep(200);
  return jobs.map((_, i) => (postOf(i)?.at ?? NaN) - written[i]!).filter(Number.isFinite);
}

async function latency(size: number, withPoller: boolean): Promise<Record<string, unknown>> {
  const api = await startApiServer({ bookmarkIntervalMs: 60_000 });
  const slacks = await Promise.all(Array.from({ length: ROUTES }, () => startSlack()));
  const pollerSlack = await startSlack();
  const procs: Proc[] = [];
  try {
    api.load('jobs', benchJobs(0, size));
    const daemon = startDaemon(api, {
      SLACK_WEBHOOK_URL: slacks[0]!.url,
      ...Object.fromEntries(slacks.map((slack, i) => [`SLACK_ROUTE_R${i}`, slack.url])),
      NAMESPACE_ROUTES: slacks.map((_, i) => `lat-${i}=r${i}`).join(','),
      GROUP_THRESHOLD: '0',
    });
    procs.push(daemon);
    const port = await portOf('daemon', daemon);
    const synced = await daemon.waitFor(isSynced('daemon'), 900_000, 'sync');
    // After a sync the workers go through every cached Job once (each is decided on); failures queue behind them.
    // Latency is measured once that is done, as a running daemon has it: how long it takes is reported apart.
    const drainedAfterMs = (await queueDrained(port)) - Number(synced['at']);
    const slackOf = (i: number) => slacks[i % ROUTES]!;
    // The first failures after a start pay for compiling the alerting path: measured, reported apart.
    const warmup = Array.from({ length: WARMUP }, (_, i) => startJob(api, { name: `warm-${pad(i)}`, namespace: `lat-${i % ROUTES}` }));
    const jobs = Array.from({ length: FAILURES }, (_, i) => startJob(api, { name: `lat-${pad(i)}`, namespace: `lat-${i % ROUTES}` }));
    await sleep(3000);
    const warm = await deliveryTimes(warmup, await failOneByOne(api, warmup, 250), slackOf, 30_000);
    const since = Date.now();
    const daemonBytes = loadOf(api, 'daemon', since).bytes;
    const cpuBefore = daemon.cpuMs();
    const samples = await deliveryTimes(jobs, await failOneByOne(api, jobs, 250), slackOf, 60_000);
    const daemonLoad = loadOf(api, 'daemon', since);
    const result: Record<string, unknown> = {
      jobs: size,
      queueDrainedAfterSyncMs: Math.round(drainedAfterMs),
      firstAfterStart: summary(warm),
      daemon: { ...summary(samples), missing: FAILURES - samples.length, cpuMsPerFailure: Math.round((daemon.cpuMs() - cpuBefore) / FAILURES), requests: daemonLoad.requests, bytes: daemonLoad.bytes - daemonBytes },
    };
    await daemon.stop();
    if (withPoller) {
      // The polling approach on the same cluster, alone (its 30 s lists would disturb the daemon's figures).
      const poller = new Proc('poller', [join(BENCH, 'poller.ts')], { KUBECONFIG: api.writeKubeconfig({ client: 'poller' }), SLACK_WEBHOOK_URL: pollerSlack.url });
      procs.push(poller);
      await poller.waitFor((line) => line['event'] === 'poll', 120_000, 'first poll');
      const polled = Array.from({ length: POLLED }, (_, i) => startJob(api, { name: `poll-${pad(i)}`, namespace: 'polled' }));
      await sleep(1000);
      const pollSamples = await deliveryTimes(polled, await failOneByOne(api, polled, 300), () => pollerSlack, 45_000);
      const polls = api.requests.filter((r) => r.client === 'poller' && r.verb === 'list');
      const bytesPerPoll = Math.round(polls.reduce((sum, r) => sum + r.bytes, 0) / polls.length);
      result['poller'] = { ...summary(pollSamples), missing: POLLED - pollSamples.length, polls: polls.length, bytesPerPoll, bytesPer10Min: bytesPerPoll * 20, pollMs: poller.lines.filter((line) => line['event'] === 'poll').map((line) => Number(line['ms'])) };
    }
    log(`latency at ${size}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const proc of procs) await proc.stop();
    await Promise.all([...slacks, pollerSlack].map((slack) => slack.close()));
    await api.close();
  }
}

/** When the daemon's work queue (kube_job_alerts_queue_depth, /metrics) is first empty: performance.now(). */
async function queueDrained(port: number): Promise<number> {
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (/^kube_job_alerts_queue_depth 0$/m.test(text)) return performance.now();
    await sleep(100);
  }
}

// --- the run ------------------------------------------------------------------------------------------------------

async function sizePhase(size: number): Promise<Record<string, unknown>> {
  const api = await startApiServer({ bookmarkIntervalMs: 60_000 });
  const slack = await startSlack();
  const procs: Proc[] = [];
  try {
    api.load('jobs', benchJobs(0, size));
    const serving = await servingTimes(api);
    log(`${size} Jobs: ${(serving.bytes / 1e6).toFixed(1)} MB, served in pages in ${serving.pagedMs} ms, whole in ${serving.wholeMs} ms`);
    const daemon = await measureClient('daemon', api, () => startDaemon(api, { SLACK_WEBHOOK_URL: slack.url }));
    procs.push(daemon.proc);
    const plain = await measureClient('plain', api, () => startPlain(api));
    procs.push(plain.proc);
    const idle = size === IDLE_SIZE ? await idleWindow(api, { daemon: daemon.proc, plain: plain.proc }) : undefined;
    if (idle) log(`idle: ${JSON.stringify(idle)}`);
    await plain.proc.stop();
    const stormFigures = size === STORM_SIZE ? await storm(api, slack) : undefined;
    return { jobs: size, serving, daemon: daemon.figures, plain: plain.figures, ...(idle ? { idle } : {}), ...(stormFigures ? { storm: stormFigures } : {}) };
  } finally {
    for (const proc of procs) await proc.stop();
    await slack.close();
    await api.close();
  }
}

function machine(): Record<string, unknown> {
  const commit = (dir: string): string => {
    try {
      return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    daemon: `${options.daemon === REPO ? 'this checkout' : options.daemon} (${commit(options.daemon)}): node ${DAEMON_ARGS.join(' ')}`,
    loadAverageAtStart: os.loadavg().map((value) => value.toFixed(2)).join(' '),
  };
}

const results: Record<string, unknown> = { when: new Date().toISOString(), machine: machine(), sizes: [] as unknown[], latency: [] as unknown[] };
const begun = Date.now();
for (const size of SIZES) (results['sizes'] as unknown[]).push(await sizePhase(size));
for (const size of LATENCY_SIZES) (results['latency'] as unknown[]).push(await latency(size, size === POLL_SIZE));
results['durationS'] = Math.round((Date.now() - begun) / 1000);
writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${renderTables(results)}\n`);
log(`done in ${results['durationS']} s; results in ${options.out}`);
process.exit(0);

// --- the tables ---------------------------------------------------------------------------------------------------

function renderTables(all: Record<string, unknown>): string {
  type Idle = Record<string, { cpuPercent: number; cpuMs: number; requests: number; bytes: number; windowS: number }>;
  type Size = { jobs: number; serving: { pagedMs: number; wholeMs: number; bytes: number }; daemon: ClientFigures; plain: ClientFigures; idle?: Idle; storm?: Record<string, number> };
  const sizes = all['sizes'] as Size[];
  const n = (value: number): string => value.toLocaleString('en-US');
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  const lines = [
    '| Jobs cached | daemon RSS steady / sync peak / after 5 relists (MiB) | plain informer (MiB) | steady ratio | cold start: daemon / plain / emulator serving (s) | longest stall listing, 5 s after, relisting: daemon / plain (ms) |',
    '|---|---|---|---|---|---|',
    ...sizes.map(({ jobs, serving, daemon, plain }) =>
      `| ${n(jobs)} | ${daemon.rssSteadyMiB} / ${daemon.rssPeakSyncMiB} / ${daemon.rssAfterRelistsMiB} | ${plain.rssSteadyMiB} / ${plain.rssPeakSyncMiB} / ${plain.rssAfterRelistsMiB} | ${ratio(daemon.rssSteadyMiB, plain.rssSteadyMiB)} | ` +
      `${s(daemon.coldStartMs)} / ${s(plain.coldStartMs)} / ${s(serving.pagedMs)} (whole: ${s(serving.wholeMs)}) | ${daemon.maxStallSyncMs}, ${daemon.maxStallAfterSyncMs ?? '–'}, ${daemon.maxStallRelistsMs} / ${plain.maxStallSyncMs}, ${plain.maxStallAfterSyncMs ?? '–'}, ${plain.maxStallRelistsMs} |`),
    '',
    '| Idle side by side | CPU (%) | CPU (ms) | API requests | API bytes | per 10 minutes (extrapolated) |',
    '|---|---|---|---|---|---|',
    ...sizes.flatMap(({ jobs, idle }) => (idle ? ['daemon', 'plain'] : []).map((who) => {
      const figures = idle![who]!;
      return `| ${who}, ${n(jobs)} Jobs, ${figures.windowS} s | ${figures.cpuPercent} | ${figures.cpuMs} | ${figures.requests} | ${n(figures.bytes)} | ${n(Math.round((figures.bytes * 600) / figures.windowS))} bytes |`;
    })),
  ];
  for (const { storm: figures } of sizes) {
    if (!figures) continue;
    lines.push('', '| Storm | failing over | every Job named after | posts | posts/s (max in 1 s) | shortest gap between posts (arrivals under 1 s) | 429s | Block Kit violations |', '|---|---|---|---|---|---|---|---|');
    lines.push(`| ${n(figures['jobs']!)} Jobs | ${s(figures['failedOverMs']!)} s | ${s(figures['allNamedAfterMs']!)} s${figures['unnamed'] ? ` (${figures['unnamed']} never)` : ''} | ${figures['posts']} | ${figures['postsPerSecond']} (${figures['maxPostsInOneSecond']}) | ${figures['minGapMs']} ms (${figures['gapsUnder1s']}) | ${figures['rateLimited']} | ${figures['slackViolations']} |`);
  }
  const latencies = all['latency'] as { jobs: number; queueDrainedAfterSyncMs: number; firstAfterStart: Record<string, number>; daemon: Record<string, number>; poller?: Record<string, number> }[];
  if (latencies.length > 0) {
    lines.push('', '| Failure to Slack | failures | p50 | p95 | p99 | max (ms) | API bytes |', '|---|---|---|---|---|---|---|');
    for (const { jobs, queueDrainedAfterSyncMs, firstAfterStart, daemon, poller } of latencies) {
      lines.push(`| daemon, ${n(jobs)} Jobs | ${daemon['n']}${daemon['missing'] ? ` (${daemon['missing']} missing)` : ''} | ${daemon['p50']} | ${daemon['p95']} | ${daemon['p99']} | ${daemon['max']} | ${n(daemon['bytes']!)} (${daemon['requests']} requests) |`);
      lines.push(`| daemon, ${n(jobs)} Jobs, the first ${firstAfterStart['n']} after its start (startup queue done ${s(queueDrainedAfterSyncMs)} s after sync) | ${firstAfterStart['n']} | ${firstAfterStart['p50']} | ${firstAfterStart['p95']} | ${firstAfterStart['p99']} | ${firstAfterStart['max']} | |`);
      if (poller) lines.push(`| polling every 30 s, ${n(jobs)} Jobs | ${poller['n']}${poller['missing'] ? ` (${poller['missing']} missing)` : ''} | ${poller['p50']} | ${poller['p95']} | ${poller['p99']} | ${poller['max']} | ${n(poller['bytesPerPoll']!)} per poll, ${n(poller['bytesPer10Min']!)} per 10 min |`);
    }
  }
  return lines.join('\n');
}

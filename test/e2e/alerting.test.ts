/**
 * The daemon as a process (`npm start`) against the API-server and Slack emulators: what reaches Slack is what a
 * user would see. Each scenario asserts exact message counts, using a later "sentinel" failure (alerts go out in
 * order) instead of sleeping to prove that nothing else was sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, isoNow, startJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { startSlack, type ReceivedPost, type SlackEmulator } from '../world/slack.ts';
import { failedJob } from '../fixtures/index.ts';
import { renderDeploy, roleRules } from '../world/deploy.ts';

const SECRET = 's3cr3tW3bh00kT0k3nXYZ';

let api: ApiServer;
let slack: SlackEmulator;
const daemons: Daemon[] = [];

function daemon(env: Record<string, string> = {}): Daemon {
  const started = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0', CLUSTER_NAME: 'e2e', ...env });
  daemons.push(started);
  return started;
}

/** Everything Slack shows of a message: the fallback text and every block's text, as one string. */
function shown(post: ReceivedPost): string {
  return JSON.stringify(post.body);
}

function namesIn(posts: readonly ReceivedPost[]): string[] {
  return posts.map((post) => /Job failed: [\w-]+\/([\w-]+)/.exec(post.body.blocks?.[0]?.text?.text ?? '')?.[1] ?? '?');
}

before(async () => {
  // The API server enforces the Role that deploy/ installs, bound in the namespace these tests use: a request the
  // Role does not allow gets 403 and fails the run (see after()), so RBAC and code cannot drift apart.
  const rules = roleRules(await renderDeploy('deploy')).map((rule) => ({ ...rule, namespaces: ['default'] }));
  api = await startApiServer({ bookmarkIntervalMs: 500, rbac: rules });
  slack = await startSlack();
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
  for (const d of daemons) assert.doesNotMatch(d.output, new RegExp(SECRET), 'the webhook URL appeared in a log line');
  await slack.close();
  await api.close();
  assert.deepEqual(
    api.denied.map((request) => `${request.verb} ${request.resource} in ${request.namespace}`),
    [],
    'the daemon made a request that deploy/role.yaml does not allow',
  );
});

describe('kube-job-alerts, end to end', () => {
  let first: Daemon;
  const latencies: number[] = [];

  it('sends exactly one message for a live failure, with reason, CronJob, exit code and log line', async (t) => {
    api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'default' }, spec: { schedule: '0 2 * * *', jobTemplate: { spec: {} } } });
    const job = startJob(api, { cronJob: { name: 'nightly', scheduledAt: isoNow(-60_000) } });
    first = daemon();
    await first.ready();
    const written = Date.now();
    failJob(api, job, { exitCode: 137, reason: 'OOMKilled', log: 'loading rows\nbuilding index <!channel> <@U123> ```\nKilled\n' });
    const [post] = await slack.waitFor(1);
    latencies.push(post!.at - written);
    await first.waitForLog((line) => line.msg === 'alert delivered');
    const text = shown(post!);
    assert.match(post!.body.text, /default\/nightly-\d+/);
    assert.match(post!.body.text, /BackoffLimitExceeded/);
    assert.match(post!.body.text, /nightly/);
    assert.match(text, /CronJob\*\\n nightly|nightly/);
    assert.match(text, /137/);
    assert.match(text, /OOMKilled/);
    assert.match(text, /SIGKILL/);
    assert.match(text, /building index/);
    assert.doesNotMatch(text, /<!channel>|<@U123>/, 'a log line pinged the channel');
    assert.match(text, /&lt;!channel&gt;/);
    assert.deepEqual(slack.violations, []);
    const marked = api.get('jobs', job.namespace, job.name);
    assert.ok(marked?.metadata.annotations?.['kube-job-alerts.io/alerted-at'], 'alerted-at annotation written');
    t.diagnostic(`failure written -> message received: ${latencies[0]} ms`);
  });

  it('sends nothing more for later updates of the same Job, and skips opted-out and malformed Jobs', async () => {
    const [alerted] = api.list('jobs').filter((job) => job.metadata.name.startsWith('nightly-'));
    for (let i = 0; i < 3; i++) api.modify('jobs', 'default', alerted!.metadata.name, (job) => (job.metadata.labels = { ...job.metadata.labels, touched: String(i) }));
    // Opted out on the Job, and through its CronJob.
    failJob(api, startJob(api, { name: 'quiet', annotations: { 'kube-job-alerts.io/enabled': 'false' } }));
    api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'muted', namespace: 'default', annotations: { 'kube-job-alerts.io/enabled': 'false' } }, spec: { schedule: '* * * * *', jobTemplate: { spec: {} } } });
    failJob(api, startJob(api, { cronJob: { name: 'muted', scheduledAt: isoNow(-120_000) } }));
    // Malformed Jobs: they must neither alert nor stop the next alert.
    for (const [name, status] of [['odd-null', { conditions: null }], ['odd-garbage', { conditions: 'garbage' }], ['odd-noreason', { conditions: [{ type: 'Failed', status: 'True' }] }], ['odd-nostatus', undefined]] as const) {
      api.create('jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' }, spec: {}, ...(status === undefined ? {} : { status }) });
    }
    const sentinel = startJob(api, { name: 'sentinel' });
    failJob(api, sentinel, { log: 'sentinel failed\n' });
    const posts = await slack.waitFor(3);
    // odd-noreason is a real failure that names no reason: it is alerted, as Unknown.
    const names = namesIn(posts);
    assert.match(names[0]!, /^nightly-\d+$/);
    assert.deepEqual(names.slice(1).sort(), ['odd-noreason', 'sentinel']);
    assert.equal(slack.accepted.length, 3);
    const unknown = posts.find((post) => namesIn([post])[0] === 'odd-noreason');
    assert.match(unknown!.body.text, /Unknown/);
  });

  it('exits 0 within 10 s on SIGTERM sent to the npm process', async () => {
    const exit = await first.stop('SIGTERM');
    assert.equal(exit.code, 0);
    assert.ok(exit.ms < 10_000, `took ${exit.ms} ms`);
    assert.ok(first.logs.some((line) => line.msg === 'stopped'), 'the daemon itself logged its stop: npm handed the signal on');
  });

  it('after a restart, sends failures that happened while it was down, once, and nothing old or already sent', async () => {
    const before = slack.accepted.length;
    failJob(api, startJob(api, { name: 'while-down' }), { log: 'failed while the daemon was down\n' });
    const old = failedJob({ name: 'long-ago', failedAt: isoNow(-2 * 3_600_000), startedAt: isoNow(-2 * 3_600_000 - 60_000) });
    const { uid: _u, resourceVersion: _r, ...metadata } = old.metadata;
    api.create('jobs', { ...old, metadata });
    const second = daemon();
    await second.ready();
    const posts = await slack.waitFor(before + 1);
    assert.deepEqual(namesIn(posts.slice(before)), ['while-down']);
    // Sentinel: a live failure after the replay; if anything else were sent, it would have come first.
    failJob(api, startJob(api, { name: 'sentinel-2' }));
    const after = await slack.waitFor(before + 2);
    assert.deepEqual(namesIn(after.slice(before)), ['while-down', 'sentinel-2']);
    const tooOld = second.logs.find((line) => line.why === 'too_old' && line.job === 'default/long-ago');
    assert.equal(tooOld?.level, 'info', 'a failure not alerted leaves one line at info with the reason');
    assert.match(String(tooOld?.msg), /not alerted: it failed 120 min before it was first seen/);
    assert.equal((await second.stop()).code, 0);
  });

  it('delivers once through 429 and 5xx answers', async () => {
    const d = daemon();
    await d.ready();
    const before = slack.received.length;
    slack.script({ status: 429, retryAfter: 1 }, 500, 503, 'ok');
    failJob(api, startJob(api, { name: 'rate-limited' }));
    const accepted = slack.accepted.length;
    await slack.waitFor(accepted + 1, 30_000);
    const tries = slack.received.slice(before);
    assert.deepEqual(tries.map((post) => post.status), [429, 500, 503, 200]);
    assert.ok(tries[1]!.at - tries[0]!.at >= 1000, 'Retry-After was honoured');
    assert.equal(new Set(tries.map((post) => post.rawBody)).size, 1, 'the same message each time');
    assert.equal((await d.stop()).code, 0);
  });

  it('catches a failure that happens during an API-server outage, once', async () => {
    const d = daemon();
    await d.ready();
    const accepted = slack.accepted.length;
    const job = startJob(api, { name: 'during-outage' });
    // The API server goes away: watches end and every list or watch fails for a while; history is compacted.
    api.faults.failNext(4, { status: 503, match: (request) => request.resource === 'jobs' && (request.verb === 'watch' || request.verb === 'list') });
    api.faults.dropWatches();
    failJob(api, job, { log: 'failed during the outage\n' });
    api.faults.compact();
    const posts = await slack.waitFor(accepted + 1, 60_000);
    assert.deepEqual(namesIn(posts.slice(accepted)), ['during-outage']);
    failJob(api, startJob(api, { name: 'after-outage' }));
    const later = await slack.waitFor(accepted + 2, 30_000);
    assert.deepEqual(namesIn(later.slice(accepted)), ['during-outage', 'after-outage']);
    assert.ok(d.logs.some((line) => line.msg === 'informer stopped on an error: restarting it'));
    assert.equal((await d.stop()).code, 0);
  });

  it('logs a permanent Slack refusal loudly and does not retry it', async () => {
    const d = daemon();
    await d.ready();
    const before = slack.received.length;
    slack.script(404);
    failJob(api, startJob(api, { name: 'refused' }));
    const line = await d.waitForLog((l) => l.level === 'error' && JSON.stringify(l).includes('no_service'));
    assert.ok(line);
    failJob(api, startJob(api, { name: 'sentinel-3' }));
    await slack.waitFor(slack.accepted.length + 1);
    assert.deepEqual(slack.received.slice(before).map((post) => post.status), [404, 200]);
    assert.equal((await d.stop()).code, 0);
  });

  it('reports the time from failure to message', (t) => {
    t.diagnostic(`latency samples (ms): ${latencies.join(', ')}`);
    assert.ok(latencies.length > 0);
  });
});

describe('configuration, end to end', () => {
  it('exits non-zero within seconds naming SLACK_WEBHOOK_URL when it is missing', async () => {
    const started = Date.now();
    const d = startDaemon({ KUBECONFIG: api.kubeconfigPath });
    daemons.push(d);
    const exit = await d.exited;
    assert.notEqual(exit.code, 0);
    assert.ok(Date.now() - started < 10_000);
    assert.match(d.output, /SLACK_WEBHOOK_URL: is required/);
  });

  it('exits non-zero, saying so, when no cluster is configured', async () => {
    const d = startDaemon({ DRY_RUN: 'true', HTTP_PORT: '0' });
    daemons.push(d);
    const exit = await d.exited;
    assert.equal(exit.code, 1);
    assert.match(d.output, /cannot start: no Kubernetes cluster configured/);
  });

  it('logs the effective configuration once, with the webhook as a fingerprint only', async () => {
    const starting = await daemons[0]!.waitForLog((line) => line.msg === 'starting');
    assert.match(String(starting.webhook), /^127\.0\.0\.1:\d+…nXYZ$/);
    assert.equal((starting.config as Record<string, unknown>).alertMaxAgeMs, 3_600_000);
  });

  it('in dry run, logs the payload as JSON and posts nothing', async () => {
    const received = slack.received.length;
    const d = startDaemon({ KUBECONFIG: api.kubeconfigPath, DRY_RUN: 'true', HTTP_PORT: '0', STATE_STORE: 'memory' });
    daemons.push(d);
    await d.ready();
    failJob(api, startJob(api, { name: 'dry' }));
    const line = await d.waitForLog((l) => l.msg === 'dry run: alert not posted to Slack' && String(l.payload).includes('default/dry'));
    assert.equal(JSON.parse(String(line.payload)).blocks[0].type, 'header');
    assert.equal(slack.received.length, received);
    assert.equal((await d.stop()).code, 0);
  });
});

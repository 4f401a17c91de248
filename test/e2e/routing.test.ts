/**
 * Routing, mentions, links and what is watched, end to end: the daemon as a process, cluster-wide, with three Slack
 * emulators (the default webhook, the route `team-a`, and `platform` which gets a copy of everything).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, startJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { startSlack, type ReceivedPost, type SlackEmulator } from '../world/slack.ts';

let api: ApiServer;
let fallback: SlackEmulator;
let teamA: SlackEmulator;
let platform: SlackEmulator;
let daemon: Daemon;

before(async () => {
  api = await startApiServer({ bookmarkIntervalMs: 500 });
  [fallback, teamA, platform] = await Promise.all([
    startSlack({ path: '/services/T0/B0/defaultS3cr3t' }),
    startSlack({ path: '/services/T0/B1/teamAS3cr3t' }),
    startSlack({ path: '/services/T0/B2/platformS3cr3t' }),
  ]);
  for (const name of ['payments', 'ml-train', 'team-c', 'kube-system']) api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(name === 'payments' ? { annotations: { 'kube-job-alerts.io/route': 'team-a' } } : {}) } });
  daemon = startDaemon({
    KUBECONFIG: api.kubeconfigPath,
    SLACK_WEBHOOK_URL: fallback.url,
    SLACK_ROUTE_TEAM_A: teamA.url,
    SLACK_ROUTE_PLATFORM: platform.url,
    ALSO_SEND_TO: 'platform',
    NAMESPACE_ROUTES: 'ml-*=team-a',
    NAMESPACE_ANNOTATIONS: 'true',
    WATCH_NAMESPACES: '*',
    JOB_LABEL_SELECTOR: 'alerts!=off',
    LINK_TEMPLATES: 'logs=https://grafana.example/explore?ns={namespace}&job={job}&from={failedAtMs-15m}',
    GROUP_THRESHOLD: '0',
    HTTP_PORT: '0',
    LOG_TAIL_LINES: '0',
  });
  await daemon.ready();
});

after(async () => {
  await daemon.stop('SIGKILL');
  for (const secret of ['defaultS3cr3t', 'teamAS3cr3t', 'platformS3cr3t']) assert.doesNotMatch(daemon.output, new RegExp(secret), 'a webhook URL appeared in the output');
  await Promise.all([fallback.close(), teamA.close(), platform.close()]);
  await api.close();
});

const jobsIn = (posts: readonly ReceivedPost[]) => posts.map((post) => /Job failed: ([\w-]+\/[\w-]+)/.exec(post.body.text)?.[1] ?? '?');

/** Fails a Job and waits for its message at `where` (and its copy at platform). */
async function failAndWait(options: Parameters<typeof startJob>[1], where: SlackEmulator): Promise<ReceivedPost> {
  const count = where.accepted.length;
  const copies = platform.accepted.length;
  failJob(api, startJob(api, options));
  const posts = await where.waitFor(count + 1, 20_000);
  await platform.waitFor(copies + 1, 20_000);
  return posts.at(-1)!;
}

describe('routing, end to end', () => {
  it('a route annotation on the Job, on its CronJob and on its Namespace sends to that webhook only (and a copy to ALSO_SEND_TO)', async () => {
    const before = { fallback: fallback.accepted.length, teamA: teamA.accepted.length };
    await failAndWait({ name: 'routed-by-job', annotations: { 'kube-job-alerts.io/route': 'team-a' } }, teamA);
    api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'billing', namespace: 'default', annotations: { 'kube-job-alerts.io/route': 'TEAM_A' } }, spec: { schedule: '0 * * * *', jobTemplate: { spec: {} } } });
    await failAndWait({ cronJob: { name: 'billing', scheduledAt: '2026-11-29T10:00:00Z' } }, teamA);
    await failAndWait({ name: 'routed-by-namespace', namespace: 'payments' }, teamA);
    await failAndWait({ name: 'routed-by-prefix', namespace: 'ml-train' }, teamA);
    assert.deepEqual(jobsIn(teamA.accepted.slice(before.teamA)), ['default/routed-by-job', `default/billing-${Date.parse('2026-11-29T10:00:00Z') / 60_000}`, 'payments/routed-by-namespace', 'ml-train/routed-by-prefix']);
    assert.equal(fallback.accepted.length, before.fallback, 'nothing went to the default webhook');
    assert.deepEqual(jobsIn(platform.accepted.slice(-4)), jobsIn(teamA.accepted.slice(-4)), 'platform got a copy of each');
  });

  it('an unknown route name goes to the default webhook, with a warning naming the object and the name', async () => {
    await failAndWait({ name: 'typo', annotations: { 'kube-job-alerts.io/route': 'team-z' } }, fallback);
    const warning = await daemon.waitForLog((line) => line.level === 'warn' && String(line.msg).includes('team-z'));
    assert.match(String(warning.msg), /Job default\/typo/);
  });

  it('a valid mention reaches the notification text unescaped; an invalid one is refused with a warning', async () => {
    const post = await failAndWait({ name: 'mentioned', annotations: { 'kube-job-alerts.io/mention': 'U0123ABC, <!subteam^S0456DEF>, @bob' } }, fallback);
    assert.match(post.body.text, /^<@U0123ABC> <!subteam\^S0456DEF> /);
    assert.doesNotMatch(JSON.stringify(post.body), /@bob/);
    await daemon.waitForLog((line) => line.level === 'warn' && String(line.msg).includes('@bob'));
    const links = post.body.blocks.find((block: { type: string }) => block.type === 'actions');
    assert.match(links.elements[0].url, /^https:\/\/grafana\.example\/explore\?ns=default&job=mentioned&from=\d+$/);
  });

  it('a mention-looking string in a Job name or log is still escaped', async () => {
    const count = fallback.accepted.length;
    failJob(api, startJob(api, { name: 'plain' }), { jobMessage: 'ping <!channel> and <@U999> please' });
    const [post] = (await fallback.waitFor(count + 1, 20_000)).slice(-1);
    assert.doesNotMatch(JSON.stringify(post!.body), /<!channel>|<@U999>/);
  });

  it('a revoked route is reported at error level with its name, and in /metrics by route', async () => {
    teamA.script(404);
    failJob(api, startJob(api, { name: 'to-a-revoked-channel', annotations: { 'kube-job-alerts.io/route': 'team-a' } }));
    const error = await daemon.waitForLog((line) => line.level === 'error' && line.route === 'team-a' && JSON.stringify(line).includes('no_service'));
    assert.equal(error.module, 'slack');
    const port = (await daemon.waitForLog((line) => line.msg === 'serving /healthz, /readyz and /metrics')).port as number;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /kube_job_alerts_route_messages_total\{route="team-a",result="refused"\} 1/);
    assert.match(metrics, /kube_job_alerts_route_messages_total\{route="platform",result="delivered"\} [1-9]/);
    assert.match(metrics, /kube_job_alerts_route_messages_total\{route="default",result="refused"\} 0/);
  });

  it('a route that does not answer does not delay the default one', async () => {
    teamA.script('hang');
    const count = teamA.received.length;
    failJob(api, startJob(api, { name: 'to-a-hung-channel', annotations: { 'kube-job-alerts.io/route': 'team-a' } }));
    for (let i = 0; i < 100 && teamA.received.length === count; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await failAndWait({ name: 'to-the-default' }, fallback);
    assert.ok(Date.now() - started < 5000, 'the default route waited for team-a');
  });

  it('an excluded namespace and an unselected label give no message, and are not even listed or watched', async () => {
    const count = fallback.accepted.length;
    failJob(api, startJob(api, { name: 'system-job', namespace: 'kube-system' }));
    failJob(api, startJob(api, { name: 'quiet-by-label', labels: { alerts: 'off' } }));
    await failAndWait({ name: 'sentinel-watched' }, fallback);
    assert.deepEqual(jobsIn(fallback.accepted.slice(count)), ['default/sentinel-watched']);
    const jobRequests = api.requests.filter((request) => request.resource === 'jobs' && (request.verb === 'list' || request.verb === 'watch'));
    assert.ok(jobRequests.length > 0);
    for (const request of jobRequests) {
      assert.equal(request.query.labelSelector, 'alerts!=off', `${request.verb} ${request.path}`);
      assert.equal(request.query.fieldSelector, 'metadata.namespace!=kube-system', `${request.verb} ${request.path}`);
    }
  });
});

/**
 * A storm, end to end: many Jobs fail at once; the daemon (as a process) sends the first GROUP_THRESHOLD singly and
 * names every other one in digests, each Job exactly once, and marks each Job once its digest is delivered.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, startJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { startSlack, type SlackEmulator } from '../world/slack.ts';

let api: ApiServer;
let slack: SlackEmulator;
let daemon: Daemon;
/** A dead man's switch service: it records each ping. */
const pings: number[] = [];
const monitor = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/ping/5ecr3t-uuid') pings.push(Date.now());
  response.writeHead(200).end('OK');
});

before(async () => {
  await new Promise<void>((resolve) => monitor.listen(0, '127.0.0.1', resolve));
  api = await startApiServer({ bookmarkIntervalMs: 500 });
  slack = await startSlack();
  daemon = startDaemon({
    KUBECONFIG: api.kubeconfigPath,
    SLACK_WEBHOOK_URL: slack.url,
    HTTP_PORT: '0',
    GROUP_THRESHOLD: '5',
    GROUP_WINDOW: '2s',
    LOG_TAIL_LINES: '0',
    HEARTBEAT_URL: `http://127.0.0.1:${(monitor.address() as AddressInfo).port}/ping/5ecr3t-uuid`,
    HEARTBEAT_INTERVAL: '500ms',
  });
  await daemon.ready();
});

after(async () => {
  await daemon.stop('SIGKILL');
  monitor.closeAllConnections();
  monitor.close();
  assert.doesNotMatch(daemon.output, /5ecr3t-uuid/, 'the heartbeat URL appeared in the output');
  await slack.close();
  await api.close();
});

describe('the heartbeat, end to end', () => {
  it('pings HEARTBEAT_URL every HEARTBEAT_INTERVAL while watching and delivering', async () => {
    const from = pings.length;
    for (let i = 0; i < 100 && pings.length < from + 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(pings.length >= from + 3, `${pings.length - from} pings`);
  });
});

describe('a storm, end to end', () => {
  it('60 Jobs failing together: 5 messages, then digests naming the other 55, every Job exactly once, all marked', async (t) => {
    const jobs = Array.from({ length: 60 }, (_, i) => startJob(api, { name: `storm-${String(i).padStart(2, '0')}` }));
    const started = Date.now();
    for (const job of jobs) failJob(api, job, { exitCode: 137, reason: 'OOMKilled', only: 'FailureTarget' });
    const named = new Map<string, number>();
    let posts = slack.accepted;
    for (let count = 1; [...named.values()].reduce((a, b) => a + b, 0) < 60; count++) {
      posts = await slack.waitFor(count, 60_000);
      named.clear();
      for (const post of posts) for (const [, name] of JSON.stringify(post.body.blocks).matchAll(/default\/(storm-\d\d)/g)) named.set(name!, (named.get(name!) ?? 0) + 1);
    }
    const elapsed = Date.now() - started;
    const singles = posts.filter((post) => post.body.text.startsWith(':rotating_light: Job failed:'));
    const digests = posts.filter((post) => /Jobs? failed within/.test(post.body.text));
    assert.equal(singles.length, 5);
    assert.ok(digests.length >= 1 && digests.length <= 3, `${digests.length} digests`);
    assert.equal(singles.length + digests.length, posts.length);
    assert.equal(named.size, 60);
    // A single message names its Job in the header, the text and the next steps; a digest names each Job once.
    for (const post of digests) {
      const inDigest = [...JSON.stringify(post.body.blocks).matchAll(/default\/(storm-\d\d)/g)].map((m) => m[1]);
      assert.equal(new Set(inDigest).size, inDigest.length, 'a digest names each Job once');
    }
    assert.match(JSON.stringify(digests[0]!.body.blocks), /Common cause:\* .*all exit 137 \(OOMKilled\)/);
    assert.match(digests[0]!.body.text, /Jobs failed within \d+s.*: .*all exit 137 \(OOMKilled\)/);
    assert.deepEqual(slack.violations, []);
    for (let i = 0; i < 100; i++) {
      const unmarked = jobs.filter((job) => !api.get('jobs', 'default', job.name)?.metadata.annotations?.['kube-job-alerts.io/alerted-at']);
      if (unmarked.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const unmarked = jobs.filter((job) => !api.get('jobs', 'default', job.name)?.metadata.annotations?.['kube-job-alerts.io/alerted-at']);
    assert.deepEqual(unmarked.map((job) => job.name), [], 'every Job is marked once its message is delivered');
    t.diagnostic(`60 failures: ${posts.length} posts, every Job named ${elapsed} ms after the first failure was written`);
  });
});

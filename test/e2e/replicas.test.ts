/**
 * Two replicas with LEADER_ELECTION=true, end to end: two daemon processes against one API server and one Slack.
 * Only the leader delivers; when it stops (SIGTERM: it drains, then releases the Lease) the follower takes over at
 * its next try and alerts what failed in between, once. The Lease API is enforced by the emulator's Role.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, startJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { startSlack, type SlackEmulator } from '../world/slack.ts';

let api: ApiServer;
let slack: SlackEmulator;
const replicas: Daemon[] = [];

function replica(name: string): Daemon {
  const daemon = startDaemon({
    KUBECONFIG: api.kubeconfigPath,
    SLACK_WEBHOOK_URL: slack.url,
    HTTP_PORT: '0',
    LEADER_ELECTION: 'true',
    POD_NAME: name,
    POD_NAMESPACE: 'default',
    LEASE_NAME: 'kube-job-alerts-e2e',
    LOG_TAIL_LINES: '0',
    GROUP_THRESHOLD: '0',
  });
  replicas.push(daemon);
  return daemon;
}

const leading = (d: Daemon) => d.logs.some((line) => line.msg === 'caches synced: alerting');
const jobsIn = () => slack.accepted.map((post) => /Job failed: default\/([\w-]+)/.exec(post.body.text)?.[1]);

before(async () => {
  api = await startApiServer({ bookmarkIntervalMs: 500 });
  slack = await startSlack();
});

after(async () => {
  await Promise.all(replicas.map((d) => d.stop('SIGKILL')));
  await slack.close();
  await api.close();
});

describe('two replicas, end to end', () => {
  it('only the leader delivers; a stopped leader hands over, and the follower alerts what failed meanwhile, once', async (t) => {
    const a = replica('replica-a');
    await a.waitForLog((line) => line.msg === 'caches synced: alerting', 20_000);
    const b = replica('replica-b');
    await b.waitForLog((line) => line.msg === 'caches synced: waiting to lead', 20_000);
    assert.equal(leading(b), false, 'the second replica must follow');
    const lease = api.get('leases', 'default', 'kube-job-alerts-e2e');
    assert.equal(lease?.spec?.holderIdentity, 'replica-a');

    failJob(api, startJob(api, { name: 'while-a-leads' }));
    await slack.waitFor(1, 20_000);

    const stopped = a.stop('SIGTERM');
    const handedOver = Date.now();
    failJob(api, startJob(api, { name: 'during-handover' }));
    assert.equal((await stopped).code, 0);
    await b.waitForLog((line) => line.msg === 'caches synced: alerting', 20_000);
    t.diagnostic(`follower led ${Date.now() - handedOver} ms after SIGTERM to the leader`);
    assert.equal(api.get('leases', 'default', 'kube-job-alerts-e2e')?.spec?.holderIdentity, 'replica-b');

    failJob(api, startJob(api, { name: 'while-b-leads' }));
    await slack.waitFor(3, 30_000);
    failJob(api, startJob(api, { name: 'sentinel' }));
    await slack.waitFor(4, 30_000);
    assert.deepEqual(jobsIn().sort(), ['during-handover', 'sentinel', 'while-a-leads', 'while-b-leads']);
    assert.ok(b.logs.some((line) => line.why === 'already_alerted' && line.job === 'default/while-a-leads'), 'the new leader saw what the old one had sent');
  });
});

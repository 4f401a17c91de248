/**
 * CronJob health beyond failures, end to end: the daemon as a process against the emulators. A CronJob that stops
 * running on schedule, one whose zone the controller cannot read, a run past its max-duration, pods that cannot
 * pull their image. Times are set on the objects (a CronJob backdated, a Job started 50 minutes ago), so nothing
 * sleeps for the grace periods.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, isoNow, startJob, succeedJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { renderDeploy, roleRules } from '../world/deploy.ts';
import { startSlack, type ReceivedPost, type SlackEmulator } from '../world/slack.ts';

let api: ApiServer;
let slack: SlackEmulator;
let daemon: Daemon;

before(async () => {
  const rules = roleRules(await renderDeploy('deploy')).map((rule) => ({ ...rule, namespaces: ['default'] }));
  api = await startApiServer({ bookmarkIntervalMs: 500, rbac: rules });
  slack = await startSlack();
  daemon = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0', CLUSTER_NAME: 'e2e', GROUP_THRESHOLD: '0' });
  await daemon.ready();
});

after(async () => {
  await daemon.stop('SIGKILL');
  await slack.close();
  await api.close();
  assert.deepEqual(api.denied.map((r) => `${r.verb} ${r.resource} in ${r.namespace}`), [], 'the daemon made a request that deploy/role.yaml does not allow');
});

const HOUR = 3_600_000;
/** The start of the current hour, minus `hours`. */
const hourAgo = (hours: number) => new Date(Math.floor(Date.now() / HOUR) * HOUR - hours * HOUR).toISOString().replace('.000Z', 'Z');
const headers = (posts: readonly ReceivedPost[]) => posts.map((post) => post.body.blocks?.[0]?.text?.text as string);

function cronJob(name: string, spec: Record<string, unknown>, lastScheduleTime: string, annotations: Record<string, string> = {}, createdAt = hourAgo(5)): void {
  api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default', annotations }, spec: { schedule: '0 * * * *', jobTemplate: { spec: {} }, ...spec } }, { createdAt });
  api.modify('cronjobs', 'default', name, (object) => (object.status = { lastScheduleTime }));
}

async function nextPost(count: number): Promise<ReceivedPost> {
  return (await slack.waitFor(count + 1, 20_000))[count]!;
}

describe('CronJob health, end to end', () => {
  it('an hourly CronJob whose lastScheduleTime stopped advancing: one missed-run alert, then one "running again"', async () => {
    const count = slack.accepted.length;
    cronJob('hourly-report', {}, hourAgo(3));
    cronJob('paused', { suspend: true }, hourAgo(3)); // suspended: never missed
    cronJob('muted', {}, hourAgo(3), { 'kube-job-alerts.io/enabled': 'false' }); // opted out
    const missed = await nextPost(count);
    assert.match(missed.body.blocks[0].text.text, /^:alarm_clock: CronJob not running on schedule: default\/hourly-report$/);
    assert.match(JSON.stringify(missed.body.blocks), /missed [2-9] runs since /);
    assert.match(JSON.stringify(missed.body.blocks), /Schedule:\* `0 \* \* \* \* \(UTC\)`/);
    // The controller runs it again: the last run due is scheduled.
    api.modify('cronjobs', 'default', 'hourly-report', (object) => (object.status = { lastScheduleTime: hourAgo(0) }));
    const resumed = await nextPost(count + 1);
    assert.match(resumed.body.blocks[0].text.text, /Running on schedule again: CronJob default\/hourly-report/);
    assert.equal(slack.accepted.length, count + 2);
    assert.ok(!headers(slack.accepted.slice(count)).some((header) => header.includes('paused') || header.includes('muted')));
    const story = api.get('cronjobs', 'default', 'hourly-report')?.metadata.annotations?.['kube-job-alerts.io/health'];
    assert.ok(story !== undefined, 'what was said is kept on the CronJob');
  });

  it('a zoned schedule across daylight saving time: the run in the spring-forward gap was never due', async () => {
    const count = slack.accepted.length;
    // 02:30 New York time: on 2026-03-08 that wall-clock time does not exist (clocks jump from 02:00 to 03:00), so
    // after a last run on 03-07 the first run missed is 03-09 02:30 EDT (06:30 UTC), not 03-08.
    cronJob('ny-nightly', { schedule: '30 2 * * *', timeZone: 'America/New_York' }, '2026-03-07T07:30:00Z', {}, '2026-01-02T00:00:00Z');
    const post = await nextPost(count);
    assert.match(post.body.blocks[0].text.text, /not running on schedule: default\/ny-nightly/);
    assert.match(JSON.stringify(post.body.blocks), /since 2026-03-09 06:30 UTC/);
    assert.match(JSON.stringify(post.body.blocks), /30 2 \* \* \* \(America\/New_York\)/);
  });

  it('@every 90m: missed 90 minutes after its last run (plus the grace)', async () => {
    const count = slack.accepted.length;
    const last = new Date(Date.now() - 4 * HOUR);
    cronJob('every-90m', { schedule: '@every 90m' }, last.toISOString().replace(/\.\d+Z$/, 'Z'));
    const post = await nextPost(count);
    assert.match(post.body.blocks[0].text.text, /not running on schedule: default\/every-90m/);
    const since = new Date(Math.floor(last.getTime() / 1000) * 1000 + 90 * 60_000).toISOString().slice(0, 16).replace('T', ' ');
    assert.match(JSON.stringify(post.body.blocks), new RegExp(`missed 2 runs since ${since} UTC`));
  });

  it('a CronJob whose timeZone the controller cannot load: one alert naming the zone', async () => {
    const count = slack.accepted.length;
    cronJob('on-mars', { timeZone: 'Mars/Olympus' }, hourAgo(1));
    const post = await nextPost(count);
    assert.match(post.body.blocks[0].text.text, /CronJob cannot be scheduled: default\/on-mars/);
    assert.match(JSON.stringify(post.body.blocks), /UnknownTimeZone.*Mars\/Olympus/);
  });

  it("the CronJob controller's warnings: one alert per Event, a repeat of it says nothing more; JobAlreadyActive once it repeated", async () => {
    const count = slack.accepted.length;
    cronJob('quota-bound', {}, hourAgo(0));
    const uid = api.get('cronjobs', 'default', 'quota-bound')!.metadata.uid;
    const event = (name: string, reason: string, message: string, repeats: number) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'default' },
      involvedObject: { apiVersion: 'batch/v1', kind: 'CronJob', name: 'quota-bound', namespace: 'default', uid },
      reason,
      message,
      type: reason === 'JobAlreadyActive' ? 'Normal' : 'Warning',
      count: repeats,
      firstTimestamp: isoNow(-60_000),
      lastTimestamp: isoNow(),
      source: { component: 'cronjob-controller' },
    });
    api.create('events', event('quota-bound.1', 'FailedCreate', 'Error creating job: jobs.batch "quota-bound-1" is forbidden: exceeded quota: compute', 1));
    const post = await nextPost(count);
    assert.match(post.body.blocks[0].text.text, /^:warning: FailedCreate: CronJob default\/quota-bound$/);
    assert.match(JSON.stringify(post.body.blocks), /exceeded quota: compute/);
    api.modify('events', 'default', 'quota-bound.1', (object) => (object.count = 2)); // the recorder counts a repeat
    api.create('events', event('quota-bound.2', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', 1));
    api.modify('events', 'default', 'quota-bound.2', (object) => (object.count = 2)); // SKIPPED_RUNS_ALERT is 2
    const skipped = await nextPost(count + 1);
    assert.match(skipped.body.blocks[0].text.text, /^:warning: JobAlreadyActive: CronJob default\/quota-bound$/);
    assert.equal(slack.accepted.length, count + 2, 'the repeated FailedCreate said nothing more');
  });

  it('a CronJob that has run 3 times and never succeeded: one alert', async () => {
    const count = slack.accepted.length;
    cronJob('never-worked', {}, hourAgo(0));
    for (let n = 1; n <= 3; n++) failJob(api, startJob(api, { cronJob: { name: 'never-worked', scheduledAt: hourAgo(n) } }));
    for (let i = 0; i < 100 && !headers(slack.accepted.slice(count)).some((h) => h.startsWith(':x: Never succeeded')); i++) await slack.waitFor(slack.accepted.length + 1, 20_000);
    const never = headers(slack.accepted.slice(count)).filter((h) => h.startsWith(':x: Never succeeded'));
    assert.deepEqual(never, [':x: Never succeeded: CronJob default/never-worked']);
  });

  it('a Job past its max-duration: one "still running" alert, and a follow-up when it finishes', async () => {
    const count = slack.accepted.length;
    const job = startJob(api, { name: 'slow-etl', startedAt: isoNow(-50 * 60_000), annotations: { 'kube-job-alerts.io/max-duration': '45m' } });
    const stuck = await nextPost(count);
    assert.match(stuck.body.blocks[0].text.text, /^:hourglass_flowing_sand: Still running after 50m \d+s: default\/slow-etl$/);
    assert.match(JSON.stringify(stuck.body.blocks), /over its limit of 45m 0s \(job annotation\)/);
    succeedJob(api, job);
    const over = await nextPost(count + 1);
    assert.match(over.body.blocks[0].text.text, /Finished \(succeeded\): default\/slow-etl/);
  });

  it('a Job whose pod cannot pull its image for PENDING_ALERT_AFTER: one alert naming the reason', async () => {
    const count = slack.accepted.length;
    // Due 2 s from now (PENDING_ALERT_AFTER is 10m by default): the pod's trouble is in place before then.
    const started = isoNow(-598_000);
    const job = startJob(api, { name: 'bad-image', startedAt: started, image: 'registry.example/app:missing' });
    api.modify('pods', 'default', job.pod, (pod) => {
      pod.status = {
        phase: 'Pending',
        startTime: started,
        containerStatuses: [{ name: job.container, ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example/app:missing"' } } }],
      };
    });
    const post = await nextPost(count);
    assert.match(post.body.blocks[0].text.text, /^:no_entry: Pods cannot start \(ImagePullBackOff\): default\/bad-image$/);
    assert.match(JSON.stringify(post.body.blocks), /Back-off pulling image/);
  });
});

/**
 * A CronJob's story, end to end: the daemon as a process (`npm start`) against the API-server and Slack emulators.
 * Each scenario uses its own CronJob and asserts the exact messages Slack received for it, closing with a sentinel
 * failure (messages go out in order) instead of sleeping to prove nothing else was sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, startJob, succeedJob, type RunningJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { renderDeploy, roleRules } from '../world/deploy.ts';
import { startSlack, type ReceivedPost, type SlackEmulator } from '../world/slack.ts';

let api: ApiServer;
let slack: SlackEmulator;
const daemons: Daemon[] = [];

function daemon(env: Record<string, string> = {}): Daemon {
  // Storms are test/e2e/storm.test.ts's subject, never-succeeded health.test.ts's: here each failure is one message.
  const started = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0', CLUSTER_NAME: 'e2e', GROUP_THRESHOLD: '0', NEVER_SUCCEEDED_AFTER: '0', ...env });
  daemons.push(started);
  return started;
}

before(async () => {
  const rules = roleRules(await renderDeploy('deploy')).map((rule) => ({ ...rule, namespaces: ['default'] }));
  api = await startApiServer({ bookmarkIntervalMs: 500, rbac: rules });
  slack = await startSlack();
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
  await slack.close();
  await api.close();
  assert.deepEqual(api.denied.map((r) => `${r.verb} ${r.resource} in ${r.namespace}`), [], 'the daemon made a request that deploy/role.yaml does not allow');
});

function cronJob(name: string, annotations: Record<string, string> = {}): void {
  api.create('cronjobs', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default', annotations },
    spec: { schedule: '*/5 * * * *', timeZone: 'Europe/Berlin', failedJobsHistoryLimit: 1, jobTemplate: { spec: {} } },
  });
}

/** Runs are scheduled on whole minutes, as the CronJob controller names them (`<cronjob>-<unix minutes>`). */
const BASE = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

/** The nth run of a CronJob, scheduled n*5 minutes into a window that ended an hour ago. */
function run(cron: string, n: number): RunningJob {
  return startJob(api, { cronJob: { name: cron, scheduledAt: new Date(BASE + n * 300_000).toISOString().replace('.000Z', 'Z') } });
}

/** What Slack shows of each message: `failure <job> <streak phrase>`, `reminder ...`, `recovery <cronjob> <n>`. */
function summary(post: ReceivedPost): string {
  const header: string = post.body.blocks?.[0]?.text?.text ?? '';
  const body = JSON.stringify(post.body.blocks);
  if (header.startsWith(':white_check_mark: Recovered')) return `recovery ${/CronJob ([\w-]+\/[\w-]+)/.exec(header)?.[1]} ${/after \*(\d+)/.exec(body)?.[1]}`;
  if (header.startsWith(':repeat:')) return `reminder ${/(\d+) consecutive failures/.exec(body)?.[1]}`;
  const job = /Job failed: [\w-]+\/([\w-]+)/.exec(header)?.[1];
  const streak = /\*(\d+\w\w) consecutive failure\*|\*(1st) failure\*/.exec(body);
  return `failure ${job} ${streak?.[1] ?? streak?.[2] ?? '-'}`;
}

/** The messages about this CronJob: its runs' failures (`default/<cron>-<minutes>`), its reminders and recovery. */
function about(cron: string, posts: readonly ReceivedPost[]): string[] {
  const ours = new RegExp(`default/${cron}(-\\d+)?$`);
  return posts.filter((post) => ours.test(post.body.blocks?.[0]?.text?.text ?? '')).map(summary);
}

/** Fails a standalone Job and waits for its message: everything decided before it has arrived. */
async function sentinel(name: string): Promise<ReceivedPost[]> {
  let count = slack.accepted.length;
  failJob(api, startJob(api, { name }));
  for (;;) {
    const posts = await slack.waitFor(++count, 30_000);
    if (posts.some((post) => post.body.text.includes(`default/${name} `))) return posts;
  }
}

describe('a CronJob story, end to end', () => {
  let d: Daemon;

  before(async () => {
    d = daemon();
    await d.ready();
  });

  it('every-failure: 4 failed runs give 4 messages (1st, 2nd, 3rd, 4th) and a success gives one recovery', async () => {
    cronJob('etl');
    const from = slack.accepted.length;
    for (let n = 1; n <= 4; n++) {
      failJob(api, run('etl', n), { log: `run ${n} failed\n` });
      await slack.waitFor(from + n, 30_000);
    }
    succeedJob(api, run('etl', 5));
    await slack.waitFor(from + 5, 30_000);
    const posts = await sentinel('sentinel-a');
    assert.deepEqual(about('etl', posts.slice(from)).map((line) => line.split(' ')[0]), ['failure', 'failure', 'failure', 'failure', 'recovery']);
    assert.deepEqual(about('etl', posts.slice(from)).map((line) => line.split(' ').at(-1)), ['1st', '2nd', '3rd', '4th', '4']);
    const recovery = posts.slice(from).find((post) => summary(post).startsWith('recovery'))!;
    assert.match(recovery.body.text, /Recovered: CronJob default\/etl after 4 consecutive failures/);
    assert.match(JSON.stringify(recovery.body), /failing since/);
  });

  it('repeat: first gives one message for a streak of 3', async () => {
    cronJob('reports', { 'kube-job-alerts.io/repeat': 'first' });
    const from = slack.accepted.length;
    for (let n = 1; n <= 3; n++) failJob(api, run('reports', n));
    // Keys are worked on in parallel: wait for both decisions to stay silent, then for a later message.
    for (let n = 2; n <= 3; n++) await d.waitForLog((line) => line.why === 'repeat_first' && String(line.job).startsWith('default/reports-') && line.level === 'info' && d.logs.filter((l) => l.why === 'repeat_first' && String(l.job).startsWith('default/reports-')).length >= n - 1);
    const posts = await sentinel('sentinel-b');
    assert.deepEqual(about('reports', posts.slice(from)).map((line) => line.split(' ')[0]), ['failure']);
  });

  it('alert-after: 2 stays silent on the 1st failure and speaks at the 2nd, saying 2nd', async () => {
    cronJob('backup', { 'kube-job-alerts.io/alert-after': '2' });
    const from = slack.accepted.length;
    failJob(api, run('backup', 1));
    const silence = await d.waitForLog((line) => line.why === 'alert_after' && String(line.job).startsWith('default/backup-'));
    assert.equal(silence.level, 'info', 'the silence is explained at info');
    let posts = await sentinel('sentinel-c');
    assert.deepEqual(about('backup', posts.slice(from)), []);
    failJob(api, run('backup', 2));
    // Not a sentinel: another Job's message may overtake this one (keys are worked on in parallel).
    await d.waitForLog((line) => line.msg === 'alert delivered' && String(line.job).startsWith('default/backup-') && line.streak === 2);
    posts = slack.accepted;
    assert.deepEqual(about('backup', posts.slice(from)).map((line) => line.split(' ').at(-1)), ['2nd']);
  });

  it('a suspended Job and a Job managed by another controller give no message', async () => {
    const from = slack.accepted.length;
    const suspended = startJob(api, { name: 'kueue-suspended' });
    api.modify('jobs', 'default', 'kueue-suspended', (job) => (job.spec = { ...job.spec, suspend: true }));
    failJob(api, suspended);
    const mirrored = startJob(api, { name: 'multikueue-mirror' });
    api.modify('jobs', 'default', 'multikueue-mirror', (job) => (job.spec = { ...job.spec, managedBy: 'kueue.x-k8s.io/multikueue' }));
    failJob(api, mirrored);
    await d.waitForLog((line) => line.job === 'default/multikueue-mirror' && line.why === 'managed_elsewhere');
    await d.waitForLog((line) => line.job === 'default/kueue-suspended' && line.why === 'suspended');
    const posts = await sentinel('sentinel-e');
    const names = posts.slice(from).map((post) => /Job failed: [\w-]+\/([\w-]+)/.exec(post.body.text)?.[1]);
    assert.ok(!names.includes('multikueue-mirror') && !names.includes('kueue-suspended'), names.join(', '));
  });

  it('a pod deleted right after it failed still gives its exit code and log line, though Slack was down meanwhile', async () => {
    const from = slack.accepted.length;
    const job = startJob(api, { name: 'vanishing' });
    slack.script(503, 503);
    // FailureTarget comes first, while the pods terminate; the daemon captures the evidence then.
    failJob(api, job, { exitCode: 3, log: 'connecting to db\nFATAL: password authentication failed\n', only: 'FailureTarget' });
    await d.waitForLog((line) => line.msg === 'evidence captured' && line.job === 'default/vanishing');
    api.remove('pods', 'default', job.pod);
    api.modify('jobs', 'default', 'vanishing', (object) => {
      const [target] = object.status.conditions;
      object.status.conditions = [target, { ...target, type: 'Failed' }];
    });
    const posts = await slack.waitFor(from + 1, 30_000);
    const text = JSON.stringify(posts[from]!.body);
    assert.match(text, /vanishing/);
    assert.match(text, /Exit code:\* 3/);
    assert.match(text, /FATAL: password authentication failed/);
  });

  it('the 3rd failure says 3rd after a restart, though the 1st failed Job was deleted (failedJobsHistoryLimit: 1)', async () => {
    cronJob('nightly');
    const from = slack.accepted.length;
    const first = run('nightly', 1);
    failJob(api, first);
    await slack.waitFor(from + 1, 30_000);
    failJob(api, run('nightly', 2));
    await slack.waitFor(from + 2, 30_000);
    // The story reaches the CronJob once Slack has confirmed both messages.
    for (let i = 0; i < 100; i++) {
      const story = api.get('cronjobs', 'default', 'nightly')?.metadata.annotations?.['kube-job-alerts.io/story'];
      if (story && JSON.parse(story).failures.filter((f: { outcome: string }) => f.outcome === 'notified').length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal((await d.stop()).code, 0);
    api.remove('jobs', 'default', first.name); // the CronJob controller keeps one failed Job
    const restarted = daemon();
    await restarted.ready();
    const third = run('nightly', 3);
    failJob(api, third);
    const posts = await slack.waitFor(from + 3, 30_000);
    assert.deepEqual(about('nightly', posts.slice(from)).map((line) => line.split(' ').at(-1)), ['1st', '2nd', '3rd']);
    assert.match(posts[from + 2]!.body.text, /3rd consecutive failure/);
    const message = JSON.stringify(posts[from + 2]!.body.blocks);
    assert.match(message, /Schedule:\* `\*\/5 \* \* \* \*` \(Europe\/Berlin\)/);
    assert.match(message, /Last success:\* never succeeded/);
    const next = /Next run:\* (\d{4}-\d\d-\d\d \d\d:\d\d) UTC \(in (\d+) (s|min)\)/.exec(message);
    assert.ok(next, `the next run is shown: ${message}`);
    assert.equal(Number(next[1]!.slice(-2)) % 5, 0, 'a */5 schedule runs on the fives');
    assert.equal((await restarted.stop()).code, 0);
  });
});

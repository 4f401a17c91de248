import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { cronJobRecord, jobRecord } from '../../../src/detect/records.ts';
import { medianDurationMs, parseMaxDuration, pendingReason, runFacts, runFactsOf, runLimit, slowRunLimitMs, stuckRun, type PendingRun, type RunState } from '../../../src/detect/run-health.ts';
import { cronJob, podOf, run, type PodTrouble } from '../../fixtures/cronjobs.ts';
import { failedJob, fixtureJob } from '../../fixtures/index.ts';

const asListed = (object: unknown): unknown => loadYaml(JSON.stringify(object));
const MIN = 60_000;

/** The state with its dates as ISO strings. */
const plain = (state: RunState | PendingRun | undefined): unknown => (state === undefined ? undefined : JSON.parse(JSON.stringify(state)));

describe('stuckRun', () => {
  const rows: [name: string, job: unknown, limitMs: number, now: string, expected: unknown][] = [
    ['running 30m of 45m: look again at 45m', run({ startedAt: '2024-05-01T11:00:00Z' }), 45 * MIN, '2024-05-01T11:30:00Z',
      { state: 'running', startedAt: '2024-05-01T11:00:00.000Z', runningForMs: 30 * MIN, checkAt: '2024-05-01T11:45:00.000Z' }],
    ['running exactly 45m: stuck', run({ startedAt: '2024-05-01T11:00:00Z' }), 45 * MIN, '2024-05-01T11:45:00Z',
      { state: 'stuck', startedAt: '2024-05-01T11:00:00.000Z', runningForMs: 45 * MIN }],
    ['running 2h: stuck', run({ startedAt: '2024-05-01T11:00:00Z' }), 45 * MIN, '2024-05-01T13:00:00Z',
      { state: 'stuck', startedAt: '2024-05-01T11:00:00.000Z', runningForMs: 120 * MIN }],
    ['finished after 50m, succeeded (the follow-up)', run({ startedAt: '2024-05-01T11:00:00Z', finishedAt: '2024-05-01T11:50:00Z' }), 45 * MIN, '2024-05-01T12:00:00Z',
      { state: 'finished', outcome: 'succeeded', startedAt: '2024-05-01T11:00:00.000Z', finishedAt: '2024-05-01T11:50:00.000Z', durationMs: 50 * MIN }],
    ['finished after 50m, failed', run({ startedAt: '2024-05-01T11:00:00Z', finishedAt: '2024-05-01T11:50:00Z', outcome: 'Failed' }), 45 * MIN, '2024-05-01T12:00:00Z',
      { state: 'finished', outcome: 'failed', startedAt: '2024-05-01T11:00:00.000Z', finishedAt: '2024-05-01T11:50:00.000Z', durationMs: 50 * MIN }],
    ['a failed Job of kubernetes#92245: finished at FailureTarget', failedJob(), 45 * MIN, '2020-06-18T08:00:00Z',
      { state: 'finished', outcome: 'failed', startedAt: '2020-06-18T06:01:55.000Z', finishedAt: '2020-06-18T06:06:48.000Z', durationMs: 293_000 }],
    ['a CronJob controller Job failed (fixture)', fixtureJob('derived_cronjob-controller_Job-failed-BackoffLimitExceeded.yaml'), 45 * MIN, '2023-10-31T05:00:00Z',
      { state: 'finished', outcome: 'failed', startedAt: '2023-10-31T04:03:00.000Z', finishedAt: '2023-10-31T04:04:21.000Z', durationMs: 81_000 }],
    ['just created, status {} (fixture): not started', fixtureJob('int128-cronjob-runner-readme_Job-ownedBy-CronJob.yaml'), 45 * MIN, '2024-05-01T12:00:00Z', { state: 'not-started' }],
    ['suspended: nothing to time', run({ startedAt: '2024-05-01T11:00:00Z', suspend: true }), 45 * MIN, '2024-05-01T13:00:00Z', { state: 'suspended' }],
  ];
  for (const [name, job, limitMs, now, expected] of rows) {
    it(name, () => assert.deepEqual(plain(stuckRun(runFacts(job), limitMs, new Date(now))), expected));
    it(`${name} (listed class instance)`, () => assert.deepEqual(plain(stuckRun(runFacts(asListed(job)), limitMs, new Date(now))), expected));
    it(`${name} (from its JobRecord)`, () => assert.deepEqual(plain(stuckRun(runFactsOf(jobRecord(job)!), limitMs, new Date(now))), expected));
  }
});

describe('parseMaxDuration', () => {
  const rows: [string, number | string][] = [
    ['45m', 45 * MIN],
    ['2h', 120 * MIN],
    ['1h30m', 90 * MIN],
    ['1d', 1440 * MIN],
    [' 45m ', 45 * MIN],
    ['45', 'kube-job-alerts.io/max-duration: "45" is not a duration such as 45m, 2h or 1h30m'],
    ['1.5h', 'kube-job-alerts.io/max-duration: "1.5h" is not a duration such as 45m, 2h or 1h30m'],
    ['forever', 'kube-job-alerts.io/max-duration: "forever" is not a duration such as 45m, 2h or 1h30m'],
    ['0m', 'kube-job-alerts.io/max-duration: "0m" must be longer than 0'],
  ];
  for (const [value, expected] of rows) {
    it(`${JSON.stringify(value)} -> ${expected}`, () =>
      assert.deepEqual(parseMaxDuration(value), typeof expected === 'number' ? { ok: true, ms: expected } : { ok: false, problem: expected }));
  }
});

describe('runLimit', () => {
  const annotated = (value: string) => ({ 'kube-job-alerts.io/max-duration': value });
  const rows: [name: string, job: ReturnType<typeof run>, cron: ReturnType<typeof cronJob> | undefined, defaults: Parameters<typeof runLimit>[2], expected: unknown][] = [
    ['the Job\'s annotation wins', run({ annotations: annotated('45m') }), cronJob({ annotations: annotated('2h') }), { stuckAfterMs: MIN }, { ms: 45 * MIN, source: 'job annotation' }],
    ['else its CronJob\'s', run(), cronJob({ annotations: annotated('2h') }), { stuckAfterMs: MIN }, { ms: 120 * MIN, source: 'cronjob annotation' }],
    ['a bad Job annotation is named, and the CronJob\'s applies', run({ name: 'hello-28577220', annotations: annotated('soon') }), cronJob({ annotations: annotated('2h') }), {},
      { ms: 120 * MIN, source: 'cronjob annotation', problem: 'Job default/hello-28577220: kube-job-alerts.io/max-duration: "soon" is not a duration such as 45m, 2h or 1h30m' }],
    ['a bad CronJob annotation is named, and STUCK_AFTER applies', run(), cronJob({ annotations: annotated('0s') }), { stuckAfterMs: 30 * MIN },
      { ms: 30 * MIN, source: 'STUCK_AFTER', problem: 'CronJob default/hello: kube-job-alerts.io/max-duration: "0s" must be longer than 0' }],
    ['STUCK_AFTER before the median rule', run(), cronJob(), { stuckAfterMs: 30 * MIN, medianLimitMs: 9 * MIN }, { ms: 30 * MIN, source: 'STUCK_AFTER' }],
    ['the median rule', run(), cronJob(), { medianLimitMs: 9 * MIN }, { ms: 9 * MIN, source: 'median' }],
    ['no limit at all', run(), undefined, {}, {}],
  ];
  for (const [name, job, cron, defaults, expected] of rows) {
    it(name, () => assert.deepEqual(runLimit(jobRecord(job)!, cron && cronJobRecord(cron), defaults), expected));
    it(`${name} (listed class instances)`, () => assert.deepEqual(runLimit(jobRecord(asListed(job))!, cron && cronJobRecord(asListed(cron)), defaults), expected));
  }
});

describe('medianDurationMs and the 3x rule', () => {
  /** A successful run of `minutes`, the `index`-th of an hourly CronJob. */
  const took = (minutes: number, index: number, outcome: 'Complete' | 'Failed' = 'Complete') => {
    const startedAt = new Date(Date.UTC(2024, 4, 1, index)).toISOString();
    return run({ cronJob: 'hello', startedAt, finishedAt: new Date(Date.parse(startedAt) + minutes * MIN).toISOString(), outcome });
  };
  const rows: [name: string, jobs: unknown[], median: number | undefined][] = [
    ['4 successful runs are too few', [took(1, 0), took(2, 1), took(3, 2), took(4, 3)], undefined],
    ['5 runs: the middle one', [took(1, 0), took(2, 1), took(9, 2), took(5, 3), took(3, 4)], 3 * MIN],
    ['6 runs: the mean of the middle two', [took(1, 0), took(2, 1), took(9, 2), took(5, 3), took(3, 4), took(4, 5)], 3.5 * MIN],
    ['failed and running runs do not count', [took(1, 0), took(2, 1), took(60, 2, 'Failed'), run({ startedAt: '2024-05-01T06:00:00Z' }), took(5, 3), took(3, 4)], undefined],
    ['only the 20 most recent count', [...Array.from({ length: 20 }, (_, i) => took(60, i)), ...Array.from({ length: 20 }, (_, i) => took(2, 20 + i))], 2 * MIN],
  ];
  for (const [name, jobs, median] of rows) {
    it(name, () => {
      assert.equal(medianDurationMs(jobs.map(runFacts)), median);
      assert.equal(slowRunLimitMs(jobs.map(runFacts)), median === undefined ? undefined : 3 * median);
      assert.equal(medianDurationMs(jobs.map((job) => runFacts(asListed(job)))), median);
      assert.equal(medianDurationMs(jobs.map((job) => runFactsOf(jobRecord(job)!))), median);
    });
  }
});

describe('pendingReason', () => {
  const job = run({ startedAt: '2024-05-01T11:00:00Z' });
  const pod = (trouble: PodTrouble, suffix?: string) => podOf(job, trouble, suffix);
  const since = '2024-05-01T11:00:01Z';
  const tenMinutes = 10 * MIN;
  const rows: [name: string, pods: unknown[], now: string, expected: unknown][] = [
    ['Unschedulable for 4m: not yet due', [pod({ kind: 'Unschedulable', since })], '2024-05-01T11:04:01Z', {
      reason: 'Unschedulable', pod: 'hello-28576020-x7k2q', since: '2024-05-01T11:00:01.000Z', pendingForMs: 4 * MIN, due: false, checkAt: '2024-05-01T11:10:01.000Z',
      message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    }],
    ['Unschedulable for 10m: due', [pod({ kind: 'Unschedulable', since })], '2024-05-01T11:10:01Z', {
      reason: 'Unschedulable', pod: 'hello-28576020-x7k2q', since: '2024-05-01T11:00:01.000Z', pendingForMs: 10 * MIN, due: true, checkAt: '2024-05-01T11:10:01.000Z',
      message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    }],
    ['ImagePullBackOff, since the pod started', [pod({ kind: 'ImagePullBackOff', since })], '2024-05-01T11:12:00Z', {
      reason: 'ImagePullBackOff', pod: 'hello-28576020-x7k2q', container: 'hello', message: 'Back-off pulling image "busybox:1.28"', since: '2024-05-01T11:00:01.000Z', pendingForMs: 12 * MIN - 1000, due: true, checkAt: '2024-05-01T11:10:01.000Z',
    }],
    ['ErrImagePull', [pod({ kind: 'ErrImagePull', since })], '2024-05-01T11:12:00Z', {
      reason: 'ErrImagePull', pod: 'hello-28576020-x7k2q', container: 'hello', message: 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:1.28": not found', since: '2024-05-01T11:00:01.000Z', pendingForMs: 12 * MIN - 1000, due: true, checkAt: '2024-05-01T11:10:01.000Z',
    }],
    ['CreateContainerConfigError (a missing Secret)', [pod({ kind: 'CreateContainerConfigError', since })], '2024-05-01T11:05:01Z', {
      reason: 'CreateContainerConfigError', pod: 'hello-28576020-x7k2q', container: 'hello', message: 'secret "db-password" not found', since: '2024-05-01T11:00:01.000Z', pendingForMs: 5 * MIN, due: false, checkAt: '2024-05-01T11:10:01.000Z',
    }],
    ['CreateContainerError', [pod({ kind: 'CreateContainerError', since })], '2024-05-01T11:10:01Z', {
      reason: 'CreateContainerError', pod: 'hello-28576020-x7k2q', container: 'hello', message: 'failed to generate container spec: failed to apply OCI options: no such file or directory', since: '2024-05-01T11:00:01.000Z', pendingForMs: 10 * MIN, due: true, checkAt: '2024-05-01T11:10:01.000Z',
    }],
    ['an init container that cannot pull', [pod({ kind: 'ImagePullBackOff', since, init: true })], '2024-05-01T11:10:01Z', {
      reason: 'ImagePullBackOff', pod: 'hello-28576020-x7k2q', container: 'migrate', message: 'Back-off pulling image "busybox:1.28"', since: '2024-05-01T11:00:01.000Z', pendingForMs: 10 * MIN, due: true, checkAt: '2024-05-01T11:10:01.000Z',
    }],
    ['of two pods, the one pending longest', [pod({ kind: 'ImagePullBackOff', since: '2024-05-01T11:03:00Z' }, 'b2c3d'), pod({ kind: 'Unschedulable', since }, 'a1b2c')], '2024-05-01T11:10:01Z', {
      reason: 'Unschedulable', pod: 'hello-28576020-a1b2c', since: '2024-05-01T11:00:01.000Z', pendingForMs: 10 * MIN, due: true, checkAt: '2024-05-01T11:10:01.000Z',
      message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    }],
    ['a running pod is not pending', [pod({ kind: 'Running', since })], '2024-05-01T12:00:00Z', undefined],
    ['no pods yet', [], '2024-05-01T12:00:00Z', undefined],
    ['odd objects', [null, 42, 'pod', {}, { status: { containerStatuses: 'x' } }], '2024-05-01T12:00:00Z', undefined],
  ];
  for (const [name, pods, now, expected] of rows) {
    it(name, () => assert.deepEqual(plain(pendingReason(pods, new Date(now), tenMinutes)), expected));
    it(`${name} (listed class instances)`, () => assert.deepEqual(plain(pendingReason(pods.map((p) => (typeof p === 'object' && p !== null && 'kind' in p ? asListed(p) : p)), new Date(now), tenMinutes)), expected));
  }

  it('a container that ran before waits since its last attempt ended', () => {
    const crashed = pod({ kind: 'CreateContainerConfigError', since });
    const status = (crashed.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses[0]!;
    const again = { ...crashed, status: { ...crashed.status, containerStatuses: [{ ...status, restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: since, finishedAt: '2024-05-01T11:07:00Z' } } }] } };
    assert.equal(pendingReason([again], new Date('2024-05-01T11:12:00Z'), tenMinutes)?.since.toISOString(), '2024-05-01T11:07:00.000Z');
  });

  it('a pod that finished or is being deleted is not pending', () => {
    const stuck = pod({ kind: 'ImagePullBackOff', since });
    assert.equal(pendingReason([{ ...stuck, status: { ...stuck.status, phase: 'Failed' } }], new Date('2024-05-01T12:00:00Z'), tenMinutes), undefined);
    assert.equal(pendingReason([{ ...stuck, metadata: { ...stuck.metadata, deletionTimestamp: '2024-05-01T11:30:00Z' } }], new Date('2024-05-01T12:00:00Z'), tenMinutes), undefined);
  });
});

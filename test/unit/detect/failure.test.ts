import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import type { JobFailure } from '../../../src/alert.ts';
import { alertedAt, failureOf, isOptedOut } from '../../../src/detect/failure.ts';
import { failedJob, fixtureJob, loadFixture } from '../../fixtures/index.ts';

/**
 * The shape the informer's initial list yields: @kubernetes/client-node class instances with Date fields.
 * (ObjectSerializer is not exported by client-node 2.0.1; loadYaml runs the same deserializer, and JSON is YAML.)
 */
const asListed = (object: unknown): unknown => loadYaml(JSON.stringify(object));

type Summary = Pick<JobFailure, 'condition' | 'reason' | 'failedPods'> & { failedAt: string | undefined };
const summary = (failure: JobFailure | undefined): Summary | undefined =>
  failure && { condition: failure.condition, reason: failure.reason, failedAt: failure.failedAt?.toISOString(), failedPods: failure.failedPods };

/** Every Job fixture in test/fixtures/ (status-only ones wrapped into a Job with a uid by fixtureJob). */
const JOB_FIXTURES: readonly [string, Summary | undefined][] = [
  ['kube-cleanup-operator-pr48_BackoffLimitExceeded_status.yaml', { condition: 'Failed', reason: 'BackoffLimitExceeded', failedAt: '2020-06-04T02:23:44.000Z', failedPods: 1 }],
  ['kube-cleanup-operator-pr48_DeadlineExceeded_status.yaml', { condition: 'Failed', reason: 'DeadlineExceeded', failedAt: '2020-06-03T03:51:11.000Z', failedPods: 0 }],
  ['kubernetes-issue-92245_BackoffLimitExceeded.yaml', { condition: 'Failed', reason: 'BackoffLimitExceeded', failedAt: '2020-06-18T06:06:48.000Z', failedPods: 5 }],
  ['kubernetes-issue-93559_BackoffLimitExceeded_final-status.yaml', { condition: 'Failed', reason: 'BackoffLimitExceeded', failedAt: '2020-07-30T06:53:10.000Z', failedPods: 5 }],
  // The docs' excerpt has no lastTransitionTime, so the failure time is unknown.
  ['kubernetes-website_job-md_backoffLimitPerIndex_FailedIndexes.yaml', { condition: 'FailureTarget', reason: 'FailedIndexes', failedAt: undefined, failedPods: 10 }],
  // A manifest without status has not failed.
  ['kubernetes-website_pod-failure-policy_FailJob-manifest-and-messages.yaml', undefined],
  ['derived_pod-failure-policy_FailJob-failed.yaml', { condition: 'FailureTarget', reason: 'PodFailurePolicy', failedAt: '2024-09-12T09:14:35.000Z', failedPods: 2 }],
  // Just created: status {}.
  ['int128-cronjob-runner-readme_Job-ownedBy-CronJob.yaml', undefined],
  ['derived_cronjob-controller_Job-failed-BackoffLimitExceeded.yaml', { condition: 'FailureTarget', reason: 'BackoffLimitExceeded', failedAt: '2023-10-31T04:04:21.000Z', failedPods: 4 }],
];
/** Fixtures that are not Jobs, tested elsewhere. */
const OTHER_FIXTURES = ['kubernetes-website_assign-memory-resource_OOMKilled-lastState.yaml'];

const failedAt = '2024-05-01T02:04:53Z';
const condition = (type: string, at: string | undefined, status = 'True') =>
  ({ type, status, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: at });
const job = failedJob({ failedAt });
const withStatus = (status: unknown) => ({ ...job, status });
const withConditions = (...conditions: unknown[]) => withStatus({ ...job.status, conditions });
const withMetadata = (metadata: Record<string, unknown>) => ({ ...job, metadata: { ...job.metadata, ...metadata } });

describe('failureOf', () => {
  describe('real fixtures', () => {
    for (const [file, expected] of JOB_FIXTURES) {
      it(file, () => assert.deepEqual(summary(failureOf(fixtureJob(file))), expected));
      it(`${file} as a listed class instance`, () => assert.deepEqual(failureOf(asListed(fixtureJob(file))), failureOf(fixtureJob(file))));
    }
    it('covers every fixture file', () => assert.deepEqual(
      readdirSync(new URL('../../fixtures/', import.meta.url)).filter((f) => f.endsWith('.yaml')).sort(),
      [...JOB_FIXTURES.map(([file]) => file), ...OTHER_FIXTURES].sort()));
  });

  it('reads every field of a CronJob controller Job', () => assert.deepEqual(failureOf(fixtureJob('derived_cronjob-controller_Job-failed-BackoffLimitExceeded.yaml')), {
    uid: '5c0f6d8e-2b1a-4f37-9a0e-7d2e4c1b9f10',
    namespace: 'default',
    name: 'simple-28312083',
    condition: 'FailureTarget',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
    failedAt: new Date('2023-10-31T04:04:21Z'),
    startedAt: new Date('2023-10-31T04:03:00Z'),
    failedPods: 4,
    succeededPods: 0,
    backoffLimit: 3,
    failedIndexes: undefined,
    cronJob: 'simple',
    scheduledAt: new Date('2023-10-31T04:03:00Z'),
  }));

  describe('CronJob owner', () => {
    const int128 = fixtureJob('int128-cronjob-runner-readme_Job-ownedBy-CronJob.yaml');
    const int128Failed = { ...int128, status: { conditions: [condition('Failed', '2023-10-31T04:05:00Z')], failed: 4 } };
    const derived = fixtureJob('derived_cronjob-controller_Job-failed-BackoffLimitExceeded.yaml') as typeof job;
    const owner = (ref: Record<string, unknown>) => withMetadata({ ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'u', ...ref }] });
    it('int128 cronjob-runner Job names its CronJob', () => assert.equal(failureOf(int128Failed)?.cronJob, 'simple'));
    it('int128 cronjob-runner Job has no scheduled time', () => assert.equal(failureOf(int128Failed)?.scheduledAt, undefined));
    it('CronJob controller Job names its CronJob', () => assert.equal(failureOf(derived)?.cronJob, 'simple'));
    it('CronJob controller Job has its scheduled time', () => assert.deepEqual(failureOf(derived)?.scheduledAt, new Date('2023-10-31T04:03:00Z')));
    it('CronJob controller Job is named <cronjob>-<unix minutes>', () => assert.equal(derived.metadata.name, `simple-${Date.parse('2023-10-31T04:03:00Z') / 60_000}`));
    it('builder makes the same shape', () => assert.equal(failureOf(failedJob({ cronJob: { name: 'nightly', scheduledAt: '2024-05-01T02:00:00Z' } }))?.name, 'nightly-28575480'));
    it('builder Job names its CronJob', () => assert.equal(failureOf(failedJob({ cronJob: { name: 'nightly', scheduledAt: '2024-05-01T02:00:00Z' } }))?.cronJob, 'nightly'));
    it('as a listed class instance', () => assert.deepEqual(failureOf(asListed(derived)), failureOf(derived)));
    it('not controller', () => assert.equal(failureOf(owner({ controller: false }))?.cronJob, undefined));
    it('controller missing', () => assert.equal(failureOf(owner({ controller: undefined }))?.cronJob, undefined));
    it('controller "true" as a string', () => assert.equal(failureOf(owner({ controller: 'true' }))?.cronJob, undefined));
    it('controller true', () => assert.equal(failureOf(owner({ controller: true }))?.cronJob, 'nightly'));
    it('other kind', () => assert.equal(failureOf(owner({ controller: true, kind: 'Workflow' }))?.cronJob, undefined));
    it('scheduled timestamp garbage', () => assert.equal(failureOf(withMetadata({ annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': 'soon' } }))?.scheduledAt, undefined));
  });

  describe('which condition', () => {
    const cases: readonly [string, unknown[], Summary['condition'] | undefined, string | undefined][] = [
      ['FailureTarget only', [condition('FailureTarget', '2024-05-01T00:00:01Z')], 'FailureTarget', '2024-05-01T00:00:01.000Z'],
      ['Failed only (before 1.31)', [condition('Failed', '2024-05-01T00:00:02Z')], 'Failed', '2024-05-01T00:00:02.000Z'],
      ['FailureTarget before Failed', [condition('FailureTarget', '2024-05-01T00:00:01Z'), condition('Failed', '2024-05-01T00:00:05Z')], 'FailureTarget', '2024-05-01T00:00:01.000Z'],
      ['listed Failed first but FailureTarget earlier', [condition('Failed', '2024-05-01T00:00:05Z'), condition('FailureTarget', '2024-05-01T00:00:01Z')], 'FailureTarget', '2024-05-01T00:00:01.000Z'],
      ['listed Failed first and earlier', [condition('Failed', '2024-05-01T00:00:01Z'), condition('FailureTarget', '2024-05-01T00:00:05Z')], 'Failed', '2024-05-01T00:00:01.000Z'],
      ['same time: list order', [condition('FailureTarget', '2024-05-01T00:00:01Z'), condition('Failed', '2024-05-01T00:00:01Z')], 'FailureTarget', '2024-05-01T00:00:01.000Z'],
      ['no times: list order', [condition('FailureTarget', undefined), condition('Failed', undefined)], 'FailureTarget', undefined],
      ['FailureTarget "False", Failed "True"', [condition('FailureTarget', '2024-05-01T00:00:01Z', 'False'), condition('Failed', '2024-05-01T00:00:05Z')], 'Failed', '2024-05-01T00:00:05.000Z'],
      ['after other conditions', [condition('Suspended', '2024-05-01T00:00:00Z', 'False'), condition('Failed', '2024-05-01T00:00:05Z')], 'Failed', '2024-05-01T00:00:05.000Z'],
      ['both "False"', [condition('FailureTarget', '2024-05-01T00:00:01Z', 'False'), condition('Failed', '2024-05-01T00:00:05Z', 'False')], undefined, undefined],
    ];
    for (const [name, conditions, expected, at] of cases) {
      it(`${name}: condition`, () => assert.equal(failureOf(withConditions(...conditions))?.condition, expected));
      it(`${name}: failedAt`, () => assert.equal(failureOf(withConditions(...conditions))?.failedAt?.toISOString(), at));
    }
    it('builder: FailureTarget then Failed', () => assert.equal(failureOf(job)?.condition, 'FailureTarget'));
    it('builder: failedAt is the FailureTarget time', () => assert.deepEqual(failureOf(job)?.failedAt, new Date(failedAt)));
    it('builder: Failed only', () => assert.equal(failureOf(failedJob({ conditions: ['Failed'] }))?.condition, 'Failed'));
  });

  describe('reason and message', () => {
    const cases: readonly [string, unknown, string, string][] = [
      ['verbatim unknown reason', { type: 'Failed', status: 'True', reason: 'SomethingNew', message: 'm' }, 'SomethingNew', 'm'],
      ['MaxFailedIndexesExceeded', { type: 'Failed', status: 'True', reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' }, 'MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes'],
      ['no reason', { type: 'Failed', status: 'True', message: 'm' }, 'Unknown', 'm'],
      ['empty reason', { type: 'Failed', status: 'True', reason: '', message: 'm' }, 'Unknown', 'm'],
      ['reason not a string', { type: 'Failed', status: 'True', reason: 7 }, 'Unknown', ''],
      ['no message', { type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }, 'DeadlineExceeded', ''],
    ];
    for (const [name, raw, reason, message] of cases) {
      it(`${name}: reason`, () => assert.equal(failureOf(withConditions(raw))?.reason, reason));
      it(`${name}: message`, () => assert.equal(failureOf(withConditions(raw))?.message, message));
    }
  });

  describe('counts and spec', () => {
    it('failedPods from status.failed', () => assert.equal(failureOf(failedJob({ failed: 3 }))?.failedPods, 3));
    it('failedPods 0 when absent', () => assert.equal(failureOf(withStatus({ conditions: [condition('Failed', failedAt)] }))?.failedPods, 0));
    it('succeededPods', () => assert.equal(failureOf(failedJob({ succeeded: 2 }))?.succeededPods, 2));
    it('succeededPods 0 when absent', () => assert.equal(failureOf(job)?.succeededPods, 0));
    it('failedPods not a number', () => assert.equal(failureOf(withStatus({ ...job.status, failed: '3' }))?.failedPods, 0));
    it('backoffLimit', () => assert.equal(failureOf(failedJob({ backoffLimit: 2 }))?.backoffLimit, 2));
    it('backoffLimit absent', () => assert.equal(failureOf({ ...job, spec: undefined })?.backoffLimit, undefined));
    it('failedIndexes', () => assert.equal(failureOf(failedJob({ failedIndexes: '0,2' }))?.failedIndexes, '0,2'));
    it('startedAt', () => assert.deepEqual(failureOf(job)?.startedAt, new Date(job.status.startTime)));
    it('startedAt garbage', () => assert.equal(failureOf(withStatus({ ...job.status, startTime: 'yesterday' }))?.startedAt, undefined));
    it('uid, namespace, name', () => assert.deepEqual(
      [failureOf(job)?.uid, failureOf(job)?.namespace, failureOf(job)?.name], [job.metadata.uid, 'default', 'demo']));
  });

  describe('not failed', () => {
    const cases: readonly [string, unknown][] = [
      ['running', withStatus({ active: 1, ready: 1, startTime: '2024-05-01T00:00:00Z', terminating: 0, uncountedTerminatedPods: {} })],
      ['retrying after a failed pod', withStatus({ active: 1, failed: 2, startTime: '2024-05-01T00:00:00Z' })],
      ['succeeded', withConditions(
        { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: '2024-05-01T00:01:00Z' },
        { type: 'Complete', status: 'True', lastTransitionTime: '2024-05-01T00:01:00Z' })],
      ['suspended', withConditions({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' })],
      ['just created', withStatus({})],
    ];
    for (const [name, object] of cases) it(name, () => assert.equal(failureOf(object), undefined));
  });

  describe('odd objects give undefined without throwing', () => {
    const cases: readonly [string, unknown][] = [
      ['undefined', undefined],
      ['null', null],
      ['a string', 'demo'],
      ['a number', 42],
      ['an array', [job]],
      ['{}', {}],
      ['no metadata', { ...job, metadata: undefined }],
      ['metadata null', { ...job, metadata: null }],
      ['no uid', withMetadata({ uid: undefined })],
      ['empty uid', withMetadata({ uid: '' })],
      ['uid not a string', withMetadata({ uid: 42 })],
      ['a Pod', { ...job, kind: 'Pod' }],
      ['no status', { ...job, status: undefined }],
      ['status null', withStatus(null)],
      ['conditions null', withStatus({ ...job.status, conditions: null })],
      ['conditions not a list', withStatus({ conditions: { type: 'Failed', status: 'True' } })],
      ['condition null', withConditions(null)],
      ['condition a string', withConditions('Failed')],
      ['condition without type, reason, status', withConditions({ message: 'm' })],
      ['condition without status', withConditions({ type: 'Failed', reason: 'BackoffLimitExceeded' })],
      ['status "False"', withConditions(condition('Failed', failedAt, 'False'))],
      ['status true (boolean)', withConditions({ ...condition('Failed', failedAt), status: true })],
      ['status "true" (lower case)', withConditions(condition('Failed', failedAt, 'true'))],
    ];
    for (const [name, object] of cases) it(name, () => assert.equal(failureOf(object), undefined));
  });

  describe('odd fields of a failed Job do not stop the alert', () => {
    it('lastTransitionTime "not-a-date"', () => assert.equal(failureOf(withConditions(condition('Failed', 'not-a-date')))?.failedAt, undefined));
    it('lastTransitionTime "not-a-date" still fails', () => assert.equal(failureOf(withConditions(condition('Failed', 'not-a-date')))?.reason, 'BackoffLimitExceeded'));
    it('lastTransitionTime "not-a-date" as a listed Invalid Date', () => assert.equal(failureOf(asListed(withConditions(condition('Failed', 'not-a-date'))))?.failedAt, undefined));
    it('lastTransitionTime a number', () => assert.equal(failureOf(withConditions({ ...condition('Failed', failedAt), lastTransitionTime: 1714528800 }))?.failedAt, undefined));
    it('ownerReferences null', () => assert.equal(failureOf(withMetadata({ ownerReferences: null }))?.cronJob, undefined));
    it('ownerReferences with null', () => assert.equal(failureOf(withMetadata({ ownerReferences: [null, 'x'] }))?.cronJob, undefined));
    it('annotations null', () => assert.equal(failureOf(withMetadata({ annotations: null }))?.scheduledAt, undefined));
    it('no namespace or name', () => assert.deepEqual(
      [failureOf(withMetadata({ namespace: undefined, name: undefined }))?.namespace, failureOf(withMetadata({ namespace: undefined, name: undefined }))?.name], ['', '']));
    it('no kind (list items carry none)', () => assert.equal(failureOf({ ...job, kind: undefined, apiVersion: undefined })?.uid, job.metadata.uid));
  });

  describe('both shapes give equal failures', () => {
    const jobs: readonly [string, unknown][] = [
      ['builder', job],
      ['builder with CronJob', failedJob({ cronJob: { name: 'nightly', scheduledAt: '2024-05-01T02:00:00Z' }, failedIndexes: '1', succeeded: 1 })],
      ['Failed only', failedJob({ conditions: ['Failed'] })],
    ];
    for (const [name, object] of jobs) it(name, () => assert.deepEqual(failureOf(asListed(object)), failureOf(object)));
    it('the listed shape really has Dates', () => assert.ok((asListed(job) as { status: { startTime: unknown } }).status.startTime instanceof Date));
  });

  it('loadFixture returns plain JSON with API-server timestamps', () => assert.equal(
    (loadFixture('int128-cronjob-runner-readme_Job-ownedBy-CronJob.yaml')[0] as { metadata: { creationTimestamp: unknown } }).metadata.creationTimestamp,
    '2023-10-31T04:03:14Z'));
});

describe('isOptedOut', () => {
  const annotated = (value: string | undefined) =>
    ({ metadata: { name: 'x', annotations: value === undefined ? {} : { 'kube-job-alerts.io/enabled': value } } });
  const cases: readonly [string | undefined, string | undefined, boolean][] = [
    [undefined, undefined, false],
    ['false', undefined, true],
    ['False', undefined, true],
    [' FALSE\n', undefined, true],
    ['true', undefined, false],
    ['no', undefined, false],
    ['', undefined, false],
    [undefined, 'false', true],
    [undefined, 'true', false],
    ['true', 'false', false],
    ['false', 'true', true],
    ['', 'false', true],
  ];
  for (const [job, cronJob, expected] of cases) {
    it(`Job ${JSON.stringify(job)}, CronJob ${JSON.stringify(cronJob)}`, () => assert.equal(isOptedOut(annotated(job), annotated(cronJob)), expected));
  }
  it('no CronJob given', () => assert.equal(isOptedOut(annotated('false')), true));
  it('a listed class instance', () => assert.equal(isOptedOut(asListed(failedJob({ annotations: { 'kube-job-alerts.io/enabled': 'false' } }))), true));
  for (const odd of [null, undefined, 'false', {}, { metadata: null }, { metadata: { annotations: null } }, { metadata: { annotations: { 'kube-job-alerts.io/enabled': false } } }]) {
    it(`odd ${JSON.stringify(odd)}`, () => assert.equal(isOptedOut(odd, odd), false));
  }
});

describe('alertedAt', () => {
  const marked = (value: unknown) => ({ metadata: { annotations: { 'kube-job-alerts.io/alerted-at': value } } });
  const cases: readonly [unknown, string | undefined][] = [
    ['2024-05-01T02:05:00Z', '2024-05-01T02:05:00.000Z'],
    ['2024-05-01T02:05:00.123Z', '2024-05-01T02:05:00.123Z'],
    ['2024-05-01T04:05:00+02:00', '2024-05-01T02:05:00.000Z'],
    ['not-a-date', undefined],
    ['1', undefined],
    ['', undefined],
    [1714529100, undefined],
    [null, undefined],
  ];
  for (const [value, expected] of cases) it(JSON.stringify(value), () => assert.equal(alertedAt(marked(value))?.toISOString(), expected));
  it('not annotated', () => assert.equal(alertedAt(failedJob()), undefined));
  it('annotations null', () => assert.equal(alertedAt({ metadata: { annotations: null } }), undefined));
  it('null', () => assert.equal(alertedAt(null), undefined));
});

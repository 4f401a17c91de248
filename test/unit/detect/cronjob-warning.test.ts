import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronJobWarning, type CronJobWarning } from '../../../src/detect/cronjob-warning.ts';
import { cronJob, cronJobEvent, type CronJobEventOptions } from '../../fixtures/cronjobs.ts';

/**
 * The shape of a listed CoreV1Event: timestamps as Dates. (loadYaml has no type for core/v1 Event, so it would keep
 * strings; client-node's informer deserializes to CoreV1Event with Date fields.)
 */
const asListed = (event: ReturnType<typeof cronJobEvent>): unknown => ({
  ...event,
  firstTimestamp: new Date(event.firstTimestamp),
  lastTimestamp: new Date(event.lastTimestamp),
  metadata: { ...event.metadata, creationTimestamp: new Date(event.metadata.creationTimestamp) },
});
const hello = cronJob();
const plain = (warning: CronJobWarning | undefined): unknown => (warning === undefined ? undefined : JSON.parse(JSON.stringify(warning)));
const SKIPPED_RUNS_ALERT = 2;

/** Messages as cronjob_controllerv2.go and utils.go format them. */
const rows: [name: string, event: CronJobEventOptions, expected: Record<string, unknown> | undefined][] = [
  ['MissSchedule: the missed time read from the message', { reason: 'MissSchedule', message: 'Missed scheduled time to start a job: Wed, 01 May 2024 11:00:00 +0000' },
    { reason: 'MissSchedule', message: 'Missed scheduled time to start a job: Wed, 01 May 2024 11:00:00 +0000', scheduledTime: '2024-05-01T11:00:00.000Z', count: 1, due: true }],
  ['TooManyMissedTimes', { reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew' },
    { reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew', count: 1, due: true }],
  ['UnknownTimeZone', { reason: 'UnknownTimeZone', message: 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus' },
    { reason: 'UnknownTimeZone', message: 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus', count: 1, due: true }],
  ['UnparseableSchedule', { reason: 'UnparseableSchedule', message: 'unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61' },
    { reason: 'UnparseableSchedule', message: 'unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61', count: 1, due: true }],
  ['InvalidSchedule', { reason: 'InvalidSchedule', message: 'invalid schedule: 0 0 30 2 * : time difference between two schedules is less than 1 second' },
    { reason: 'InvalidSchedule', message: 'invalid schedule: 0 0 30 2 * : time difference between two schedules is less than 1 second', count: 1, due: true }],
  ['FailedCreate (a quota)', { reason: 'FailedCreate', message: 'Error creating job: jobs.batch "hello-28576020" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=1, used: limits.cpu=4, limited: limits.cpu=4' },
    { reason: 'FailedCreate', message: 'Error creating job: jobs.batch "hello-28576020" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=1, used: limits.cpu=4, limited: limits.cpu=4', count: 1, due: true }],
  ['FailedNeedsStart (the pre-1.21 controller)', { reason: 'FailedNeedsStart', message: 'Cannot determine if job needs to be started: Too many missed start time (> 100). Set or decrease .spec.startingDeadlineSeconds or check clock skew.' },
    { reason: 'FailedNeedsStart', message: 'Cannot determine if job needs to be started: Too many missed start time (> 100). Set or decrease .spec.startingDeadlineSeconds or check clock skew.', count: 1, due: true }],
  ['JobAlreadyActive once: not due (SKIPPED_RUNS_ALERT=2)', { reason: 'JobAlreadyActive', type: 'Normal', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' },
    { reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid', count: 1, due: false }],
  ['JobAlreadyActive twice: due', { reason: 'JobAlreadyActive', type: 'Normal', count: 2, lastTimestamp: '2024-05-01T12:00:00Z', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' },
    { reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid', count: 2, lastSeen: '2024-05-01T12:00:00.000Z', due: true }],
  ['a normal event of the controller is none of these', { reason: 'SuccessfulCreate', type: 'Normal', message: 'Created job hello-28576020' }, undefined],
  ['nor is SawCompletedJob', { reason: 'SawCompletedJob', type: 'Normal', message: 'Saw completed job: hello-28576020, status: Complete' }, undefined],
];

describe('cronJobWarning', () => {
  for (const [name, options, expected] of rows) {
    const event = cronJobEvent(hello, options);
    const full = expected && {
      cronJob: { namespace: 'default', name: 'hello', uid: hello.metadata.uid },
      firstSeen: '2024-05-01T11:00:00.000Z',
      lastSeen: '2024-05-01T11:00:00.000Z',
      eventUid: event.metadata.uid,
      ...expected,
    };
    it(name, () => assert.deepEqual(plain(cronJobWarning(event, SKIPPED_RUNS_ALERT)), full));
    it(`${name} (listed class instance)`, () => assert.deepEqual(plain(cronJobWarning(asListed(event), SKIPPED_RUNS_ALERT)), full));
  }

  it('an events.k8s.io/v1 Event: regarding, note, series', () => {
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      eventTime: '2024-05-01T11:00:00.123456Z',
      metadata: { name: 'hello.17cb2a3e5f1d4c2b', namespace: 'default', uid: '0b8e3c2a-5d1f-4e6a-9c7b-2f4d6e8a1c3b' },
      note: 'Not starting job because prior execution is running and concurrency policy is Forbid',
      reason: 'JobAlreadyActive',
      regarding: { apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', namespace: 'default', uid: hello.metadata.uid },
      reportingController: 'cronjob-controller',
      reportingInstance: 'kube-controller-manager-control-plane',
      series: { count: 3, lastObservedTime: '2024-05-01T13:00:00.000000Z' },
      type: 'Normal',
      action: 'Sync',
    };
    assert.deepEqual(plain(cronJobWarning(event, SKIPPED_RUNS_ALERT)), {
      reason: 'JobAlreadyActive',
      cronJob: { namespace: 'default', name: 'hello', uid: hello.metadata.uid },
      message: 'Not starting job because prior execution is running and concurrency policy is Forbid',
      count: 3,
      firstSeen: '2024-05-01T11:00:00.123Z',
      lastSeen: '2024-05-01T13:00:00.000Z',
      due: true,
      eventUid: '0b8e3c2a-5d1f-4e6a-9c7b-2f4d6e8a1c3b',
    });
  });

  it('the same reasons about other objects are not CronJob warnings', () => {
    const event = cronJobEvent(hello, { reason: 'FailedCreate', message: 'Error creating: pods "hello-28576020-x7k2q" is forbidden' });
    assert.equal(cronJobWarning({ ...event, involvedObject: { ...event.involvedObject, kind: 'Job' } }, SKIPPED_RUNS_ALERT), undefined);
    assert.equal(cronJobWarning({ ...event, involvedObject: { ...event.involvedObject, apiVersion: 'example.com/v1' } }, SKIPPED_RUNS_ALERT), undefined);
  });

  it('a MissSchedule message in another form keeps the warning, without a time', () => {
    const warning = cronJobWarning(cronJobEvent(hello, { reason: 'MissSchedule', message: 'Missed scheduled time to start a job: 2024-05-01 11:00' }), SKIPPED_RUNS_ALERT);
    assert.equal(warning?.reason, 'MissSchedule');
    assert.equal(warning?.scheduledTime, undefined);
  });

  it('odd objects are no warning and never throw', () => {
    for (const odd of [null, undefined, 42, 'event', [], {}, { reason: 'MissSchedule' }, { reason: 'MissSchedule', involvedObject: { kind: 'CronJob' } }]) {
      assert.equal(cronJobWarning(odd, SKIPPED_RUNS_ALERT), undefined, JSON.stringify(odd));
    }
  });
});

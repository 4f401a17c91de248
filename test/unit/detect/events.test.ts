import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { MAX_EVENT_MESSAGE, MAX_EVENTS, warningEventsOf } from '../../../src/detect/events.ts';
import { event, quotaMessage } from '../../fixtures/events.ts';

const job = { kind: 'Job', name: 'nightly-28641600', uid: 'job-uid' } as const;
const pod = { kind: 'Pod', name: 'nightly-28641600-x7k2p', uid: 'pod-uid' } as const;

const quota = event({ on: job, reason: 'FailedCreate', message: quotaMessage('nightly-28641600'), at: '2024-06-20T20:51:58Z', count: 4 });
const limit = event({ on: job, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', at: '2024-06-20T20:52:19Z' });
const pull = event({ on: pod, reason: 'Failed', message: 'Failed to pull image "ghcr.io/acme/report:1.5": not found', at: '2024-06-20T20:50:30Z', series: true, count: 3 });
const created = event({ on: job, type: 'Normal', reason: 'SuccessfulCreate', message: 'Created pod: nightly-28641600-x7k2p', at: '2024-06-20T20:53:00Z' });
// events.k8s.io recorder, happened once: no series, only eventTime.
const once = event({ on: pod, reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "config"', at: '2024-06-20T20:50:00Z', series: true });

describe('warningEventsOf', () => {
  it('Warning events only, newest first, with count and time from either recorder', () => {
    assert.deepEqual(warningEventsOf([pull, quota, created, once, limit]), [
      { kind: 'Job', name: job.name, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', count: 1, lastSeen: new Date('2024-06-20T20:52:19Z') },
      { kind: 'Job', name: job.name, reason: 'FailedCreate', message: quotaMessage(job.name), count: 4, lastSeen: new Date('2024-06-20T20:51:58Z') },
      { kind: 'Pod', name: pod.name, reason: 'Failed', message: 'Failed to pull image "ghcr.io/acme/report:1.5": not found', count: 3, lastSeen: new Date('2024-06-20T20:50:30.654Z') },
      { kind: 'Pod', name: pod.name, reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "config"', count: 1, lastSeen: new Date('2024-06-20T20:50:00.123Z') },
    ]);
  });
  it('the same from listed class instances (Dates)', () => {
    const listed = [pull, quota, created, once, limit].map((e) => loadYaml(JSON.stringify(e)));
    assert.deepEqual(warningEventsOf(listed), warningEventsOf([pull, quota, created, once, limit]));
  });
  it(`keeps the newest ${MAX_EVENTS}`, () => {
    const many = Array.from({ length: 12 }, (_, i) => event({ on: job, reason: `R${i}`, message: 'm', at: `2024-06-20T20:${String(10 + i).padStart(2, '0')}:00Z` }));
    assert.deepEqual(warningEventsOf(many).map((e) => e.reason), ['R11', 'R10', 'R9', 'R8', 'R7']);
  });
  it('cuts a long message', () => {
    const long = event({ on: job, reason: 'FailedCreate', message: `admission webhook "policy" denied the request: ${'x'.repeat(2000)}`, at: '2024-06-20T20:51:58Z' });
    const [found] = warningEventsOf([long]);
    assert.equal(found?.message.length, MAX_EVENT_MESSAGE);
    assert.ok(found?.message.endsWith('…'));
  });
  it('an event without any time sorts last and has no lastSeen', () => {
    const { lastTimestamp: _l, firstTimestamp: _f, metadata, ...rest } = quota as Record<string, unknown> & { metadata: Record<string, unknown> };
    const untimed = { ...rest, metadata: { ...metadata, creationTimestamp: undefined } };
    const found = warningEventsOf([untimed, limit]);
    assert.equal(found[1]?.reason, 'FailedCreate');
    assert.equal(found[1]?.lastSeen, undefined);
  });
  it('garbage gives nothing and does not throw', () => {
    assert.deepEqual(warningEventsOf([null, 'x', 3, {}, { type: 'Warning' }, { type: 'Warning', count: 'x', reason: 5 }]), []);
  });
});

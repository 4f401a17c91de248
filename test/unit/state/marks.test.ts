import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withFailure, withOutcome, EMPTY_STORY, type Story } from '../../../src/decide/story.ts';
import type { CronJobRecord } from '../../../src/detect/records.ts';
import { silentLogger } from '../../../src/log.ts';
import { Marks, type ObjectRef, type WriteErrorKind } from '../../../src/state/marks.ts';
import { decodeStory } from '../../../src/state/story-codec.ts';

const job = { namespace: 'default', name: 'demo', uid: 'uid-demo' };
const at = new Date('2026-11-25T12:00:00Z');
const cronRef: ObjectRef = { kind: 'CronJob', namespace: 'batch', name: 'nightly', uid: 'cj-uid' };

function marksThatFail(errors: WriteErrorKind[], store: 'annotation' | 'memory' = 'annotation') {
  const calls: [ObjectRef, Readonly<Record<string, string>>][] = [];
  const sleeps: number[] = [];
  const marks = new Marks({
    store,
    write: async (object, annotations) => {
      calls.push([object, annotations]);
      const next = errors.shift();
      if (next) throw Object.assign(new Error(next), { kind: next });
    },
    classify: (error) => (error as { kind: WriteErrorKind }).kind,
    describe: String,
    logger: silentLogger,
    attempts: 4,
    backoff: { baseMs: 1000, maxMs: 8000, jitter: 'none' },
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { marks, calls, sleeps };
}

function cronJob(story?: string): CronJobRecord {
  return { uid: 'cj-uid', namespace: 'batch', name: 'nightly', schedule: '0 * * * *', timeZone: undefined, suspended: false, createdAt: undefined, lastScheduleTime: undefined, lastSuccessfulTime: undefined, startingDeadlineSeconds: undefined, concurrencyPolicy: undefined, activeRuns: 0, annotations: story === undefined ? {} : { story } };
}

const oneFailure = (outcome: 'pending' | 'notified'): Story =>
  withFailure(EMPTY_STORY, { uid: 'r1', name: 'nightly-1', order: Date.parse('2026-11-25T11:00:00Z'), failedAt: Date.parse('2026-11-25T11:01:00Z'), outcome, notifiedAt: at.getTime() });

describe('Marks: a Job failure', () => {
  it('writes alerted-at with the UID as precondition, and remembers at once', async () => {
    const { marks, calls } = marksThatFail([]);
    assert.equal(await marks.markAlerted(job, at), 'written');
    assert.deepEqual(calls, [[{ kind: 'Job', ...job }, { 'kube-job-alerts.io/alerted-at': '2026-11-25T12:00:00.000Z' }]]);
    assert.equal(marks.isDecided(job.uid), true);
  });

  it('retries transient errors with backoff, then gives up without throwing', async () => {
    const { marks, calls, sleeps } = marksThatFail(['retry', 'retry', 'retry', 'retry', 'retry']);
    assert.equal(await marks.markAlerted(job, at), 'failed');
    assert.equal(calls.length, 4);
    assert.deepEqual(sleeps, [1000, 2000, 4000]);
    assert.equal(marks.isDecided(job.uid), true, 'still remembered in memory: no duplicate from this process');
  });

  it('stops at once when the object is gone or writing is denied', async () => {
    for (const kind of ['gone', 'denied', 'other'] as const) {
      const { marks, calls } = marksThatFail([kind]);
      await marks.markAlerted(job, at);
      assert.equal(calls.length, 1, kind);
    }
  });

  it('the memory store (and DRY_RUN) writes nothing to the cluster', async () => {
    const { marks, calls } = marksThatFail([], 'memory');
    assert.equal(await marks.markAlerted(job, at), 'memory');
    assert.equal(await (marks.setStory('batch/nightly', oneFailure('notified')), marks.persistStory(cronRef, 'batch/nightly')), 'memory');
    assert.deepEqual(calls, []);
    assert.equal(marks.isDecided(job.uid), true);
  });

  it('forgets a deleted Job', async () => {
    const { marks } = marksThatFail([]);
    marks.decided(job.uid);
    marks.forgetJob(job.uid);
    assert.equal(marks.isDecided(job.uid), false);
  });
});

describe('Marks: a CronJob story', () => {
  it('reads the story an earlier process wrote on the CronJob', () => {
    const { marks } = marksThatFail([]);
    const written = '{"v":1,"failures":[{"uid":"r1","name":"nightly-1","at":"2026-11-25T11:00:00.000Z","outcome":"notified"}]}';
    assert.equal(marks.story('batch/nightly', cronJob(written)).failures.length, 1);
  });

  it('writes only what Slack confirmed, and only when it changed', async () => {
    const { marks, calls } = marksThatFail([]);
    marks.setStory('batch/nightly', oneFailure('pending'));
    assert.equal(await marks.persistStory(cronRef, 'batch/nightly'), 'written');
    assert.deepEqual(decodeStory(calls[0]![1]['kube-job-alerts.io/story']).story.failures, [], 'a pending message is not written');
    assert.equal(await marks.persistStory(cronRef, 'batch/nightly'), 'unchanged');
    marks.setStory('batch/nightly', withOutcome(oneFailure('pending'), 'r1', 'notified', at.getTime()));
    assert.equal(await marks.persistStory(cronRef, 'batch/nightly'), 'written');
    assert.equal(decodeStory(calls[1]![1]['kube-job-alerts.io/story']).story.failures[0]?.outcome, 'notified');
    assert.equal(calls.length, 2);
  });

  it('a story edited into nonsense counts from scratch, with one warning', () => {
    const { marks } = marksThatFail([]);
    assert.deepEqual(marks.story('batch/nightly', cronJob('{not json')), EMPTY_STORY);
  });
});

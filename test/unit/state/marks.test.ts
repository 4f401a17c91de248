import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log.ts';
import { AnnotationMarks, type PatchErrorKind } from '../../../src/state/marks.ts';
import { failureOf } from '../../../src/detect/failure.ts';
import { failedJob } from '../../fixtures/index.ts';

const clock = { now: () => new Date('2026-11-25T12:00:00Z') };
const job = failedJob({ failedAt: '2026-11-25T11:59:00Z' });
const failure = failureOf(job)!;

function marksThatFail(errors: PatchErrorKind[]) {
  const calls: unknown[][] = [];
  const sleeps: number[] = [];
  const marks = new AnnotationMarks({
    annotate: async (...args) => {
      calls.push(args);
      const next = errors.shift();
      if (next) throw Object.assign(new Error(next), { kind: next });
    },
    classify: (error) => (error as { kind: PatchErrorKind }).kind,
    describe: String,
    logger: silentLogger,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { marks, calls, sleeps };
}

describe('AnnotationMarks', () => {
  it('reads the alerted-at annotation an earlier process wrote', () => {
    const { marks } = marksThatFail([]);
    assert.equal(marks.isMarked(failure.uid, failedJob({ annotations: { 'kube-job-alerts.io/alerted-at': '2026-11-25T11:00:00Z' } })), true);
    assert.equal(marks.isMarked(failure.uid, job), false);
  });

  it('writes the annotation with the UID as precondition, and remembers at once', async () => {
    const { marks, calls } = marksThatFail([]);
    await marks.mark(failure, clock);
    assert.deepEqual(calls, [[{ namespace: 'default', name: 'demo', uid: failure.uid }, { 'kube-job-alerts.io/alerted-at': '2026-11-25T12:00:00.000Z' }]]);
    assert.equal(marks.isMarked(failure.uid, job), true);
  });

  it('retries transient errors with backoff, then gives up without throwing', async () => {
    const { marks, calls, sleeps } = marksThatFail(['retry', 'retry', 'retry', 'retry', 'retry']);
    await marks.mark(failure, clock);
    assert.equal(calls.length, 4);
    assert.deepEqual(sleeps, [1000, 2000, 4000]);
    assert.equal(marks.isMarked(failure.uid, job), true, 'still marked in memory: no duplicate from this process');
  });

  it('stops at once when the Job is gone or patching is denied', async () => {
    for (const kind of ['gone', 'denied', 'other'] as const) {
      const { marks, calls } = marksThatFail([kind]);
      await marks.mark(failure, clock);
      assert.equal(calls.length, 1, kind);
    }
  });

  it('forgets a deleted Job', async () => {
    const { marks } = marksThatFail([]);
    await marks.mark(failure, clock);
    marks.forget(failure.uid);
    assert.equal(marks.isMarked(failure.uid, job), false);
  });
});

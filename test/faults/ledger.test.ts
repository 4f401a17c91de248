// The fault suite's verdicts are only as good as its counting: read real rendered messages (a single alert, a
// multi-part digest, a reminder) and count them as the suite does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureNotification } from '../../src/notify/notification.ts';
import { digestsOf } from '../../src/notify/storm.ts';
import { buildDigest } from '../../src/slack/digest.ts';
import { buildAlert } from '../../src/slack/format.ts';
import { oomKilledAlert } from '../fixtures/alerts.ts';
import type { ReceivedPost } from '../world/slack.ts';
import { jobsNamedIn, tally } from './ledger.ts';

function failure(name: string, namespace = 'batch'): FailureNotification {
  return { ...oomKilledAlert, kind: 'failure', at: new Date('2026-11-29T12:00:00Z'), failure: { ...oomKilledAlert.failure, uid: `uid-${name}`, name, namespace } };
}
const single = (name: string) => buildAlert({ ...oomKilledAlert, failure: { ...oomKilledAlert.failure, name, namespace: 'batch' } });
const digest = (names: string[], perDigest = 40) => digestsOf(names.map((name) => failure(name)), 'storm', perDigest, 3000).map(buildDigest);
const post = (body: unknown, at: number, status = 200): ReceivedPost => ({ body, rawBody: JSON.stringify(body), at, status, path: '/' });

describe('jobsNamedIn', () => {
  it('reads the Job of a single alert from its header', () => {
    assert.deepEqual(jobsNamedIn(single('nightly-1')), ['batch/nightly-1']);
  });

  it('reads every Job of a digest, each once, from every part', () => {
    const names = Array.from({ length: 45 }, (_, i) => `storm-${i}`);
    const parts = digest(names);
    assert.equal(parts.length, 2);
    assert.deepEqual(parts.flatMap(jobsNamedIn), names.map((name) => `batch/${name}`));
  });

  it('names nothing for a reminder, a body without blocks or no body', () => {
    assert.deepEqual(jobsNamedIn(buildAlert({ ...oomKilledAlert, reminder: true, cronJob: { namespace: 'batch', name: 'nightly' } } as Parameters<typeof buildAlert>[0])), []);
    assert.deepEqual(jobsNamedIn({ text: 'Job failed: batch/x' }), []);
    assert.deepEqual(jobsNamedIn(undefined), []);
  });
});

describe('tally', () => {
  it('counts delivered, lost, duplicated and unexpected Jobs, and when the last expected one was named', () => {
    const posts = [
      post(single('a'), 1000),
      post(digest(['b', 'c'])[0], 2000),
      post(single('b'), 3000),
      post(single('d'), 3500, 500), // refused: not posted
      post(single('sentinel'), 4000),
      post(single('stray'), 5000),
    ];
    const result = tally(posts, ['batch/a', 'batch/b', 'batch/c', 'batch/d'], ['batch/sentinel']);
    assert.equal(result.delivered, 3);
    assert.deepEqual(result.lost, ['batch/d']);
    assert.deepEqual([...result.duplicated], [['batch/b', 2]]);
    assert.deepEqual(result.unexpected, ['batch/stray']);
    assert.equal(result.lastNamedAt, 2000);
  });
});

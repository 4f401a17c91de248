import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Evidence, JobFailure } from '../../../src/alert.ts';
import { attemptsOf, COMPLETION_INDEX, indexFailuresOf } from '../../../src/detect/attempts.ts';
import { failureOf } from '../../../src/detect/failure.ts';
import {
  attemptsSummary, detailsText, evidenceBlocks, eventsText, indexesText, nextStepCommands, nextStepsText, ranges,
} from '../../../src/slack/evidence-blocks.ts';
import { oomKilledFailure, oomKilledFullEvidence } from '../../fixtures/alerts.ts';
import { failedJob, failedPod, fixtureJob } from '../../fixtures/index.ts';

const failure = oomKilledFailure;
const none: Evidence = { notes: [] };
const attempts = (groups: NonNullable<Evidence['attempts']>['groups'], total = groups.reduce((n, g) => n + g.count, 0)): Evidence =>
  ({ notes: [], attempts: { total, groups } });

describe('attemptsSummary', () => {
  const cases: readonly [string, Evidence, string | undefined][] = [
    ['the issue\'s example', attempts([{ reason: 'OOMKilled', exitCode: 137, count: 3 }, { reason: 'Error', exitCode: 1, count: 1 }]),
      '4 failed attempts: 3x OOMKilled (exit 137), 1x Error (exit 1)'],
    ['one attempt', attempts([{ reason: 'Error', exitCode: 1, count: 1 }]), '1 failed attempt: 1x Error (exit 1)'],
    ['a pod-level reason', attempts([{ reason: 'Evicted', count: 2 }]), '2 failed attempts: 2x Evicted'],
    ['an exit code without reason', attempts([{ exitCode: 3, count: 1 }]), '1 failed attempt: 1x exit 3'],
    ['restarts whose end was not kept', attempts([{ reason: 'Error', exitCode: 1, count: 1 }, { count: 2 }]),
      '3 failed attempts: 1x Error (exit 1), 2x restart (exit code not kept)'],
    ['groups beyond the kept ones', attempts([{ reason: 'Error', exitCode: 1, count: 5 }], 9), '9 failed attempts: 5x Error (exit 1), 4 more'],
    ['none', none, undefined],
  ];
  for (const [name, evidence, expected] of cases) it(name, () => assert.equal(attemptsSummary(evidence), expected));
  it('from real pods: 3 OOMKilled and 1 Error', () => {
    const job = failedJob({ backoffLimit: 3 });
    const pods = [137, 1, 137, 137].map((exitCode, attempt) => failedPod(job, { attempt, exitCode, reason: exitCode === 137 ? 'OOMKilled' : 'Error' }));
    assert.equal(attemptsSummary({ notes: [], attempts: attemptsOf(pods) }), '4 failed attempts: 3x OOMKilled (exit 137), 1x Error (exit 1)');
  });
});

describe('detailsText', () => {
  it('attempts, image and memory limit', () => assert.equal(detailsText(failure, oomKilledFullEvidence),
    '*7 failed attempts:* 6x OOMKilled (exit 137), 1x Error (exit 1)\n*Image:* `registry.example.com/reports:2.14.0`   *Memory limit:* `100Mi`'));
  it('only an image', () => assert.equal(detailsText(failure, { notes: [], image: 'nginx' }), '*Image:* `nginx`'));
  it('an image with a backtick is not put in a code span, and is escaped', () =>
    assert.equal(detailsText(failure, { notes: [], image: 'evil`<!channel>' }), '*Image:* evil`&lt;!channel&gt;'));
  it('nothing', () => assert.equal(detailsText(failure, none), undefined));
  it('a hostile reason is escaped', () => assert.equal(detailsText(failure, attempts([{ reason: '<!channel>', count: 1 }])),
    '*1 failed attempt:* 1x &lt;!channel&gt;'));
});

// The docs' backoffLimitPerIndex example: failed indexes 0,2,4,6,8 (each failed twice, exit 1), the odd ones succeeded.
const perIndexFailure = failureOf(fixtureJob('kubernetes-website_job-md_backoffLimitPerIndex_FailedIndexes.yaml'))!;
const perIndexJob = failedJob({ name: perIndexFailure.name, uid: perIndexFailure.uid, container: 'example', image: 'python' });
const indexedPod = (index: number, attempt: number, exitCode: number) => {
  const pod = failedPod(perIndexJob, { attempt: index * 2 + attempt, exitCode });
  return { ...pod, metadata: { ...pod.metadata, annotations: { [COMPLETION_INDEX]: String(index) } } };
};
const perIndexPods = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((index) =>
  index % 2 === 0 ? [indexedPod(index, 0, 1), indexedPod(index, 1, 1)] : [{ ...indexedPod(index, 0, 0), status: { phase: 'Succeeded' } }]);

describe('indexesText', () => {
  it('the docs\' example: each failed index exited 1', () => assert.equal(
    indexesText(perIndexFailure, { notes: [], indexes: indexFailuresOf(perIndexPods) }),
    '*Exit codes of the failed indexes:* Error (exit 1): 0, 2, 4, 6, 8'));
  it('different ends, and failed indexes whose pods are gone', () => {
    const indexes = [{ index: 0, exitCode: 1, reason: 'Error', failures: 2 }, { index: 1, exitCode: 1, reason: 'Error', failures: 1 },
      { index: 2, exitCode: 1, reason: 'Error', failures: 2 }, { index: 3, exitCode: 1, reason: 'Error', failures: 2 }, { index: 5, exitCode: 137, reason: 'OOMKilled', failures: 2 }];
    assert.equal(indexesText({ ...failure, failedIndexes: '0,2-3,5,7-8' }, { notes: [], indexes }),
      '*Exit codes of the failed indexes:* Error (exit 1): 0, 2, 3; OOMKilled (exit 137): 5; no pod left: 7, 8');
  });
  it('an Indexed Job without failedIndexes: every index that failed', () => assert.equal(
    indexesText(failure, { notes: [], indexes: [{ index: 4, exitCode: 2, reason: 'Error', failures: 7 }] }),
    '*Exit codes by index:* Error (exit 2): 4'));
  it('a huge failedIndexes range is not expanded', () => {
    const text = indexesText({ ...failure, failedIndexes: '0-99999' }, { notes: [], indexes: [{ index: 0, exitCode: 1, failures: 1 }] })!;
    assert.match(text, /exit 1: 0; no pod left: 1-99; 99900 more$/);
  });
  it('no per-index evidence: nothing (the facts already list the failed indexes)', () =>
    assert.equal(indexesText(perIndexFailure, none), undefined));
});

describe('ranges', () => {
  const cases: readonly [number[], string][] = [[[0, 1, 2, 3, 5, 7, 8], '0-3, 5, 7, 8'], [[4], '4'], [[], ''], [[1, 2], '1, 2'], [[1, 2, 3], '1-3']];
  for (const [indexes, expected] of cases) it(`${indexes} -> ${expected}`, () => assert.equal(ranges(indexes), expected));
});

describe('eventsText', () => {
  const evidence: Evidence = {
    notes: [],
    events: [
      { kind: 'Job', name: failure.name, reason: 'FailedCreate', message: 'pods "x" is forbidden: <!channel> exceeded quota', count: 4, lastSeen: new Date('2024-06-20T20:51:58Z') },
      { kind: 'Pod', name: 'nightly-x7k2p', reason: 'Failed', message: 'Failed to pull image "a:1"', count: 1 },
    ],
  };
  it('one bullet per event, escaped', () => assert.equal(eventsText(failure, evidence),
    '*Warning events* (newest first, UTC)\n• 20:51:58 *FailedCreate* (Job, 4x): pods "x" is forbidden: &lt;!channel&gt; exceeded quota\n• *Failed* (pod nightly-x7k2p): Failed to pull image "a:1"'));
  it('whole bullets only, within the room', () => {
    const text = eventsText(failure, evidence, 150)!;
    assert.ok(text.length <= 150);
    assert.equal(text.split('\n').length, 2);
  });
  it('no events', () => assert.equal(eventsText(failure, none), undefined));
});

describe('nextStepCommands', () => {
  const standalone: JobFailure = { ...failure, cronJob: undefined };
  const cases: readonly [string, JobFailure, Evidence, string[]][] = [
    ['a CronJob run whose container failed', failure, { notes: [], pod: 'nightly-report-28641600-x7k2p', container: 'report' }, [
      'kubectl -n batch describe job/nightly-report-28641600',
      'kubectl -n batch logs nightly-report-28641600-x7k2p -c report',
      'kubectl -n batch create job --from=cronjob/nightly-report nightly-report-retry',
    ]],
    ['the failed instance is the previous one', standalone, { notes: [], pod: 'p', container: 'c', previous: true }, [
      'kubectl -n batch describe job/nightly-report-28641600',
      'kubectl -n batch logs p -c c --previous',
    ]],
    ['a pod that failed before any container ran', standalone, { notes: [], pod: 'p', reason: 'Evicted' }, [
      'kubectl -n batch describe job/nightly-report-28641600',
      'kubectl -n batch describe pod/p',
    ]],
    ['no pods left', standalone, none, ['kubectl -n batch describe job/nightly-report-28641600']],
    ['a name that would need quoting is never offered', standalone, { notes: [], pod: 'p; rm -rf /', container: 'c' }, [
      'kubectl -n batch describe job/nightly-report-28641600',
    ]],
    ['a hostile namespace: nothing', { ...failure, namespace: '<!channel>' }, { notes: [], pod: 'p', container: 'c' }, []],
    ['a retry name over 63 characters is not offered', { ...failure, cronJob: 'c'.repeat(58) }, none, ['kubectl -n batch describe job/nightly-report-28641600']],
  ];
  for (const [name, f, evidence, expected] of cases) it(name, () => assert.deepEqual(nextStepCommands(f, evidence), expected));
  it('as mrkdwn: one code span per line', () => assert.equal(nextStepsText(standalone, none),
    '*Next steps*\n`kubectl -n batch describe job/nightly-report-28641600`'));
  it('nothing to offer: undefined', () => assert.equal(nextStepsText({ ...failure, namespace: 'Bad Ns' }, none), undefined));
});

describe('evidenceBlocks', () => {
  const rich: Evidence = { ...oomKilledFullEvidence, indexes: [{ index: 3, exitCode: 137, reason: 'OOMKilled', failures: 1 }] };
  const texts = (room?: number) => evidenceBlocks(failure, rich, room).map((block) => block.text?.text.split('\n')[0]!.slice(0, 12));
  it('details, indexes, events in reading order', () => assert.deepEqual(texts(), ['*7 failed at', '*Exit codes ', '*Warning eve']));
  it('the events give way first when room is short', () => {
    const all = evidenceBlocks(failure, rich).reduce((n, block) => n + (block.text?.text.length ?? 0), 0);
    const events = eventsText(failure, rich)!.length;
    assert.deepEqual(texts(all - events), ['*7 failed at', '*Exit codes ']);
  });
  it('no room: nothing', () => assert.deepEqual(evidenceBlocks(failure, rich, 0), []));
  it('no evidence: nothing', () => assert.deepEqual(evidenceBlocks(failure, none), []));
});

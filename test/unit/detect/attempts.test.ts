import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { attemptsOf, COMPLETION_INDEX, indexFailuresOf, MAX_ATTEMPT_GROUPS, parseIndexes } from '../../../src/detect/attempts.ts';
import { failureOf } from '../../../src/detect/failure.ts';
import { failedJob, failedPod, fixtureJob, type FailedPod } from '../../fixtures/index.ts';

/** The shape the informer's initial list yields: class instances with Date fields. */
const asListed = (object: unknown): unknown => loadYaml(JSON.stringify(object));

const job = failedJob({ startedAt: '2024-05-01T02:00:00Z', backoffLimit: 3 });
const pod = (attempt: number, exitCode: number, reason?: string) => failedPod(job, { attempt, exitCode, reason });
const withStatus = (p: FailedPod, status: Record<string, unknown>) => ({ ...p, status: { ...p.status, ...status } });

// restartPolicy OnFailure: one pod, its container restarted 3 times; the kubelet keeps only the last termination.
const onFailure = withStatus(pod(0, 1), {
  phase: 'Running',
  containerStatuses: [{ name: 'nginx', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2024-05-01T02:01:00Z' } } }],
});
// A native sidecar (init container with restartPolicy Always) restarts by design: not an attempt.
const withSidecar = {
  ...pod(0, 2),
  spec: { ...pod(0, 2).spec, initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] },
  status: {
    ...pod(0, 2).status,
    initContainerStatuses: [{ name: 'proxy', ready: false, restartCount: 2, state: { terminated: { exitCode: 137, reason: 'Error' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } } }],
  },
};
const evicted = (() => {
  const { containerStatuses: _gone, ...status } = pod(1, 1).status;
  return { ...pod(1, 1), status: { ...status, phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } };
})();
const succeeded = withStatus(pod(2, 0), { phase: 'Succeeded' });
const running = withStatus(pod(3, 0), { phase: 'Running', containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, state: { running: {} } }] });

describe('attemptsOf', () => {
  const cases: readonly [string, unknown[], ReturnType<typeof attemptsOf>][] = [
    ['3 OOMKilled and 1 Error: most frequent first', [pod(0, 137, 'OOMKilled'), pod(1, 1), pod(2, 137, 'OOMKilled'), pod(3, 137, 'OOMKilled')],
      { total: 4, groups: [{ reason: 'OOMKilled', exitCode: 137, count: 3 }, { reason: 'Error', exitCode: 1, count: 1 }] }],
    ['same reason, different exit codes are different groups', [pod(0, 1), pod(1, 2)],
      { total: 2, groups: [{ reason: 'Error', exitCode: 1, count: 1 }, { reason: 'Error', exitCode: 2, count: 1 }] }],
    ['OnFailure restarts: the last from lastState, the earlier ones unknown', [onFailure],
      { total: 3, groups: [{ reason: 'Error', exitCode: 1, count: 1 }, { count: 2 }] }],
    ['a pod that failed without containers counts by its reason', [evicted, pod(0, 1)],
      { total: 2, groups: [{ reason: 'Evicted', count: 1 }, { reason: 'Error', exitCode: 1, count: 1 }] }],
    ['sidecar restarts are not attempts', [withSidecar], { total: 1, groups: [{ reason: 'Error', exitCode: 2, count: 1 }] }],
    ['succeeded and running pods are not failed attempts', [succeeded, running, pod(0, 1)], { total: 1, groups: [{ reason: 'Error', exitCode: 1, count: 1 }] }],
    ['no failed pods', [succeeded, running], undefined],
    ['no pods', [], undefined],
    ['garbage', [null, 'pod', 42, {}, { status: { containerStatuses: [{ restartCount: 'x' }] } }], undefined],
  ];
  for (const [name, pods, expected] of cases) {
    it(name, () => assert.deepEqual(attemptsOf(pods), expected));
    if (name !== 'garbage') it(`${name}, as listed class instances`, () => assert.deepEqual(attemptsOf(pods.map(asListed)), expected));
  }

  it(`keeps at most ${MAX_ATTEMPT_GROUPS} groups, and the total counts all`, () => {
    const attempts = attemptsOf(Array.from({ length: 20 }, (_, i) => pod(i, i + 1)))!;
    assert.equal(attempts.groups.length, MAX_ATTEMPT_GROUPS);
    assert.equal(attempts.total, 20);
  });
});

// The docs' backoffLimitPerIndex example: 10 indexes, the even ones fail twice (exit 1), the odd ones succeed.
const perIndex = fixtureJob('kubernetes-website_job-md_backoffLimitPerIndex_FailedIndexes.yaml');
const perIndexFailure = failureOf(perIndex)!;
const perIndexJob = failedJob({
  name: perIndexFailure.name, uid: perIndexFailure.uid, container: 'example', image: 'python', startedAt: '2024-05-01T02:00:00Z',
});
const indexed = (index: number, attempt: number, exitCode: number, where: 'annotation' | 'label' = 'annotation') => {
  const built = failedPod(perIndexJob, { attempt: index * 2 + attempt, exitCode });
  const metadata = where === 'annotation'
    ? { ...built.metadata, annotations: { [COMPLETION_INDEX]: String(index) } }
    : { ...built.metadata, labels: { ...built.metadata.labels, [COMPLETION_INDEX]: String(index) } };
  return { ...built, metadata, status: exitCode === 0 ? { ...built.status, phase: 'Succeeded' } : built.status };
};
const perIndexPods = Array.from({ length: 10 }, (_, index) =>
  index % 2 === 0 ? [indexed(index, 0, 1), indexed(index, 1, 1, 'label')] : [indexed(index, 0, 0)]).flat();

describe('indexFailuresOf (the docs\' backoffLimitPerIndex example)', () => {
  it('the fixture is the failed Job with failed indexes 0,2,4,6,8', () => {
    assert.equal(perIndexFailure.reason, 'FailedIndexes');
    assert.equal(perIndexFailure.failedIndexes, '0,2,4,6,8');
    assert.equal(perIndexFailure.failedPods, 10);
  });
  it('gives each failed index its last exit code and how often it failed', () => {
    assert.deepEqual(indexFailuresOf(perIndexPods), [0, 2, 4, 6, 8].map((index) => ({ index, exitCode: 1, reason: 'Error', failures: 2 })));
  });
  it('the same from listed class instances', () => {
    assert.deepEqual(indexFailuresOf(perIndexPods.map(asListed)), indexFailuresOf(perIndexPods));
  });
  it('summarises the attempts: 10 failed, all exit 1', () => {
    assert.deepEqual(attemptsOf(perIndexPods), { total: 10, groups: [{ reason: 'Error', exitCode: 1, count: 10 }] });
  });
  it('the last attempt of an index wins', () => {
    const first = failedPod(perIndexJob, { attempt: 0, exitCode: 3, finishedAt: '2024-05-01T02:00:10Z' });
    const later = failedPod(perIndexJob, { attempt: 1, exitCode: 4, reason: 'OOMKilled', finishedAt: '2024-05-01T02:00:30Z' });
    const tag = (p: typeof first) => ({ ...p, metadata: { ...p.metadata, annotations: { [COMPLETION_INDEX]: '7' } } });
    assert.deepEqual(indexFailuresOf([tag(later), tag(first)]), [{ index: 7, exitCode: 4, reason: 'OOMKilled', failures: 2 }]);
  });
  it('a NonIndexed Job\'s pods give nothing', () => assert.deepEqual(indexFailuresOf([pod(0, 1)]), []));
  it('an index that is not a number is ignored', () => {
    const odd = { ...pod(0, 1), metadata: { ...pod(0, 1).metadata, annotations: { [COMPLETION_INDEX]: '-1' } } };
    assert.deepEqual(indexFailuresOf([odd]), []);
  });
});

describe('parseIndexes', () => {
  const cases: readonly [string | undefined, ReturnType<typeof parseIndexes>][] = [
    ['0,2,4,6,8', { indexes: [0, 2, 4, 6, 8], total: 5 }],
    ['1,3-5,7', { indexes: [1, 3, 4, 5, 7], total: 5 }],
    [' 0 , 2 ', { indexes: [0, 2], total: 2 }],
    ['0-99999', { indexes: Array.from({ length: 100 }, (_, i) => i), total: 100_000 }],
    ['5-3', undefined],
    ['a,b', undefined],
    ['1,,2', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of cases) it(JSON.stringify(value), () => assert.deepEqual(parseIndexes(value), expected));
});

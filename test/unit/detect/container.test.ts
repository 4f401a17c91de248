import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { evidenceFromPods, signalName } from '../../../src/detect/container.ts';
import { failedJob, failedPod, loadFixture } from '../../fixtures/index.ts';

/** The shape the informer's initial list yields: class instances with Date fields (loadYaml deserializes so). */
const asListed = (object: unknown): unknown => loadYaml(JSON.stringify(object));

const job = failedJob({ startedAt: '2024-05-01T02:00:00Z' });
const first = failedPod(job, { attempt: 0, finishedAt: '2024-05-01T02:00:03Z' });
const second = failedPod(job, { attempt: 1, finishedAt: '2024-05-01T02:00:23Z' });
const statusOf = (pod: typeof first, status: Record<string, unknown>) => ({ ...pod, status: { ...pod.status, ...status } });
const terminated = (name: string, fields: Record<string, unknown>) =>
  ({ name, ready: false, restartCount: 0, state: { terminated: { startedAt: '2024-05-01T02:00:01Z', ...fields } } });

// The docs' memory-demo-2 pod (restartPolicy Always): its container is in CrashLoopBackOff after being OOMKilled.
const [oomStatus] = loadFixture('kubernetes-website_assign-memory-resource_OOMKilled-lastState.yaml') as [Record<string, unknown>];
const memoryDemo = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'memory-demo-2', namespace: 'mem-example', creationTimestamp: '2017-06-20T20:52:07Z' },
  // The docs' manifest (memory-demo-2.yaml): limit 100Mi, and it allocates 250M.
  spec: { containers: [{ name: 'memory-demo-2-ctr', image: 'polinux/stress', resources: { limits: { memory: '100Mi' }, requests: { memory: '50Mi' } } }] },
  status: {
    phase: 'Running',
    containerStatuses: [{ name: 'memory-demo-2-ctr', ...oomStatus, ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
  },
};

const initFailed = statusOf(first, {
  initContainerStatuses: [terminated('migrate', { exitCode: 2, reason: 'Error', message: 'relation "users" does not exist', finishedAt: '2024-05-01T02:00:02Z' })],
  containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
});
const podFailed = (reason: string, message: string, pod = first) => {
  const { containerStatuses: _dropped, ...status } = pod.status;
  return { ...pod, status: { ...status, phase: 'Failed', reason, message } };
};
const evictedMessage = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 43864Ki. Container nginx was using 1507648Ki, request is 0, has larger consumption of memory.';
const evicted = podFailed('Evicted', evictedMessage);
const evictedLater = { ...podFailed('Evicted', evictedMessage, second), metadata: { ...second.metadata, creationTimestamp: '2024-05-01T02:10:00Z' } };
// Since Kubernetes 1.27 an evicted pod keeps its containerStatuses, the killed container marked ContainerStatusUnknown.
const evictedWithContainer = statusOf(first, {
  phase: 'Failed',
  reason: 'Evicted',
  message: evictedMessage,
  containerStatuses: [terminated('nginx', { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', finishedAt: '2024-05-01T02:00:03Z' })],
});
const sidecarKilled = statusOf(first, {
  containerStatuses: [
    terminated('proxy', { exitCode: 137, reason: 'Error', finishedAt: '2024-05-01T02:00:08Z' }),
    terminated('nginx', { exitCode: 1, reason: 'Error', finishedAt: '2024-05-01T02:00:03Z' }),
  ],
});
const currentAndPrevious = statusOf(first, {
  containerStatuses: [
    { name: 'proxy', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2024-05-01T02:00:01Z' } } },
    terminated('nginx', { exitCode: 1, reason: 'Error', finishedAt: '2024-05-01T02:00:03Z' }),
  ],
});
const onFailureRestarting = statusOf(first, {
  phase: 'Running',
  containerStatuses: [{ name: 'nginx', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2024-05-01T02:00:03Z' } } }],
});
const pending = statusOf(first, {
  phase: 'Pending',
  containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
});
const succeeded = failedPod(job, { exitCode: 0 });
const succeededPod = statusOf(succeeded, { phase: 'Succeeded' });

const base = { pod: first.metadata.name, node: 'worker-1' };
/** The pod with memory limits on its app container (512Mi) and on an init container `migrate` (64Mi). */
const limited = <P extends typeof first>(pod: P) => ({
  ...pod,
  spec: {
    ...pod.spec,
    initContainers: [{ name: 'migrate', image: 'migrate:2', resources: { limits: { memory: '64Mi' } } }],
    containers: pod.spec.containers.map((c) => ({ ...c, resources: { limits: { memory: '512Mi' } } })),
  },
});
const initOom = statusOf(first, {
  initContainerStatuses: [terminated('migrate', { exitCode: 137, reason: 'OOMKilled', finishedAt: '2024-05-01T02:00:02Z' })],
  containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
});

describe('evidenceFromPods', () => {
  const cases: readonly [string, unknown[], Record<string, unknown>][] = [
    ['OOMKilled lastState (docs fixture)', [memoryDemo], { pod: 'memory-demo-2', container: 'memory-demo-2-ctr', exitCode: 137, reason: 'OOMKilled', signal: 9, previous: true, image: 'polinux/stress', memoryLimit: '100Mi' }],
    ['exit code 1 Error', [first], { ...base, container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['137 is signal 9', [failedPod(job, { exitCode: 137 })], { ...base, container: 'nginx', image: 'nginx', exitCode: 137, reason: 'Error', signal: 9 }],
    ['143 is signal 15', [failedPod(job, { exitCode: 143 })], { ...base, container: 'nginx', image: 'nginx', exitCode: 143, reason: 'Error', signal: 15 }],
    ['255 is exit(-1), not a signal', [failedPod(job, { exitCode: 255 })], { ...base, container: 'nginx', image: 'nginx', exitCode: 255, reason: 'Error' }],
    ['OOMKilled with exit code 0', [failedPod(job, { exitCode: 0, reason: 'OOMKilled' })], { ...base, container: 'nginx', image: 'nginx', exitCode: 0, reason: 'OOMKilled' }],
    ['OOMKilled with exit code 137', [failedPod(job, { exitCode: 137, reason: 'OOMKilled' })], { ...base, container: 'nginx', image: 'nginx', exitCode: 137, reason: 'OOMKilled', signal: 9 }],
    ['a memory limit is reported only for OOMKilled', [limited(failedPod(job, { exitCode: 1 }))], { ...base, container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['OOMKilled init container: its own limit', [limited(initOom)], { ...base, container: 'migrate', image: 'migrate:2', exitCode: 137, reason: 'OOMKilled', signal: 9, memoryLimit: '64Mi' }],
    ['termination message', [failedPod(job, { exitCode: 42, message: 'bad input row 17\n' })], { ...base, container: 'nginx', image: 'nginx', exitCode: 42, reason: 'Error', message: 'bad input row 17\n' }],
    ['init container failure', [initFailed], { ...base, container: 'migrate', exitCode: 2, reason: 'Error', message: 'relation "users" does not exist' }],
    ['two failed pods: the later wins', [first, second], { pod: second.metadata.name, node: 'worker-1', container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['two failed pods, listed the other way', [second, first], { pod: second.metadata.name, node: 'worker-1', container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['the first container to fail, not the one killed after it', [sidecarKilled], { ...base, container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['a current failure before a previous one', [currentAndPrevious], { ...base, container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['restartPolicy OnFailure: the previous instance', [onFailureRestarting], { ...base, container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error', previous: true }],
    ['evicted pod, no containerStatuses', [evicted], { ...base, reason: 'Evicted', message: evictedMessage }],
    ['UnexpectedAdmissionError', [podFailed('UnexpectedAdmissionError', 'Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. Requested: 1, Available: 0, which is unexpected')],
      { ...base, reason: 'UnexpectedAdmissionError', message: 'Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. Requested: 1, Available: 0, which is unexpected' }],
    ['evicted pod that still reports its container (ContainerStatusUnknown): the pod says why', [evictedWithContainer],
      { ...base, container: 'nginx', image: 'nginx', exitCode: 137, reason: 'Evicted', message: evictedMessage, signal: 9 }],
    ['NodeAffinity', [podFailed('NodeAffinity', 'Pod was rejected: Predicate NodeAffinity failed')], { ...base, reason: 'NodeAffinity', message: 'Pod was rejected: Predicate NodeAffinity failed' }],
    ['evicted pod created after the other failed: creation time counts', [first, evictedLater], { pod: second.metadata.name, node: 'worker-1', reason: 'Evicted', message: evictedMessage }],
    ['a failed pod among running and pending ones', [pending, first, succeededPod], { ...base, container: 'nginx', image: 'nginx', exitCode: 1, reason: 'Error' }],
    ['pending pod', [pending], {}],
    ['succeeded pod', [succeededPod], {}],
    ['no pods', [], {}],
  ];
  for (const [name, pods, expected] of cases) {
    it(name, () => assert.deepEqual(evidenceFromPods(pods), expected));
    it(`${name}, as listed class instances`, () => assert.deepEqual(evidenceFromPods(pods.map(asListed)), expected));
  }

  describe('garbage gives {} without throwing', () => {
    const cases: readonly [string, unknown][] = [
      ['not an array', { items: [first] }],
      ['null', null],
      ['nulls and strings', [null, undefined, 'pod', 42, []]],
      ['{}', [{}]],
      ['status null', [{ metadata: { name: 'p' }, status: null }]],
      ['containerStatuses null', [{ status: { containerStatuses: null, initContainerStatuses: 'x' } }]],
      ['odd container statuses', [{ status: { containerStatuses: [null, 'c', { state: null }, { state: { terminated: null } }, { lastState: { terminated: 'x' } }] } }]],
      ['terminated without code or reason', [{ status: { containerStatuses: [{ name: 'c', state: { terminated: {} } }] } }]],
      ['exit code not a number', [{ status: { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: '1' } } }] } }]],
      ['Completed with exit code 0', [{ status: { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } }]],
    ];
    for (const [name, pods] of cases) it(name, () => assert.deepEqual(evidenceFromPods(pods as unknown[]), {}));
  });

  describe('odd fields of a failed pod', () => {
    it('finishedAt garbage still picks the container', () => assert.equal(
      evidenceFromPods([failedPod(job, { finishedAt: 'not-a-date' })]).container, 'nginx'));
    it('phase Failed with nothing else', () => assert.deepEqual(evidenceFromPods([{ status: { phase: 'Failed' } }]), {}));
    it('phase Failed with a name', () => assert.deepEqual(evidenceFromPods([{ metadata: { name: 'p' }, status: { phase: 'Failed' } }]), { pod: 'p' }));
    it('a reason without an exit code', () => assert.deepEqual(
      evidenceFromPods([{ status: { containerStatuses: [{ name: 'c', state: { terminated: { reason: 'ContainerCannotRun', message: 'exec: "foo": not found' } } }] } }]),
      { container: 'c', reason: 'ContainerCannotRun', message: 'exec: "foo": not found' }));
  });
});

describe('signalName', () => {
  const cases: readonly [number, string | undefined][] = [
    [1, 'SIGHUP'], [2, 'SIGINT'], [3, 'SIGQUIT'], [4, 'SIGILL'], [6, 'SIGABRT'], [7, 'SIGBUS'], [8, 'SIGFPE'],
    [9, 'SIGKILL'], [11, 'SIGSEGV'], [13, 'SIGPIPE'], [15, 'SIGTERM'], [0, undefined], [64, undefined], [-9, undefined], [Number.NaN, undefined],
  ];
  for (const [signal, name] of cases) it(`${signal} -> ${name}`, () => assert.equal(signalName(signal), name));
});

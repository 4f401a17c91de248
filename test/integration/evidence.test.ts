/**
 * Enrichment (src/kube/evidence.ts) with the real client over HTTPS: pods found by label, every attempt, the failed
 * container's log tail ending with the log's last line, the Warning events by field selector, and every lookup
 * failure turned into a note rather than a lost alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { failureOf } from '../../src/detect/failure.ts';
import { evidenceGatherer } from '../../src/kube/evidence.ts';
import { silentLogger } from '../../src/log.ts';
import { COMPLETION_INDEX } from '../../src/detect/attempts.ts';
import { event, quotaMessage } from '../fixtures/events.ts';
import { failedJob, failedPod } from '../fixtures/index.ts';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';

let api: ApiServer;
let core: CoreV1Api;
const signal = new AbortController().signal;

before(async () => {
  api = await startApiServer();
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(api.kubeconfigPath);
  core = kubeconfig.makeApiClient(CoreV1Api);
});
after(() => api.close());

function seed(name: string, podOptions: Parameters<typeof failedPod>[1] = {}, labels?: 'legacy-only') {
  const job = failedJob({ name, namespace: 'ev' });
  const pod = failedPod(job, podOptions);
  if (labels === 'legacy-only') {
    const { 'batch.kubernetes.io/controller-uid': _a, 'batch.kubernetes.io/job-name': _b, ...legacy } = pod.metadata.labels;
    api.create('pods', { ...pod, metadata: { ...pod.metadata, labels: legacy } });
  } else {
    api.create('pods', pod);
  }
  return { failure: failureOf(job)!, pod };
}

describe('evidenceGatherer', () => {
  it('reports the failed container and the last lines of its log', async () => {
    const { failure, pod } = seed('oom', { exitCode: 137, reason: 'OOMKilled', node: 'worker-7' });
    api.setPodLog('ev', pod.metadata.name, pod.spec.containers[0]!.name, Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    const evidence = await evidenceGatherer({ core, tailLines: 3, logger: silentLogger })(failure, signal);
    assert.equal(evidence.pod, pod.metadata.name);
    assert.equal(evidence.node, 'worker-7');
    assert.equal(evidence.exitCode, 137);
    assert.equal(evidence.reason, 'OOMKilled');
    assert.equal(evidence.signal, 9);
    assert.deepEqual(evidence.logTail, ['line 48', 'line 49', 'line 50']);
    assert.deepEqual(evidence.notes, []);
    const logRead = api.requests.find((r) => r.resource === 'pods/log' && r.name === pod.metadata.name)!;
    assert.equal(logRead.query.tailLines, '3');
    assert.ok(Number(logRead.query.limitBytes) > 0);
  });

  it('finds pods that carry only the legacy controller-uid label', async () => {
    const { failure, pod } = seed('legacy', {}, 'legacy-only');
    api.setPodLog('ev', pod.metadata.name, pod.spec.containers[0]!.name, 'old cluster\n');
    const evidence = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failure, signal);
    assert.equal(evidence.pod, pod.metadata.name);
    assert.deepEqual(evidence.logTail, ['old cluster']);
  });

  it('reads the previous instance\'s log when that is the one that failed (restartPolicy OnFailure)', async () => {
    const job = failedJob({ name: 'restarted', namespace: 'ev' });
    const pod = failedPod(job, { exitCode: 3 });
    const [status] = pod.status.containerStatuses;
    const restarted = {
      ...pod,
      status: { ...pod.status, phase: 'Running', containerStatuses: [{ ...status!, restartCount: 1, state: { running: { startedAt: status!.state.terminated.finishedAt } }, lastState: status!.state }] },
    };
    api.create('pods', restarted);
    const container = pod.spec.containers[0]!.name;
    api.setPodLog('ev', pod.metadata.name, container, 'current attempt, still running\n');
    api.setPodLog('ev', pod.metadata.name, container, 'the attempt that failed\n', { previous: true });
    const evidence = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failureOf(job)!, signal);
    assert.equal(evidence.exitCode, 3);
    assert.deepEqual(evidence.logTail, ['the attempt that failed']);
  });

  it('says why when the pods are gone', async () => {
    const failure = failureOf(failedJob({ name: 'gone', namespace: 'ev' }))!;
    const evidence = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failure, signal);
    assert.equal(evidence.pod, undefined);
    assert.match(evidence.notes[0]!, /No pods left/);
  });

  it('gives the container without logs, and a note, when the log cannot be read', async () => {
    const { failure } = seed('nolog', { exitCode: 2 });
    const evidence = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failure, signal);
    assert.equal(evidence.exitCode, 2);
    assert.equal(evidence.logTail, undefined);
    assert.match(evidence.notes[0]!, /Logs unavailable: HTTP 404/);
  });

  it('gives a note, not an error, when listing pods fails or hangs', async () => {
    const { failure } = seed('flaky');
    api.faults.failNext(1, { status: 500, match: (r) => r.resource === 'pods' && r.verb === 'list' });
    const failed = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failure, signal);
    assert.match(failed.notes[0]!, /Pods unavailable: HTTP 500/);
    api.faults.hang((r) => r.resource === 'pods' && r.verb === 'list');
    const hung = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger, timeoutMs: 200 })(failure, signal);
    api.faults.clearHang();
    assert.match(hung.notes[0]!, /no answer within 0.2 s/);
  });

  it('reads no log when LOG_TAIL_LINES is 0', async () => {
    const { failure, pod } = seed('notail');
    const before = api.requests.filter((r) => r.resource === 'pods/log').length;
    const evidence = await evidenceGatherer({ core, tailLines: 0, logger: silentLogger })(failure, signal);
    assert.equal(evidence.pod, pod.metadata.name);
    assert.equal(api.requests.filter((r) => r.resource === 'pods/log').length, before);
  });

  it('summarises every attempt and gives the image and, for an OOMKill, the memory limit', async () => {
    const job = failedJob({ name: 'oom-attempts', namespace: 'ev', backoffLimit: 3, image: 'registry.example.com/reports:2.14.0' });
    const limited = (pod: ReturnType<typeof failedPod>) => ({
      ...pod,
      spec: { ...pod.spec, containers: pod.spec.containers.map((c) => ({ ...c, resources: { limits: { memory: '512Mi' } } })) },
    });
    [137, 1, 137, 137].forEach((exitCode, attempt) =>
      api.create('pods', limited(failedPod(job, { attempt, exitCode, reason: exitCode === 137 ? 'OOMKilled' : 'Error' }))));
    const evidence = await evidenceGatherer({ core, tailLines: 0, logger: silentLogger })(failureOf(job)!, signal);
    assert.deepEqual(evidence.attempts, { total: 4, groups: [{ reason: 'OOMKilled', exitCode: 137, count: 3 }, { reason: 'Error', exitCode: 1, count: 1 }] });
    assert.equal(evidence.image, 'registry.example.com/reports:2.14.0');
    assert.equal(evidence.memoryLimit, '512Mi');
  });

  it('gives each failed index of an Indexed Job its exit code', async () => {
    const job = failedJob({ name: 'per-index', namespace: 'ev', failedIndexes: '0,2', reason: 'FailedIndexes', message: 'Job has failed indexes' });
    for (const [index, exitCode] of [[0, 3], [1, 0], [2, 4]] as const) {
      const pod = failedPod(job, { attempt: index, exitCode });
      const status = exitCode === 0 ? { ...pod.status, phase: 'Succeeded' } : pod.status;
      api.create('pods', { ...pod, metadata: { ...pod.metadata, annotations: { [COMPLETION_INDEX]: String(index) } }, status });
    }
    const evidence = await evidenceGatherer({ core, tailLines: 0, logger: silentLogger })(failureOf(job)!, signal);
    assert.deepEqual(evidence.indexes, [{ index: 0, exitCode: 3, reason: 'Error', failures: 1 }, { index: 2, exitCode: 4, reason: 'Error', failures: 1 }]);
  });
});

describe('evidenceGatherer: Warning events', () => {
  it('lists the Job\'s and its failed pod\'s Warning events by uid, newest first, and nothing else', async () => {
    const { failure, pod } = seed('quota');
    const podRef = { kind: 'Pod', name: pod.metadata.name, uid: api.get('pods', 'ev', pod.metadata.name)!.metadata.uid } as const;
    const jobRef = { kind: 'Job', name: failure.name, uid: failure.uid } as const;
    api.create('events', event({ namespace: 'ev', on: jobRef, reason: 'FailedCreate', message: quotaMessage(failure.name), at: '2024-06-20T20:51:58Z', count: 4 }));
    api.create('events', event({ namespace: 'ev', on: jobRef, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', at: '2024-06-20T20:52:19Z' }));
    api.create('events', event({ namespace: 'ev', on: podRef, reason: 'Failed', message: 'Error: ErrImagePull', at: '2024-06-20T20:50:30Z', series: true, count: 3 }));
    // Not this failure's: a Normal event, a Job of the same name that was deleted and re-created, another pod.
    api.create('events', event({ namespace: 'ev', on: jobRef, type: 'Normal', reason: 'SuccessfulCreate', message: 'Created pod', at: '2024-06-20T20:53:00Z' }));
    api.create('events', event({ namespace: 'ev', on: { ...jobRef, uid: 'an-earlier-job-of-that-name' }, reason: 'DeadlineExceeded', message: 'old', at: '2024-06-20T20:54:00Z' }));
    api.create('events', event({ namespace: 'ev', on: { kind: 'Pod', name: 'other', uid: 'other-pod' }, reason: 'BackOff', message: 'other', at: '2024-06-20T20:55:00Z' }));
    const from = api.requests.length;

    const evidence = await evidenceGatherer({ core, tailLines: 0, logger: silentLogger })(failure, signal);

    assert.deepEqual(evidence.events?.map((e) => `${e.kind} ${e.reason} ${e.count}`), ['Job BackoffLimitExceeded 1', 'Job FailedCreate 4', 'Pod Failed 3']);
    assert.equal(evidence.events?.[1]?.message, quotaMessage(failure.name));
    const selectors = api.requests.slice(from).filter((r) => r.resource === 'events').map((r) => `${r.verb} ${r.namespace} ${r.query.fieldSelector}`);
    assert.deepEqual(selectors.sort(), [`list ev involvedObject.uid=${failure.uid},type=Warning`, `list ev involvedObject.uid=${podRef.uid},type=Warning`].sort());
  });

  it('still gives the Job\'s events when its pods are gone', async () => {
    const failure = failureOf(failedJob({ name: 'no-pods-quota', namespace: 'ev' }))!;
    api.create('events', event({ namespace: 'ev', on: { kind: 'Job', name: failure.name, uid: failure.uid }, reason: 'FailedCreate', message: quotaMessage(failure.name), at: '2024-06-20T20:51:58Z' }));
    const evidence = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failure, signal);
    assert.equal(evidence.events?.[0]?.reason, 'FailedCreate');
    assert.match(evidence.notes[0]!, /No pods left/);
  });

  it('forbidden events give a note, and the rest of the evidence', async () => {
    const { failure, pod } = seed('no-events-rbac', { exitCode: 2 });
    api.setPodLog('ev', pod.metadata.name, pod.spec.containers[0]!.name, 'boom\n');
    api.setRbac([{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['list', 'get'] }]);
    try {
      const evidence = await evidenceGatherer({ core, tailLines: 5, logger: silentLogger })(failure, signal);
      assert.equal(evidence.exitCode, 2);
      assert.deepEqual(evidence.logTail, ['boom']);
      assert.equal(evidence.events, undefined);
      assert.equal(evidence.notes.length, 1, 'one note for both event lists');
      assert.match(evidence.notes[0]!, /^Events unavailable: HTTP 403: events is forbidden/);
    } finally {
      api.setRbac(undefined);
    }
  });

  it('the emulator answers the field selectors the real server supports, and refuses others as it does', async () => {
    const on = { kind: 'Job', name: 'selectors', uid: 'selectors-uid' } as const;
    api.create('events', event({ namespace: 'sel', on, reason: 'FailedCreate', message: 'core/v1 recorder', at: '2024-06-20T20:51:58Z' }));
    api.create('events', event({ namespace: 'sel', on: { ...on, kind: 'Pod' }, reason: 'Failed', message: 'events.k8s.io recorder', at: '2024-06-20T20:51:58Z', series: true }));
    const messages = async (fieldSelector: string) => (await core.listNamespacedEvent({ namespace: 'sel', fieldSelector })).items.map((e) => e.message);
    assert.deepEqual(await messages('involvedObject.kind=Job,involvedObject.name=selectors,reason=FailedCreate'), ['core/v1 recorder']);
    // `source` is source.component, or reportingComponent when that is empty (ToSelectableFields).
    assert.deepEqual(await messages('source=job-controller'), ['core/v1 recorder']);
    assert.deepEqual(await messages('source=kubelet'), ['events.k8s.io recorder']);
    assert.deepEqual(await messages('involvedObject.uid=selectors-uid,type!=Warning'), []);
    await assert.rejects(core.listNamespacedEvent({ namespace: 'ev', fieldSelector: 'message=x' }), (error: { code?: number; body?: string }) =>
      error.code === 400 && JSON.parse(error.body ?? '{}').message === 'field label not supported: message');
  });
});

describe('evidenceGatherer: the log tail ends with the log\'s last line', () => {
  const longLines = (count: number, bytes: number) => Array.from({ length: count }, (_, i) => `${String(i).padStart(3, '0')} ${'x'.repeat(bytes - 4)}`);

  it('the emulator, like the kubelet, counts limitBytes from the start of the tailLines window', async () => {
    const { pod } = seed('kubelet-order');
    api.setPodLog('ev', pod.metadata.name, 'nginx', 'aaaa\nbbbb\ncccc\nFATAL\n');
    assert.equal(await core.readNamespacedPodLog({ name: pod.metadata.name, namespace: 'ev', tailLines: 3, limitBytes: 7 }), 'bbbb\ncc');
    // A last line without its newline is not counted, but comes along (kubelet tail.FindTailLineStartIndex).
    api.setPodLog('ev', pod.metadata.name, 'nginx', 'aaaa\nbbbb\nwriting');
    assert.equal(await core.readNamespacedPodLog({ name: pod.metadata.name, namespace: 'ev', tailLines: 1 }), 'bbbb\nwriting');
  });

  it('30 lines of 4 KB then FATAL, LOG_TAIL_LINES=20: the FATAL line is the last line, in one read', async () => {
    const { failure, pod } = seed('fatal-default');
    api.setPodLog('ev', pod.metadata.name, 'nginx', [...longLines(30, 4096), 'FATAL out of memory in worker 3'].join('\n') + '\n');
    const from = api.requests.length;
    const evidence = await evidenceGatherer({ core, tailLines: 20, logger: silentLogger })(failure, signal);
    assert.equal(evidence.logTail?.at(-1), 'FATAL out of memory in worker 3');
    assert.equal(evidence.logTail?.length, 4, 'the 16 KiB kept: the last three long lines and FATAL');
    assert.equal(api.requests.slice(from).filter((r) => r.resource === 'pods/log').length, 1);
  });

  it('when the window exceeds one read\'s limitBytes, it reads again with fewer lines, and ends with FATAL', async () => {
    const { failure, pod } = seed('fatal-reread');
    api.setPodLog('ev', pod.metadata.name, 'nginx', [...longLines(30, 4096), 'FATAL out of memory in worker 3'].join('\n') + '\n');
    const from = api.requests.length;
    const limits = { logReadBytes: 64 * 1024, logKeepBytes: 64 * 1024 };
    const evidence = await evidenceGatherer({ core, tailLines: 20, logger: silentLogger, limits })(failure, signal);
    assert.equal(evidence.logTail?.at(-1), 'FATAL out of memory in worker 3');
    assert.equal(evidence.logTail?.at(-2), longLines(30, 4096)[29]);
    const reads = api.requests.slice(from).filter((r) => r.resource === 'pods/log').map((r) => `${r.query.tailLines}/${r.query.limitBytes}`);
    assert.deepEqual(reads, ['20/65536', '10/65536'], 'the first read was cut at 16 lines, so 10 lines are asked next');
    assert.deepEqual(evidence.notes, []);
  });

  it('a last line longer than one read: its beginning, and a note; at most logReads reads', async () => {
    const { failure, pod } = seed('giant-line');
    api.setPodLog('ev', pod.metadata.name, 'nginx', `${longLines(5, 100).join('\n')}\nFATAL ${'y'.repeat(10_000)} END\n`);
    const from = api.requests.length;
    const limits = { logReadBytes: 1024, logReads: 3, logKeepBytes: 4096 };
    const evidence = await evidenceGatherer({ core, tailLines: 20, logger: silentLogger, limits })(failure, signal);
    assert.equal(evidence.logTail?.length, 1);
    assert.match(evidence.logTail![0]!, /^FATAL y+$/);
    assert.match(evidence.notes.join(' '), /last line is longer than 1 KiB/);
    const reads = api.requests.slice(from).filter((r) => r.resource === 'pods/log').map((r) => r.query.tailLines);
    assert.deepEqual(reads, ['20', '5', '1'], 'the 5 complete lines of the first read are asked for, then the last allowed read asks for one');
  });

  it('short lines, then long ones at the end: at most logReads reads, the last asking for one line', async () => {
    const { failure, pod } = seed('many-reads');
    const lines = [...longLines(397, 100), ...longLines(3, 900)];
    api.setPodLog('ev', pod.metadata.name, 'nginx', lines.join('\n') + '\n');
    const from = api.requests.length;
    const evidence = await evidenceGatherer({ core, tailLines: 400, logger: silentLogger, limits: { logReadBytes: 1000, logReads: 3 } })(failure, signal);
    const reads = api.requests.slice(from).filter((r) => r.resource === 'pods/log').map((r) => r.query.tailLines);
    assert.deepEqual(reads, ['400', '9', '1']);
    assert.deepEqual(evidence.logTail, [lines[399]]);
  });
});

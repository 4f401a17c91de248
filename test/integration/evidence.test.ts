/**
 * Enrichment (src/kube/evidence.ts) with the real client over HTTPS: pods found by label, the failed container's
 * log tail, and every lookup failure turned into a note rather than a lost alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { failureOf } from '../../src/detect/failure.ts';
import { evidenceGatherer } from '../../src/kube/evidence.ts';
import { silentLogger } from '../../src/log.ts';
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
});

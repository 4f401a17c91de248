/**
 * The slim copies the informers cache (src/kube/slim.ts) read exactly as the whole objects do: every record, fact and
 * filter the daemon derives from a Job, CronJob or Namespace is the same from its slim copy, over every fixture, in
 * both shapes (plain JSON from a watch, class instances with Dates from the typed client), and over generated and
 * broken objects. And the slim copy holds none of the bulk (managedFields, the pod template, the jobTemplate).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadYaml } from '@kubernetes/client-node';
import { scheduleFacts } from '../../../src/detect/cronjob-health.ts';
import { cronJobRecord, jobRecord } from '../../../src/detect/records.ts';
import { runFacts } from '../../../src/detect/run-health.ts';
import { slimCronJob, slimEvent, slimJob, slimNamespace } from '../../../src/kube/slim.ts';
import { cronJobWarning } from '../../../src/detect/cronjob-warning.ts';
import { isJobWatched, parseLabelSelector, parseNamespacePattern, type NamespacePattern } from '../../../src/route/watched.ts';
import { annotated } from '../../../src/alerts/addressing.ts';
import { cronJob, cronJobEvent, run } from '../../fixtures/cronjobs.ts';
import { event as coreEvent } from '../../fixtures/events.ts';
import { failedJob } from '../../fixtures/index.ts';
import { mutated, seedJobs } from '../properties/arbitraries.ts';

/** As the typed client lists it: class instances, timestamps as Dates. */
const asListed = (object: unknown): unknown => loadYaml(JSON.stringify(object));

const annotations = {
  'kube-job-alerts.io/route': 'team-a',
  'kube-job-alerts.io/alerted-at': '2024-06-20T20:52:19Z',
  'kube-job-alerts.io/story': '{"runs":[]}',
  'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"batch/v1","kind":"Job"}',
};
const jobs: [string, unknown][] = [
  ...seedJobs.map((job, i): [string, unknown] => [`seed ${i} (${(job as { metadata?: { name?: string } }).metadata?.name})`, job]),
  ['annotated, with a CronJob owner and another owner', withOwners(failedJob({ annotations, cronJob: { name: 'nightly', scheduledAt: '2024-06-20T20:50:00Z' } }))],
  ['suspended, managed elsewhere', { ...failedJob(), spec: { ...failedJob().spec, suspend: true, managedBy: 'kueue.x-k8s.io/multikueue' } }],
  ['succeeded (Complete)', run({ finishedAt: '2024-05-01T02:10:00Z' })],
  ['running', run({})],
];
const cronJobs: [string, unknown][] = [
  ['the docs\' hello', cronJob()],
  ['zoned, suspended, with active runs and a deadline', cronJob({ timeZone: 'Europe/Berlin', suspend: true, active: ['a', 'b'], startingDeadlineSeconds: 200, concurrencyPolicy: 'Forbid', lastScheduleTime: '2024-05-01T09:00:00Z', lastSuccessfulTime: '2024-05-01T08:00:00Z', annotations })],
];

function withOwners(job: ReturnType<typeof failedJob>) {
  const owners = job.metadata.ownerReferences ?? [];
  return { ...job, metadata: { ...job.metadata, ownerReferences: [{ apiVersion: 'kueue.x-k8s.io/v1beta1', kind: 'Workload', name: 'w', uid: 'u', controller: false }, ...owners] } };
}

describe('slimJob', () => {
  for (const [name, job] of jobs) {
    for (const [shape, object] of [['plain JSON', job], ['listed class instances', asListed(job)]] as const) {
      it(`${name}, ${shape}: the same JobRecord and run facts`, () => {
        const slim = slimJob(object);
        assert.deepEqual(jobRecord(slim), jobRecord(object));
        assert.deepEqual(runFacts(slim), runFacts(object));
        assert.notEqual(jobRecord(object), undefined, 'a real Job');
      });
    }
  }

  it('keeps none of the bulk: no managedFields, pod template, selector, labels or foreign annotations', () => {
    const job = { ...failedJob({ annotations }), metadata: { ...failedJob({ annotations }).metadata, managedFields: [{ manager: 'kube-controller-manager' }] } };
    const slim = slimJob(job) as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown> };
    assert.deepEqual(Object.keys(slim.metadata).sort(), ['annotations', 'creationTimestamp', 'name', 'namespace', 'resourceVersion', 'uid']);
    assert.deepEqual(Object.keys(slim.metadata.annotations as object).sort(), ['kube-job-alerts.io/alerted-at', 'kube-job-alerts.io/route', 'kube-job-alerts.io/story']);
    assert.deepEqual(Object.keys(slim.spec).sort(), ['backoffLimit', 'completionMode', 'completions', 'parallelism', 'suspend']);
    assert.deepEqual(Object.keys((slim.status.conditions as object[])[0]!).sort(), ['lastTransitionTime', 'message', 'reason', 'status', 'type']);
    assert.ok(JSON.stringify(slim).length * 2 < JSON.stringify(job).length, `${JSON.stringify(slim).length} of ${JSON.stringify(job).length} bytes`);
  });

  it('keeps only the CronJob owner', () => {
    const slim = slimJob(jobs[jobs.length - 4]![1]) as { metadata: { ownerReferences: { kind: string }[] } };
    assert.deepEqual(slim.metadata.ownerReferences.map((owner) => owner.kind), ['CronJob']);
  });

  it('keeps labels when asked: the edge filter then judges the slim copy as the whole Job', () => {
    const scope = { namespaces: 'all' as const, exclude: [parseNamespacePattern('sandbox-*') as NamespacePattern], jobSelector: parseLabelSelector('team=a') };
    for (const [namespace, labels, watched] of [['batch', { team: 'a' }, true], ['batch', { team: 'b' }, false], ['sandbox-1', { team: 'a' }, false]] as const) {
      const job = failedJob({ namespace, labels });
      assert.equal(isJobWatched(job, scope), watched);
      assert.equal(isJobWatched(slimJob(job, { labels: true }) as Parameters<typeof isJobWatched>[0], scope), watched, `${namespace} ${JSON.stringify(labels)}`);
    }
    assert.equal((slimJob(failedJob()) as { metadata: { labels?: unknown } }).metadata.labels, undefined);
  });

  it('reads mutated and malformed Jobs exactly as the whole object (3000 generated)', () => {
    fc.assert(
      fc.property(mutated(jobs.map(([, job]) => job)), (job) => {
        assert.deepEqual(jobRecord(slimJob(job)), jobRecord(job));
        assert.deepEqual(runFacts(slimJob(job)), runFacts(job));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('slimCronJob', () => {
  for (const [name, object] of cronJobs) {
    for (const [shape, value] of [['plain JSON', object], ['listed class instances', asListed(object)]] as const) {
      it(`${name}, ${shape}: the same CronJobRecord and schedule facts`, () => {
        assert.deepEqual(cronJobRecord(slimCronJob(value)), cronJobRecord(value));
        assert.deepEqual(scheduleFacts(slimCronJob(value)), scheduleFacts(value));
      });
    }
  }

  it('keeps no jobTemplate', () => {
    const slim = slimCronJob(cronJob()) as { spec: Record<string, unknown> };
    assert.equal(slim.spec['jobTemplate'], undefined);
    assert.ok(JSON.stringify(slim).length * 2 < JSON.stringify(cronJob()).length);
  });

  it('reads mutated and malformed CronJobs exactly as the whole object (2000 generated)', () => {
    fc.assert(
      fc.property(mutated(cronJobs.map(([, object]) => object)), (object) => {
        assert.deepEqual(cronJobRecord(slimCronJob(object)), cronJobRecord(object));
        assert.deepEqual(scheduleFacts(slimCronJob(object)), scheduleFacts(object));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('slimNamespace', () => {
  it('keeps the name and the routing annotations', () => {
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', uid: 'u', resourceVersion: '7', labels: { x: 'y' }, annotations }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
    assert.deepEqual(slimNamespace(namespace), {
      kind: 'Namespace',
      metadata: { name: 'team-a', uid: 'u', resourceVersion: '7', annotations: { 'kube-job-alerts.io/route': 'team-a', 'kube-job-alerts.io/alerted-at': annotations['kube-job-alerts.io/alerted-at'], 'kube-job-alerts.io/story': annotations['kube-job-alerts.io/story'] } },
    });
    // Routing reads the Job's annotations through its record: the same from the slim copy.
    const job = failedJob({ annotations });
    assert.deepEqual(annotated(jobRecord(slimJob(job))!), annotated(jobRecord(job)!));
  });
});

describe('slimEvent', () => {
  const hello = cronJob();
  const events = [
    cronJobEvent(hello, { reason: 'MissSchedule', message: 'Missed scheduled time to start a job: Wed, 01 May 2024 11:00:00 +0000' }),
    cronJobEvent(hello, { reason: 'JobAlreadyActive', type: 'Normal', count: 3, lastTimestamp: '2024-05-01T12:00:00Z', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' }),
    cronJobEvent(hello, { reason: 'FailedCreate', message: 'Error creating job: jobs.batch "hello-28576020" is forbidden: exceeded quota' }),
    coreEvent({ on: { kind: 'CronJob', name: 'hello', uid: hello.metadata.uid }, reason: 'JobAlreadyActive', type: 'Normal', message: 'Not starting job', at: '2024-05-01T12:00:00Z', count: 4, series: true }),
    {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'hello.1', namespace: 'default', uid: 'e-1', resourceVersion: '9', managedFields: [{ manager: 'kube-controller-manager' }] },
      regarding: { apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', namespace: 'default', uid: hello.metadata.uid, resourceVersion: '7' },
      reason: 'JobAlreadyActive', note: 'Not starting job because prior execution is running and concurrency policy is Forbid', type: 'Normal',
      eventTime: '2024-05-01T11:00:00.000000Z', series: { count: 5, lastObservedTime: '2024-05-01T12:00:00.000000Z' },
      reportingController: 'cronjob-controller', reportingInstance: 'kcm-1', action: 'Start', deprecatedCount: 0,
    },
  ] as Record<string, unknown>[];

  events.forEach((event, i) => {
    it(`event ${i + 1} (${String(event['reason'])}): the same warning from the slim copy`, () => {
      assert.ok(cronJobWarning(event, 2) !== undefined);
      assert.deepEqual(cronJobWarning(slimEvent(event), 2), cronJobWarning(event, 2));
    });
  });

  it('keeps no source, reporting controller or managedFields', () => {
    const slim = slimEvent(events[4]) as Record<string, unknown>;
    assert.equal(slim['reportingController'], undefined);
    assert.equal((slim['metadata'] as Record<string, unknown>)['managedFields'], undefined);
    assert.equal((slim['regarding'] as Record<string, unknown>)['resourceVersion'], undefined);
    assert.deepEqual(Object.keys(slimEvent(events[0]) as object).sort(), ['count', 'eventTime', 'firstTimestamp', 'involvedObject', 'kind', 'lastTimestamp', 'message', 'metadata', 'reason', 'type']);
  });

  it('reads mutated and malformed Events exactly as the whole object (2000 generated)', () => {
    fc.assert(
      fc.property(mutated(events), (event) => {
        assert.deepEqual(cronJobWarning(slimEvent(event), 2), cronJobWarning(event, 2));
        assert.deepEqual(cronJobWarning(slimEvent(event), 1), cronJobWarning(event, 1));
      }),
      { numRuns: 2000 },
    );
  });
});

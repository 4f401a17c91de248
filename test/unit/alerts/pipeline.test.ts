import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock, Evidence, JobFailure } from '../../../src/alert.ts';
import { AlertPipeline } from '../../../src/alerts/pipeline.ts';
import { silentLogger } from '../../../src/log.ts';
import { Metrics } from '../../../src/metrics.ts';
import type { Deliverer, DeliveryResult } from '../../../src/slack/deliver.ts';
import type { SlackPayload } from '../../../src/slack/format.ts';
import { AnnotationMarks, MemoryMarks, type AlertMarks } from '../../../src/state/marks.ts';
import { failedJob } from '../../fixtures/index.ts';

const NOW = new Date('2026-11-25T12:00:00Z');
const RECENT = '2026-11-25T11:50:00Z';

class RecordingDeliverer implements Deliverer {
  readonly sent: SlackPayload[] = [];
  answers: DeliveryResult[] = [];
  gate: Promise<void> = Promise.resolve();
  async deliver(payload: SlackPayload, signal?: AbortSignal): Promise<DeliveryResult> {
    await Promise.race([this.gate, new Promise((resolve) => signal?.addEventListener('abort', resolve))]);
    if (signal?.aborted) return { ok: false, permanent: false, error: 'aborted', attempts: 0 };
    this.sent.push(payload);
    return this.answers.shift() ?? { ok: true, attempts: 1 };
  }
}

function annotationMarks(): AlertMarks {
  return new AnnotationMarks({ annotate: async () => {}, classify: () => 'other', describe: String, logger: silentLogger });
}

function world(options: { cronJobs?: Record<string, unknown>; evidence?: (f: JobFailure) => Promise<Evidence>; marks?: AlertMarks } = {}) {
  const deliverer = new RecordingDeliverer();
  const marks = options.marks ?? new MemoryMarks();
  const metrics = new Metrics();
  const clock: Clock = { now: () => NOW };
  const pipeline = new AlertPipeline({
    clusterName: 'test',
    maxAgeMs: 3_600_000,
    marks,
    deliverer,
    gatherEvidence: options.evidence ?? (async () => ({ notes: [] })),
    cronJobOf: async (namespace, name) => options.cronJobs?.[`${namespace}/${name}`],
    clock,
    logger: silentLogger,
    metrics,
  });
  return { pipeline, deliverer, marks, metrics };
}

/** Lets queued work run to the end. */
async function settle(pipeline: AlertPipeline): Promise<void> {
  for (let i = 0; i < 50 && (pipeline.queued > 0 || pipeline.inFlight > 0); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(pipeline.inFlight, 0, 'work still in flight');
}

describe('AlertPipeline', () => {
  it('alerts a recent failure once, however often the informer replays it', async () => {
    const { pipeline, deliverer } = world();
    pipeline.start();
    const job = failedJob({ failedAt: RECENT });
    pipeline.observe(job);
    pipeline.observe(job);
    await settle(pipeline);
    pipeline.observe({ ...job, metadata: { ...job.metadata, resourceVersion: '2000', labels: { changed: 'yes' } } });
    pipeline.observe(job);
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 1);
    assert.match(deliverer.sent[0]!.text, /default\/demo/);
  });

  it('ignores Jobs that have not failed, and odd objects', async () => {
    const { pipeline, deliverer } = world();
    pipeline.start();
    const running = failedJob({ failedAt: RECENT });
    for (const odd of [{ ...running, status: { active: 1 } }, null, 'job', {}, { metadata: { uid: 'x' }, status: { conditions: null } }]) pipeline.observe(odd);
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 0);
  });

  it('skips failures older than ALERT_MAX_AGE', async () => {
    const { pipeline, deliverer, metrics } = world();
    pipeline.start();
    pipeline.observe(failedJob({ failedAt: '2026-11-25T10:59:00Z' }));
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 0);
    assert.equal((await metrics.alertsSkipped.get()).values.find((v) => v.labels.why === 'too_old')?.value, 1);
  });

  it('skips Jobs marked alerted by an earlier process', async () => {
    const { pipeline, deliverer, metrics } = world({ marks: annotationMarks() });
    pipeline.start();
    pipeline.observe(failedJob({ failedAt: RECENT, annotations: { 'kube-job-alerts.io/alerted-at': RECENT } }));
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 0);
    assert.equal((await metrics.alertsSkipped.get()).values.find((v) => v.labels.why === 'already_alerted')?.value, 1);
  });

  it('honours the opt-out on the Job and on its CronJob, the Job winning', async () => {
    const cronJob = { metadata: { name: 'nightly', namespace: 'default', annotations: { 'kube-job-alerts.io/enabled': 'false' } } };
    const { pipeline, deliverer } = world({ cronJobs: { 'default/nightly': cronJob } });
    pipeline.start();
    pipeline.observe(failedJob({ failedAt: RECENT, name: 'optout', annotations: { 'kube-job-alerts.io/enabled': 'false' } }));
    pipeline.observe(failedJob({ failedAt: RECENT, cronJob: { name: 'nightly', scheduledAt: '2026-11-25T11:45:00Z' } }));
    pipeline.observe(failedJob({ failedAt: RECENT, name: 'nightly-override', annotations: { 'kube-job-alerts.io/enabled': 'true' }, cronJob: { name: 'nightly', scheduledAt: '2026-11-25T11:45:00Z' } }));
    await settle(pipeline);
    assert.deepEqual(deliverer.sent.map((p) => /default\/[\w-]+/.exec(p.text)?.[0]), ['default/nightly-override']);
  });

  it('waits for start() before working (caches must sync first)', async () => {
    const { pipeline, deliverer } = world();
    pipeline.observe(failedJob({ failedAt: RECENT }));
    await settle(pipeline).catch(() => {});
    assert.equal(deliverer.sent.length, 0);
    assert.equal(pipeline.queued, 1);
    pipeline.start();
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 1);
  });

  it('does not retry a permanent Slack refusal, and does not mark it', async () => {
    const { pipeline, deliverer, marks } = world();
    deliverer.answers = [{ ok: false, permanent: true, status: 404, error: 'no_service', attempts: 1 }];
    pipeline.start();
    const job = failedJob({ failedAt: RECENT });
    pipeline.observe(job);
    await settle(pipeline);
    pipeline.observe(job);
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 1);
    assert.equal(marks.isMarked(job.metadata.uid, job), false);
  });

  it('hands back an alert still in flight at shutdown, unmarked', async () => {
    const { pipeline, deliverer, marks } = world();
    deliverer.gate = new Promise(() => {}); // Slack never answers
    pipeline.start();
    const job = failedJob({ failedAt: RECENT });
    pipeline.observe(job);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pipeline.inFlight, 1);
    await pipeline.stop(10);
    assert.equal(pipeline.inFlight, 0);
    assert.equal(marks.isMarked(job.metadata.uid, job), false);
  });

  it('survives a stage that throws, and alerts the next failure', async () => {
    let calls = 0;
    const { pipeline, deliverer } = world({
      evidence: async () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return { notes: [] };
      },
    });
    pipeline.start();
    pipeline.observe(failedJob({ failedAt: RECENT, name: 'first' }));
    await settle(pipeline);
    pipeline.observe(failedJob({ failedAt: RECENT, name: 'second' }));
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 1);
    assert.match(deliverer.sent[0]!.text, /default\/second/);
  });

  it('keys by UID: a re-created Job with the same name alerts again', async () => {
    const { pipeline, deliverer } = world();
    pipeline.start();
    pipeline.observe(failedJob({ failedAt: RECENT, uid: 'uid-1' }));
    await settle(pipeline);
    pipeline.observe(failedJob({ failedAt: RECENT, uid: 'uid-2' }));
    await settle(pipeline);
    assert.equal(deliverer.sent.length, 2);
  });
});

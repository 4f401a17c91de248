import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Evidence, JobFailure } from '../../../src/alert.ts';
import { AlertController, type Records } from '../../../src/alerts/controller.ts';
import type { PolicyDefaults } from '../../../src/decide/policy.ts';
import { cronJobRecord, jobRecord, type CronJobRecord, type JobRecord } from '../../../src/detect/records.ts';
import { createLogger, silentLogger, type Logger } from '../../../src/log.ts';
import { Metrics } from '../../../src/metrics.ts';
import type { Notification } from '../../../src/notify/notification.ts';
import type { SendResult } from '../../../src/notify/transport.ts';
import { Marks } from '../../../src/state/marks.ts';
import { failedJob } from '../../fixtures/index.ts';

const T0 = new Date('2026-11-29T12:00:00Z');
const POLICY: PolicyDefaults = { alertAfter: 1, repeat: { mode: 'every-failure' }, notifyRecovery: true, maxAgeMs: 3_600_000 };

class FakeRecords implements Records {
  readonly jobs = new Map<string, JobRecord>();
  readonly cronJobs = new Map<string, CronJobRecord>();
  job(uid: string) {
    return this.jobs.get(uid);
  }
  cronJob(namespace: string, name: string) {
    return this.cronJobs.get(`${namespace}/${name}`);
  }
  runsOf(namespace: string, cronJob: string) {
    return [...this.jobs.values()].filter((run) => run.namespace === namespace && run.cronJob === cronJob);
  }
}

function world(options: { readCronJob?: () => Promise<CronJobRecord | undefined>; policy?: Partial<PolicyDefaults>; neverSucceededAfter?: number; slowRuns?: boolean; write?: () => Promise<void>; logger?: Logger } = {}) {
  const records = new FakeRecords();
  const sent: Notification[] = [];
  const writes: string[] = [];
  let now = T0;
  const marks = new Marks({
    store: 'annotation',
    write: async (object, annotations) => {
      await options.write?.();
      writes.push(`${object.kind} ${object.name} ${Object.keys(annotations).join(',')}`);
    },
    classify: () => 'other',
    describe: String,
    logger: silentLogger,
    attempts: 1,
    backoff: { baseMs: 1, maxMs: 1 },
  });
  const gathered: string[] = [];
  let pods: unknown[] = [];
  const controller = new AlertController({
    records,
    readCronJob: options.readCronJob ?? (async () => undefined),
    marks,
    sender: { send: (n) => void sent.push(n) },
    evidence: async (failure: JobFailure): Promise<Evidence> => (gathered.push(failure.name), { exitCode: 1, notes: [] }),
    forgetEvidence: () => {},
    address: async (notification) => ({ notifications: [notification], warnings: [] }),
    schedule: { graceMs: 300_000, defaultZone: 'UTC', minGraceMs: 10_000, countLimit: 100 },
    runChecks: { stuckAfterMs: undefined, pendingAfterMs: 600_000 },
    health: { neverSucceededAfter: options.neverSucceededAfter ?? 0, skippedRunsAlert: 2, slowRuns: options.slowRuns ?? false },
    podsOf: async () => pods,
    nextRun: () => new Date(T0.getTime() + 3_600_000),
    policy: { ...POLICY, ...options.policy },
    cluster: 'test',
    workers: 2,
    requeueBackoff: { baseMs: 5, maxMs: 20, jitter: 'none' },
    clock: { now: () => now },
    logger: options.logger ?? silentLogger,
    metrics: new Metrics(),
  });
  const put = (object: unknown) => {
    const record = jobRecord(object)!;
    const previous = records.jobs.get(record.uid);
    records.jobs.set(record.uid, record);
    controller.job(record, previous);
    return record;
  };
  const putCronJob = (object: unknown) => {
    const record = cronJobRecord(object)!;
    records.cronJobs.set(`${record.namespace}/${record.name}`, record);
    controller.cronJob(record, undefined);
  };
  let answered = 0;
  return {
    records, sent, writes, marks, controller, put, putCronJob, gathered,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
    setPods: (list: unknown[]) => (pods = list),
    /** Lets the workers catch up. */
    settle: async () => {
      for (let i = 0; i < 200 && controller.busy > 0; i++) await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(controller.busy, 0, 'the workers did not catch up');
    },
    /** Slack's answer for every notification sent since the last answer. */
    answer: async (result: SendResult = { ok: true, attempts: 1 }) => {
      for (const n of sent.slice(answered)) await controller.settled(n, result);
      answered = sent.length;
    },
  };
}

const iso = (offsetMs: number) => new Date(T0.getTime() + offsetMs).toISOString().replace('.000Z', 'Z');
const cronJobObject = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'batch', uid: 'cj-uid', annotations: {} }, spec: { schedule: '0 * * * *', jobTemplate: { spec: {} } }, status: {} };

function run(name: string, minutes: number, outcome: 'failed' | 'succeeded') {
  const job = failedJob({ name, namespace: 'batch', failedAt: iso(minutes * 60_000 + 30_000), startedAt: iso(minutes * 60_000), cronJob: { name: 'nightly', scheduledAt: iso(minutes * 60_000) } });
  if (outcome === 'succeeded') {
    (job as { status: unknown }).status = { succeeded: 1, startTime: iso(minutes * 60_000), completionTime: iso(minutes * 60_000 + 30_000), conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(minutes * 60_000 + 30_000) }] };
  }
  return job;
}

const names = (sent: Notification[]) =>
  sent.map((n) => {
    if (n.kind === 'recovery') return `recovery after ${n.failures}`;
    if (n.kind === 'digest') return `digest of ${n.failures.length}`;
    if (n.kind === 'failure' || n.kind === 'reminder') return `${n.kind} ${n.failure.name}${n.streak ? ` #${n.streak.count}` : ''}`;
    return `${n.kind} ${'run' in n ? n.run.name : n.cronJob.name}`;
  });

describe('AlertController', () => {
  it('sends one failure message for a standalone Job, however often the informer replays it, and marks it once delivered', async () => {
    const w = world();
    w.controller.start();
    const job = failedJob({ name: 'once', failedAt: iso(-60_000) });
    w.put(job);
    await w.settle();
    for (let i = 0; i < 3; i++) w.put({ ...job, metadata: { ...job.metadata, resourceVersion: String(100 + i), labels: { touched: String(i) } } });
    await w.settle();
    assert.deepEqual(names(w.sent), ['failure once']);
    assert.deepEqual(w.writes, []);
    await w.answer();
    assert.deepEqual(w.writes, ['Job once kube-job-alerts.io/alerted-at']);
    await w.controller.stop(100);
  });

  it('gives the event loop back while working off a long queue of keys that need no I/O (every cached Job after a sync)', async () => {
    const w = world();
    // 400 Jobs still running; reading each record takes 0.5 ms: 200 ms of work in all, all of it synchronous.
    for (let i = 0; i < 400; i++) {
      const job = failedJob({ name: `running-${i}`, failedAt: iso(-60_000) });
      (job as { status: unknown }).status = { active: 1, startTime: iso(-60_000) };
      w.put(job);
    }
    const read = w.records.job.bind(w.records);
    let reads = 0;
    w.records.job = (uid: string) => {
      const until = performance.now() + 0.5;
      while (performance.now() < until);
      reads += 1;
      return read(uid);
    };
    let readsWhenTimerRan: number | undefined;
    setTimeout(() => (readsWhenTimerRan = reads), 0);
    w.controller.start();
    await w.settle();
    assert.ok(reads >= 400, `every key was worked (${reads} reads)`);
    assert.ok(readsWhenTimerRan !== undefined && readsWhenTimerRan < reads, `a timer ran while the workers were busy (after ${readsWhenTimerRan} of ${reads} reads)`);
    await w.controller.stop(100);
  });

  it('marks the Jobs of a delivered digest several at a time (at most 8), every one of them', async () => {
    let inFlight = 0;
    let most = 0;
    const w = world({
      write: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
      },
    });
    w.controller.start();
    for (let i = 0; i < 20; i++) w.put(failedJob({ name: `storm-${i}`, failedAt: iso(-60_000) }));
    await w.settle();
    const failures = w.sent.filter((n) => n.kind === 'failure');
    assert.equal(failures.length, 20);
    const digest = { ...failures[0]!, kind: 'digest', why: 'storm', failures, part: undefined, windowMs: 10_000 } as unknown as Notification;
    await w.controller.settled(digest, { ok: true, attempts: 1 });
    assert.equal(w.writes.length, 20);
    assert.deepEqual(new Set(w.writes), new Set(failures.map((n) => `Job ${n.kind === 'failure' ? n.failure.name : ''} kube-job-alerts.io/alerted-at`)));
    assert.equal(most, 8);
    await w.controller.stop(100);
  });

  it('a CronJob unsuspended before a restart: the runs skipped while suspended are not missed, after the restart either', async () => {
    const hourly = (suspend: boolean, health?: string) => ({
      ...cronJobObject,
      metadata: { ...cronJobObject.metadata, creationTimestamp: iso(-48 * 3_600_000), annotations: health === undefined ? {} : { 'kube-job-alerts.io/health': health } },
      spec: { ...cronJobObject.spec, suspend },
      status: { lastScheduleTime: iso(-5 * 3_600_000) }, // 07:00; suspended from 07:30 to 12:00
    });
    const w = world();
    const suspended = cronJobRecord(hourly(true))!;
    w.records.cronJobs.set('batch/nightly', suspended);
    w.controller.cronJob(suspended, undefined);
    w.controller.start();
    await w.settle();
    const active = cronJobRecord(hourly(false))!;
    w.records.cronJobs.set('batch/nightly', active);
    w.controller.cronJob(active, suspended); // unsuspended at 12:00
    await w.settle();
    assert.deepEqual(names(w.sent), []);
    assert.ok(w.writes.includes('CronJob nightly kube-job-alerts.io/health'), w.writes.join(', '));
    const health = JSON.stringify(w.marks.health('CronJob/batch/nightly', undefined));
    assert.match(health, /"activeSince":"2026-11-29T12:00:00.000Z"/);
    await w.controller.stop(100);

    // Restarted at 12:10: from the annotation it knows; without it, 08:00 to 12:00 would look missed.
    for (const [annotation, expected] of [[health, []], [undefined, ['missed nightly']]] as const) {
      const restarted = world();
      restarted.advance(10 * 60_000);
      const record = cronJobRecord(hourly(false, annotation))!;
      restarted.records.cronJobs.set('batch/nightly', record);
      restarted.controller.cronJob(record, undefined);
      restarted.controller.start();
      await restarted.settle();
      assert.deepEqual(names(restarted.sent), expected, `health annotation: ${annotation}`);
      await restarted.controller.stop(100);
    }
  });

  it('judges ALERT_MAX_AGE when the failure was first seen, not when a worker got to it', async () => {
    const w = world();
    w.put(failedJob({ name: 'waited', failedAt: iso(-30 * 60_000) }));
    w.advance(2 * 3_600_000); // the workers get to it two hours later
    w.controller.start();
    await w.settle();
    assert.deepEqual(names(w.sent), ['failure waited']);
    await w.controller.stop(100);
  });

  it('still reports a failed Job deleted before a worker got to it (with the evidence captured)', async () => {
    const w = world();
    const record = w.put(failedJob({ name: 'gone-fast', failedAt: iso(-60_000) }));
    w.records.jobs.delete(record.uid);
    w.controller.jobDeleted(record);
    w.controller.start();
    await w.settle();
    assert.deepEqual(names(w.sent), ['failure gone-fast']);
    assert.deepEqual(w.gathered, ['gone-fast']);
    await w.controller.stop(100);
  });

  it("tells a CronJob's story: each failure with its streak, then one recovery; the story is written once confirmed", async () => {
    const w = world();
    w.putCronJob(cronJobObject);
    w.controller.start();
    w.put(run('nightly-1', -30, 'failed'));
    await w.settle();
    w.put(run('nightly-2', -20, 'failed'));
    await w.settle();
    await w.answer();
    await w.settle();
    w.put(run('nightly-3', -10, 'succeeded'));
    await w.settle();
    assert.deepEqual(names(w.sent), ['failure nightly-1 #1', 'failure nightly-2 #2', 'recovery after 2']);
    const failure = w.sent[1]!;
    assert.ok(failure.kind === 'failure' && failure.cronJob?.schedule === '0 * * * *' && failure.cronJob.nextRunAt !== undefined);
    assert.ok(w.writes.includes('CronJob nightly kube-job-alerts.io/story'), w.writes.join('\n'));
    await w.controller.stop(100);
  });

  it('REPEAT=first and ALERT_AFTER=2 from the environment: one message, at the 2nd failure', async () => {
    const w = world({ policy: { alertAfter: 2, repeat: { mode: 'first' } } });
    w.putCronJob(cronJobObject);
    w.controller.start();
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      w.put(run(name, -30 + i * 10, 'failed'));
      await w.settle();
      await w.answer();
      await w.settle();
    }
    assert.deepEqual(names(w.sent), ['failure b #2']);
    await w.controller.stop(100);
  });

  it('NEVER_SUCCEEDED_AFTER=3: one "never succeeded" alert at the 3rd failed run of a CronJob that never succeeded', async () => {
    const w = world({ neverSucceededAfter: 3, policy: { repeat: { mode: 'first' } } });
    w.putCronJob(cronJobObject);
    w.controller.start();
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) {
      w.put(run(name, -40 + i * 10, 'failed'));
      await w.settle();
      await w.answer();
      await w.settle();
    }
    assert.deepEqual(names(w.sent), ['failure a #1', 'never-succeeded nightly']);
    await w.controller.stop(100);
  });

  it('SLOW_RUNS: a run over 3x the median of 5 successful 10-minute runs is reported as still running', async () => {
    for (const slowRuns of [false, true]) {
      const w = world({ slowRuns });
      w.putCronJob(cronJobObject);
      for (let i = 0; i < 5; i++) {
        const done = run(`ok-${i}`, -300 + i * 60, 'succeeded');
        (done as { status: Record<string, unknown> }).status['completionTime'] = iso((-300 + i * 60) * 60_000 + 10 * 60_000);
        w.put(done);
      }
      const slow = run('slow', -31, 'succeeded');
      (slow as { status: unknown }).status = { active: 1, startTime: iso(-31 * 60_000) };
      w.put(slow);
      w.controller.start();
      await w.settle();
      assert.deepEqual(names(w.sent).filter((n) => n.startsWith('stuck')), slowRuns ? ['stuck slow'] : [], `SLOW_RUNS=${slowRuns}`);
      await w.controller.stop(100);
    }
  });

  it('retries with backoff when the CronJob cannot be read yet, then decides', async () => {
    let calls = 0;
    const w = world({
      readCronJob: async () => {
        calls += 1;
        if (calls < 3) throw new Error('HTTP 503: unavailable');
        return cronJobRecord(cronJobObject);
      },
    });
    w.controller.start();
    w.put(run('nightly-1', -30, 'failed'));
    for (let i = 0; i < 200 && w.sent.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 2));
    assert.equal(calls, 3);
    assert.deepEqual(names(w.sent), ['failure nightly-1 #1']);
    await w.controller.stop(100);
  });

  it('leaves an aborted delivery unmarked (the next start sends it), and a refused one marked as undeliverable, naming the Job in the log', async () => {
    const lines: Record<string, unknown>[] = [];
    const w = world({ logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) });
    w.putCronJob(cronJobObject);
    w.controller.start();
    w.put(run('nightly-1', -30, 'failed'));
    await w.settle();
    await w.answer({ ok: false, permanent: false, error: 'aborted', attempts: 1 });
    w.put(run('nightly-2', -20, 'failed'));
    await w.settle();
    await w.answer({ ok: false, permanent: true, error: 'no_service', attempts: 1 });
    await w.settle();
    assert.ok(!w.writes.some((line) => line.startsWith('Job')), `no alerted-at for messages Slack never took: ${w.writes.join(', ')}`);
    assert.deepEqual(w.marks.story('batch/nightly', undefined).failures.map((entry) => entry.outcome), ['pending', 'undeliverable']);
    const refused = lines.filter((line) => String(line['msg']).includes('refused for good'));
    assert.deepEqual(refused.map((line) => [line['subject'], line['error']]), [['batch/nightly-2', 'no_service']]);
    await w.controller.stop(100);
  });
});

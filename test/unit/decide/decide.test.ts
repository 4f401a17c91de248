import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type Decision, type History, type Subject, type Verdict } from '../../../src/decide/decide.ts';
import type { PolicyDefaults } from '../../../src/decide/policy.ts';
import { durable, EMPTY_STORY, notifiedCount, streakLength, withOutcome, type Story } from '../../../src/decide/story.ts';
import type { CronJobRecord, JobRecord } from '../../../src/detect/records.ts';

const NOW = new Date('2026-11-29T12:00:00Z');
const MIN = 60_000;
const DEFAULTS: PolicyDefaults = { alertAfter: 1, repeat: { mode: 'every-failure' }, notifyRecovery: true, maxAgeMs: 60 * MIN };

/** A run of CronJob `nightly` scheduled `minutesAgo` before NOW. */
function run(name: string, state: JobRecord['state'], minutesAgo: number, extra: Partial<JobRecord> = {}): JobRecord {
  const at = new Date(NOW.getTime() - minutesAgo * MIN);
  return {
    uid: `uid-${name}`,
    namespace: 'batch',
    name,
    resourceVersion: '1',
    createdAt: at,
    cronJob: 'nightly',
    scheduledAt: at,
    state,
    failure:
      state === 'failed'
        ? { uid: `uid-${name}`, namespace: 'batch', name, condition: 'Failed', reason: 'BackoffLimitExceeded', message: '', failedAt: new Date(at.getTime() + 30_000), startedAt: at, failedPods: 1, succeededPods: 0, backoffLimit: 0, failedIndexes: undefined, cronJob: 'nightly', scheduledAt: at }
        : undefined,
    succeededAt: state === 'succeeded' ? new Date(at.getTime() + 30_000) : undefined,
    startedAt: at,
    suspended: false,
    managedBy: undefined,
    annotations: {},
    ...extra,
  };
}

function cronJob(annotations: CronJobRecord['annotations'] = {}): CronJobRecord {
  return { uid: 'cj-uid', namespace: 'batch', name: 'nightly', schedule: '*/5 * * * *', timeZone: undefined, suspended: false, createdAt: undefined, lastScheduleTime: undefined, lastSuccessfulTime: undefined, startingDeadlineSeconds: undefined, concurrencyPolicy: undefined, activeRuns: 0, annotations };
}

function cronSubject(runs: JobRecord[], annotations: CronJobRecord['annotations'] = {}): Subject {
  return { kind: 'cronjob', namespace: 'batch', name: 'nightly', cronJob: cronJob(annotations), runs };
}

function history(story?: Story, options: { decided?: string[]; firstSeen?: Date } = {}): History {
  return { story, decided: (uid) => options.decided?.includes(uid) ?? false, firstSeen: () => options.firstSeen ?? NOW };
}

/** `notify failure a #1`, `skip b alert_after`, `notify recovery c 3`: one line per verdict. */
function lines(decision: Decision): string[] {
  return decision.verdicts.map((v: Verdict) => {
    if (v.do === 'skip') return `skip ${v.run.name} ${v.why}`;
    if (v.do === 'recheck') return `recheck ${v.at.toISOString()}`;
    if (v.kind === 'recovery') return `notify recovery ${v.run.name} after ${v.failures}`;
    return `notify ${v.kind} ${v.run.name}${v.streak ? ` #${v.streak.count}` : ''}`;
  });
}

/** Decides, then confirms every pending message as Slack would, and keeps only what is durable: a restart. */
function delivered(decision: Decision): Story {
  let story = decision.story!;
  for (const v of decision.verdicts) if (v.do === 'notify' && v.kind !== 'recovery') story = withOutcome(story, v.run.uid, 'notified', NOW.getTime());
  if (story.recovering) story = { ...story, recovering: undefined };
  return story;
}

/** Feeds runs one sync at a time, as they happen, confirming deliveries: the verdict lines of every sync. */
function timeline(runs: JobRecord[], annotations: CronJobRecord['annotations'] = {}, defaults = DEFAULTS): string[] {
  let story: Story | undefined;
  const out: string[] = [];
  for (let i = 1; i <= runs.length; i++) {
    const decision = decide(cronSubject(runs.slice(0, i), annotations), history(story), defaults, NOW);
    out.push(...lines(decision));
    story = delivered(decision);
  }
  return out;
}

const f = (name: string, minutesAgo: number, extra: Partial<JobRecord> = {}) => run(name, 'failed', minutesAgo, extra);
const s = (name: string, minutesAgo: number) => run(name, 'succeeded', minutesAgo);

describe('decide: a standalone Job', () => {
  const job = (extra: Partial<JobRecord> = {}): Subject => ({ kind: 'job', run: f('once', 5, { cronJob: undefined, ...extra }) });
  const cases: Array<[string, Subject, History, string[]]> = [
    ['a recent failure: one failure message', job(), history(), ['notify failure once']],
    ['already decided in this process', job(), history(undefined, { decided: ['uid-once'] }), ['skip once already_alerted']],
    ['alerted-at annotation (a restart)', job({ annotations: { alertedAt: '2026-11-29T11:56:00Z' } }), history(), ['skip once already_alerted']],
    ['opted out', job({ annotations: { enabled: 'FALSE ' } }), history(), ['skip once opted_out']],
    ['opted back in: only "false" opts out', job({ annotations: { enabled: 'true' } }), history(), ['notify failure once']],
    ['suspended (Kueue)', job({ suspended: true }), history(), ['skip once suspended']],
    ['managed by MultiKueue', job({ managedBy: 'kueue.x-k8s.io/multikueue' }), history(), ['skip once managed_elsewhere']],
    ['first seen more than ALERT_MAX_AGE after it failed', job(), history(undefined, { firstSeen: new Date(NOW.getTime() + 61 * MIN) }), ['skip once too_old']],
    ['judged when first seen, not now: seen in time, decided late', job(), { ...history(), firstSeen: () => NOW }, ['notify failure once']],
    ['not failed: nothing', { kind: 'job', run: run('ok', 'succeeded', 5, { cronJob: undefined }) }, history(), []],
  ];
  for (const [name, subject, h, expected] of cases) it(name, () => assert.deepEqual(lines(decide(subject, h, DEFAULTS, NOW)), expected));
});

describe('decide: a CronJob story, run by run', () => {
  const four = [f('r1', 40), f('r2', 30), f('r3', 20), f('r4', 10)];
  const cases: Array<[string, JobRecord[], CronJobRecord['annotations'], string[]]> = [
    ['every-failure: each failure with its place in the streak, then one recovery', [...four, s('r5', 5)], {}, [
      'notify failure r1 #1', 'notify failure r2 #2', 'notify failure r3 #3', 'notify failure r4 #4', 'notify recovery r5 after 4',
    ]],
    ['first: one message per streak', [f('r1', 30), f('r2', 20), f('r3', 10)], { repeat: 'first' }, [
      'notify failure r1 #1', 'skip r2 repeat_first', 'skip r3 repeat_first',
    ]],
    ['alert-after 2: silent on the first failure', [f('r1', 30), f('r2', 20), f('r3', 10)], { alertAfter: '2' }, [
      'skip r1 alert_after', 'notify failure r2 #2', 'notify failure r3 #3',
    ]],
    ['alert-after 3 and a success before the 3rd: nothing at all, and no recovery', [f('r1', 30), f('r2', 20), s('r3', 10)], { alertAfter: '3' }, [
      'skip r1 alert_after', 'skip r2 alert_after',
    ]],
    ['a success resets the streak: the next failure is #1 again', [f('r1', 30), s('r2', 20), f('r3', 10)], {}, [
      'notify failure r1 #1', 'notify recovery r2 after 1', 'notify failure r3 #1',
    ]],
    ['successes with no failure before them say nothing', [s('r1', 30), s('r2', 20)], {}, []],
    ['an invalid annotation is a warning and the default applies', [f('r1', 20), f('r2', 10)], { repeat: 'weekly' }, [
      'notify failure r1 #1', 'notify failure r2 #2',
    ]],
    ['the Job\'s annotation wins over its CronJob\'s', [f('r1', 20), f('r2', 10, { annotations: { repeat: 'every-failure' } })], { repeat: 'first' }, [
      'notify failure r1 #1', 'notify failure r2 #2',
    ]],
    ['a CronJob opted out: its failures count, nothing is said', [f('r1', 20), f('r2', 10)], { enabled: 'false' }, ['skip r1 opted_out', 'skip r2 opted_out']],
    ['suspended and managedBy runs are not part of the story', [f('r1', 30), f('r2', 20, { suspended: true }), f('r3', 10, { managedBy: 'kueue.x-k8s.io/multikueue' }), f('r4', 5)], {}, [
      'notify failure r1 #1', 'skip r2 suspended', 'skip r3 managed_elsewhere', 'notify failure r4 #2',
    ]],
  ];
  for (const [name, runs, annotations, expected] of cases) it(name, () => assert.deepEqual(timeline(runs, annotations), expected));

  it('recovery can be switched off (NOTIFY_RECOVERY=false), and the streak still resets', () => {
    assert.deepEqual(timeline([f('r1', 30), s('r2', 20), f('r3', 10)], {}, { ...DEFAULTS, notifyRecovery: false }), ['notify failure r1 #1', 'notify failure r3 #1']);
  });

  it('the default policy comes from the environment (ALERT_AFTER=2, REPEAT=first)', () => {
    assert.deepEqual(timeline(four, {}, { ...DEFAULTS, alertAfter: 2, repeat: { mode: 'first' } }), ['skip r1 alert_after', 'notify failure r2 #2', 'skip r3 repeat_first', 'skip r4 repeat_first']);
  });

  it('warns naming the object, the annotation and the value', () => {
    const decision = decide(cronSubject([f('r1', 10)], { repeat: 'weekly', alertAfter: '0' }), history(), DEFAULTS, NOW);
    assert.deepEqual(decision.warnings, [
      'CronJob batch/nightly: kube-job-alerts.io/alert-after "0" is not a whole number from 1 to 1000: using the default',
      'CronJob batch/nightly: kube-job-alerts.io/repeat "weekly" is not every-failure, first or a duration of at least 1m (such as 1h): using the default',
    ]);
  });
});

describe('decide: reminders (repeat: <duration>)', () => {
  it('the first failure, then nothing until the interval has passed since the last message, then a reminder', () => {
    let story: Story | undefined;
    const at = (minutes: number) => new Date(NOW.getTime() + minutes * MIN);
    const out: string[] = [];
    const runs = [f('r1', 0), f('r2', -20), f('r3', -40), f('r4', -65), f('r5', -70)];
    for (const [i, minutes] of [0, 20, 40, 65, 70].entries()) {
      const decision = decide(cronSubject(runs.slice(0, i + 1), { repeat: '1h' }), history(story), DEFAULTS, at(minutes));
      out.push(...lines(decision));
      story = decision.story;
      for (const v of decision.verdicts) if (v.do === 'notify') story = withOutcome(story!, v.run.uid, 'notified', at(minutes).getTime());
    }
    assert.deepEqual(out, ['notify failure r1 #1', 'skip r2 repeat_interval', 'skip r3 repeat_interval', 'notify reminder r4 #4', 'skip r5 repeat_interval']);
  });

  it('a reminder says how many failures and since when', () => {
    const first = decide(cronSubject([f('r1', 90)], { repeat: '1h' }), history(), DEFAULTS, new Date(NOW.getTime() - 89 * MIN));
    const story = withOutcome(first.story!, 'uid-r1', 'notified', NOW.getTime() - 89 * MIN);
    const later = decide(cronSubject([f('r1', 90), f('r2', 5)], { repeat: '1h' }), history(story), DEFAULTS, NOW);
    const [verdict] = later.verdicts;
    assert.ok(verdict?.do === 'notify' && verdict.kind === 'reminder');
    assert.equal(verdict.streak?.count, 2);
    assert.equal(verdict.streak?.notifiedBefore, 1);
    assert.deepEqual(verdict.streak?.since, new Date(NOW.getTime() - 90 * MIN + 30_000));
  });
});

describe('decide: restarts, deleted history and events out of order', () => {
  it('the 3rd failure says 3rd after a restart, though the 1st and 2nd Jobs are deleted (failedJobsHistoryLimit: 1)', () => {
    let decision = decide(cronSubject([f('r1', 30)]), history(), DEFAULTS, NOW);
    let story = durable(delivered(decision));
    decision = decide(cronSubject([f('r2', 20)]), history(story), DEFAULTS, NOW); // r1 deleted by the controller
    story = durable(delivered(decision));
    // The process restarts: memory is gone, the story is what was written on the CronJob.
    decision = decide(cronSubject([f('r3', 10)]), history(story), DEFAULTS, NOW);
    assert.deepEqual(lines(decision), ['notify failure r3 #3']);
  });

  it('a message not confirmed before a restart is decided again, with the same count', () => {
    const decision = decide(cronSubject([f('r1', 30), f('r2', 20)]), history(), DEFAULTS, NOW);
    const confirmedOne = withOutcome(decision.story!, 'uid-r1', 'notified', NOW.getTime()); // r2 still pending when killed
    const again = decide(cronSubject([f('r1', 30), f('r2', 20)]), history(durable(confirmedOne)), DEFAULTS, NOW);
    assert.deepEqual(lines(again), ['notify failure r2 #2']);
  });

  it('a pending recovery is kept as the old streak: a restart sends the recovery again, once', () => {
    const failed = durable(delivered(decide(cronSubject([f('r1', 30), f('r2', 20)]), history(), DEFAULTS, NOW)));
    const recovered = decide(cronSubject([f('r2', 20), s('r3', 10)]), history(failed), DEFAULTS, NOW);
    assert.deepEqual(lines(recovered), ['notify recovery r3 after 2']);
    assert.equal(streakLength(durable(recovered.story!)), 2, 'the recovery is not confirmed: the durable story still has the streak');
    assert.deepEqual(lines(decide(cronSubject([f('r2', 20), s('r3', 10)]), history(recovered.story), DEFAULTS, NOW)), [], 'this process does not send it twice');
    assert.deepEqual(lines(decide(cronSubject([f('r2', 20), s('r3', 10)]), history(durable(recovered.story!)), DEFAULTS, NOW)), ['notify recovery r3 after 2']);
  });

  it('counts in scheduled order when the events arrive out of order', () => {
    const d1 = decide(cronSubject([f('r3', 10)]), history(), DEFAULTS, NOW);
    const d2 = decide(cronSubject([f('r3', 10), f('r1', 30), f('r2', 20)]), history(delivered(d1)), DEFAULTS, NOW);
    assert.deepEqual(lines(d2), ['notify failure r1 #1', 'notify failure r2 #2']);
    assert.equal(streakLength(d2.story!), 3);
  });

  it('a success that arrives before an earlier failure: that failure is still reported once, outside the streak', () => {
    const d1 = decide(cronSubject([s('r2', 10)]), history(), DEFAULTS, NOW);
    const d2 = decide(cronSubject([f('r1', 20), s('r2', 10)]), history(delivered(d1)), DEFAULTS, NOW);
    assert.deepEqual(lines(d2), ['notify failure r1']);
    assert.deepEqual(lines(decide(cronSubject([f('r1', 20), s('r2', 10)]), history(delivered(d2), { decided: ['uid-r1'] }), DEFAULTS, NOW)), []);
  });

  it('upgrading from a version without stories: a Job with alerted-at counts, and is not sent again', () => {
    const decision = decide(cronSubject([f('r1', 20, { annotations: { alertedAt: '2026-11-29T11:41:00Z' } }), f('r2', 10)], { repeat: 'first' }), history(), DEFAULTS, NOW);
    assert.deepEqual(lines(decision), ['skip r1 already_alerted', 'skip r2 repeat_first']);
  });

  it('replaying the same runs decides nothing new', () => {
    const story = delivered(decide(cronSubject(four()), history(), DEFAULTS, NOW));
    assert.deepEqual(lines(decide(cronSubject(four()), history(story), DEFAULTS, NOW)), []);
    assert.equal(notifiedCount(story), 4);
  });

  it('a failure first seen long after it happened counts in the streak but is not sent', () => {
    const old = history(undefined, { firstSeen: new Date(NOW.getTime() + 2 * 60 * MIN) });
    assert.deepEqual(lines(decide(cronSubject([f('r1', 20)]), old, DEFAULTS, NOW)), ['skip r1 too_old']);
  });

  it('the empty story is the default', () => assert.equal(streakLength(EMPTY_STORY), 0));
});

function four(): JobRecord[] {
  return [f('r1', 40), f('r2', 30), f('r3', 20), f('r4', 10)];
}

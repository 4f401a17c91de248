import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRun, decideSchedule, type HealthDecision, type Said } from '../../../src/decide/health.ts';
import type { Repeat } from '../../../src/decide/policy.ts';
import type { MissedSchedule } from '../../../src/detect/cronjob-health.ts';
import type { PendingRun, RunState } from '../../../src/detect/run-health.ts';

const NOW = new Date('2026-11-29T12:00:00Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const EVERY: Repeat = { mode: 'every-failure' };
const HOURLY: Repeat = { mode: 'interval', everyMs: 3_600_000 };

function lines(decision: HealthDecision): string[] {
  return decision.verdicts.map((v) => (v.do === 'recheck' ? `recheck ${v.at.toISOString().slice(11, 16)}` : `${v.kind}${'reminder' in v && v.reminder ? ' (reminder)' : ''}`));
}

describe('decideSchedule', () => {
  const missing: MissedSchedule = { missedSince: at(-120), missedCount: 2, nextCheckAt: at(5), schedule: '0 * * * *' };
  const onTime: MissedSchedule = { missedCount: 0, nextCheckAt: at(5) };
  const cases: Array<[string, MissedSchedule, Said, Repeat, Date, string[]]> = [
    ['on schedule: nothing, look again at the next deadline', onTime, {}, EVERY, NOW, ['recheck 12:05']],
    ['starts missing: one alert', missing, {}, EVERY, NOW, ['missed', 'recheck 12:05']],
    ['still missing, said already: nothing more (not one per missed slot)', missing, { missedSince: at(-120).toISOString(), missedNotifiedAt: at(-30).toISOString() }, EVERY, NOW, ['recheck 12:05']],
    ['still missing with repeat 1h, 30 min after the alert: wait for the reminder', missing, { missedSince: at(-120).toISOString(), missedNotifiedAt: at(-30).toISOString() }, HOURLY, NOW, ['recheck 12:30', 'recheck 12:05']],
    ['still missing with repeat 1h, 61 min after: a reminder', missing, { missedSince: at(-120).toISOString(), missedNotifiedAt: at(-61).toISOString() }, HOURLY, NOW, ['missed (reminder)', 'recheck 13:00', 'recheck 12:05']],
    ['runs again after the alert: one "running again"', onTime, { missedSince: at(-120).toISOString(), missedNotifiedAt: at(-30).toISOString() }, EVERY, NOW, ['resumed', 'recheck 12:05']],
    ['held by a Forbid run still active: neither missed nor resumed', { missedCount: 0, heldByActiveRun: true }, { missedSince: at(-120).toISOString() }, EVERY, NOW, []],
    ['an unknown time zone: one alert', { missedCount: 0, problem: 'unknown time zone Mars/Olympus', problemReason: 'UnknownTimeZone' }, {}, EVERY, NOW, ['schedule-problem']],
    ['the same problem again: nothing', { missedCount: 0, problem: 'unknown time zone Mars/Olympus', problemReason: 'UnknownTimeZone' }, { problem: 'UnknownTimeZone: unknown time zone Mars/Olympus' }, EVERY, NOW, []],
  ];
  for (const [name, missed, said, repeat, now, expected] of cases) it(name, () => assert.deepEqual(lines(decideSchedule(missed, said, repeat, now)), expected));

  it('remembers what was said: the missed time and when, cleared when it runs again', () => {
    const first = decideSchedule(missing, {}, EVERY, NOW);
    assert.deepEqual(first.said, { missedSince: at(-120).toISOString(), missedNotifiedAt: NOW.toISOString() });
    assert.deepEqual(decideSchedule(onTime, first.said, EVERY, at(10)).said, {});
  });

  it('a fixed problem is forgotten, so a new one is said', () => {
    assert.deepEqual(decideSchedule(onTime, { problem: 'UnknownTimeZone: x' }, EVERY, NOW).said, {});
  });
});

describe('decideRun', () => {
  const running: RunState = { state: 'running', startedAt: at(-30), runningForMs: 30 * 60_000, checkAt: at(15) };
  const stuck: RunState = { state: 'stuck', startedAt: at(-50), runningForMs: 50 * 60_000 };
  const finished: RunState = { state: 'finished', outcome: 'succeeded', startedAt: at(-60), finishedAt: NOW, durationMs: 3_600_000 };
  const pending = (due: boolean): PendingRun => ({ reason: 'ImagePullBackOff', pod: 'p', since: at(-11), pendingForMs: 11 * 60_000, due, checkAt: at(-1) });
  const cases: Array<[string, RunState | undefined, PendingRun | undefined, Said, string[]]> = [
    ['under its limit: look again when it would pass', running, undefined, {}, ['recheck 12:15']],
    ['past its limit: one alert', stuck, undefined, {}, ['stuck']],
    ['past its limit, said already: nothing', stuck, undefined, { stuck: at(-5).toISOString() }, []],
    ['finished after it was reported stuck: one follow-up', finished, undefined, { stuck: at(-5).toISOString() }, ['stuck-over']],
    ['finished, never stuck: nothing', finished, undefined, {}, []],
    ['follow-up said already: nothing', finished, undefined, { stuck: at(-5).toISOString(), stuckOver: NOW.toISOString() }, []],
    ['pods cannot start for PENDING_ALERT_AFTER: one alert', undefined, pending(true), {}, ['pending']],
    ['pods cannot start, not for long yet: look again', undefined, pending(false), {}, ['recheck 11:59']],
    ['pending said already: nothing', undefined, pending(true), { pending: at(-1).toISOString() }, []],
  ];
  for (const [name, run, p, said, expected] of cases) it(name, () => assert.deepEqual(lines(decideRun(run, 45 * 60_000, p, said)), expected));
});

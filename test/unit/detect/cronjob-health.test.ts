import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { missedSchedule as missedScheduleOf, neverSucceeded, scheduleFacts, type MissedSchedule, type MissedScheduleOptions } from '../../../src/detect/cronjob-health.ts';
import { cronJobRecord } from '../../../src/detect/records.ts';
import { cronJob, type CronJobOptions } from '../../fixtures/cronjobs.ts';

/** The shape the informer's initial list yields: class instances with Date fields (see failure.test.ts). */
const asListed = (object: unknown): unknown => loadYaml(JSON.stringify(object));

/** Through the facts of the object, as tests hold objects (either shape). */
const missedSchedule = (cronJob: unknown, now: Date, options: MissedScheduleOptions) => missedScheduleOf(scheduleFacts(cronJob), now, options);

const OPTIONS: MissedScheduleOptions = { graceMs: 300_000, defaultZone: 'UTC', minGraceMs: 10_000, countLimit: 100 };

type Expected = { missedSince?: string; missedCount: number; nextCheckAt?: string; heldByActiveRun?: boolean };

/** The verdict with its dates as ISO strings, and without the description (tested once below). */
function verdict(result: MissedSchedule): Expected & { problem?: string; problemReason?: string } {
  const { missedSince, nextCheckAt, schedule: _schedule, ...rest } = result;
  return { ...rest, ...(missedSince && { missedSince: missedSince.toISOString() }), ...(nextCheckAt && { nextCheckAt: nextCheckAt.toISOString() }) };
}

const Z = (at: string) => new Date(at).toISOString();

type Row = readonly [name: string, cronJob: CronJobOptions, now: string, expected: Expected, options?: Partial<MissedScheduleOptions>];

const rows: Row[] = [
  // Hourly, created 08:30:12, grace 5m.
  ['hourly, on schedule', { lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T10:30:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T11:05:00Z') }],
  ['hourly, the 11:00 run is late but within its grace', { lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:04:59Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T11:05:00Z') }],
  ['hourly, the 11:00 run is missed at its deadline', { lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:05:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 1, nextCheckAt: Z('2024-05-01T12:05:00Z') }],
  ['hourly, stopped three runs ago: missed since the first', { lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T13:30:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 3, nextCheckAt: Z('2024-05-01T14:05:00Z') }],
  ['hourly, the 11:00 run started: judged from it', { lastScheduleTime: '2024-05-01T11:00:00Z' }, '2024-05-01T11:05:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T12:05:00Z') }],
  ['hourly, never ran since creation at 08:30', {}, '2024-05-01T09:05:00Z', { missedSince: Z('2024-05-01T09:00:00Z'), missedCount: 1, nextCheckAt: Z('2024-05-01T10:05:00Z') }],
  // Per minute: half the gap (30 s) is shorter than the 5m grace.
  ['per minute, stopped at 10:00: one missed state since 10:01', { schedule: '* * * * *', lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:00:00Z', { missedSince: Z('2024-05-01T10:01:00Z'), missedCount: 59, nextCheckAt: Z('2024-05-01T11:00:30Z') }],
  ['per minute, judged within 30 s', { schedule: '* * * * *', lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T10:01:29Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T10:01:30Z') }],
  ['per minute, stopped three days ago: counted up to the limit', { schedule: '* * * * *', lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-04T10:00:10Z', { missedSince: Z('2024-05-01T10:01:00Z'), missedCount: 100, nextCheckAt: Z('2024-05-04T10:00:30Z') }],
  // Suspended, created or unsuspended late.
  ['suspended: never missed, no timer', { suspend: true, lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-02T10:00:00Z', { missedCount: 0 }],
  ['created after the 11:00 run was due: not missed', { createdAt: '2024-05-01T11:00:30Z' }, '2024-05-01T11:05:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T12:05:00Z') }],
  ['unsuspended at 11:02: the runs while suspended are not missed', { lastScheduleTime: '2024-05-01T09:00:00Z' }, '2024-05-01T11:10:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T12:05:00Z') }, { activeSince: new Date('2024-05-01T11:02:00Z') }],
  ['unsuspended at 10:30, the 11:00 run missed', { lastScheduleTime: '2024-05-01T09:00:00Z' }, '2024-05-01T11:10:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 1, nextCheckAt: Z('2024-05-01T12:05:00Z') }, { activeSince: new Date('2024-05-01T10:30:00Z') }],
  // startingDeadlineSeconds is the grace, capped at half the interval, floored at minGraceMs.
  ['startingDeadlineSeconds 120: missed at 11:02', { startingDeadlineSeconds: 120, lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:02:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 1, nextCheckAt: Z('2024-05-01T12:02:00Z') }],
  ['startingDeadlineSeconds 120: not yet at 11:01:59', { startingDeadlineSeconds: 120, lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:01:59Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T11:02:00Z') }],
  ['startingDeadlineSeconds 3600 is capped at half an hour', { startingDeadlineSeconds: 3600, lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:30:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 1, nextCheckAt: Z('2024-05-01T12:30:00Z') }],
  ['startingDeadlineSeconds 0 still gets the minimum grace', { startingDeadlineSeconds: 0, lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:00:05Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T11:00:10Z') }],
  ['MISSED_SCHEDULE_GRACE 15m', { lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T11:10:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T11:15:00Z') }, { graceMs: 900_000 }],
  // Daylight saving time, Europe/Berlin 2024 (see schedule.test.ts).
  ['DST spring: 02:30 does not exist on 31 March, nothing is missed', { schedule: '30 2 * * *', timeZone: 'Europe/Berlin', createdAt: '2024-01-01T00:00:00Z', lastScheduleTime: '2024-03-30T01:30:00Z' }, '2024-03-31T12:00:00Z', { missedCount: 0, nextCheckAt: Z('2024-04-01T00:35:00Z') }],
  ['DST fall: the second 02:30 (CET) is a run of its own, and missed', { schedule: '30 2 * * *', timeZone: 'Europe/Berlin', lastScheduleTime: '2024-10-27T00:30:00Z' }, '2024-10-27T01:40:00Z', { missedSince: Z('2024-10-27T01:30:00Z'), missedCount: 1, nextCheckAt: Z('2024-10-28T01:35:00Z') }],
  ['DST fall: the first 02:30 (CEST) gets at most half the hour to the second', { schedule: '30 2 * * *', timeZone: 'Europe/Berlin', lastScheduleTime: '2024-10-26T00:30:00Z', startingDeadlineSeconds: 7200 }, '2024-10-27T00:59:59Z', { missedCount: 0, nextCheckAt: Z('2024-10-27T01:00:00Z') }],
  ['a default zone for schedules without spec.timeZone', { schedule: '0 9 * * *', lastScheduleTime: '2024-01-01T08:00:00Z', createdAt: '2023-12-01T00:00:00Z' }, '2024-01-02T08:05:00Z', { missedSince: Z('2024-01-02T08:00:00Z'), missedCount: 1, nextCheckAt: Z('2024-01-03T08:05:00Z') }, { defaultZone: 'Europe/Berlin' }],
  // @every counts from the last run, else from creation.
  ['@every 90m from creation: due 11:30, judged at 11:35', { schedule: '@every 90m', createdAt: '2024-05-01T10:00:00Z' }, '2024-05-01T11:34:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T11:35:00Z') }],
  ['@every 90m from creation: missed', { schedule: '@every 90m', createdAt: '2024-05-01T10:00:00Z' }, '2024-05-01T11:35:00Z', { missedSince: Z('2024-05-01T11:30:00Z'), missedCount: 1, nextCheckAt: Z('2024-05-01T13:05:00Z') }],
  ['@every 90m from the last run', { schedule: '@every 90m', createdAt: '2024-05-01T10:00:00Z', lastScheduleTime: '2024-05-01T11:30:00Z' }, '2024-05-01T11:35:00Z', { missedCount: 0, nextCheckAt: Z('2024-05-01T13:05:00Z') }],
  // concurrencyPolicy Forbid with a run still going: skipped on purpose, not missed.
  ['Forbid with an active run: held, not missed', { concurrencyPolicy: 'Forbid', active: ['hello-28577220'], lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T12:30:00Z', { missedCount: 0, heldByActiveRun: true, nextCheckAt: Z('2024-05-01T13:05:00Z') }],
  ['Forbid without an active run: missed', { concurrencyPolicy: 'Forbid', lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T12:30:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 2, nextCheckAt: Z('2024-05-01T13:05:00Z') }],
  ['Allow with an active run: missed all the same', { active: ['hello-28577220'], lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T12:30:00Z', { missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 2, nextCheckAt: Z('2024-05-01T13:05:00Z') }],
];

describe('missedSchedule', () => {
  for (const [name, options, now, expected, overrides] of rows) {
    const object = cronJob(options);
    const run = (shape: unknown) => verdict(missedSchedule(shape, new Date(now), { ...OPTIONS, ...overrides }));
    it(name, () => assert.deepEqual(run(object), expected));
    it(`${name} (listed class instance)`, () => assert.deepEqual(run(asListed(object)), expected));
  }

  it('a per-minute schedule that stops keeps one missed state: the same missedSince at every check', () => {
    const object = cronJob({ schedule: '* * * * *', lastScheduleTime: '2024-05-01T10:00:00Z' });
    const since = ['10:05', '10:30', '11:00', '14:00'].map((at) => missedSchedule(object, new Date(`2024-05-01T${at}:00Z`), OPTIONS).missedSince?.toISOString());
    assert.deepEqual(new Set(since), new Set(['2024-05-01T10:01:00.000Z']));
  });

  it('a CronJobRecord (detect/records.ts) is schedule facts as it is', () => {
    const object = cronJob({ lastScheduleTime: '2024-05-01T10:00:00Z' });
    const record = cronJobRecord(object)!;
    assert.deepEqual(verdict(missedScheduleOf(record, new Date('2024-05-01T13:30:00Z'), OPTIONS)), {
      missedSince: Z('2024-05-01T11:00:00Z'), missedCount: 3, nextCheckAt: Z('2024-05-01T14:05:00Z'),
    });
  });

  it('describes the schedule it judged', () =>
    assert.equal(missedSchedule(cronJob({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin' }), new Date('2024-05-01T10:00:00Z'), OPTIONS).schedule, '30 2 * * * (Europe/Berlin)'));

  const problems: [name: string, cronJob: unknown, problem: string, reason: string][] = [
    ['an unknown spec.timeZone', cronJob({ timeZone: 'Mars/Olympus' }), 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus', 'UnknownTimeZone'],
    ['an unparseable schedule', cronJob({ schedule: '0 0 * * 7' }), 'schedule "0 0 * * 7": end of range (7) above maximum (6): 7', 'UnparseableSchedule'],
    ['a schedule that never runs', cronJob({ schedule: '0 0 30 2 *' }), 'schedule "0 0 30 2 *" has no run time in the five years after 2024-05-01T08:30:12.000Z', 'InvalidSchedule'],
    ['no spec.schedule', { ...cronJob(), spec: { suspend: false } }, 'spec.schedule is missing', 'UnparseableSchedule'],
  ];
  for (const [name, object, problem, reason] of problems) {
    it(`${name}: a problem naming the value, and no timer`, () => {
      const result = missedSchedule(object, new Date('2024-05-01T10:00:00Z'), OPTIONS);
      assert.equal(result.problem, problem);
      assert.equal(result.problemReason, reason);
      assert.equal(result.missedSince, undefined);
      assert.equal(result.nextCheckAt, undefined);
    });
  }

  it('odd objects give no verdict and never throw', () => {
    for (const odd of [null, undefined, 42, 'cronjob', [], {}, { spec: null }, { spec: { schedule: 5 } }, { spec: { schedule: '0 * * * *' }, metadata: { creationTimestamp: 'yesterday' } }]) {
      const result = missedSchedule(odd, new Date('2024-05-01T10:00:00Z'), OPTIONS);
      assert.equal(result.missedSince, undefined, JSON.stringify(odd));
    }
  });
});

describe('neverSucceeded', () => {
  const rows: [name: string, options: CronJobOptions, seen: number, n: number, expected: boolean][] = [
    ['no success after 3 runs, N=3', { lastScheduleTime: '2024-05-01T10:00:00Z' }, 3, 3, true],
    ['no success after 2 runs, N=3', { lastScheduleTime: '2024-05-01T10:00:00Z' }, 2, 3, false],
    ['succeeded once', { lastScheduleTime: '2024-05-01T10:00:00Z', lastSuccessfulTime: '2024-05-01T09:00:41Z' }, 10, 3, false],
    ['N=0 turns it off', {}, 10, 0, false],
  ];
  for (const [name, options, seen, n, expected] of rows) {
    it(name, () => assert.equal(neverSucceeded(cronJobRecord(cronJob(options))!, seen, n), expected));
    it(`${name} (listed class instance)`, () => assert.equal(neverSucceeded(cronJobRecord(asListed(cronJob(options)))!, seen, n), expected));
  }
});

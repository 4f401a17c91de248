/**
 * parseSchedule against the Kubernetes CronJob controller's behaviour: robfig/cron v3 (ParseStandard, SpecSchedule,
 * ConstantDelaySchedule) as vendored by kubernetes/kubernetes. Rows marked "robfig" restate cases of robfig/cron
 * v3's spec_test.go (TestActivation, TestNext: the DST rows in America/New_York and the America/Sao_Paulo midnight
 * rows of robfig/cron#157), converted to 5-field schedules; the others are derived from its parser and spec.go.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGoDuration, parseSchedule } from '../../../src/detect/schedule.ts';

function schedule(text: string, timeZone?: string | null, defaultZone?: string) {
  const parsed = parseSchedule(text, timeZone, defaultZone);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problem);
  return parsed.schedule;
}

/** The next `expected.length` runs after `from`, as instants (ISO, UTC); 'never' ends a schedule with no more runs. */
function runs(text: string, timeZone: string | null | undefined, from: string, count: number, defaultZone?: string): string[] {
  const parsed = schedule(text, timeZone, defaultZone);
  const found: string[] = [];
  let at = new Date(from);
  while (found.length < count) {
    const next = parsed.nextAfter(at);
    if (next === undefined) {
      found.push('never');
      break;
    }
    found.push(next.toISOString());
    at = next;
  }
  return found;
}

const iso = (local: string) => new Date(local).toISOString();

type Row = readonly [name: string, schedule: string, timeZone: string | undefined, from: string, expected: readonly string[]];

describe('parseSchedule: next run times', () => {
  const utc: Row[] = [
    ['robfig: every 15 minutes', '0/15 * * * *', undefined, '2012-07-09T14:45:00Z', ['2012-07-09T15:00:00Z']],
    ['robfig: every 15 minutes, a second before', '*/15 * * * *', undefined, '2012-07-09T14:59:59Z', ['2012-07-09T15:00:00Z']],
    ['robfig: a-b/n wraps around the hour', '20-35/15 * * * *', undefined, '2012-07-09T15:45:00Z', ['2012-07-09T16:20:00Z', '2012-07-09T16:35:00Z']],
    ['robfig: wraps around the day', '*/15 * * * *', undefined, '2012-07-09T23:46:00Z', ['2012-07-10T00:00:00Z']],
    ['robfig: N/step means N-max/step', '5/15 * * * *', undefined, '2012-07-09T15:00:00Z', ['2012-07-09T15:05:00Z', '2012-07-09T15:20:00Z', '2012-07-09T15:35:00Z', '2012-07-09T15:50:00Z']],
    ['robfig: month range by name, ? day of week', '0 0 9 Apr-Oct ?', undefined, '2012-07-09T23:35:00Z', ['2012-08-09T00:00:00Z']],
    ['robfig: month list, dom step ORed with Monday', '0 0 */5 Apr,Aug,Oct Mon', undefined, '2012-07-09T23:35:00Z', ['2012-08-01T00:00:00Z']],
    ['robfig: dom step ORed with Monday in October', '0 0 */5 Oct Mon', undefined, '2012-07-09T23:35:00Z', ['2012-10-01T00:00:00Z']],
    ['robfig: wraps around the year', '0 0 * Feb Mon', undefined, '2012-07-09T23:35:00Z', ['2013-02-04T00:00:00Z']],
    ['robfig: weekday step from a name (Mon/2: Mon, Wed, Fri)', '0 0 * Feb Mon/2', undefined, '2012-07-09T23:35:00Z', ['2013-02-01T00:00:00Z']],
    ['robfig: leap day', '0 0 29 Feb ?', undefined, '2012-07-09T23:35:00Z', ['2016-02-29T00:00:00Z']],
    ['robfig: unsatisfiable (30 Feb)', '0 0 30 Feb ?', undefined, '2012-07-09T23:35:00Z', ['never']],
    ['robfig: unsatisfiable (31 Apr)', '0 0 31 Apr ?', undefined, '2012-07-09T23:35:00Z', ['never']],
    ['robfig: both restricted, either day matches', '0 0 1,15 * Sun', undefined, '2012-06-30T12:00:00Z', ['2012-07-01T00:00:00Z', '2012-07-08T00:00:00Z', '2012-07-15T00:00:00Z', '2012-07-22T00:00:00Z']],
    ['robfig: */10 is a restriction, so ORed (robfig/cron#70)', '0 0 */10 * Sun', undefined, '2012-07-14T12:00:00Z', ['2012-07-15T00:00:00Z', '2012-07-21T00:00:00Z', '2012-07-22T00:00:00Z', '2012-07-29T00:00:00Z']],
    ['robfig: a star day of month ANDs: Mondays only', '0 0 * * Mon', undefined, '2012-07-14T12:00:00Z', ['2012-07-16T00:00:00Z', '2012-07-23T00:00:00Z']],
    ['robfig: a star day of week ANDs: the 1st and 15th only', '0 0 1,15 * *', undefined, '2012-07-02T00:00:00Z', ['2012-07-15T00:00:00Z', '2012-08-01T00:00:00Z']],
    ['*/1 keeps the star: ANDed, Sundays only', '0 0 */1 * SUN', undefined, '2012-07-14T12:00:00Z', ['2012-07-15T00:00:00Z', '2012-07-22T00:00:00Z']],
    ['? is a star: ANDed', '0 0 ? * 0', undefined, '2012-07-14T12:00:00Z', ['2012-07-15T00:00:00Z', '2012-07-22T00:00:00Z']],
    ['1-31 is no star: ORed with Monday, so every day', '0 0 1-31 * MON', undefined, '2012-07-14T12:00:00Z', ['2012-07-15T00:00:00Z', '2012-07-16T00:00:00Z', '2012-07-17T00:00:00Z']],
    ['names in any case', '0 0 1 jan,JUL *', undefined, '2024-02-01T00:00:00Z', ['2024-07-01T00:00:00Z', '2025-01-01T00:00:00Z']],
    ['weekdays by name range', '0 9 * * MON-FRI', undefined, '2024-01-05T12:00:00Z', ['2024-01-08T09:00:00Z', '2024-01-09T09:00:00Z']],
    ['weekdays by number range', '0 9 * * 1-5', undefined, '2024-01-05T12:00:00Z', ['2024-01-08T09:00:00Z', '2024-01-09T09:00:00Z']],
    ['a list of minutes', '0,30 * * * *', undefined, '2024-01-01T10:10:00Z', ['2024-01-01T10:30:00Z', '2024-01-01T11:00:00Z']],
    ['the last minute of the year', '59 23 31 12 *', undefined, '2024-01-01T00:00:00Z', ['2024-12-31T23:59:00Z']],
    ['Go Atoi takes a plus sign', '+5 * * * *', undefined, '2024-01-01T10:10:00Z', ['2024-01-01T11:05:00Z']],
    ['strictly after: a run at `from` is not next', '* * * * *', undefined, '2024-01-01T10:00:00Z', ['2024-01-01T10:01:00Z']],
    ['strictly after, to the second', '* * * * *', undefined, '2024-01-01T10:00:59.999Z', ['2024-01-01T10:01:00Z']],
    ['@yearly', '@yearly', undefined, '2024-06-01T00:00:00Z', ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z']],
    ['@annually', '@annually', undefined, '2024-06-01T00:00:00Z', ['2025-01-01T00:00:00Z']],
    ['@monthly', '@monthly', undefined, '2024-06-01T00:00:00Z', ['2024-07-01T00:00:00Z', '2024-08-01T00:00:00Z']],
    ['@weekly (Sundays)', '@weekly', undefined, '2024-06-01T00:00:00Z', ['2024-06-02T00:00:00Z', '2024-06-09T00:00:00Z']],
    ['@daily', '@daily', undefined, '2024-06-01T00:00:00Z', ['2024-06-02T00:00:00Z']],
    ['@midnight', '@midnight', undefined, '2024-06-01T12:00:00Z', ['2024-06-02T00:00:00Z']],
    ['@hourly', '@hourly', undefined, '2024-06-01T10:15:00Z', ['2024-06-01T11:00:00Z', '2024-06-01T12:00:00Z']],
  ];

  const every: Row[] = [
    ['@every 90m counts from the previous time, rounded down to the second', '@every 90m', undefined, '2024-01-01T00:00:00.700Z', ['2024-01-01T01:30:00Z', '2024-01-01T03:00:00Z']],
    ['@every 1h30m', '@every 1h30m', undefined, '2024-01-01T00:00:00Z', ['2024-01-01T01:30:00Z']],
    ['@every 1.5h', '@every 1.5h', undefined, '2024-01-01T00:00:00Z', ['2024-01-01T01:30:00Z']],
    ['@every 500ms is one second', '@every 500ms', undefined, '2024-01-01T00:00:00Z', ['2024-01-01T00:00:01Z']],
    ['@every 1m30.9s is truncated to 90s', '@every 1m30.9s', undefined, '2024-01-01T00:00:00Z', ['2024-01-01T00:01:30Z']],
    ['@every -5m is one second (Go parses it; Every raises it)', '@every -5m', undefined, '2024-01-01T00:00:00Z', ['2024-01-01T00:00:01Z']],
    ['@every 24h ignores the zone and its DST', '@every 24h', 'Europe/Berlin', '2024-03-30T12:00:00Z', ['2024-03-31T12:00:00Z']],
  ];

  // America/New_York 2012: 11 March 02:00 EST -> 03:00 EDT; 4 November 02:00 EDT -> 01:00 EST.
  const newYork: Row[] = [
    ['robfig: spring forward: 02:30 does not exist, skipped to next year', '30 2 11 Mar ?', 'America/New_York', '2012-03-11T00:00:00-05:00', [iso('2013-03-11T02:30:00-04:00')]],
    ['robfig: hourly job through the gap', '0 * * * ?', 'America/New_York', '2012-03-11T00:00:00-05:00', [iso('2012-03-11T01:00:00-05:00'), iso('2012-03-11T03:00:00-04:00'), iso('2012-03-11T04:00:00-04:00'), iso('2012-03-11T05:00:00-04:00')]],
    ['robfig: 1am nightly job on the spring day', '0 1 * * ?', 'America/New_York', '2012-03-11T00:00:00-05:00', [iso('2012-03-11T01:00:00-05:00'), iso('2012-03-12T01:00:00-04:00')]],
    ['robfig: 2am nightly job is skipped on the spring day', '0 2 * * ?', 'America/New_York', '2012-03-11T00:00:00-05:00', [iso('2012-03-12T02:00:00-04:00')]],
    ['robfig: fall back: 02:30 runs once, in EST', '30 2 04 Nov ?', 'America/New_York', '2012-11-04T00:00:00-04:00', [iso('2012-11-04T02:30:00-05:00')]],
    ['robfig: fall back: 01:30 comes again after 01:45 EDT', '30 1 04 Nov ?', 'America/New_York', '2012-11-04T01:45:00-04:00', [iso('2012-11-04T01:30:00-05:00')]],
    ['robfig: hourly job through the repeated hour', '0 * * * ?', 'America/New_York', '2012-11-04T00:00:00-04:00', [iso('2012-11-04T01:00:00-04:00'), iso('2012-11-04T01:00:00-05:00'), iso('2012-11-04T02:00:00-05:00')]],
    ['robfig: 1am nightly job runs twice', '0 1 * * ?', 'America/New_York', '2012-11-04T00:00:00-04:00', [iso('2012-11-04T01:00:00-04:00'), iso('2012-11-04T01:00:00-05:00'), iso('2012-11-05T01:00:00-05:00')]],
    ['robfig: 2am nightly job on the fall day', '0 2 * * ?', 'America/New_York', '2012-11-04T00:00:00-04:00', [iso('2012-11-04T02:00:00-05:00'), iso('2012-11-05T02:00:00-05:00')]],
    ['robfig: 3am nightly job on the fall day', '0 3 * * ?', 'America/New_York', '2012-11-04T00:00:00-04:00', [iso('2012-11-04T03:00:00-05:00'), iso('2012-11-05T03:00:00-05:00')]],
    ['robfig: monthly job', '0 3 3 * ?', 'America/New_York', '2012-11-04T00:00:00-04:00', [iso('2012-12-03T03:00:00-05:00')]],
  ];

  // America/Sao_Paulo 2018: DST began at midnight (4 November 00:00 -> 01:00): robfig/cron#157.
  const saoPaulo: Row[] = [
    ['robfig: a month whose DST day has no midnight', '0 9 10 * ?', 'America/Sao_Paulo', '2018-10-17T05:00:00-04:00', [iso('2018-11-10T06:00:00-05:00')]],
    ['robfig: a day in DST', '0 9 22 * ?', 'America/Sao_Paulo', '2018-02-14T05:00:00-05:00', [iso('2018-02-22T07:00:00-05:00')]],
  ];

  // Europe/Berlin 2024: 31 March 02:00 CET -> 03:00 CEST (01:00Z); 27 October 03:00 CEST -> 02:00 CET (01:00Z).
  const berlin: Row[] = [
    ['02:30 daily: the day before spring, then skipped on the spring day', '30 2 * * *', 'Europe/Berlin', '2024-03-30T00:00:00Z', ['2024-03-30T01:30:00Z', '2024-04-01T00:30:00Z']],
    ['02:30 daily runs twice on the fall day (CEST, then CET)', '30 2 * * *', 'Europe/Berlin', '2024-10-26T12:00:00Z', ['2024-10-27T00:30:00Z', '2024-10-27T01:30:00Z', '2024-10-28T01:30:00Z']],
    ['every 30 minutes in hour 2 skips the spring day entirely', '*/30 2 * * *', 'Europe/Berlin', '2024-03-30T12:00:00Z', ['2024-04-01T00:00:00Z', '2024-04-01T00:30:00Z']],
    ['hourly through the gap: 01:00 CET, then 03:00 CEST', '0 * * * *', 'Europe/Berlin', '2024-03-30T23:30:00Z', ['2024-03-31T00:00:00Z', '2024-03-31T01:00:00Z', '2024-03-31T02:00:00Z']],
    ['hourly through the repeated hour: 02:00 CEST, 02:00 CET, 03:00 CET', '0 * * * *', 'Europe/Berlin', '2024-10-26T23:30:00Z', ['2024-10-27T00:00:00Z', '2024-10-27T01:00:00Z', '2024-10-27T02:00:00Z']],
    ['@daily is local midnight', '@daily', 'Europe/Berlin', '2024-01-01T12:00:00Z', ['2024-01-01T23:00:00Z']],
    ['TZ= in the schedule wins over spec.timeZone', 'TZ=Europe/Berlin 30 2 * * *', 'Asia/Tokyo', '2024-10-26T12:00:00Z', ['2024-10-27T00:30:00Z', '2024-10-27T01:30:00Z']],
    ['CRON_TZ= in the schedule', 'CRON_TZ=Europe/Berlin 0 * * * *', undefined, '2024-03-30T23:30:00Z', ['2024-03-31T00:00:00Z', '2024-03-31T01:00:00Z']],
  ];

  const zones: Row[] = [
    ['a half-hour zone (Asia/Kolkata, +05:30)', '0 9 * * *', 'Asia/Kolkata', '2024-01-01T00:00:00Z', ['2024-01-01T03:30:00Z']],
    ['spec.timeZone UTC', '0 9 * * *', 'UTC', '2024-01-01T00:00:00Z', ['2024-01-01T09:00:00Z']],
    ['spec.timeZone Etc/UTC', '0 9 * * *', 'Etc/UTC', '2024-01-01T00:00:00Z', ['2024-01-01T09:00:00Z']],
    ['spec.timeZone "" is UTC (Go loads it so)', '0 9 * * *', '', '2024-01-01T00:00:00Z', ['2024-01-01T09:00:00Z']],
  ];

  for (const [group, rows] of Object.entries({ utc, every, newYork, saoPaulo, berlin, zones })) {
    describe(group, () => {
      for (const [name, text, timeZone, from, expected] of rows) {
        it(`${name}: ${JSON.stringify(text)}${timeZone === undefined ? '' : ` in ${timeZone || '""'}`}`, () =>
          assert.deepEqual(runs(text, timeZone, from, expected.length), expected.map((at) => (at === 'never' ? at : new Date(at).toISOString()))));
      }
    });
  }

  describe('the zone when spec.timeZone is unset', () => {
    it('is UTC by default', () => assert.deepEqual(runs('0 9 * * *', undefined, '2024-01-01T00:00:00Z', 1), ['2024-01-01T09:00:00.000Z']));
    it('is the configured default zone', () => assert.deepEqual(runs('0 9 * * *', null, '2024-01-01T00:00:00Z', 1, 'Europe/Berlin'), ['2024-01-01T08:00:00.000Z']));
    it('spec.timeZone wins over the default', () => assert.deepEqual(runs('0 9 * * *', 'Asia/Kolkata', '2024-01-01T00:00:00Z', 1, 'Europe/Berlin'), ['2024-01-01T03:30:00.000Z']));
    it('"Local" is the default zone (the controller\'s own)', () => assert.deepEqual(runs('0 9 * * *', 'Local', '2024-01-01T00:00:00Z', 1, 'Europe/Berlin'), ['2024-01-01T08:00:00.000Z']));
  });
});

describe('parseSchedule: problems name the value', () => {
  const rows: [schedule: string, timeZone: string | undefined, reason: string, problem: string][] = [
    ['', undefined, 'UnparseableSchedule', 'schedule "": empty spec string'],
    ['* * * *', undefined, 'UnparseableSchedule', 'schedule "* * * *": expected exactly 5 fields, found 4: [* * * *]'],
    ['0 * * * * *', undefined, 'UnparseableSchedule', 'schedule "0 * * * * *": expected exactly 5 fields, found 6: [0 * * * * *]'],
    ['60 * * * *', undefined, 'UnparseableSchedule', 'schedule "60 * * * *": end of range (60) above maximum (59): 60'],
    ['* 24 * * *', undefined, 'UnparseableSchedule', 'schedule "* 24 * * *": end of range (24) above maximum (23): 24'],
    ['* * 0 * *', undefined, 'UnparseableSchedule', 'schedule "* * 0 * *": beginning of range (0) below minimum (1): 0'],
    ['* * 32 * *', undefined, 'UnparseableSchedule', 'schedule "* * 32 * *": end of range (32) above maximum (31): 32'],
    ['* * * 13 *', undefined, 'UnparseableSchedule', 'schedule "* * * 13 *": end of range (13) above maximum (12): 13'],
    ['* * * 0 *', undefined, 'UnparseableSchedule', 'schedule "* * * 0 *": beginning of range (0) below minimum (1): 0'],
    ['0 0 * * 7', undefined, 'UnparseableSchedule', 'schedule "0 0 * * 7": end of range (7) above maximum (6): 7'],
    ['0 0 * * 1-7', undefined, 'UnparseableSchedule', 'schedule "0 0 * * 1-7": end of range (7) above maximum (6): 1-7'],
    ['0 0 * * SUNDAY', undefined, 'UnparseableSchedule', 'schedule "0 0 * * SUNDAY": failed to parse int from SUNDAY: strconv.Atoi: parsing "SUNDAY": invalid syntax'],
    ['0 0 * * MON#2', undefined, 'UnparseableSchedule', 'schedule "0 0 * * MON#2": failed to parse int from MON#2: strconv.Atoi: parsing "MON#2": invalid syntax'],
    ['0 0 * * +MON', undefined, 'UnparseableSchedule', 'schedule "0 0 * * +MON": failed to parse int from +MON: strconv.Atoi: parsing "+MON": invalid syntax'],
    ['0 0 L * *', undefined, 'UnparseableSchedule', 'schedule "0 0 L * *": failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'],
    ['0 0 15W * *', undefined, 'UnparseableSchedule', 'schedule "0 0 15W * *": failed to parse int from 15W: strconv.Atoi: parsing "15W": invalid syntax'],
    ['5-1 * * * *', undefined, 'UnparseableSchedule', 'schedule "5-1 * * * *": beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', undefined, 'UnparseableSchedule', 'schedule "*/0 * * * *": step of range should be a positive number: */0'],
    ['1-2-3 * * * *', undefined, 'UnparseableSchedule', 'schedule "1-2-3 * * * *": too many hyphens: 1-2-3'],
    ['1/2/3 * * * *', undefined, 'UnparseableSchedule', 'schedule "1/2/3 * * * *": too many slashes: 1/2/3'],
    ['@reboot', undefined, 'UnparseableSchedule', 'schedule "@reboot": unrecognized descriptor: @reboot'],
    ['@Hourly', undefined, 'UnparseableSchedule', 'schedule "@Hourly": unrecognized descriptor: @Hourly'],
    ['@every', undefined, 'UnparseableSchedule', 'schedule "@every": unrecognized descriptor: @every'],
    ['@every 5', undefined, 'UnparseableSchedule', 'schedule "@every 5": failed to parse duration @every 5: time: missing unit in duration "5"'],
    ['@every 1d', undefined, 'UnparseableSchedule', 'schedule "@every 1d": failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"'],
    [' @hourly', undefined, 'UnparseableSchedule', 'schedule " @hourly": expected exactly 5 fields, found 1: [@hourly]'],
    ['TZ=Mars/Olympus 0 * * * *', undefined, 'UnparseableSchedule', 'schedule "TZ=Mars/Olympus 0 * * * *": provided bad location Mars/Olympus: unknown time zone Mars/Olympus'],
    ['TZ=UTC', undefined, 'UnparseableSchedule', 'schedule "TZ=UTC": a TZ= or CRON_TZ= prefix must be followed by a space and the schedule'],
    ['0 * * * *', 'Mars/Olympus', 'UnknownTimeZone', 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus'],
    ['0 * * * *', 'europe/berlin', 'UnknownTimeZone', 'invalid timeZone: "europe/berlin": unknown time zone europe/berlin'],
    ['0 * * * *', '+01:00', 'UnknownTimeZone', 'invalid timeZone: "+01:00": unknown time zone +01:00'],
    // The controller checks spec.timeZone before it reads the schedule.
    ['TZ=Europe/Berlin 0 * * * *', 'Mars/Olympus', 'UnknownTimeZone', 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus'],
  ];
  for (const [text, timeZone, reason, problem] of rows) {
    it(`${JSON.stringify(text)}${timeZone === undefined ? '' : ` in ${timeZone}`}`, () =>
      assert.deepEqual(parseSchedule(text, timeZone), { ok: false, reason, problem }));
  }
});

describe('Schedule', () => {
  const described: [schedule: string, timeZone: string | undefined, description: string, intervalMs: number | undefined][] = [
    ['0 2 * * *', 'Europe/Berlin', '0 2 * * * (Europe/Berlin)', 86_400_000],
    ['*/15 * * * *', undefined, '*/15 * * * * (UTC)', 900_000],
    ['0 9 * * 1-5', undefined, '0 9 * * 1-5 (UTC)', 86_400_000],
    ['@hourly', 'America/New_York', '@hourly (America/New_York)', 3_600_000],
    ['TZ=Europe/Berlin 30 2 * * *', undefined, '30 2 * * * (Europe/Berlin)', 86_400_000],
    ['@every 90m', 'Europe/Berlin', '@every 90m', 5_400_000],
    ['0 0 30 2 *', undefined, '0 0 30 2 * (UTC)', undefined],
  ];
  for (const [text, timeZone, description, intervalMs] of described) {
    it(`${JSON.stringify(text)} describes itself as ${JSON.stringify(description)}, every ${intervalMs} ms`, () => {
      const parsed = schedule(text, timeZone);
      assert.equal(parsed.describe(), description);
      assert.equal(parsed.intervalMs, intervalMs);
    });
  }

  it('timesBetween: after `from`, up to and including `to`, at most `limit`', () => {
    const hourly = schedule('0 * * * *');
    const between = (from: string, to: string, limit: number) => hourly.timesBetween(new Date(from), new Date(to), limit).map((at) => at.toISOString());
    assert.deepEqual(between('2024-01-01T10:00:00Z', '2024-01-01T13:00:00Z', 10), ['2024-01-01T11:00:00.000Z', '2024-01-01T12:00:00.000Z', '2024-01-01T13:00:00.000Z']);
    assert.deepEqual(between('2024-01-01T10:00:00Z', '2024-01-01T13:00:00Z', 2), ['2024-01-01T11:00:00.000Z', '2024-01-01T12:00:00.000Z']);
    assert.deepEqual(between('2024-01-01T10:00:00Z', '2024-01-01T10:59:59Z', 10), []);
  });

  it('an invalid Date has no next run', () => assert.equal(schedule('* * * * *').nextAfter(new Date(Number.NaN)), undefined));
});

describe('parseGoDuration (time.ParseDuration)', () => {
  const rows: [string, number | string][] = [
    ['90m', 5_400e9],
    ['1h30m', 5_400e9],
    ['1.5h', 5_400e9],
    ['.5s', 0.5e9],
    ['300ms', 300e6],
    ['2us', 2e3],
    ['2µs', 2e3],
    ['0', 0],
    ['-1m', -60e9],
    ['', 'time: invalid duration ""'],
    ['5', 'time: missing unit in duration "5"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['.s', 'time: invalid duration ".s"'],
    ['h', 'time: invalid duration "h"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ];
  for (const [text, expected] of rows) it(`${JSON.stringify(text)} -> ${expected}`, () => assert.equal(parseGoDuration(text), expected));
});

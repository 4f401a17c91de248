/**
 * A CronJob's schedule, read the way the Kubernetes CronJob controller reads it: robfig/cron v3's standard parser
 * (`cron.ParseStandard`) on `spec.schedule`, in the zone of `spec.timeZone` (else the controller's own local zone,
 * which we cannot see: `defaultZone`, SCHEDULE_TIME_ZONE, UTC unless set).
 *
 * The grammar is robfig's, not croner's: exactly 5 fields; month and weekday names (3 letters, any case); `*` and
 * `?`; lists, `a-b`, `*\/n`, `a-b/n` and `a/n` (= a-max/n); weekdays 0-6 (robfig refuses 7, and L, W, # and +, all
 * of which croner would accept); the descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight`
 * `@hourly` and `@every <Go duration>`; a `TZ=` or `CRON_TZ=` prefix (refused by the API server on create since
 * Kubernetes 1.29, still honoured by the controller for older objects: when the schedule contains "TZ" it is used as
 * written and spec.timeZone is ignored). Day of month and day of week are ORed when both are restricted, ANDed when
 * either is a star: robfig's `dayMatches` keys on a "star bit" that `*` and `?` set, unless stepped by more than 1
 * (`*\/10` is a restriction, `*\/1` a star).
 *
 * Times: croner (in UTC, where no daylight saving exists) finds the next matching wall-clock time; this module maps
 * wall clock to instants itself. croner's own zone handling follows Vixie cron for fixed-time jobs (a time in the
 * spring-forward gap runs after the gap, a time repeated at fall-back runs once), but robfig, so the controller,
 * runs at every instant whose wall clock matches: a time in the gap is skipped, a repeated time runs twice.
 * `@every d` runs d after the previous run (the controller counts from status.lastScheduleTime, else the CronJob's
 * creation), d truncated to whole seconds and at least 1 s, as robfig's ConstantDelaySchedule.
 */
import { Cron } from 'croner';
import { nextOffsetChange, offsetMs, zoneProblem } from './zone.ts';

export interface Schedule {
  /** The schedule as written, without a TZ= prefix. */
  readonly text: string;
  /** The IANA zone its fields are read in; undefined for `@every`, which has no wall clock. */
  readonly zone: string | undefined;
  /** "0 2 * * * (Europe/Berlin)", "@every 90m". */
  describe(): string;
  /**
   * The first run strictly after `after` (the controller's `schedule.Next`), or undefined when there is none within
   * five years (robfig gives up there; the controller then reports InvalidSchedule).
   */
  nextAfter(after: Date): Date | undefined;
  /** Runs `t` with from < t <= to, oldest first, at most `limit`. */
  timesBetween(from: Date, to: Date, limit: number): Date[];
  /** The typical (median) time between runs, or undefined for a schedule that never runs. */
  readonly intervalMs: number | undefined;
}

/** Named like the controller's events for the same trouble. */
export type ScheduleProblemReason = 'UnknownTimeZone' | 'UnparseableSchedule';

export type ParsedSchedule =
  | { readonly ok: true; readonly schedule: Schedule }
  | { readonly ok: false; readonly reason: ScheduleProblemReason; readonly problem: string };

const SECOND = 1000;

/**
 * Parses `schedule` with `timeZone` (spec.timeZone: undefined or null when unset). Problems name the value:
 * `schedule "61 * * * *": end of range (61) above maximum (59): 61`, `invalid timeZone: "Mars/Olympus": ...`.
 */
export function parseSchedule(schedule: string, timeZone: string | null | undefined, defaultZone = 'UTC'): ParsedSchedule {
  // The controller refuses an unloadable spec.timeZone before it looks at the schedule (UnknownTimeZone).
  if (timeZone !== undefined && timeZone !== null) {
    const problem = goZoneProblem(timeZone);
    if (problem !== undefined) return { ok: false, reason: 'UnknownTimeZone', problem: `invalid timeZone: ${JSON.stringify(timeZone)}: ${problem}` };
  }
  const unparseable = (problem: string): ParsedSchedule => ({ ok: false, reason: 'UnparseableSchedule', problem: `schedule ${JSON.stringify(schedule)}: ${problem}` });
  if (schedule.length === 0) return unparseable('empty spec string');

  let spec = schedule;
  let zone = timeZone === undefined || timeZone === null ? defaultZone : goZone(timeZone, defaultZone);
  if (spec.includes('TZ')) {
    zone = defaultZone;
    if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
      const space = spec.indexOf(' ');
      if (space < 0) return unparseable('a TZ= or CRON_TZ= prefix must be followed by a space and the schedule');
      const name = spec.slice(spec.indexOf('=') + 1, space);
      const problem = goZoneProblem(name);
      if (problem !== undefined) return unparseable(`provided bad location ${name}: ${problem}`);
      zone = goZone(name, defaultZone);
      spec = spec.slice(space).trim();
    }
  }

  if (spec.startsWith('@')) {
    const descriptor = DESCRIPTORS[spec];
    if (descriptor !== undefined) return { ok: true, schedule: new CronSchedule(spec, zone, descriptor) };
    if (spec.startsWith('@every ')) {
      const nanoseconds = parseGoDuration(spec.slice('@every '.length));
      if (typeof nanoseconds === 'string') return unparseable(`failed to parse duration ${spec}: ${nanoseconds}`);
      return { ok: true, schedule: new EverySchedule(spec, nanoseconds) };
    }
    return unparseable(`unrecognized descriptor: ${spec}`);
  }

  const texts = spec.split(/\s+/).filter((field) => field !== '');
  if (texts.length !== 5) return unparseable(`expected exactly 5 fields, found ${texts.length}: [${texts.join(' ')}]`);
  const fields: Field[] = [];
  for (const [index, text] of texts.entries()) {
    const field = parseField(text, BOUNDS[index]!);
    if (typeof field === 'string') return unparseable(field);
    fields.push(field);
  }
  return { ok: true, schedule: new CronSchedule(spec, zone, fields as unknown as Fields) };
}

// ---------------------------------------------------------------------------------------------------------------
// Zones, as Go's time.LoadLocation names them.

/** Go loads "" and "UTC" as UTC and "Local" as the process's zone (for the controller: ours is `defaultZone`). */
function goZone(name: string, defaultZone: string): string {
  if (name === '' || name === 'UTC') return 'UTC';
  return name === 'Local' ? defaultZone : name;
}

function goZoneProblem(name: string): string | undefined {
  return name === '' || name === 'Local' ? undefined : zoneProblem(name);
}

// ---------------------------------------------------------------------------------------------------------------
// Fields, as robfig's getField / getRange parse them.

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTHS = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const WEEKDAYS = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const BOUNDS: readonly Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: WEEKDAYS },
];

interface Field {
  readonly values: readonly number[];
  /** robfig's star bit: decides whether day of month and day of week are ANDed (either starred) or ORed. */
  readonly star: boolean;
}

type Fields = readonly [minute: Field, hour: Field, dayOfMonth: Field, month: Field, dayOfWeek: Field];

function parseField(text: string, bounds: Bounds): Field | string {
  const values = new Set<number>();
  let star = false;
  for (const range of text.split(',').filter((part) => part !== '')) {
    const parsed = parseRange(range, bounds);
    if (typeof parsed === 'string') return parsed;
    for (const value of parsed.values) values.add(value);
    star ||= parsed.star;
  }
  return { values: [...values].sort((a, b) => a - b), star };
}

/** `number | name | * | ? | low-high`, each with an optional `/step`. */
function parseRange(expr: string, { min, max, names }: Bounds): Field | string {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    [start, end, star] = [min, max, true];
  } else {
    const low = parseIntOrName(lowAndHigh[0]!, names);
    if (typeof low === 'string') return low;
    start = end = low;
    if (lowAndHigh.length === 2) {
      const high = parseIntOrName(lowAndHigh[1]!, names);
      if (typeof high === 'string') return high;
      end = high;
    } else if (lowAndHigh.length > 2) {
      return `too many hyphens: ${expr}`;
    }
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const parsed = parseUnsigned(rangeAndStep[1]!);
    if (typeof parsed === 'string') return parsed;
    step = parsed;
    if (lowAndHigh.length === 1) end = max; // "N/step" means "N-max/step"
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    return `too many slashes: ${expr}`;
  }
  if (start < min) return `beginning of range (${start}) below minimum (${min}): ${expr}`;
  if (end > max) return `end of range (${end}) above maximum (${max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return { values, star };
}

function parseIntOrName(expr: string, names: Bounds['names']): number | string {
  const named = names?.[expr.toLowerCase()];
  return named ?? parseUnsigned(expr);
}

/** Go's strconv.Atoi (optional sign, decimal digits), refusing negatives as robfig does. */
function parseUnsigned(expr: string): number | string {
  if (!/^[+-]?\d+$/.test(expr)) return `failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`;
  const number = Number(expr);
  if (!Number.isSafeInteger(number)) return `failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: value out of range`;
  if (number < 0) return `negative number (${number}) not allowed: ${expr}`;
  return number === 0 ? 0 : number; // no -0
}

const every = (bounds: Bounds): Field => ({ values: Array.from({ length: bounds.max - bounds.min + 1 }, (_, i) => bounds.min + i), star: true });
const only = (value: number): Field => ({ values: [value], star: false });
const [, HOURS, DAYS, MONTHS_FIELD, WEEKDAYS_FIELD] = BOUNDS.map(every) as unknown as Fields;

/** robfig's parseDescriptor: exact, case-sensitive names. */
const DESCRIPTORS: Readonly<Record<string, Fields>> = {
  '@yearly': [only(0), only(0), only(1), only(1), WEEKDAYS_FIELD],
  '@annually': [only(0), only(0), only(1), only(1), WEEKDAYS_FIELD],
  '@monthly': [only(0), only(0), only(1), MONTHS_FIELD, WEEKDAYS_FIELD],
  '@weekly': [only(0), only(0), DAYS, MONTHS_FIELD, only(0)],
  '@daily': [only(0), only(0), DAYS, MONTHS_FIELD, WEEKDAYS_FIELD],
  '@midnight': [only(0), only(0), DAYS, MONTHS_FIELD, WEEKDAYS_FIELD],
  '@hourly': [only(0), HOURS, DAYS, MONTHS_FIELD, WEEKDAYS_FIELD],
};

// ---------------------------------------------------------------------------------------------------------------
// Go durations, for @every (time.ParseDuration: "90m", "1h30m", "1.5h", "300ms"; no days).

const GO_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const MAX_INT64 = 2 ** 63 - 1;

/** Nanoseconds, or Go's error text. */
export function parseGoDuration(text: string): number | string {
  const invalid = `time: invalid duration ${JSON.stringify(text)}`;
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return invalid;
  let total = 0;
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (number[0] === '' || (number[1] === '' && (number[2] ?? '') === '')) return invalid;
    rest = rest.slice(number[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === '') return `time: missing unit in duration ${JSON.stringify(text)}`;
    const scale = GO_UNITS[unit];
    if (scale === undefined) return `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`;
    total += Number(`${number[1] || '0'}.${number[2] || '0'}`) * scale;
    if (total > MAX_INT64) return invalid;
    rest = rest.slice(unit.length);
  }
  return negative ? -total : total;
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules.

abstract class BaseSchedule implements Schedule {
  abstract readonly text: string;
  abstract readonly zone: string | undefined;
  abstract describe(): string;
  abstract nextAfter(after: Date): Date | undefined;
  #intervalMs: number | undefined | null = null;

  timesBetween(from: Date, to: Date, limit: number): Date[] {
    const times: Date[] = [];
    for (let next = this.nextAfter(from); next !== undefined && next <= to && times.length < limit; next = this.nextAfter(next)) times.push(next);
    return times;
  }

  /** The median gap of 25 runs from a fixed day, so it is the same whatever the clock says. */
  get intervalMs(): number | undefined {
    if (this.#intervalMs === null) {
      const runs = this.timesBetween(new Date(Date.UTC(2025, 0, 1)), new Date(Date.UTC(2040, 0, 1)), 25);
      const gaps = runs.slice(1).map((run, i) => run.getTime() - runs[i]!.getTime()).sort((a, b) => a - b);
      this.#intervalMs = gaps.length === 0 ? undefined : gaps[Math.floor(gaps.length / 2)];
    }
    return this.#intervalMs;
  }
}

class CronSchedule extends BaseSchedule {
  readonly text: string;
  readonly zone: string;
  /** Matches wall-clock times written as UTC; null when a field allows no value at all (`,`): never runs. */
  readonly #wallClock: Cron | null;

  constructor(text: string, zone: string, fields: Fields) {
    super();
    this.text = text;
    this.zone = zone;
    const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
    this.#wallClock = fields.some((field) => field.values.length === 0)
      ? null
      : new Cron([minute, hour, dayOfMonth, month, dayOfWeek].map((field) => field.values.join(',')).join(' '), {
        mode: '5-part',
        utcOffset: 0,
        domAndDow: dayOfMonth.star || dayOfWeek.star,
      });
  }

  describe(): string {
    return `${this.text} (${this.zone})`;
  }

  nextAfter(after: Date): Date | undefined {
    const start = after.getTime();
    if (this.#wallClock === null || !Number.isFinite(start)) return undefined;
    const limitWall = Date.UTC(new Date(start + offsetMs(this.zone, start)).getUTCFullYear() + 6, 0, 1);
    // Walk from one constant-offset stretch of time to the next: within one, wall clock = instant + offset.
    let from = start;
    let inclusive = false;
    for (;;) {
      const offset = offsetMs(this.zone, from);
      const match = this.#wallClock.nextRun(new Date(from + offset - (inclusive ? SECOND : 0)));
      if (match === null || match.getTime() >= limitWall) return undefined;
      const candidate = match.getTime() - offset;
      const change = nextOffsetChange(this.zone, from, candidate);
      if (change === undefined) return new Date(candidate);
      // The offset changed before the candidate: search again from the change, whose own wall clock may match.
      from = change;
      inclusive = true;
    }
  }
}

class EverySchedule extends BaseSchedule {
  readonly text: string;
  readonly zone = undefined;
  readonly #delayMs: number;

  constructor(text: string, nanoseconds: number) {
    super();
    this.text = text;
    // robfig's Every: at least one second, and whole seconds only.
    this.#delayMs = Math.max(1, Math.trunc(nanoseconds / 1e9)) * SECOND;
  }

  describe(): string {
    return this.text;
  }

  override get intervalMs(): number {
    return this.#delayMs;
  }

  nextAfter(after: Date): Date | undefined {
    const start = after.getTime();
    return Number.isFinite(start) ? new Date(Math.floor(start / SECOND) * SECOND + this.#delayMs) : undefined;
  }
}

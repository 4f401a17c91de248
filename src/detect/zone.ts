/**
 * IANA time zones for CronJob schedules: which names the Kubernetes CronJob controller accepts, and the UTC offset
 * of a zone at an instant (from the runtime's ICU time-zone data, through Intl).
 *
 * Why not just "does Intl know it": Intl also accepts names Go's time.LoadLocation does not (offsets such as
 * "+01:00", any letter case), and the API server rejects those in spec.timeZone. A schedule we would read in a zone
 * the controller cannot load would predict runs the cluster never makes.
 */

/** The API server's naming rule for spec.timeZone (k8s.io/kubernetes pkg/apis/batch/validation, after IANA theory.html). */
const NAME_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (found === undefined) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, found);
  }
  return found;
}

/**
 * Why `name` is not a zone the controller can load, or undefined when it is. "UTC" is always valid (Go has it built
 * in). A name that differs from a known zone only in letter case is refused: Go reads zone files by exact name.
 */
export function zoneProblem(name: string): string | undefined {
  const unknown = `unknown time zone ${name}`;
  if (name === 'UTC') return undefined;
  const parts = name.split('/');
  if (parts.some((part) => part === '.' || part === '..' || part.startsWith('-') || !NAME_PART.test(part))) return unknown;
  let resolved: string;
  try {
    resolved = formatter(name).resolvedOptions().timeZone;
  } catch {
    return unknown;
  }
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) return unknown;
  return undefined;
}

/** Offset from UTC straight from ICU (slow: a few microseconds); `zone` must be valid. */
function intlOffsetMs(zone: string, instantMs: number): number {
  const fields: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(instantMs)) fields[part.type] = part.value;
  const year = fields['era'] === 'BC' ? 1 - Number(fields['year']) : Number(fields['year']);
  const wall = Date.UTC(year, Number(fields['month']) - 1, Number(fields['day']), Number(fields['hour']), Number(fields['minute']), Number(fields['second']));
  return wall - Math.floor(instantMs / SECOND) * SECOND;
}

const SECOND = 1000;
const DAY = 86_400_000;

/** A zone's offsets over one UTC calendar year: the offset at its start and each change, in order. */
interface YearOfOffsets {
  readonly startOffset: number;
  readonly changes: readonly { readonly at: number; readonly offset: number }[];
}

/**
 * Zones change offset at most a few times a year, and a CronJob check asks for offsets again and again (a yearly
 * schedule walks a whole year): each zone's year is read from ICU once, one probe a day plus a bisection to the
 * second for each change, and kept. Two changes within one day would be seen as none; no zone has had such a day.
 */
const years = new Map<string, Map<number, YearOfOffsets>>();

function yearOfOffsets(zone: string, year: number): YearOfOffsets {
  let byYear = years.get(zone);
  if (byYear === undefined) years.set(zone, (byYear = new Map()));
  const cached = byYear.get(year);
  if (cached !== undefined) return cached;
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const startOffset = intlOffsetMs(zone, start);
  const changes: { at: number; offset: number }[] = [];
  let offset = startOffset;
  // Up to and including the next year's first second, so a change exactly at a year's start is in the year before.
  for (let low = start; low < end;) {
    const high = Math.min(low + DAY, end);
    const highOffset = intlOffsetMs(zone, high);
    if (highOffset !== offset) {
      let lowSecond = low / SECOND;
      let highSecond = high / SECOND;
      while (highSecond - lowSecond > 1) {
        const middle = Math.floor((lowSecond + highSecond) / 2);
        if (intlOffsetMs(zone, middle * SECOND) === offset) lowSecond = middle;
        else highSecond = middle;
      }
      changes.push({ at: highSecond * SECOND, offset: highOffset });
      offset = highOffset;
    }
    low = high;
  }
  const found = { startOffset, changes };
  byYear.set(year, found);
  return found;
}

/** The zone's offset from UTC at `instantMs`, in milliseconds (local wall clock minus UTC). `zone` must be valid. */
export function offsetMs(zone: string, instantMs: number): number {
  if (zone === 'UTC') return 0;
  const { startOffset, changes } = yearOfOffsets(zone, new Date(instantMs).getUTCFullYear());
  let offset = startOffset;
  for (const change of changes) {
    if (change.at > instantMs) break;
    offset = change.offset;
  }
  return offset;
}

/** The first instant in (after, until] at which the zone's offset changes, or undefined. `zone` must be valid. */
export function nextOffsetChange(zone: string, after: number, until: number): number | undefined {
  if (zone === 'UTC') return undefined;
  for (let year = new Date(after).getUTCFullYear(); Date.UTC(year, 0, 1) <= until; year += 1) {
    for (const change of yearOfOffsets(zone, year).changes) {
      if (change.at > until) return undefined;
      if (change.at > after) return change.at;
    }
  }
  return undefined;
}

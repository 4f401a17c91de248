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

/** The zone's offset from UTC at `instantMs`, in milliseconds (local wall clock minus UTC). `zone` must be valid. */
export function offsetMs(zone: string, instantMs: number): number {
  if (zone === 'UTC') return 0;
  const fields: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(instantMs)) fields[part.type] = part.value;
  const year = fields['era'] === 'BC' ? 1 - Number(fields['year']) : Number(fields['year']);
  const wall = Date.UTC(year, Number(fields['month']) - 1, Number(fields['day']), Number(fields['hour']), Number(fields['minute']), Number(fields['second']));
  return wall - Math.floor(instantMs / 1000) * 1000;
}

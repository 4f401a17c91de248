/**
 * How loudly a failing CronJob is reported: `alert-after` and `repeat`, from the Job's annotation, else its
 * CronJob's, else the environment's defaults. Pure. A value that cannot be read is a warning naming the object and
 * the value, and the default applies: a typo must never silence alerts, nor stop the daemon.
 */
import type { CronJobRecord, JobRecord } from '../detect/records.ts';
import { ANNOTATIONS } from '../state/annotations.ts';
import { parseDuration } from '../time.ts';

/** every-failure: one message per failure; first: one per streak; interval: the first, then a reminder at most every `everyMs`. */
export type Repeat = { readonly mode: 'every-failure' } | { readonly mode: 'first' } | { readonly mode: 'interval'; readonly everyMs: number };

export interface Policy {
  /** Say nothing until the Nth consecutive failure. */
  readonly alertAfter: number;
  readonly repeat: Repeat;
}

/** What the environment sets for every Job (ALERT_AFTER, REPEAT, NOTIFY_RECOVERY, ALERT_MAX_AGE). */
export interface PolicyDefaults extends Policy {
  readonly notifyRecovery: boolean;
  /** A failure older than this when first seen is not alerted. */
  readonly maxAgeMs: number;
}

export const ALERT_AFTER_MAX = 1000;

/** "3" -> 3; undefined for anything but a whole number from 1 to 1000. */
export function parseAlertAfter(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n >= 1 && n <= ALERT_AFTER_MAX ? n : undefined;
}

/** "every-failure", "first", or a duration ("1h", "30m", "1d") of at least a minute; undefined otherwise. */
export function parseRepeat(text: string): Repeat | undefined {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'every-failure') return { mode: 'every-failure' };
  if (trimmed === 'first') return { mode: 'first' };
  const everyMs = parseDuration(trimmed);
  return everyMs !== undefined && everyMs >= 60_000 ? { mode: 'interval', everyMs } : undefined;
}

export function describeRepeat(repeat: Repeat): string {
  return repeat.mode === 'interval' ? `every ${repeat.everyMs / 60_000} min` : repeat.mode;
}

export interface ResolvedPolicy {
  readonly policy: Policy;
  /** One line per annotation that could not be read, naming the object, the annotation and the value. */
  readonly warnings: readonly string[];
}

/** The policy for one run: each setting from the Job, else the CronJob, else the default. */
export function resolvePolicy(run: Pick<JobRecord, 'namespace' | 'name' | 'annotations'> | undefined, cronJob: Pick<CronJobRecord, 'namespace' | 'name' | 'annotations'> | undefined, defaults: PolicyDefaults): ResolvedPolicy {
  const warnings: string[] = [];
  const pick = <T>(key: 'alertAfter' | 'repeat', parse: (text: string) => T | undefined, expected: string, fallback: T): T => {
    for (const [kind, object] of [['Job', run], ['CronJob', cronJob]] as const) {
      const raw = object?.annotations[key];
      if (raw === undefined || raw.trim() === '') continue;
      const parsed = parse(raw);
      if (parsed !== undefined) return parsed;
      warnings.push(`${kind} ${object!.namespace}/${object!.name}: ${ANNOTATIONS[key]} "${raw.slice(0, 100)}" is not ${expected}: using the default`);
      return fallback; // an unreadable Job value does not fall through to the CronJob's: the Job meant to override it
    }
    return fallback;
  };
  const alertAfter = pick('alertAfter', parseAlertAfter, `a whole number from 1 to ${ALERT_AFTER_MAX}`, defaults.alertAfter);
  const repeat = pick('repeat', parseRepeat, 'every-failure, first or a duration of at least 1m (such as 1h)', defaults.repeat);
  return { policy: { alertAfter, repeat }, warnings };
}

/** `kube-job-alerts.io/enabled: "false"` on the Job, else on its CronJob (the Job's value wins: "true" opts back in). */
export function optedOut(run: Pick<JobRecord, 'annotations'> | undefined, cronJob: Pick<CronJobRecord, 'annotations'> | undefined): boolean {
  const value = [run?.annotations.enabled, cronJob?.annotations.enabled].find((v) => v !== undefined && v.trim() !== '');
  return value?.trim().toLowerCase() === 'false';
}

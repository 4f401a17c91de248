/**
 * CronJob and run health beyond failures, decided purely: a CronJob that stopped running on schedule (or whose
 * schedule the controller cannot read), a run that runs far too long, a run whose pods cannot start. The facts come
 * from detect/ (cronjob-health.ts, run-health.ts); what was already said comes from the object's health annotation
 * (state/marks.ts), so each thing is said once, across restarts, with reminders by the same REPEAT policy as failure
 * streaks and a word when it is over.
 */
import type { MissedSchedule } from '../detect/cronjob-health.ts';
import type { CronJobWarning } from '../detect/cronjob-warning.ts';
import type { PendingRun, RunState } from '../detect/run-health.ts';
import type { Repeat } from './policy.ts';

/** What was said: kind -> ISO time or short text (state/marks.ts Health). */
export type Said = Readonly<Record<string, string>>;

export type HealthVerdict =
  | { readonly do: 'notify'; readonly kind: 'missed'; readonly missedSince: Date; readonly missedCount: number; readonly reminder: boolean }
  | { readonly do: 'notify'; readonly kind: 'resumed'; readonly missedSince: Date }
  | { readonly do: 'notify'; readonly kind: 'schedule-problem'; readonly reason: string; readonly problem: string }
  | { readonly do: 'notify'; readonly kind: 'stuck'; readonly runningForMs: number; readonly limitMs: number }
  | { readonly do: 'notify'; readonly kind: 'stuck-over'; readonly outcome: 'succeeded' | 'failed'; readonly durationMs: number | undefined }
  | { readonly do: 'notify'; readonly kind: 'pending'; readonly pending: PendingRun }
  | { readonly do: 'notify'; readonly kind: 'cronjob-warning'; readonly warning: CronJobWarning }
  | { readonly do: 'notify'; readonly kind: 'never-succeeded'; readonly runs: number }
  | { readonly do: 'recheck'; readonly at: Date };

export interface HealthDecision {
  readonly verdicts: readonly HealthVerdict[];
  /** What will have been said once these messages are delivered. */
  readonly said: Said;
}

const iso = (date: Date) => date.toISOString();

/** A CronJob's schedule: missed runs (once, reminders by `repeat`, then "running again"), or an unreadable schedule. */
export function decideSchedule(missed: MissedSchedule, said: Said, repeat: Repeat, now: Date): HealthDecision {
  const verdicts: HealthVerdict[] = [];
  const next: Record<string, string> = { ...said };
  if (missed.problem !== undefined) {
    const problem = `${missed.problemReason ?? 'InvalidSchedule'}: ${missed.problem}`;
    if (said['problem'] !== problem) verdicts.push({ do: 'notify', kind: 'schedule-problem', reason: missed.problemReason ?? 'InvalidSchedule', problem: missed.problem });
    next['problem'] = problem;
    return { verdicts, said: next };
  }
  delete next['problem'];
  if (missed.missedSince !== undefined) {
    const since = iso(missed.missedSince);
    const lastSaid = said['missedNotifiedAt'] === undefined ? undefined : Date.parse(said['missedNotifiedAt']);
    if (said['missedSince'] !== since) {
      verdicts.push({ do: 'notify', kind: 'missed', missedSince: missed.missedSince, missedCount: missed.missedCount, reminder: false });
      next['missedSince'] = since;
      next['missedNotifiedAt'] = iso(now);
    } else if (repeat.mode === 'interval' && lastSaid !== undefined) {
      const due = lastSaid + repeat.everyMs;
      if (now.getTime() >= due) {
        verdicts.push({ do: 'notify', kind: 'missed', missedSince: missed.missedSince, missedCount: missed.missedCount, reminder: true });
        next['missedNotifiedAt'] = iso(now);
        verdicts.push({ do: 'recheck', at: new Date(now.getTime() + repeat.everyMs) });
      } else {
        verdicts.push({ do: 'recheck', at: new Date(due) });
      }
    }
  } else if (said['missedSince'] !== undefined && !missed.heldByActiveRun) {
    verdicts.push({ do: 'notify', kind: 'resumed', missedSince: new Date(said['missedSince']) });
    delete next['missedSince'];
    delete next['missedNotifiedAt'];
  }
  if (missed.nextCheckAt !== undefined) verdicts.push({ do: 'recheck', at: missed.nextCheckAt });
  return { verdicts, said: next };
}

/**
 * A run's time checks: stuck past its limit (once, then a word when it finishes), and pods that cannot start
 * (once). `pending` is undefined when the pods were not looked at (not due yet, or nothing to look for).
 */
export function decideRun(run: RunState | undefined, limitMs: number | undefined, pending: PendingRun | undefined, said: Said): HealthDecision {
  const verdicts: HealthVerdict[] = [];
  const next: Record<string, string> = { ...said };
  if (run?.state === 'stuck' && limitMs !== undefined && said['stuck'] === undefined) {
    verdicts.push({ do: 'notify', kind: 'stuck', runningForMs: run.runningForMs, limitMs });
    next['stuck'] = iso(new Date(run.startedAt.getTime() + run.runningForMs));
  }
  if (run?.state === 'running') verdicts.push({ do: 'recheck', at: run.checkAt });
  if (run?.state === 'finished' && said['stuck'] !== undefined && said['stuckOver'] === undefined) {
    verdicts.push({ do: 'notify', kind: 'stuck-over', outcome: run.outcome, durationMs: run.durationMs });
    next['stuckOver'] = iso(run.finishedAt ?? new Date(Date.parse(said['stuck'])));
  }
  if (pending !== undefined && said['pending'] === undefined) {
    if (pending.due) {
      verdicts.push({ do: 'notify', kind: 'pending', pending });
      next['pending'] = iso(pending.since);
    } else {
      verdicts.push({ do: 'recheck', at: pending.checkAt });
    }
  }
  return { verdicts, said: next };
}

/**
 * The CronJob controller's warnings: each said once. A MissSchedule is one per missed time; any other reason once
 * per Event (a repeat of the same Event only raises its count); JobAlreadyActive only once it has repeated
 * SKIPPED_RUNS_ALERT times (`due`). The last one said per reason is kept, which is what keeps it to once.
 */
export function decideWarnings(warnings: readonly CronJobWarning[], said: Said): HealthDecision {
  const verdicts: HealthVerdict[] = [];
  const next: Record<string, string> = { ...said };
  for (const warning of warnings) {
    if (!warning.due) continue;
    const which = warning.reason === 'MissSchedule' && warning.scheduledTime ? warning.scheduledTime.toISOString() : (warning.eventUid ?? warning.message);
    if (next[`warning:${warning.reason}`] === which) continue;
    verdicts.push({ do: 'notify', kind: 'cronjob-warning', warning });
    next[`warning:${warning.reason}`] = which;
  }
  return { verdicts, said: next };
}

/** A CronJob that has never succeeded after `runs` >= `after` runs: said once, until it succeeds. */
export function decideNeverSucceeded(neverSucceeded: boolean, runs: number, said: Said, now: Date): HealthDecision {
  const next: Record<string, string> = { ...said };
  if (!neverSucceeded) {
    delete next['neverSucceeded'];
    return { verdicts: [], said: next };
  }
  if (said['neverSucceeded'] !== undefined) return { verdicts: [], said };
  next['neverSucceeded'] = iso(now);
  return { verdicts: [{ do: 'notify', kind: 'never-succeeded', runs }], said: next };
}

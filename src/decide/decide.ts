/**
 * decide(subject, history, policy, now): what to do about a Job or a CronJob, as a list of verdicts (skip with a
 * reason, notify with a kind, check again at a time) and, for a CronJob, its story afterwards. Pure: no I/O, no
 * clock, no randomness; the worker (alerts/controller.ts) does what the verdicts say.
 *
 * Subjects are keyed as the work queue keys them: a standalone Job by UID (names are reused, UIDs are not), a
 * CronJob by namespace/name with all its runs, because its runs' messages depend on each other (the streak, the
 * reminder interval, the recovery) and one key means one worker at a time writes its story.
 */
import type { CronJobRecord, JobRecord } from '../detect/records.ts';
import { runOrder } from '../detect/records.ts';
import { optedOut, resolvePolicy, type PolicyDefaults } from './policy.ts';
import {
  EMPTY_STORY,
  knows,
  lastNotifiedAt,
  notifiedCount,
  positionOf,
  streakLength,
  streakSince,
  withFailure,
  withSettled,
  type Outcome,
  type Story,
} from './story.ts';

export type Subject =
  | { readonly kind: 'job'; readonly run: JobRecord }
  | {
      readonly kind: 'cronjob';
      readonly namespace: string;
      readonly name: string;
      /** Undefined when the CronJob is gone (its Jobs may outlive it briefly). */
      readonly cronJob: CronJobRecord | undefined;
      /** Its Jobs as the cache holds them, plus failed ones deleted before they were decided. */
      readonly runs: readonly JobRecord[];
    };

export interface History {
  /** Whether this process has already decided about this failure (a message is on its way or was sent). */
  readonly decided: (uid: string) => boolean;
  /** CronJob: its story so far. */
  readonly story?: Story;
  /** When this process first saw each failure: ALERT_MAX_AGE is judged then, not when a worker gets to it. */
  readonly firstSeen: (uid: string) => Date | undefined;
}

export type SkipReason =
  | 'already_alerted'
  | 'opted_out'
  | 'too_old'
  | 'suspended'
  | 'managed_elsewhere'
  | 'alert_after'
  | 'repeat_first'
  | 'repeat_interval';

export interface StreakFacts {
  /** This failure's place in the streak (1 = the first consecutive failure). */
  readonly count: number;
  readonly since: Date | undefined;
  /** Messages about this streak before this one, and when the last was sent. */
  readonly notifiedBefore: number;
  readonly lastNotifiedAt: Date | undefined;
}

export type Verdict =
  | { readonly do: 'skip'; readonly run: JobRecord; readonly why: SkipReason; readonly detail: string }
  | { readonly do: 'notify'; readonly kind: 'failure' | 'reminder'; readonly run: JobRecord; readonly streak?: StreakFacts }
  | { readonly do: 'notify'; readonly kind: 'recovery'; readonly run: JobRecord; readonly failures: number; readonly since: Date | undefined }
  | { readonly do: 'recheck'; readonly at: Date; readonly why: string };

export interface Decision {
  readonly verdicts: readonly Verdict[];
  /** CronJob subjects: the story after these verdicts (pending messages included). */
  readonly story?: Story;
  /** Annotations that could not be read (each names the object and the value). */
  readonly warnings: readonly string[];
}

export function decide(subject: Subject, history: History, policy: PolicyDefaults, now: Date): Decision {
  return subject.kind === 'job' ? decideJob(subject.run, undefined, history, policy) : decideCronJob(subject, history, policy, now);
}

/** Why a failure is not ours to report, whatever its history: suspended, or another controller's. */
function notOurs(run: JobRecord): Verdict | undefined {
  if (run.suspended) return { do: 'skip', run, why: 'suspended', detail: 'the Job is suspended (spec.suspend)' };
  if (run.managedBy !== undefined) return { do: 'skip', run, why: 'managed_elsewhere', detail: `spec.managedBy is ${run.managedBy}: its status mirrors a Job run elsewhere` };
  return undefined;
}

function tooOld(run: JobRecord, history: History, policy: PolicyDefaults): string | undefined {
  const failedAt = run.failure?.failedAt;
  if (failedAt === undefined) return undefined;
  const seen = history.firstSeen(run.uid);
  if (seen === undefined) return undefined;
  const ageMs = seen.getTime() - failedAt.getTime();
  return ageMs > policy.maxAgeMs ? `it failed ${Math.round(ageMs / 60_000)} min before it was first seen (ALERT_MAX_AGE is ${Math.round(policy.maxAgeMs / 60_000)} min)` : undefined;
}

function decideJob(run: JobRecord, cronJob: CronJobRecord | undefined, history: History, policy: PolicyDefaults): Decision {
  if (run.failure === undefined) return { verdicts: [], warnings: [] };
  const skip = (why: SkipReason, detail: string): Decision => ({ verdicts: [{ do: 'skip', run, why, detail }], warnings: [] });
  if (history.decided(run.uid) || run.annotations.alertedAt !== undefined) return skip('already_alerted', 'a message about this failure was sent already');
  const foreign = notOurs(run);
  if (foreign) return { verdicts: [foreign], warnings: [] };
  if (optedOut(run, cronJob)) return skip('opted_out', 'kube-job-alerts.io/enabled is "false"');
  const old = tooOld(run, history, policy);
  if (old) return skip('too_old', old);
  return { verdicts: [{ do: 'notify', kind: 'failure', run }], warnings: [] };
}

function decideCronJob(subject: Extract<Subject, { kind: 'cronjob' }>, history: History, policy: PolicyDefaults, now: Date): Decision {
  const verdicts: Verdict[] = [];
  const warnings = new Set<string>();
  let story = history.story ?? EMPTY_STORY;
  const { cronJob } = subject;
  const runs = [...subject.runs].sort((a, b) => runOrder(a) - runOrder(b));

  for (const run of runs) {
    const foreign = run.state === 'failed' && !knows(story, run.uid) ? notOurs(run) : undefined;
    if (!foreign) continue;
    verdicts.push(foreign);
    story = withSettled(story, [run.uid]);
  }
  const ours = runs.filter((run) => !run.suspended && run.managedBy === undefined);

  // A success newer than the last one known ends the streak of every failure scheduled before it.
  const after = story.lastSuccess?.order ?? Number.NEGATIVE_INFINITY;
  const success = ours.filter((run) => run.state === 'succeeded' && runOrder(run) > after && !knows(story, run.uid)).at(-1);
  if (success) {
    const cut = runOrder(success);
    const ended = story.failures.filter((entry) => entry.order < cut);
    const remaining = story.failures.filter((entry) => entry.order >= cut);
    const endedCount = story.earlier.count + ended.length;
    const said = notifiedCount({ ...story, failures: ended });
    const next: Story = withSettled(
      { lastSuccess: { uid: success.uid, name: success.name, order: cut }, failures: remaining, earlier: { count: 0, notified: 0 }, settled: story.settled ?? [] },
      ended.map((entry) => entry.uid),
    );
    if (endedCount > 0 && said > 0 && policy.notifyRecovery) {
      const since = streakSince({ ...story, failures: ended });
      verdicts.push({ do: 'notify', kind: 'recovery', run: success, failures: endedCount, since: since === undefined ? undefined : new Date(since) });
      story = { ...next, recovering: story };
    } else {
      story = next;
    }
  }

  // Failures not decided yet, oldest first.
  const floor = story.lastSuccess?.order ?? Number.NEGATIVE_INFINITY;
  for (const run of ours) {
    if (run.state !== 'failed' || knows(story, run.uid)) continue;
    if (runOrder(run) < floor) {
      // Scheduled before the last success (overlapping runs): no part of a streak, but a failure all the same.
      const stray = decideJob(run, cronJob, history, policy);
      verdicts.push(...stray.verdicts.filter((v) => !(v.do === 'skip' && v.why === 'already_alerted')));
      // Skipped for good now; a message is settled once Slack confirms it (the worker adds it then).
      if (!stray.verdicts.some((v) => v.do === 'notify')) story = withSettled(story, [run.uid]);
      continue;
    }
    const entry = (outcome: Outcome, notifiedAt?: number) => ({
      uid: run.uid,
      name: run.name,
      order: runOrder(run),
      failedAt: run.failure?.failedAt?.getTime(),
      outcome,
      ...(notifiedAt === undefined ? {} : { notifiedAt }),
    });
    // Alerted by an earlier version of the daemon (or before the story was lost): counted, never sent again.
    if (run.annotations.alertedAt !== undefined) {
      story = withFailure(story, entry('notified', Date.parse(run.annotations.alertedAt) || now.getTime()));
      verdicts.push({ do: 'skip', run, why: 'already_alerted', detail: 'a message about this failure was sent already' });
      continue;
    }
    const before = { notified: notifiedCount(story), last: lastNotifiedAt(story) };
    const { policy: own, warnings: unreadable } = resolvePolicy(run, cronJob, policy);
    for (const warning of unreadable) warnings.add(warning);
    const placed = withFailure(story, entry('suppressed'));
    const count = positionOf(placed, run.uid) ?? streakLength(placed);
    const since = streakSince(placed);
    const streak: StreakFacts = {
      count,
      since: since === undefined ? undefined : new Date(since),
      notifiedBefore: before.notified,
      lastNotifiedAt: before.last === undefined ? undefined : new Date(before.last),
    };
    const skip = (why: SkipReason, detail: string, outcome: Outcome = 'suppressed') => {
      story = withFailure(story, entry(outcome));
      verdicts.push({ do: 'skip', run, why, detail });
    };
    if (optedOut(run, cronJob)) {
      skip('opted_out', 'kube-job-alerts.io/enabled is "false"', 'skipped');
      continue;
    }
    const old = tooOld(run, history, policy);
    if (old) {
      skip('too_old', old, 'skipped');
      continue;
    }
    if (count < own.alertAfter) {
      skip('alert_after', `failure ${count} of a streak, and alert-after is ${own.alertAfter}`);
      continue;
    }
    let kind: 'failure' | 'reminder' = 'failure';
    if (before.notified > 0 && own.repeat.mode === 'first') {
      skip('repeat_first', `repeat is "first": this streak was reported already (failure ${count})`);
      continue;
    }
    if (before.notified > 0 && own.repeat.mode === 'interval') {
      const due = (before.last ?? 0) + own.repeat.everyMs;
      if (now.getTime() < due) {
        skip('repeat_interval', `reminders at most every ${own.repeat.everyMs / 60_000} min: the next one from ${new Date(due).toISOString()}`);
        continue;
      }
      kind = 'reminder';
    }
    story = withFailure(story, entry('pending', now.getTime()));
    verdicts.push({ do: 'notify', kind, run, streak });
  }
  return { verdicts, story, warnings: [...warnings] };
}

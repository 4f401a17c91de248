/**
 * The CronJob's side of a message: its schedule, when it last succeeded, when it runs next, and where this failure
 * stands in its streak. Pure (no I/O, enforced by eslint); times are relative to the message's own `at`.
 */
import type { CronJobContext } from '../alert.ts';
import type { StreakFacts } from '../decide/decide.ts';
import { mrkdwn } from './escape.ts';

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 101st, 111th. */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** A coarse span for humans: `45 s`, `12 min`, `3 h`, `2 d`. */
export function span(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${Math.round(abs / 1000)} s`;
  if (abs < 3_600_000) return `${Math.round(abs / 60_000)} min`;
  if (abs < 172_800_000) return `${Math.round(abs / 3_600_000)} h`;
  return `${Math.round(abs / 86_400_000)} d`;
}

/** `2026-11-29 10:00 UTC (3 h ago)`, `... (in 5 min)`. */
export function when(date: Date, now: Date): string {
  const stamp = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const delta = date.getTime() - now.getTime();
  if (Math.abs(delta) < 1000) return `${stamp} (now)`;
  return delta < 0 ? `${stamp} (${span(delta)} ago)` : `${stamp} (in ${span(delta)})`;
}

/** "3rd consecutive failure", or for a reminder "7 consecutive failures". */
export function streakPhrase(streak: StreakFacts, reminder: boolean): string {
  if (reminder || streak.count === 1) return streak.count === 1 ? '1st failure' : `${streak.count} consecutive failures`;
  return `${ordinal(streak.count)} consecutive failure`;
}

/** The mrkdwn lines about the CronJob and the streak (escaped), or undefined when the Job has no CronJob. */
export function storyText(cronJob: CronJobContext | undefined, streak: StreakFacts | undefined, now: Date, reminder = false): string | undefined {
  if (!cronJob) return undefined;
  const lines: string[] = [];
  if (streak) {
    let line = `*${streakPhrase(streak, reminder)}*`;
    if (streak.count > 1 && streak.since) line += `, failing since ${when(streak.since, now)}`;
    if (reminder && streak.lastNotifiedAt) line += `; last reported ${span(now.getTime() - streak.lastNotifiedAt.getTime())} ago`;
    lines.push(line);
  }
  const schedule = cronJob.schedule ? `\`${mrkdwn(cronJob.schedule, 100)}\`${cronJob.timeZone ? ` (${mrkdwn(cronJob.timeZone, 60)})` : ' (UTC unless the controller runs in another zone)'}` : undefined;
  const facts = [
    schedule ? `*Schedule:* ${schedule}${cronJob.suspended ? ', suspended' : ''}` : undefined,
    `*Last success:* ${cronJob.lastSuccessAt ? when(cronJob.lastSuccessAt, now) : 'never succeeded'}`,
    cronJob.nextRunAt && !cronJob.suspended ? `*Next run:* ${when(cronJob.nextRunAt, now)}` : undefined,
  ].filter((fact): fact is string => fact !== undefined);
  lines.push(facts.join('   '));
  return lines.join('\n');
}

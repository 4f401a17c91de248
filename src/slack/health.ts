/**
 * Messages about health beyond failures: a CronJob that stopped running on schedule (and when it runs again), a
 * schedule the controller cannot read, a run that runs far too long (and when it ends), pods that cannot start.
 * Pure (no I/O, enforced by eslint); all cluster text escaped; times relative to the message's `at`.
 */
import type { CronJobContext } from '../alert.ts';
import type { HealthNotification, RunRef } from '../notify/notification.ts';
import { mrkdwn, plainText, truncateEscaped, truncatePlain } from './escape.ts';
import { formatDuration, SLACK_LIMITS, type Block, type SlackPayload } from './format.ts';
import { span, when } from './story.ts';

export function buildHealth(n: HealthNotification): SlackPayload {
  switch (n.kind) {
    case 'missed': {
      const name = cronJobName(n.cronJob);
      const count = n.missedCount >= 100 ? '100 or more runs' : `${n.missedCount} run${n.missedCount === 1 ? '' : 's'}`;
      return message(
        n.reminder ? `:alarm_clock: Still not running: CronJob ${name}` : `:alarm_clock: CronJob not running on schedule: ${name}`,
        `${n.reminder ? 'Still missing' : 'Missed'} ${count} since ${when(n.missedSince, n.at)}: \`status.lastScheduleTime\` has not reached the run due then.`,
        [
          `CronJob *${mrkdwn(name, 200)}* missed ${count} since ${when(n.missedSince, n.at)}.`,
          n.schedule ? `*Schedule:* \`${mrkdwn(n.schedule, 150)}\`` : undefined,
          `*Last success:* ${n.cronJob.lastSuccessAt ? when(n.cronJob.lastSuccessAt, n.at) : 'never succeeded'}`,
          '_Look for the controller\'s `MissSchedule`/`FailedCreate` events, a quota, or kube-controller-manager itself:_',
          `\`kubectl -n ${mrkdwn(n.cronJob.namespace, 63)} describe cronjob/${mrkdwn(n.cronJob.name, 63)}\``,
        ],
        n.cluster,
      );
    }
    case 'resumed': {
      const name = cronJobName(n.cronJob);
      return message(
        `:white_check_mark: Running on schedule again: CronJob ${name}`,
        `runs again after missing its schedule since ${when(n.missedSince, n.at)}`,
        [`CronJob *${mrkdwn(name, 200)}* runs on schedule again; it had missed runs since ${when(n.missedSince, n.at)} (${span(n.at.getTime() - n.missedSince.getTime())}).`],
        n.cluster,
      );
    }
    case 'schedule-problem': {
      const name = cronJobName(n.cronJob);
      return message(
        `:warning: CronJob cannot be scheduled: ${name}`,
        `${mrkdwn(n.reason, 40)}: the controller creates no Jobs for it`,
        [`CronJob *${mrkdwn(name, 200)}*: *${mrkdwn(n.reason, 40)}*: ${mrkdwn(n.problem, 600)}.`, 'The CronJob controller creates no Jobs for it until this is fixed.'],
        n.cluster,
      );
    }
    case 'cronjob-warning': {
      const name = cronJobName(n.cronJob);
      return message(
        `:warning: ${n.reason}: CronJob ${name}`,
        `${mrkdwn(n.message, 200)}`,
        [
          `The CronJob controller warns about *${mrkdwn(name, 200)}*: *${mrkdwn(n.reason, 60)}*${n.count > 1 ? ` (${n.count} times)` : ''}.`,
          n.message ? `*Message:* ${mrkdwn(n.message, 1000)}` : undefined,
          n.lastSeen ? `*Last seen:* ${when(n.lastSeen, n.at)}` : undefined,
          `\`kubectl -n ${mrkdwn(n.cronJob.namespace, 63)} describe cronjob/${mrkdwn(n.cronJob.name, 63)}\``,
        ],
        n.cluster,
      );
    }
    case 'never-succeeded': {
      const name = cronJobName(n.cronJob);
      return message(
        `:x: Never succeeded: CronJob ${name}`,
        `${n.runs} runs, none succeeded`,
        [`CronJob *${mrkdwn(name, 200)}* has run ${n.runs} times and never succeeded (no \`status.lastSuccessfulTime\`).`],
        n.cluster,
      );
    }
    case 'stuck':
      return message(
        `:hourglass_flowing_sand: Still running after ${formatDuration(n.runningForMs)}: ${runName(n.run)}`,
        `running for ${formatDuration(n.runningForMs)}, over its limit of ${formatDuration(n.limitMs)}`,
        [
          `Job *${mrkdwn(runName(n.run), 200)}* has run for *${formatDuration(n.runningForMs)}*, over its limit of ${formatDuration(n.limitMs)}${n.limitSource ? ` (${mrkdwn(n.limitSource, 60)})` : ''}.`,
          n.run.cronJob ? `*CronJob:* ${mrkdwn(n.run.cronJob, 100)}` : undefined,
          n.run.startedAt ? `*Started:* ${when(n.run.startedAt, n.at)}` : undefined,
          `\`kubectl -n ${mrkdwn(n.run.namespace, 63)} describe job/${mrkdwn(n.run.name, 63)}\``,
        ],
        n.cluster,
      );
    case 'stuck-over':
      return message(
        `${n.outcome === 'succeeded' ? ':white_check_mark:' : ':x:'} Finished (${n.outcome}): ${runName(n.run)}`,
        `the run reported as stuck ${n.outcome}${n.durationMs === undefined ? '' : ` after ${formatDuration(n.durationMs)}`}`,
        [`Job *${mrkdwn(runName(n.run), 200)}*, reported as still running, has ${n.outcome}${n.durationMs === undefined ? '' : ` after ${formatDuration(n.durationMs)}`}.`],
        n.cluster,
      );
    case 'pending':
      return message(
        `:no_entry: Pods cannot start (${n.reason}): ${runName(n.run)}`,
        `${mrkdwn(n.reason, 40)} for ${formatDuration(n.pendingForMs)}`,
        [
          `Job *${mrkdwn(runName(n.run), 200)}*: pod \`${mrkdwn(n.pod, 120)}\`${n.container ? ` (container \`${mrkdwn(n.container, 80)}\`)` : ''} is *${mrkdwn(n.reason, 40)}* for ${formatDuration(n.pendingForMs)}.`,
          n.message ? `*Message:* ${mrkdwn(n.message, 1000)}` : undefined,
          `\`kubectl -n ${mrkdwn(n.run.namespace, 63)} describe pod/${mrkdwn(n.pod, 120)}\``,
        ],
        n.cluster,
      );
  }
}

function cronJobName(cronJob: CronJobContext): string {
  return `${cronJob.namespace}/${cronJob.name}`;
}

function runName(run: RunRef): string {
  return `${run.namespace}/${run.name}`;
}

/** A header, one section of lines (escaped by the caller), and the notification text phones show. */
function message(header: string, summary: string, lines: readonly (string | undefined)[], cluster: string | undefined): SlackPayload {
  const title = truncatePlain(plainText(header), SLACK_LIMITS.headerText);
  const body = lines.filter((line): line is string => line !== undefined).join('\n');
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: title, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(body, SLACK_LIMITS.sectionText) } },
  ];
  if (cluster) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Cluster ${mrkdwn(cluster, 60)}` }] });
  const text = `${mrkdwn(header, 200)}: ${summary}${cluster ? `, cluster ${mrkdwn(cluster, 60)}` : ''}`;
  return { text: truncateEscaped(text, 400), blocks, unfurl_links: false, unfurl_media: false };
}

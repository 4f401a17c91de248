/**
 * One Slack message per notification kind: the only place that knows how each kind looks. Pure (no I/O, enforced
 * by eslint), so each kind's tests are tables. Failure and reminder share the failure layout (format.ts); a
 * recovery is short: it names the CronJob, how long it failed, and the run that succeeded.
 */
import type { Notification, RecoveryNotification } from '../notify/notification.ts';
import { mrkdwn, plainText, truncateEscaped, truncatePlain } from './escape.ts';
import { buildAlert, formatDuration, formatTime, SLACK_LIMITS, type Block, type SlackPayload } from './format.ts';
import { buildDigest } from './digest.ts';
import { buildHealth } from './health.ts';
import { when } from './story.ts';

export function renderNotification(notification: Notification): SlackPayload {
  switch (notification.kind) {
    case 'failure':
      return buildAlert(notification);
    case 'reminder':
      return buildAlert({ ...notification, reminder: true });
    case 'recovery':
      return buildRecovery(notification);
    case 'digest':
      return buildDigest(notification);
    default:
      return buildHealth(notification);
  }
}

export function buildRecovery(notification: RecoveryNotification): SlackPayload {
  const { cronJob, run, failures, since, at } = notification;
  const name = `${cronJob.namespace}/${cronJob.name}`;
  const failed = `${failures} ${failures === 1 ? 'failure' : 'consecutive failures'}`;
  const header = truncatePlain(plainText(`:white_check_mark: Recovered: CronJob ${name}`), SLACK_LIMITS.headerText);
  let summary = `CronJob *${mrkdwn(name, 200)}* recovered after *${failed}*`;
  if (since) summary += ` over ${formatDuration(Math.max(0, (run.succeededAt ?? at).getTime() - since.getTime()))} (failing since ${formatTime(since)})`;
  summary += '.';
  const fields: Array<[string, string | undefined]> = [
    ['Cluster', notification.cluster],
    ['Namespace', cronJob.namespace],
    ['Run that succeeded', run.name],
    ['Succeeded at', formatTime(run.succeededAt)],
    ['Duration', run.startedAt && run.succeededAt && run.succeededAt >= run.startedAt ? formatDuration(run.succeededAt.getTime() - run.startedAt.getTime()) : undefined],
  ];
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(summary, SLACK_LIMITS.sectionText) } },
    {
      type: 'section',
      fields: fields
        .filter((field): field is [string, string] => field[1] !== undefined && field[1] !== '')
        .map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${mrkdwn(value, 200)}` })),
    },
  ];
  const next = [
    cronJob.schedule ? `*Schedule:* \`${mrkdwn(cronJob.schedule, 100)}\`${cronJob.timeZone ? ` (${mrkdwn(cronJob.timeZone, 60)})` : ''}` : undefined,
    cronJob.nextRunAt && !cronJob.suspended ? `*Next run:* ${when(cronJob.nextRunAt, at)}` : undefined,
  ].filter((part): part is string => part !== undefined);
  if (next.length > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: next.join('   ') }] });
  let text = `:white_check_mark: Recovered: CronJob ${mrkdwn(name, 150)} after ${failed}`;
  if (notification.cluster) text += `, cluster ${mrkdwn(notification.cluster, 60)}`;
  return { text: truncateEscaped(text, 400), blocks, unfurl_links: false, unfurl_media: false };
}

/**
 * A storm (or a folded backlog) as one message: how many Jobs failed, the common cause when there is one, counts by
 * namespace, reason and CronJob, and every Job by name with its reason and exit. Pure (no I/O, enforced by eslint).
 *
 * Sizes: the Job lines are cut at LINE_CAP characters and spread over sections of at most 3,000, so a digest of
 * DIGEST_SIZE Jobs stays within Slack's 50 blocks and this formatter's 10,000-character budget (a test proves it
 * for the worst case); notify/storm.ts splits larger digests into numbered parts.
 */
import type { DigestNotification, FailureNotification } from '../notify/notification.ts';
import { describeSignal, formatDuration, MESSAGE_BUDGET, SLACK_LIMITS, type Block, type SlackPayload } from './format.ts';
import { mrkdwn, plainText, truncateEscaped, truncatePlain } from './escape.ts';

/** Jobs named per digest message. */
export const DIGEST_SIZE = 40;
const LINE_CAP = 180;
const COUNT_ITEMS = 6;

export function buildDigest(digest: DigestNotification): SlackPayload {
  const { failures } = digest;
  const n = failures.length;
  const part = digest.part ? ` (part ${digest.part.index} of ${digest.part.total})` : '';
  const within = digest.why === 'storm' ? ` within ${formatDuration(Math.ceil(Math.max(digest.windowMs, 1) / 1000) * 1000)}` : '';
  const title = `${n} Job${n === 1 ? '' : 's'} failed${within}${part}`;
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: truncatePlain(plainText(`:rotating_light: ${title}`), SLACK_LIMITS.headerText), emoji: true } }];

  const summary: string[] = [];
  if (digest.why === 'backlog') summary.push('_Slack was unreachable for a while: the oldest waiting failures are named together here._');
  const cause = commonCause(failures);
  if (cause) summary.push(`*Common cause:* ${cause}`);
  summary.push(`*By namespace:* ${counts(failures, (f) => f.failure.namespace)}`);
  summary.push(`*By reason:* ${counts(failures, (f) => f.failure.reason)}`);
  const cronJobs = failures.filter((f) => f.failure.cronJob !== undefined);
  if (cronJobs.length > 0) summary.push(`*By CronJob:* ${counts(cronJobs, (f) => `${f.failure.namespace}/${f.failure.cronJob}`)}`);
  blocks.push(section(summary.join('\n')));

  let chunk: string[] = [];
  let used = 0;
  for (const failure of failures) {
    const line = truncateEscaped(jobLine(failure), LINE_CAP);
    if (used + line.length + 1 > SLACK_LIMITS.sectionText) {
      blocks.push(section(chunk.join('\n')));
      chunk = [];
      used = 0;
    }
    chunk.push(line);
    used += line.length + 1;
  }
  if (chunk.length > 0) blocks.push(section(chunk.join('\n')));
  const context = [digest.cluster ? `Cluster ${mrkdwn(digest.cluster, 60)}` : undefined, 'Each Job is marked as alerted once this message is delivered.'].filter(Boolean).join(' · ');
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context }] });

  let text = `:rotating_light: ${mrkdwn(title, 120)}`;
  if (cause) text += `: ${cause}`;
  if (digest.cluster) text += `, cluster ${mrkdwn(digest.cluster, 60)}`;
  const payload: SlackPayload = { text: truncateEscaped(text, 400), blocks, unfurl_links: false, unfurl_media: false };
  return payload;
}

/** `• ns/name: BackoffLimitExceeded, exit 137 (OOMKilled), node worker-3, CronJob nightly` */
function jobLine(notification: FailureNotification): string {
  const { failure, evidence } = notification;
  const parts = [mrkdwn(failure.reason || 'Unknown', 60)];
  if (evidence.exitCode !== undefined) {
    const signal = describeSignal(evidence.exitCode, evidence.signal);
    parts.push(`exit ${evidence.exitCode}${evidence.reason ? ` (${mrkdwn(evidence.reason, 40)})` : signal ? ` (${signal})` : ''}`);
  } else if (evidence.reason) parts.push(mrkdwn(evidence.reason, 40));
  if (evidence.node) parts.push(`node ${mrkdwn(evidence.node, 60)}`);
  if (failure.cronJob) parts.push(`CronJob ${mrkdwn(failure.cronJob, 60)}`);
  return `• \`${mrkdwn(`${failure.namespace}/${failure.name}`, 110)}\`: ${parts.join(', ')}`;
}

/** What every failure shares, when they share something worth saying: the reason, node, image or exit. */
export function commonCause(failures: readonly FailureNotification[]): string | undefined {
  if (failures.length < 2) return undefined;
  const shared = (read: (f: FailureNotification) => string | undefined): string | undefined => {
    const first = read(failures[0]!);
    return first !== undefined && first !== '' && failures.every((f) => read(f) === first) ? first : undefined;
  };
  const parts: string[] = [];
  const node = shared((f) => f.evidence.node);
  if (node) parts.push(`all on node \`${mrkdwn(node, 80)}\``);
  const exit = shared((f) => (f.evidence.exitCode === undefined ? undefined : `${f.evidence.exitCode}${f.evidence.reason ? ` (${f.evidence.reason})` : ''}`));
  if (exit) parts.push(`all exit ${mrkdwn(exit, 80)}`);
  else {
    const podReason = shared((f) => f.evidence.reason);
    if (podReason) parts.push(`all ${mrkdwn(podReason, 80)}`);
  }
  const image = shared((f) => f.evidence.image);
  if (image) parts.push(`all image \`${mrkdwn(image, 120)}\``);
  const reason = shared((f) => f.failure.reason);
  if (reason) parts.push(`all ${mrkdwn(reason, 60)}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function counts(failures: readonly FailureNotification[], key: (f: FailureNotification) => string): string {
  const tally = new Map<string, number>();
  for (const failure of failures) tally.set(key(failure), (tally.get(key(failure)) ?? 0) + 1);
  const sorted = [...tally].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, COUNT_ITEMS).map(([name, count]) => `${mrkdwn(name, 80)} ${count}`);
  if (sorted.length > COUNT_ITEMS) shown.push(`${sorted.length - COUNT_ITEMS} more`);
  return shown.join(', ');
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(text, SLACK_LIMITS.sectionText) } };
}

/** For tests: the budget a digest of DIGEST_SIZE Jobs must stay within. */
export const DIGEST_BUDGET = MESSAGE_BUDGET;

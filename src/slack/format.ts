/**
 * buildAlert: one Alert in, one Slack message out. Pure (no I/O, enforced by eslint), so its tests are tables.
 *
 * Choices, and why:
 * - Blocks go at the top level, not inside a coloured attachment. Slack calls attachments legacy, collapses long
 *   ones behind "show more", and an attachment's blocks are secondary content; the alert is the primary content.
 *   The header's :rotating_light: carries the colour instead.
 * - Every piece of cluster text (names, messages, log lines, notes) is escaped (escape.ts) before it is placed, so
 *   `<!channel>` in a log cannot ping anyone, and a log cannot close the code fence.
 * - Slack rejects a message over its Block Kit limits (invalid_blocks) and truncates around 12,000 characters of
 *   text (and phones truncate sooner); a rejected alert is an alert lost. So every part has a cap, and the whole
 *   message's text (fallback + all blocks) stays within MESSAGE_BUDGET = 10,000 characters. The log tail gets
 *   whatever the rest left over, up to one section (3,000), and keeps its END: the last lines say why it died.
 * - Missing parts are left out, never rendered as "undefined" or "unknown".
 */
import { signalName, signalOf } from '../detect/container.ts';
import type { Alert, Evidence, JobFailure } from '../alert.ts';
import { ELLIPSIS, escapeCode, mrkdwn, plainText, truncateEscaped, truncatePlain } from './escape.ts';
import { storyText, streakPhrase } from './story.ts';
import { evidenceBlocks, nextStepsBlock } from './evidence-blocks.ts';
import type { ActionsBlock } from './actions.ts';

export interface PlainTextObject {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface MrkdwnObject {
  readonly type: 'mrkdwn';
  readonly text: string;
}

export interface HeaderBlock {
  readonly type: 'header';
  readonly text: PlainTextObject;
}

export interface SectionBlock {
  readonly type: 'section';
  readonly text?: MrkdwnObject;
  readonly fields?: MrkdwnObject[];
}

export interface ContextBlock {
  readonly type: 'context';
  readonly elements: MrkdwnObject[];
}

/** The subset of Block Kit this formatter emits (structurally compatible with @slack/types' KnownBlock). */
export type Block = HeaderBlock | SectionBlock | ContextBlock | ActionsBlock;

/** One incoming-webhook message. `text` is the notification / fallback: phones show only this. */
export interface SlackPayload {
  readonly text: string;
  readonly blocks: Block[];
  /** Log lines often hold URLs; an unfurled preview of one would bury the alert. */
  readonly unfurl_links?: boolean;
  readonly unfurl_media?: boolean;
}

/** Slack's documented Block Kit limits, and this formatter's own budget for the whole message. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
} as const;

/** Total characters of text (fallback + every text object) one alert may use; Slack truncates near 12,000. */
export const MESSAGE_BUDGET = 10_000;

const CAP = {
  fallbackText: 400,
  fieldValue: 200,
  message: 2000,
  containerMessage: 1000,
  note: 300,
  notesTotal: 1500,
  /** Room kept for the log tail when the evidence sections are placed. */
  logReserve: 1500,
} as const;

/** A failure message, or (alert.reminder) a reminder that a CronJob is still failing, with the latest failure. */
export function buildAlert(alert: Alert): SlackPayload {
  const { failure, evidence } = alert;
  const blocks: Block[] = [header(alert)];
  const story = storyText(alert.cronJob, alert.streak, alert.at ?? failure.failedAt ?? new Date(0), alert.reminder);
  if (story) blocks.push(section(story));
  const fields = facts(alert);
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  const message = failure.message.trim();
  if (message) blocks.push(section(`*Message*\n${mrkdwn(message, CAP.message)}`));
  const container = containerSummary(evidence);
  if (container) blocks.push(section(container));
  const notes = notesContext(evidence.notes);
  const text = fallbackText(alert);
  const logTail = evidence.logTail ?? [];
  // Next steps and notes close the message; the evidence sections get what is left after keeping room for the log.
  const closing = [nextStepsBlock(failure, evidence), notes].filter((block) => block !== undefined);
  const logReserve = logTail.length > 0 ? CAP.logReserve : 0;
  blocks.push(...evidenceBlocks(failure, evidence, MESSAGE_BUDGET - textLength({ text, blocks: [...blocks, ...closing] }) - logReserve));
  if (logTail.length > 0) {
    const used = textLength({ text, blocks: [...blocks, ...closing] });
    const room = Math.min(SLACK_LIMITS.sectionText, MESSAGE_BUDGET - used);
    const log = logSection(logTail, room);
    if (log) blocks.push(section(log));
  }
  blocks.push(...closing);
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

/** Where Slack's Block Kit Builder lives; it reads the message to show from the URL fragment. */
export const BLOCK_KIT_BUILDER = 'https://app.slack.com/block-kit-builder/#';

/**
 * A link that opens this message's blocks in Slack's Block Kit Builder (in a browser, signed in to any workspace),
 * the way Slack's own docs link their examples: the fragment is the percent-encoded JSON of `{ blocks }`. The
 * fragment never reaches a server, so a long log tail is fine; `text` and the unfurl flags are not part of a
 * Builder surface and are left out.
 */
export function blockKitBuilderUrl(payload: Pick<SlackPayload, 'blocks'>): string {
  return BLOCK_KIT_BUILDER + encodeURIComponent(JSON.stringify({ blocks: payload.blocks }));
}

/** Every character of text in a payload, as Slack counts it towards its message limits (UTF-16 units: an upper bound). */
export function textLength(payload: Pick<SlackPayload, 'text' | 'blocks'>): number {
  let total = payload.text.length;
  for (const block of payload.blocks) {
    if (block.type === 'header') total += block.text.text.length;
    else if (block.type === 'section') {
      total += block.text?.text.length ?? 0;
      for (const field of block.fields ?? []) total += field.text.length;
    } else if (block.type === 'context') for (const element of block.elements) total += element.text.length;
    else for (const element of block.elements) total += element.text.text.length;
  }
  return total;
}

/** `signal 9 (SIGKILL)` for an explicit signal or an exit code of 128 + N (as detect reads it), else undefined. */
export function describeSignal(exitCode: number | undefined, signal: number | undefined): string | undefined {
  const number = signal ?? (exitCode === undefined ? undefined : signalOf(exitCode));
  if (number === undefined) return undefined;
  const name = signalName(number);
  return name ? `signal ${number} (${name})` : `signal ${number}`;
}

/** `1h 2m 3s`, `45s`, `2d 3h`: coarse enough to read at a glance. */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = d > 0 ? [`${d}d`, `${h}h`] : h > 0 ? [`${h}h`, `${m}m`, `${s}s`] : m > 0 ? [`${m}m`, `${s}s`] : [`${s}s`];
  return parts.join(' ');
}

/** `2024-05-01 12:00:00 UTC`; undefined for a missing or invalid date. */
export function formatTime(date: Date | undefined): string | undefined {
  if (!date || Number.isNaN(date.getTime())) return undefined;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function header(alert: Alert): HeaderBlock {
  const { failure } = alert;
  const text = plainText(
    alert.reminder && alert.cronJob
      ? `:repeat: Still failing: CronJob ${alert.cronJob.namespace}/${alert.cronJob.name}`
      : `:rotating_light: Job failed: ${failure.namespace}/${failure.name}`,
  );
  return { type: 'header', text: { type: 'plain_text', text: truncatePlain(text, SLACK_LIMITS.headerText), emoji: true } };
}

function facts(alert: Alert): MrkdwnObject[] {
  const { failure } = alert;
  const fields: Array<[string, string | undefined]> = [
    ['Cluster', alert.cluster],
    ['Namespace', failure.namespace],
    ['CronJob', failure.cronJob],
    ['Reason', failure.reason || undefined],
    attempts(failure),
    ['Failed indexes', failure.failedIndexes],
    ['Started', formatTime(failure.startedAt)],
    ['Failed at', formatTime(failure.failedAt)],
    ['Duration', duration(failure)],
  ];
  return fields
    .filter((field): field is [string, string] => field[1] !== undefined && field[1] !== '')
    .slice(0, SLACK_LIMITS.fields)
    .map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${mrkdwn(value, CAP.fieldValue)}` }));
}

function attempts(failure: JobFailure): [string, string | undefined] {
  if (failure.backoffLimit !== undefined) return ['Attempts', `${failure.failedPods}/${failure.backoffLimit + 1}`];
  return ['Failed pods', failure.failedPods > 0 ? String(failure.failedPods) : undefined];
}

function duration(failure: JobFailure): string | undefined {
  const start = failure.startedAt?.getTime();
  const end = failure.failedAt?.getTime();
  if (start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end) || end < start) return undefined;
  return formatDuration(end - start);
}

function containerSummary(evidence: Evidence): string | undefined {
  const where: string[] = [];
  if (evidence.pod) where.push(`*Pod:* ${mrkdwn(evidence.pod, CAP.fieldValue)}`);
  if (evidence.container) where.push(`*Container:* ${mrkdwn(evidence.container, CAP.fieldValue)}`);
  if (evidence.node) where.push(`*Node:* ${mrkdwn(evidence.node, CAP.fieldValue)}`);
  const how: string[] = [];
  if (evidence.exitCode !== undefined) {
    const signal = describeSignal(evidence.exitCode, evidence.signal);
    how.push(`*Exit code:* ${evidence.exitCode}${signal ? `, ${signal}` : ''}`);
  } else {
    const signal = describeSignal(undefined, evidence.signal);
    if (signal) how.push(`*Killed by:* ${signal}`);
  }
  if (evidence.reason) how.push(`*Reason:* ${mrkdwn(evidence.reason, CAP.fieldValue)}`);
  const lines = [where.join('   '), how.join('   ')].filter((line) => line !== '');
  const message = evidence.message?.trim();
  if (message) lines.push(`*Termination message:* ${mrkdwn(message, CAP.containerMessage)}`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/**
 * The log tail as a code block of at most `room` characters, keeping the last lines: whole lines from the end while
 * they fit, then (if not even the last line fits) the end of the last line. Says when it was cut.
 */
function logSection(lines: readonly string[], room: number): string | undefined {
  const total = lines.length;
  const title = (shown: number, cut: boolean): string =>
    cut ? `*Log tail* (last ${shown} of ${total} lines, cut to fit)` : `*Log tail* (last ${total === 1 ? 'line' : `${total} lines`})`;
  const wrap = (head: string, body: string): string => `${head}\n\`\`\`\n${body}\n\`\`\``;
  const overhead = wrap(title(total, true), '').length + 10; // room for the digits of `shown`
  const space = room - overhead;
  if (space < 20) return undefined;

  const kept: string[] = [];
  let used = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const escaped = escapeCode(lines[i] ?? '');
    const cost = escaped.length + (kept.length > 0 ? 1 : 0);
    if (used + cost > space) break;
    kept.unshift(escaped);
    used += cost;
  }
  if (kept.length === total) return wrap(title(total, false), kept.join('\n'));
  if (kept.length > 0) return wrap(title(kept.length, true), kept.join('\n'));
  return wrap(title(1, true), lineEnd(lines[lines.length - 1] ?? '', space));
}

/** The end of one over-long line, escaped, `…`-prefixed, within `space` characters. */
function lineEnd(line: string, space: number): string {
  let keep = space;
  for (;;) {
    let raw = line.slice(-keep);
    const first = raw.charCodeAt(0);
    if (first >= 0xdc00 && first <= 0xdfff) raw = raw.slice(1);
    const escaped = ELLIPSIS + escapeCode(raw);
    if (escaped.length <= space || keep <= 1) return escaped.length <= space ? escaped : ELLIPSIS;
    keep -= Math.max(1, escaped.length - space);
  }
}

function notesContext(notes: readonly string[]): ContextBlock | undefined {
  const elements: MrkdwnObject[] = [];
  let used = 0;
  const cleaned = notes.map((note) => note.trim()).filter((note) => note !== '');
  for (const [i, note] of cleaned.entries()) {
    const text = mrkdwn(note, CAP.note);
    const isLastSlot = elements.length === SLACK_LIMITS.contextElements - 1;
    if ((isLastSlot && i < cleaned.length - 1) || used + text.length > CAP.notesTotal) {
      elements.push({ type: 'mrkdwn', text: `${ELLIPSIS} and ${cleaned.length - i} more` });
      break;
    }
    elements.push({ type: 'mrkdwn', text });
    used += text.length;
  }
  return elements.length > 0 ? { type: 'context', elements } : undefined;
}

function fallbackText(alert: Alert): string {
  const { failure } = alert;
  // Each part has its own cap, so a long reason cannot push the CronJob out of the notification.
  let text =
    alert.reminder && alert.cronJob
      ? `:repeat: Still failing: CronJob ${mrkdwn(`${alert.cronJob.namespace}/${alert.cronJob.name}`, 150)}, latest ${mrkdwn(failure.name, 150)}`
      : `:rotating_light: Job failed: ${mrkdwn(`${failure.namespace}/${failure.name}`, 150)}`;
  if (failure.reason) text += ` (${mrkdwn(failure.reason, 80)})`;
  if (failure.cronJob && !alert.reminder) text += `, CronJob ${mrkdwn(failure.cronJob, 80)}`;
  if (alert.streak && alert.streak.count > 1) text += `, ${streakPhrase(alert.streak, alert.reminder === true)}`;
  if (alert.cluster) text += `, cluster ${mrkdwn(alert.cluster, 60)}`;
  return truncateEscaped(text, CAP.fallbackText);
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(text, SLACK_LIMITS.sectionText) } };
}

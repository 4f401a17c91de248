/**
 * The evidence parts of a failure message: every attempt, the image and memory limit, how each index ended, the
 * Warning events, and the next steps as copyable commands. Pure functions of `(failure, evidence)` returning mrkdwn
 * or blocks, so each notification kind's renderer places them where it wants (format.ts today).
 *
 * Every piece of cluster text goes through escape.ts (so `<!channel>` in an event message pings nobody, and a bidi
 * override cannot reverse a line); every part has a cap, and `evidenceBlocks` fits them into the room it is given.
 * Commands are shown only when each argument is a valid Kubernetes name: a command copied into a shell must run as
 * shown, so nothing that needs quoting is ever offered.
 */
import type { Evidence, JobFailure } from '../alert.ts';
import { parseIndexes } from '../detect/attempts.ts';
import { ELLIPSIS, escapeMrkdwn, truncateEscaped } from './escape.ts';
import type { SectionBlock } from './format.ts';

export const EVIDENCE_CAPS = {
  /** The attempts, image and memory limit section. */
  details: 800,
  indexes: 700,
  events: 1600,
  eventMessage: 240,
  /** Longer values (an image reference) are cut, not dropped. */
  value: 200,
} as const;

/** "4 failed attempts: 3x OOMKilled (exit 137), 1x Error (exit 1)" (plain text), or undefined without attempts. */
export function attemptsSummary(evidence: Evidence): string | undefined {
  const parts = attemptsParts(evidence);
  return parts === undefined ? undefined : `${parts.head}: ${parts.ends}`;
}

function attemptsParts(evidence: Evidence): { head: string; ends: string } | undefined {
  const attempts = evidence.attempts;
  if (attempts === undefined || attempts.total <= 0) return undefined;
  const ends = attempts.groups.map((group) => `${group.count}x ${endLabel(group)}`);
  const shown = attempts.groups.reduce((sum, group) => sum + group.count, 0);
  if (shown < attempts.total) ends.push(`${attempts.total - shown} more`);
  return { head: `${attempts.total} failed attempt${attempts.total === 1 ? '' : 's'}`, ends: ends.join(', ') };
}

/** `OOMKilled (exit 137)`, `Evicted`, `exit 3`; a restart whose end the kubelet did not keep says so. */
function endLabel(end: { readonly reason?: string; readonly exitCode?: number }): string {
  if (end.reason !== undefined && end.exitCode !== undefined) return `${end.reason} (exit ${end.exitCode})`;
  if (end.reason !== undefined) return end.reason;
  if (end.exitCode !== undefined) return `exit ${end.exitCode}`;
  return 'restart (exit code not kept)';
}

/** The attempts line, then the image and (for an OOMKill) the memory limit, as mrkdwn. */
export function detailsText(_failure: JobFailure, evidence: Evidence): string | undefined {
  const lines: string[] = [];
  const attempts = attemptsParts(evidence);
  if (attempts !== undefined) lines.push(`*${attempts.head}:* ${escapeMrkdwn(attempts.ends)}`);
  const container: string[] = [];
  if (evidence.image) container.push(`*Image:* ${code(evidence.image)}`);
  if (evidence.memoryLimit) container.push(`*Memory limit:* ${code(evidence.memoryLimit)}`);
  if (container.length > 0) lines.push(container.join('   '));
  return lines.length > 0 ? truncateEscaped(lines.join('\n'), EVIDENCE_CAPS.details) : undefined;
}

/**
 * How the failed indexes of an Indexed Job ended, grouped: "exit 1 (Error): 0, 2, 4-6; no pod left: 9". With
 * `status.failedIndexes` (backoffLimitPerIndex) only those indexes: an index that failed once and then succeeded
 * did not fail the Job. Undefined when the pods say nothing about indexes.
 */
export function indexesText(failure: JobFailure, evidence: Evidence): string | undefined {
  const known = evidence.indexes ?? [];
  if (known.length === 0) return undefined;
  const failed = parseIndexes(failure.failedIndexes);
  const failedSet = failed === undefined ? undefined : new Set(failed.indexes);
  const groups = new Map<string, number[]>();
  for (const entry of known) {
    if (failedSet !== undefined && !failedSet.has(entry.index)) continue;
    const label = endLabel(entry);
    groups.set(label, [...(groups.get(label) ?? []), entry.index]);
  }
  if (failed !== undefined) {
    const seen = new Set(known.map((entry) => entry.index));
    const missing = failed.indexes.filter((index) => !seen.has(index));
    const beyond = failed.total - failed.indexes.length;
    if (missing.length > 0) groups.set('no pod left', missing);
    if (beyond > 0) groups.set(`${beyond} more`, []);
  }
  if (groups.size === 0) return undefined;
  const parts = [...groups.entries()].map(([label, indexes]) => (indexes.length === 0 ? label : `${label}: ${ranges(indexes)}`));
  const title = failed === undefined ? 'Exit codes by index' : 'Exit codes of the failed indexes';
  return truncateEscaped(`*${title}:* ${escapeMrkdwn(parts.join('; '))}`, EVIDENCE_CAPS.indexes);
}

/** `0-3, 5, 7-8` from sorted indexes. */
export function ranges(indexes: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length; i++) {
    const first = indexes[i]!;
    let last = first;
    while (i + 1 < indexes.length && indexes[i + 1] === last + 1) last = indexes[++i]!;
    parts.push(last === first ? String(first) : last === first + 1 ? `${first}, ${last}` : `${first}-${last}`);
  }
  return parts.join(', ');
}

/**
 * The Warning events, newest first, one bullet each: time, reason, count, which object, message. Whole bullets
 * only, as many as fit in `max` characters.
 */
export function eventsText(_failure: JobFailure, evidence: Evidence, max: number = EVIDENCE_CAPS.events): string | undefined {
  const events = evidence.events ?? [];
  if (events.length === 0) return undefined;
  let text = '*Warning events* (newest first, UTC)';
  let shown = 0;
  for (const event of events) {
    const when = event.lastSeen === undefined || Number.isNaN(event.lastSeen.getTime()) ? '' : `${event.lastSeen.toISOString().slice(11, 19)} `;
    const what = event.kind === 'Job' ? 'Job' : `${event.kind.toLowerCase()} ${event.name}`.trim();
    const times = event.count > 1 ? `, ${event.count}x` : '';
    const message = event.message === '' ? '' : `: ${truncateEscaped(escapeMrkdwn(event.message), EVIDENCE_CAPS.eventMessage)}`;
    const line = `\n• ${when}*${escapeMrkdwn(event.reason || 'Warning')}* (${escapeMrkdwn(what)}${times})${message}`;
    if (text.length + line.length > max) break;
    text += line;
    shown++;
  }
  return shown > 0 ? text : undefined;
}

/** Kubernetes names (DNS subdomains and labels) need no quoting in a shell and contain no mrkdwn. */
const SAFE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
/** A Job's name must fit a label value (63), which the CronJob controller's names do (52 + 11). */
const MAX_JOB_NAME = 63;

/**
 * The commands to look further, plain text: describe the Job; read the failed container's log (`--previous` when
 * the failure was the container's previous instance), or describe the pod when it failed before any container ran;
 * for a CronJob's run, start it again now. A command with an argument that is not a plain name is left out.
 */
export function nextStepCommands(failure: JobFailure, evidence: Evidence): string[] {
  const ns = failure.namespace;
  // Each command with the cluster-provided names in it, which must all be plain names for it to be offered.
  const steps: Array<[names: string[], command: string]> = [[[ns, failure.name], `kubectl -n ${ns} describe job/${failure.name}`]];
  const { pod, container } = evidence;
  if (pod !== undefined && container !== undefined) {
    steps.push([[pod, container], `kubectl -n ${ns} logs ${pod} -c ${container}${evidence.previous ? ' --previous' : ''}`]);
  } else if (pod !== undefined) {
    steps.push([[pod], `kubectl -n ${ns} describe pod/${pod}`]);
  }
  const cronJob = failure.cronJob;
  if (cronJob !== undefined && `${cronJob}-retry`.length <= MAX_JOB_NAME) {
    steps.push([[ns, cronJob], `kubectl -n ${ns} create job --from=cronjob/${cronJob} ${cronJob}-retry`]);
  }
  return steps.filter(([names]) => [ns, ...names].every((name) => SAFE_NAME.test(name))).map(([, command]) => command);
}

/** The next steps as mrkdwn: one command per line, each in a code span so a click selects it whole. */
export function nextStepsText(failure: JobFailure, evidence: Evidence): string | undefined {
  const commands = nextStepCommands(failure, evidence);
  if (commands.length === 0) return undefined;
  return ['*Next steps*', ...commands.map((command) => `\`${escapeMrkdwn(command)}\``)].join('\n');
}

/**
 * The evidence sections in reading order (attempts and image, indexes, events), within `room` characters of text
 * in all: the events give way first (oldest bullets first), then the indexes, then the rest.
 */
export function evidenceBlocks(failure: JobFailure, evidence: Evidence, room: number = Number.POSITIVE_INFINITY): SectionBlock[] {
  let left = room;
  const fit = (text: string | undefined): string | undefined => {
    if (text === undefined || text.length > left) return undefined;
    left -= text.length;
    return text;
  };
  const details = fit(detailsText(failure, evidence));
  const indexes = fit(indexesText(failure, evidence));
  const events = fit(eventsText(failure, evidence, Math.min(EVIDENCE_CAPS.events, left)));
  return [details, indexes, events].filter((text) => text !== undefined).map(section);
}

/** The next steps as a section block, or undefined when there is no command to offer. */
export function nextStepsBlock(failure: JobFailure, evidence: Evidence): SectionBlock | undefined {
  const text = nextStepsText(failure, evidence);
  return text === undefined ? undefined : section(text);
}

/** A value in a code span, or escaped plain text when it holds a backtick or a newline (which would end the span). */
function code(value: string): string {
  const escaped = truncateEscaped(escapeMrkdwn(value), EVIDENCE_CAPS.value);
  return /[`\n]/.test(escaped) || escaped.endsWith(ELLIPSIS) ? escaped : `\`${escaped}\``;
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

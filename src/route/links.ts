/**
 * Link buttons: LINK_TEMPLATES filled in for one failure, plus a per-object runbook. Pure: no I/O (eslint).
 *
 * LINK_TEMPLATES is a whitespace-separated list of `name=URL` (a URL holds no unencoded whitespace, while `;`, `,`
 * and `|` all occur in real ones: Google Cloud Logging's `;query=...;timeRange=...`). In YAML, a folded or literal
 * block scalar puts one per line. The name is the button's text, `_` showing as a space (`View_logs` -> "View logs").
 *
 * Placeholders: {cluster} {namespace} {job} {cronjob} {pod} {container} {node}, and the times {startedAt}
 * {failedAt} (RFC 3339: 2024-06-20T20:52:19Z) and {startedAtMs} {failedAtMs} (epoch milliseconds). A time takes an
 * offset for a log window: {startedAt-5m}, {failedAtMs+15m}, with the units of ALERT_MAX_AGE (ms, s, m, h, d).
 * Every value is URL-encoded (encodeURIComponent), so a value cannot end a query parameter or start another.
 * Braces that are not a placeholder name (Grafana's JSON, LogQL's {app="x"}) are left as written; a word in braces
 * that is not a known placeholder is a config error, so a typo like {pods} is caught at start, not in an alert.
 *
 * A placeholder with no value for this failure (no CronJob, no pod found, CLUSTER_NAME unset) leaves that link out,
 * with the reason in `omitted`: a logs link with an empty pod name would open a query for the wrong thing.
 */
import type { Alert } from '../alert.ts';
import { parseDuration } from '../time.ts';
import { annotationOf, quoted, type Owners } from './owners.ts';

export const ANNOTATION_RUNBOOK = 'kube-job-alerts.io/runbook';
/** Buttons per message: the runbook first, then LINK_TEMPLATES in the order written. */
export const MAX_LINKS = 5;
/** Slack's limit for a button's url. */
export const MAX_URL_LENGTH = 3000;

const TEXT_PLACEHOLDERS = ['cluster', 'namespace', 'job', 'cronjob', 'pod', 'container', 'node'] as const;
const TIME_PLACEHOLDERS = ['startedAt', 'startedAtMs', 'failedAt', 'failedAtMs'] as const;
export const PLACEHOLDERS: readonly string[] = [...TEXT_PLACEHOLDERS, ...TIME_PLACEHOLDERS];

export interface LinkTemplate {
  /** As written in LINK_TEMPLATES: `logs`, `View_logs`. */
  readonly name: string;
  /** The button's text: the name with `_` as a space. */
  readonly label: string;
  readonly template: string;
}

/** What a failure fills the placeholders with; undefined (or an invalid date) is "no value". */
export interface LinkValues {
  readonly cluster?: string | undefined;
  readonly namespace?: string | undefined;
  readonly job?: string | undefined;
  readonly cronjob?: string | undefined;
  readonly pod?: string | undefined;
  readonly container?: string | undefined;
  readonly node?: string | undefined;
  readonly startedAt?: Date | undefined;
  readonly failedAt?: Date | undefined;
}

export interface Link {
  readonly label: string;
  readonly url: string;
}

export interface LinkResult {
  readonly links: readonly Link[];
  /** Links left out and why (a placeholder without a value, too many, too long): worth a debug line, not a warning. */
  readonly omitted: readonly { readonly name: string; readonly reason: string }[];
  /** A runbook annotation that is not an http(s) URL, naming the object and the value. */
  readonly warnings: readonly string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,29}$/;
/** `{word}` or `{word+offset}`: anything else in braces is left alone. */
const PLACEHOLDER = /\{([A-Za-z]+)(?:([+-])((?:\d+(?:ms|s|m|h|d))+))?\}/g;
/** Any word in braces, to catch typos of placeholders ({pods}, {failedAt+15min}). */
const LOOKS_LIKE_PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)([+-][^{}]*)?\}/g;
/** The offset in `{failedAt-15m}`: a duration as ALERT_MAX_AGE takes one (PLACEHOLDER only matches valid ones). */
function offsetMs(sign: string | undefined, amount: string | undefined): number {
  if (!sign || !amount) return 0;
  const total = parseDuration(amount) ?? 0;
  return sign === '-' ? -total : total;
}

const isTime = (name: string): boolean => (TIME_PLACEHOLDERS as readonly string[]).includes(name);

/** The problems of one template (its placeholders, and that it fills to an http(s) URL); [] when it is good. */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const [whole, name = '', sign] of template.matchAll(LOOKS_LIKE_PLACEHOLDER)) {
    const exact = new RegExp(PLACEHOLDER.source).exec(whole);
    if (!PLACEHOLDERS.includes(name)) problems.push(`unknown placeholder ${whole} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
    else if (sign !== undefined && !isTime(name)) problems.push(`${whole}: only times take an offset ({failedAt-15m})`);
    else if (!exact || exact[0] !== whole) problems.push(`${whole}: an offset is + or - and a duration such as 15m, 1h or 1h30m`);
  }
  if (problems.length > 0) return problems;
  const sample = fill(template, SAMPLE_VALUES);
  let url: URL;
  try {
    url = new URL('url' in sample ? sample.url : template);
  } catch {
    return ['is not a URL'];
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return [`must be an http:// or https:// URL (got ${url.protocol})`];
  return [];
}

/**
 * LINK_TEMPLATES -> templates, or one problem per bad entry, each naming it. At most MAX_LINKS templates; names
 * are unique, compared without case.
 */
export function parseLinkTemplates(text: string): { readonly templates: readonly LinkTemplate[]; readonly problems: readonly string[] } {
  const templates: LinkTemplate[] = [];
  const problems: string[] = [];
  for (const entry of text.split(/\s+/).filter((part) => part !== '')) {
    const equals = entry.indexOf('=');
    const name = equals === -1 ? '' : entry.slice(0, equals);
    const template = equals === -1 ? entry : entry.slice(equals + 1);
    if (!NAME.test(name)) {
      problems.push(`${quoted(entry, 60)}: each entry is name=URL, the name 1 to 30 letters, digits, "_", "-" or "." (entries are separated by spaces or new lines)`);
      continue;
    }
    if (templates.some((other) => other.name.toLowerCase() === name.toLowerCase())) {
      problems.push(`"${name}": given twice`);
      continue;
    }
    const found = templateProblems(template);
    if (found.length > 0) {
      problems.push(...found.map((problem) => `"${name}": ${problem}`));
      continue;
    }
    templates.push(Object.freeze({ name, label: name.replace(/_/g, ' '), template }));
  }
  if (templates.length > MAX_LINKS) problems.push(`${templates.length} templates: at most ${MAX_LINKS} (a message shows at most ${MAX_LINKS} link buttons)`);
  return { templates: Object.freeze(templates), problems };
}

/** `2024-06-20T20:52:19Z`; milliseconds only when there are any (Kubernetes times have none). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

function valueOf(values: LinkValues, name: string, offset: number): string | undefined {
  if (!isTime(name)) {
    const text = values[name as (typeof TEXT_PLACEHOLDERS)[number]];
    return text === undefined || text === '' ? undefined : text;
  }
  const date = name.startsWith('started') ? values.startedAt : values.failedAt;
  if (!date || Number.isNaN(date.getTime())) return undefined;
  const shifted = new Date(date.getTime() + offset);
  return name.endsWith('Ms') ? String(shifted.getTime()) : rfc3339(shifted);
}

function fill(template: string, values: LinkValues): { readonly url: string } | { readonly missing: readonly string[] } {
  const missing: string[] = [];
  const url = template.replace(PLACEHOLDER, (whole, name: string, sign: string | undefined, amount: string | undefined) => {
    if (!PLACEHOLDERS.includes(name)) return whole;
    const value = valueOf(values, name, offsetMs(sign, amount));
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return encodeURIComponent(value);
  });
  return missing.length > 0 ? { missing } : { url };
}

/**
 * The URL as the WHATWG parser writes it, with the characters it leaves raw but RFC 3986 does not allow after the
 * host (`{ } | ^ \` [ ]`, as in Grafana's JSON) percent-encoded too, so that no client or proxy on the way chokes
 * on them; a server decodes them back the same.
 */
export function strictUrl(text: string): string {
  const url = new URL(text);
  const href = url.href;
  const afterHost = href.indexOf(url.host) + url.host.length;
  const rest = href.slice(afterHost).replace(/[{}|^\\`[\]]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return href.slice(0, afterHost) + rest;
}

/** A template filled for one failure: the URL (see strictUrl), or the placeholders without a value. */
export function fillTemplate(template: string, values: LinkValues): { readonly url: string } | { readonly missing: readonly string[] } {
  const filled = fill(template, values);
  if ('missing' in filled) return filled;
  return { url: strictUrl(filled.url) };
}

/** The per-object runbook: an http(s) URL within Slack's limit, or a warning naming the object and the value. */
export function runbookOf(owners: Owners): { readonly link?: Link; readonly warning?: string } {
  const found = annotationOf(owners, ANNOTATION_RUNBOOK, { skipBlank: true });
  if (!found) return {};
  const refuse = (why: string) => ({ warning: `${found.where}: ${ANNOTATION_RUNBOOK}: ${quoted(found.value)} left out: ${why}` });
  let url: URL;
  try {
    url = new URL(found.value.trim());
  } catch {
    return refuse('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('only http:// and https:// links are shown');
  const href = strictUrl(url.href);
  if (href.length > MAX_URL_LENGTH) return refuse(`longer than Slack's ${MAX_URL_LENGTH} characters`);
  return { link: { label: 'Runbook', url: href } };
}

/** Every link button for one alert: the runbook, then the templates that could be filled, at most MAX_LINKS. */
export function linksFor(templates: readonly LinkTemplate[], values: LinkValues, owners?: Owners): LinkResult {
  const links: Link[] = [];
  const omitted: { name: string; reason: string }[] = [];
  const warnings: string[] = [];
  if (owners) {
    const runbook = runbookOf(owners);
    if (runbook.link) links.push(runbook.link);
    if (runbook.warning) warnings.push(runbook.warning);
  }
  for (const { name, label, template } of templates) {
    const filled = fillTemplate(template, values);
    if ('missing' in filled) omitted.push({ name, reason: `no value for ${filled.missing.map((p) => `{${p}}`).join(', ')}` });
    else if (filled.url.length > MAX_URL_LENGTH) omitted.push({ name, reason: `filled, it is longer than Slack's ${MAX_URL_LENGTH} characters` });
    else if (links.length >= MAX_LINKS) omitted.push({ name, reason: `at most ${MAX_LINKS} buttons` });
    else links.push({ label, url: filled.url });
  }
  return { links, omitted, warnings };
}

/** The placeholders' values for an alert: names from the failure, where it ran from the evidence. */
export function linkValuesOf(alert: Pick<Alert, 'cluster' | 'failure' | 'evidence'>): LinkValues {
  const { failure, evidence } = alert;
  return {
    cluster: alert.cluster,
    namespace: failure.namespace,
    job: failure.name,
    cronjob: failure.cronJob,
    pod: evidence.pod,
    container: evidence.container,
    node: evidence.node,
    startedAt: failure.startedAt,
    failedAt: failure.failedAt,
  };
}

/** Stand-ins used only to check at start that a template fills to a URL. */
const SAMPLE_VALUES: LinkValues = {
  cluster: 'c', namespace: 'n', job: 'j', cronjob: 'cj', pod: 'p', container: 'ct', node: 'nd',
  startedAt: new Date(0), failedAt: new Date(0),
};

/**
 * What is watched: which namespaces (WATCH_NAMESPACES, EXCLUDE_NAMESPACES) and which Jobs (JOB_LABEL_SELECTOR).
 * Pure: no I/O (enforced by eslint), so config.ts validates with it at start and tests are tables.
 *
 * Why the label selector is parsed here at all, when the API server parses it too: a selector the server refuses
 * fails every list, so the Job cache never syncs and the daemon alerts on nothing, with only an informer warning
 * in the logs. Parsed at start with the server's grammar (apimachinery's labels.Parse: `=`, `==`, `!=`, `in`,
 * `notin`, `key`, `!key`, and its `>`/`<` on integers), a typo is a config error naming the variable instead.
 *
 * Why exclusions are split in two (exactFieldSelector): an exact name can be left out by the API server itself with
 * a field selector (`metadata.namespace!=kube-system`), so those Jobs never reach memory; a prefix (`team-x-*`)
 * cannot be expressed as a field selector and has to be dropped at the cache's edge (isNamespaceWatched).
 */

/** An exact namespace name, or a prefix written with a trailing `*` (`team-a-*`). */
export interface NamespacePattern {
  /** As written: `team-a-*`, `batch`. */
  readonly text: string;
  /** The name, or the prefix without its `*`. */
  readonly value: string;
  readonly prefix: boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A prefix of a DNS label: may end in `-`, cannot start with one. */
const DNS_LABEL_PREFIX = /^[a-z0-9][-a-z0-9]{0,61}$/;

/** `team-a-*` or `batch`; a string (the problem) for anything else. A bare `*` is refused: it would match all. */
export function parseNamespacePattern(text: string): NamespacePattern | string {
  const trimmed = text.trim();
  if (trimmed.endsWith('*')) {
    const value = trimmed.slice(0, -1);
    if (!DNS_LABEL_PREFIX.test(value)) return `"${trimmed}" is not a namespace name or a prefix of one followed by *`;
    return Object.freeze({ text: trimmed, value, prefix: true });
  }
  if (!DNS_LABEL.test(trimmed)) return `"${trimmed}" is not a valid namespace name`;
  return Object.freeze({ text: trimmed, value: trimmed, prefix: false });
}

export function matchesNamespace(pattern: NamespacePattern, namespace: string): boolean {
  return pattern.prefix ? namespace.startsWith(pattern.value) : namespace === pattern.value;
}

/** The most specific pattern that matches: an exact name over any prefix, then the longest prefix. */
export function mostSpecific<T extends { readonly pattern: NamespacePattern }>(entries: readonly T[], namespace: string): T | undefined {
  let best: T | undefined;
  for (const entry of entries) {
    if (!matchesNamespace(entry.pattern, namespace)) continue;
    if (!entry.pattern.prefix) return entry;
    if (!best || entry.pattern.value.length > best.pattern.value.length) best = entry;
  }
  return best;
}

// --- label selectors ------------------------------------------------------------------------------------------

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | '>' | '<';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  /** As given (trimmed): what is sent to the API server as `labelSelector`. */
  readonly text: string;
  readonly requirements: readonly LabelRequirement[];
}

export class LabelSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorError';
  }
}

type Token =
  | { readonly kind: 'identifier'; readonly text: string }
  | { readonly kind: 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | 'end'; readonly text: string };

const SYMBOLS = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOL_TOKENS = ['!=', '==', '=', '!', '(', ')', ',', '>', '<'] as const;
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

/** The server's lexer: symbols are `= ! ( ) , > <`; everything else up to a symbol or whitespace is one word. */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i]!;
    if (WHITESPACE.has(char)) {
      i++;
      continue;
    }
    if (SYMBOLS.has(char)) {
      const symbol = SYMBOL_TOKENS.find((candidate) => input.startsWith(candidate, i));
      if (!symbol) throw new LabelSelectorError(`unexpected "${char}"`);
      tokens.push({ kind: symbol, text: symbol });
      i += symbol.length;
      continue;
    }
    let end = i;
    while (end < input.length && !SYMBOLS.has(input[end]!) && !WHITESPACE.has(input[end]!)) end++;
    const word = input.slice(i, end);
    tokens.push(word === 'in' || word === 'notin' ? { kind: word, text: word } : { kind: 'identifier', text: word });
    i = end;
  }
  tokens.push({ kind: 'end', text: 'end of string' });
  return tokens;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key: `[prefix/]name`, prefix a DNS subdomain of at most 253, name at most 63 (IsQualifiedName). */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `label key "${key}" has more than one "/"`;
  const [prefix, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key "${key}": the prefix must be a DNS subdomain (lower case, at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `label key "${key}": the name must be 1 to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** A label value: empty, or at most 63 letters, digits, `-`, `_`, `.`, starting and ending alphanumeric. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value "${value}" must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/**
 * Parses a label selector as the API server does (labels.Parse), or throws LabelSelectorError saying where it
 * stopped. An empty selector selects everything: requirements [].
 */
export function parseLabelSelector(input: string): LabelSelector {
  const text = input.trim();
  const tokens = tokenize(text);
  let position = 0;
  const peek = (): Token => tokens[position]!;
  const next = (): Token => tokens[Math.min(position++, tokens.length - 1)]!;
  // In a value position `in` and `notin` are plain words (`x in (in)`).
  const asValue = (token: Token): Token => (token.kind === 'in' || token.kind === 'notin' ? { kind: 'identifier', text: token.text } : token);

  const requirements: LabelRequirement[] = [];
  if (peek().kind === 'end') return Object.freeze({ text, requirements: Object.freeze(requirements) });
  for (;;) {
    let negated = false;
    let token = asValue(next());
    if (token.kind === '!') {
      negated = true;
      token = asValue(next());
    }
    if (token.kind !== 'identifier') throw new LabelSelectorError(`found "${token.text}", expected: a label key`);
    const key = token.text;
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) throw new LabelSelectorError(keyProblem);
    const after = peek().kind;
    let requirement: LabelRequirement;
    if (negated || after === ',' || after === 'end') {
      if (negated && after !== ',' && after !== 'end') throw new LabelSelectorError(`found "${peek().text}" after !${key}, expected: "," or end of string`);
      requirement = { key, operator: negated ? '!' : 'exists', values: [] };
    } else {
      const operator = next();
      if (operator.kind === 'in' || operator.kind === 'notin') {
        requirement = { key, operator: operator.kind, values: parseValueSet(key) };
      } else if (operator.kind === '=' || operator.kind === '==' || operator.kind === '!=' || operator.kind === '>' || operator.kind === '<') {
        const valueToken = asValue(peek());
        let value = '';
        if (valueToken.kind === 'identifier') {
          value = valueToken.text;
          next();
        } else if (valueToken.kind !== ',' && valueToken.kind !== 'end') {
          throw new LabelSelectorError(`found "${valueToken.text}" after ${key}${operator.text}, expected: a value`);
        }
        if ((operator.kind === '>' || operator.kind === '<') && !/^[-+]?\d+$/.test(value)) {
          throw new LabelSelectorError(`${key}${operator.text}${value}: ">" and "<" need a whole number`);
        }
        requirement = { key, operator: operator.kind, values: [value] };
      } else {
        throw new LabelSelectorError(`found "${operator.text}" after ${key}, expected: =, ==, !=, in, notin, >, <, "," or end of string`);
      }
    }
    for (const value of requirement.values) {
      const valueProblem = labelValueProblem(value);
      if (valueProblem) throw new LabelSelectorError(valueProblem);
    }
    requirements.push(Object.freeze({ ...requirement, values: Object.freeze([...requirement.values]) }));
    const separator = next();
    if (separator.kind === 'end') break;
    if (separator.kind !== ',') throw new LabelSelectorError(`found "${separator.text}", expected: "," or end of string`);
    const following = asValue(peek()).kind;
    if (following !== 'identifier' && following !== '!') throw new LabelSelectorError(`found "${peek().text}" after ",", expected: a label key`);
  }
  return Object.freeze({ text, requirements: Object.freeze(requirements) });

  /** `(a, b)` after in/notin. As on the server, an empty entry (`(a,)`, `()`) is the empty value. */
  function parseValueSet(key: string): string[] {
    const open = next();
    if (open.kind !== '(') throw new LabelSelectorError(`found "${open.text}" after ${key} in/notin, expected: "("`);
    const values = new Set<string>();
    let expectValue = true;
    for (;;) {
      const token = asValue(next());
      if (token.kind === ')') {
        if (expectValue) values.add('');
        break;
      }
      if (token.kind === ',') {
        if (expectValue) values.add('');
        expectValue = true;
        continue;
      }
      if (token.kind === 'identifier' && expectValue) {
        values.add(token.text);
        expectValue = false;
        continue;
      }
      throw new LabelSelectorError(`found "${token.text}" in the values of ${key}, expected: a value, "," or ")"`);
    }
    return [...values];
  }
}

/** Whether labels satisfy every requirement (apimachinery's Requirement.Matches). */
export function matchesLabels(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return true;
  const has = (key: string): boolean => labels !== undefined && Object.hasOwn(labels, key);
  return selector.requirements.every(({ key, operator, values }) => {
    const value = labels?.[key];
    switch (operator) {
      case 'in':
      case '=':
      case '==':
        return has(key) && values.includes(value!);
      case 'notin':
      case '!=':
        return !has(key) || !values.includes(value!);
      case 'exists':
        return has(key);
      case '!':
        return !has(key);
      case '>':
      case '<': {
        if (!has(key) || !/^[-+]?\d+$/.test(value!)) return false;
        const have = BigInt(value!);
        const want = BigInt(values[0]!);
        return operator === '>' ? have > want : have < want;
      }
    }
  });
}

// --- the scope ------------------------------------------------------------------------------------------------

/** What the daemon watches, resolved: the namespaces (`all` or a list), what is left out, and which Jobs. */
export interface WatchScope {
  readonly namespaces: readonly string[] | 'all';
  /** Applied only when namespaces is 'all': a listed namespace is always watched. */
  readonly exclude: readonly NamespacePattern[];
  readonly jobSelector: LabelSelector | undefined;
}

/** Built from the config's fields and the namespaces namespacesToWatch() resolved. */
export function watchScope(
  config: { readonly excludeNamespaces: readonly NamespacePattern[]; readonly jobLabelSelector: LabelSelector | undefined },
  namespaces: readonly string[] | 'all',
): WatchScope {
  return Object.freeze({ namespaces, exclude: config.excludeNamespaces, jobSelector: config.jobLabelSelector });
}

export function isNamespaceWatched(namespace: string, scope: Pick<WatchScope, 'namespaces' | 'exclude'>): boolean {
  if (scope.namespaces !== 'all') return scope.namespaces.includes(namespace);
  return !scope.exclude.some((pattern) => matchesNamespace(pattern, namespace));
}

/** Whether a Job (its namespace and labels) is one the daemon alerts on. The cache edge's filter, and the tests'. */
export function isJobWatched(job: { readonly metadata?: { readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> } }, scope: WatchScope): boolean {
  return isNamespaceWatched(job.metadata?.namespace ?? '', scope) && matchesLabels(scope.jobSelector, job.metadata?.labels);
}

/**
 * The query parameters for the Job informer's list and watch: `labelSelector` whenever JOB_LABEL_SELECTOR is set,
 * and with namespaces 'all', `fieldSelector` leaving out the excluded namespaces that are exact names. Prefix
 * exclusions need `needsEdgeFilter`: the caller drops those Jobs before they are cached (isJobWatched).
 */
export function jobListOptions(scope: WatchScope): { readonly labelSelector?: string; readonly fieldSelector?: string; readonly needsEdgeFilter: boolean } {
  const labelSelector = scope.jobSelector && scope.jobSelector.requirements.length > 0 ? scope.jobSelector.text : undefined;
  const exact = scope.namespaces === 'all' ? scope.exclude.filter((pattern) => !pattern.prefix) : [];
  const fieldSelector = exact.length > 0 ? exact.map((pattern) => `metadata.namespace!=${pattern.value}`).join(',') : undefined;
  const needsEdgeFilter = scope.namespaces === 'all' && scope.exclude.some((pattern) => pattern.prefix);
  return { ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}), needsEdgeFilter };
}

/** One line for `check` and the start log: `all namespaces except kube-system, team-x-*` or `batch, etl`. */
export function describeNamespaces(scope: Pick<WatchScope, 'namespaces' | 'exclude'>): string {
  if (scope.namespaces !== 'all') return scope.namespaces.join(', ');
  if (scope.exclude.length === 0) return 'all namespaces';
  return `all namespaces except ${scope.exclude.map((pattern) => pattern.text).join(', ')}`;
}

/** `all Jobs` or `Jobs whose labels match app=etl,tier!=test`. */
export function describeJobs(scope: Pick<WatchScope, 'jobSelector'>): string {
  if (!scope.jobSelector || scope.jobSelector.requirements.length === 0) return 'all Jobs';
  return `Jobs whose labels match ${scope.jobSelector.text}`;
}

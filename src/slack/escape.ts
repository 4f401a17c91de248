/**
 * Making cluster text safe for Slack. Everything a Job, a Pod or a log line says is attacker-controlled as far as
 * Slack is concerned: a log line `<!channel>` must not page a whole channel, and `<https://evil|click>` must not
 * disguise a link, and a right-to-left override must not make a line read backwards. Slack's rule is to escape
 * exactly `&`, `<` and `>` in mrkdwn; `escapeMrkdwn` does that after `sanitize` has removed terminal colour codes
 * and made every other control character visible. Pure: no I/O (enforced by eslint).
 */

/** The one ellipsis every cut uses, so a reader knows text was cut. */
export const ELLIPSIS = '…';

/**
 * Terminal escape sequences, removed whole: CSI (`ESC [ 31 m`, colours and cursor moves, also as the 8-bit U+009B),
 * OSC (`ESC ] 8 ; ; url BEL`, hyperlinks and titles, ended by BEL or `ESC \\`), and the two-character escapes.
 * Programs colour their logs with these; shown raw they would be noise like `[31m` around every word. An OSC
 * without its end is not removed with the rest of its line (that would hide text): only its `ESC ]` goes.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_SEQUENCE = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)|\u001b[ -/]*[0-~]/g;

/**
 * Characters that must not reach Slack as they are: C0 controls other than tab and newline (NUL, ESC, CR...), DEL,
 * C1 controls, and the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), with which
 * a right-to-left override makes a line read backwards (`exe.lmx` is `xml.exe`).
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Cluster text made safe to show: terminal sequences removed, a CR before a newline dropped (CRLF logs), every other
 * invisible character made visible (`␀`, `␛`, `␍` for C0 and DEL, `[U+202E]` for C1 and bidi controls), so a reader
 * sees that something was there and nothing can reorder or hide text. Tabs stay; newlines stay when `newlines` is
 * true, else become `␤` (a header is one line).
 */
export function sanitize(text: string, options: { readonly newlines: boolean } = { newlines: true }): string {
  let clean = text.replace(TERMINAL_SEQUENCE, '').replace(/\r+(?=\n|$)/g, '');
  if (!options.newlines) clean = clean.replace(/\n/g, '\u2424');
  return clean.replace(INVISIBLE, visible);
}

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `[U+${code.toString(16).toUpperCase().padStart(4, '0')}]`;
}

/**
 * Escapes text for a mrkdwn field: after this, `<` can only come from the formatter itself. Sanitized first
 * (`sanitize`), so every piece of cluster text that reaches Slack goes through both.
 */
export function escapeMrkdwn(text: string): string {
  return sanitize(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text for a plain_text object (the header): sanitized to one line. Slack does not parse mentions there, but the
 * angle brackets are swapped for lookalikes anyway, so that no `<!` exists anywhere in the payload and a reviewer
 * (or a test) can check that by searching the JSON.
 */
export function plainText(text: string): string {
  return sanitize(text, { newlines: false }).replace(/</g, '‹').replace(/>/g, '›');
}

/**
 * Log text inside a ``` code block: escaped like any mrkdwn, and no two backticks are left adjacent (a zero-width
 * space goes between them), so a log line cannot close the fence and have the rest rendered as mrkdwn.
 */
export function escapeCode(text: string): string {
  return escapeMrkdwn(text).replace(/`(?=`)/g, '`\u200b');
}

/**
 * Cuts already-escaped text to at most `max` UTF-16 units, ending in an ellipsis when cut. It never leaves half an
 * entity (`&am`) or half a surrogate pair behind.
 */
export function truncateEscaped(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  if (max <= ELLIPSIS.length) return ELLIPSIS.slice(0, Math.max(0, max));
  let cut = escaped.slice(0, max - ELLIPSIS.length);
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  cut = dropLoneHighSurrogate(cut);
  return cut + ELLIPSIS;
}

/** Cuts plain text to at most `max` UTF-16 units, ending in an ellipsis when cut. */
export function truncatePlain(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return ELLIPSIS.slice(0, Math.max(0, max));
  return dropLoneHighSurrogate(text.slice(0, max - ELLIPSIS.length)) + ELLIPSIS;
}

/** Escapes for mrkdwn, then cuts to `max`. */
export function mrkdwn(text: string, max: number): string {
  return truncateEscaped(escapeMrkdwn(text), max);
}

function dropLoneHighSurrogate(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}

/**
 * Making cluster text safe for Slack. Everything a Job, a Pod or a log line says is attacker-controlled as far as
 * Slack is concerned: a log line `<!channel>` must not page a whole channel, and `<https://evil|click>` must not
 * disguise a link. Slack's rule is to escape exactly `&`, `<` and `>` in mrkdwn; that is all `escapeMrkdwn` does.
 * Pure: no I/O (enforced by eslint).
 */

/** The one ellipsis every cut uses, so a reader knows text was cut. */
export const ELLIPSIS = '…';

/** Escapes text for a mrkdwn field: after this, `<` can only come from the formatter itself. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text for a plain_text object (the header). Slack does not parse mentions there, but the angle brackets are swapped
 * for lookalikes anyway, so that no `<!` exists anywhere in the payload and a reviewer (or a test) can check that
 * by searching the JSON.
 */
export function plainText(text: string): string {
  return text.replace(/</g, '‹').replace(/>/g, '›');
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

/**
 * What an error actually was, for humans and for classifiers.
 *
 * Why: Node's fetch reports every failure to connect as `TypeError: fetch failed`, with the useful part (connection
 * refused, unknown host, untrusted certificate) one or two `cause`s down, and the certificate errors carry their
 * reason only in `code` (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`), not in the message. Logs, `check`, `test-alert` and the
 * Slack classifier all need that innermost reason, so it is found here, once. Pure: no I/O.
 */

export interface RootCause {
  /** The innermost error's message (the first line only). */
  readonly message: string;
  /** The innermost `code` found on the way down (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...), if any. */
  readonly code: string | undefined;
}

const MAX_DEPTH = 8;

/** The errors from `error` down its `cause` chain (and into an AggregateError's first error), outermost first. */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < MAX_DEPTH && !chain.includes(current)) {
    chain.push(current);
    const next: unknown = (current as { cause?: unknown }).cause;
    // undici reports "connect to localhost" (::1 and 127.0.0.1 both refused) as an AggregateError without a cause.
    current = next ?? (current instanceof AggregateError ? current.errors[0] : undefined);
  }
  return chain;
}

/** The innermost message and code: `fetch failed` -> `connect ECONNREFUSED 127.0.0.1:443` / `ECONNREFUSED`. */
export function rootCause(error: unknown): RootCause {
  const chain = causeChain(error);
  let code: string | undefined;
  for (const link of chain) {
    const candidate = (link as { code?: unknown } | null)?.code;
    if (typeof candidate === 'string' && candidate !== '') code = candidate;
  }
  return { message: messageOf(chain.at(-1)), code };
}

/**
 * One line saying what happened, outermost to innermost, without repeats, with the innermost code when the messages
 * do not already say it: `fetch failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`.
 */
export function describeCauses(error: unknown, maxLength = 300): string {
  const messages: string[] = [];
  for (const link of causeChain(error)) {
    const message = messageOf(link);
    if (message !== '' && !messages.some((seen) => seen.includes(message))) messages.push(message);
  }
  let text = messages.join(': ') || messageOf(error) || 'unknown error';
  const { code } = rootCause(error);
  if (code !== undefined && !text.includes(code)) text += ` (${code})`;
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return (error.message.split('\n')[0] ?? '').trim();
  if (typeof error === 'string') return error.split('\n')[0]!.trim();
  return error === undefined || error === null ? '' : String(error);
}

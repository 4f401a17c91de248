/**
 * classifyAnswer(attempt): what one attempt to post to a webhook means, decided once, here, for every answer.
 *
 *   answer                                          verdict        reason         counted as (alerts_failed_total)
 *   2xx (as soon as the status line arrives)        delivered
 *   429                                             retry later    rate_limited   (Retry-After honoured)
 *   5xx, 408                                        retry later    server_error
 *   no answer in time, refused, reset, EAI_AGAIN... retry later    network
 *   3xx (redirect; never followed)                  never retry    redirect       http_<status>
 *   every other 4xx                                 never retry    rejected       Slack's error (no_service, ...) or http_<status>
 *   certificate not trusted / expired / wrong host  never retry    tls            tls_<code> (tls_unable_to_verify_leaf_signature)
 *   host not found (ENOTFOUND)                      never retry    dns            dns_enotfound
 *
 * "Never retry" is for that webhook: posting the same bytes to the same URL cannot succeed until someone changes the
 * URL, the certificate or the DNS, so retrying only hides the problem; it is logged at error level and counted.
 * Redirects are refused rather than followed: a webhook URL that redirects is not Slack's, and following it would
 * hand the message (and the URL's secret path) to wherever it points. Pure: no I/O.
 */
import { describeCauses, rootCause } from '../errors.ts';

/** What came back from one attempt, before any judgement. */
export type Attempt =
  | {
      readonly response: {
        readonly status: number;
        /** The body as text ('' when not read). */
        readonly body: string;
        readonly retryAfter?: string | null;
        readonly location?: string | null;
      };
    }
  | {
      /** The error fetch threw (or that wraps it). */
      readonly error: unknown;
      /** The per-attempt timeout fired (as opposed to any other failure). */
      readonly timedOut?: boolean;
      readonly timeoutMs?: number;
    };

export type RetryReason = 'rate_limited' | 'server_error' | 'network';
export type RefusalReason = 'redirect' | 'rejected' | 'tls' | 'dns';

export type Verdict =
  | { readonly kind: 'delivered'; readonly status: number }
  | {
      readonly kind: 'retry_later';
      readonly reason: RetryReason;
      readonly status: number | undefined;
      /** For rate_limited: the parsed Retry-After, if readable. */
      readonly retryAfterMs?: number | undefined;
      /** What happened, one line, never containing the webhook URL's path (a caller scrubs it anyway). */
      readonly cause: string;
    }
  | {
      readonly kind: 'never_retry';
      readonly reason: RefusalReason;
      readonly status: number | undefined;
      /** A short, stable token for metrics and the caller: Slack's error string, http_301, tls_<code>, dns_<code>. */
      readonly error: string;
      readonly cause: string;
    };

/** Node's (OpenSSL's) codes for a certificate the client will not accept: none of them heals by itself in seconds. */
const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A name that does not exist; EAI_AGAIN (the resolver could not answer now) is a network error and retried. */
const DNS_CODES = new Set(['ENOTFOUND']);

export function classifyAnswer(attempt: Attempt, nowMs: number): Verdict {
  if ('response' in attempt) return classifyResponse(attempt.response, nowMs);
  const { error, timedOut, timeoutMs } = attempt;
  if (timedOut) {
    const cause = timeoutMs === undefined ? 'no answer in time' : `no answer within ${timeoutMs} ms`;
    return { kind: 'retry_later', reason: 'network', status: undefined, cause };
  }
  const cause = describeCauses(error);
  const { code, message } = rootCause(error);
  if (code !== undefined && CERTIFICATE_CODES.has(code)) {
    return { kind: 'never_retry', reason: 'tls', status: undefined, error: `tls_${code.toLowerCase()}`, cause };
  }
  if (code !== undefined && DNS_CODES.has(code)) {
    return { kind: 'never_retry', reason: 'dns', status: undefined, error: `dns_${code.toLowerCase()}`, cause };
  }
  // With fetch's `redirect: 'error'` a redirect arrives as an error rather than as a 3xx answer.
  if (/unexpected redirect|redirect mode is set to error/i.test(message)) {
    return { kind: 'never_retry', reason: 'redirect', status: undefined, error: 'redirect', cause };
  }
  return { kind: 'retry_later', reason: 'network', status: undefined, cause };
}

function classifyResponse(
  response: Extract<Attempt, { response: unknown }>['response'],
  nowMs: number,
): Verdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const error = slackError(response.body, status);
  if (status === 429) {
    return { kind: 'retry_later', reason: 'rate_limited', status, retryAfterMs: parseRetryAfter(response.retryAfter, nowMs), cause: `HTTP 429 ${error}` };
  }
  // 408 is the only 4xx that says "try again": a proxy gave up waiting, not a refusal.
  if (status >= 500 || status === 408) return { kind: 'retry_later', reason: 'server_error', status, cause: `HTTP ${status} ${error}` };
  if (status >= 300 && status < 400) {
    const target = originOf(response.location);
    return {
      kind: 'never_retry',
      reason: 'redirect',
      status,
      error: `http_${status}`,
      cause: `HTTP ${status}: the webhook URL redirects${target ? ` to ${target}` : ''}; redirects are not followed`,
    };
  }
  // Anything else (4xx, and the odd 1xx or unknown code) is a refusal that the same request cannot overcome.
  return { kind: 'never_retry', reason: 'rejected', status, error, cause: `HTTP ${status} ${error}` };
}

/** Slack answers errors as a short text/plain string; anything else (an HTML error page) becomes http_<status>. */
export function slackError(body: string, status: number): string {
  const text = body.trim();
  return /^[a-z][a-z0-9_]{0,63}$/.test(text) ? text : `http_${status}`;
}

/** Retry-After (delta-seconds or HTTP-date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (/[a-z]/i.test(value) && !Number.isNaN(date)) return Math.max(0, date - nowMs);
  return undefined;
}

/** Only scheme and host of a redirect target: its path may be as secret as the webhook's. */
function originOf(location: string | null | undefined): string | undefined {
  if (!location) return undefined;
  try {
    return new URL(location).origin;
  } catch {
    return undefined;
  }
}

/**
 * deliver(payload): gets one message into Slack, or says precisely why it cannot.
 *
 * Built on @slack/webhook's IncomingWebhook for the request itself (one attempt each: its retry policy cannot
 * honour Retry-After or a shutdown signal), with this file owning the policy. Every answer is judged once, by
 * classifyAnswer (answer.ts, which has the table), into one of three verdicts:
 * - delivered: a 2xx, as soon as its status line arrives. Slack has posted the message by then; waiting for the body
 *   too would let a body that never ends time the attempt out, and the retry would post the message a second time.
 * - retry later: 429 pauses the whole queue for Retry-After, then retries the same message; 5xx, 408, network errors
 *   and timeouts retry with full-jitter backoff (settings.slack.retryBackoff, capped at 15 s so that a channel that
 *   is back hears within ~15 s), with no attempt limit: an alert is never dropped for a transient error.
 * - never retry (for this webhook): a redirect (never followed), any other 4xx (no_service, channel_is_archived,
 *   invalid_payload, ...), a certificate the client does not trust, a host that does not exist. Logged at error level
 *   with the cause and counted in alerts_failed_total{slack_error}; retrying cannot fix a revoked webhook or a bad cert.
 * deliver() never throws. A shutdown (the signal) ends the wait with `aborted`, and the caller does not mark the Job
 * as alerted, so the next start sends it.
 * Posts are serialized in a FIFO queue and spaced by minIntervalMs: Slack allows about one message per second
 * per webhook, and bursts (a node dies, twenty Jobs fail) would otherwise earn 429s.
 *
 * The webhook URL is a secret (whoever holds it can post to the channel): it is never logged, only its
 * fingerprint, and error messages and their causes are scrubbed of it before they are logged or returned.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type FetchFunction,
  type IncomingWebhookSendArguments,
} from '@slack/webhook';
import { causeChain } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { backoffDelay, type BackoffPolicy } from '../queue/backoff.ts';
import type { Metrics } from '../metrics.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { classifyAnswer, type Attempt, type RefusalReason, type Verdict } from './answer.ts';
import { blockKitBuilderUrl, type SlackPayload } from './format.ts';

export { parseRetryAfter } from './answer.ts';

export type DeliveryResult =
  | { readonly ok: true; readonly attempts: number }
  /**
   * Refused for good. `error` is the short token that is also the metric label: Slack's error string (no_service,
   * invalid_payload, ...), http_<status> (redirects, HTML error pages), tls_<code> or dns_<code>; `cause` says it in
   * a sentence. `status` is undefined when no HTTP answer came (TLS, DNS).
   */
  | {
      readonly ok: false;
      readonly permanent: true;
      readonly reason: RefusalReason;
      readonly status: number | undefined;
      readonly error: string;
      readonly cause: string;
      readonly attempts: number;
    }
  /** Not delivered, but not refused either (shutdown): the caller should leave the failure un-alerted. */
  | {
      readonly ok: false;
      readonly permanent: false;
      readonly error: 'aborted';
      readonly attempts: number;
      /** Why the last attempt failed, if one did (for `test-alert`: "HTTP 503 service_unavailable", "connect ECONNREFUSED ..."). */
      readonly lastFailure?: string;
    };

export interface Deliverer {
  deliver(payload: SlackPayload, signal?: AbortSignal): Promise<DeliveryResult>;
}

/** Waits `ms`; may resolve early or reject once `signal` aborts (both are handled). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface SlackDelivererOptions {
  readonly url: string;
  readonly fetch?: FetchFunction;
  /** Per HTTP attempt. */
  readonly timeoutMs?: number;
  /** Minimum time between two attempts on this webhook. */
  readonly minIntervalMs?: number;
  /** For 5xx, 408, network errors and timeouts. */
  readonly retryBackoff?: BackoffPolicy;
  /** Used when a 429 has no (or an unreadable) Retry-After. */
  readonly defaultRetryAfterMs?: number;
  /** Retry-After is capped: a misbehaving proxy must not stall alerts for a day. */
  readonly maxRetryAfterMs?: number;
  readonly sleep?: Sleep;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  /** [0, 1), for jitter. */
  readonly random?: () => number;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

/** `hooks.slack.com…AbCd`: enough to tell two webhooks apart in logs, useless to post with. */
export function webhookFingerprint(url: string): string {
  let host = '';
  try {
    host = new URL(url).host;
  } catch {
    // Not a URL: still never echo it.
  }
  return `${host}…${url.slice(-4)}`;
}

const defaultSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal ? { signal } : undefined);
};

/** An attempt's verdict, or `aborted` (shutdown), with the thrown error kept for the log. */
type Outcome = { readonly verdict: Verdict; readonly thrown: unknown } | { readonly verdict: 'aborted' };

/** The `outcome` label of slack_attempts_total and slack_request_duration_seconds. */
function outcomeLabel(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'delivered':
      return 'ok';
    case 'retry_later':
      return verdict.reason;
    case 'never_retry':
      return 'rejected';
  }
}

export class SlackDeliverer implements Deliverer {
  readonly #url: string;
  readonly #fingerprint: string;
  readonly #fetch: FetchFunction;
  readonly #timeoutMs: number;
  readonly #minIntervalMs: number;
  readonly #retryBackoff: BackoffPolicy;
  readonly #defaultRetryAfterMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger;
  /** Settles when every delivery queued so far has finished: the FIFO. */
  #tail: Promise<void> = Promise.resolve();
  /** No attempt starts before this (spacing, and 429 pauses). */
  #nextAttemptAt = 0;

  constructor(options: SlackDelivererOptions) {
    const defaults = DEFAULT_SETTINGS.slack;
    this.#url = options.url;
    this.#fingerprint = webhookFingerprint(options.url);
    this.#fetch = options.fetch ?? (globalThis.fetch as FetchFunction);
    this.#timeoutMs = options.timeoutMs ?? defaults.attemptTimeoutMs;
    this.#minIntervalMs = options.minIntervalMs ?? defaults.minIntervalMs;
    this.#retryBackoff = options.retryBackoff ?? defaults.retryBackoff;
    this.#defaultRetryAfterMs = options.defaultRetryAfterMs ?? defaults.defaultRetryAfterMs;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? defaults.maxRetryAfterMs;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#metrics = options.metrics;
    this.#logger = (options.logger ?? silentLogger).child({ webhook: this.#fingerprint });
  }

  /** Queues the message behind those already queued; resolves when Slack took it, refused it, or `signal` aborted. */
  deliver(payload: SlackPayload, signal?: AbortSignal): Promise<DeliveryResult> {
    const previous = this.#tail;
    let finished!: () => void;
    const mine = new Promise<void>((resolve) => (finished = resolve));
    // The next delivery waits for this one AND every earlier one, even if this one is aborted while queued.
    this.#tail = Promise.all([previous, mine]).then(() => undefined);
    return this.#deliverInTurn(previous, payload, signal).finally(finished);
  }

  async #deliverInTurn(previous: Promise<void>, payload: SlackPayload, signal: AbortSignal | undefined): Promise<DeliveryResult> {
    let attempts = 0;
    let lastFailure: string | undefined;
    const aborted = (): DeliveryResult => ({ ok: false, permanent: false, error: 'aborted', attempts, ...(lastFailure === undefined ? {} : { lastFailure }) });
    try {
      if (!(await untilOrAborted(previous, signal))) return aborted();
      let transientFailures = 0;
      for (;;) {
        if (!(await this.#waitForSlot(signal))) return aborted();
        attempts += 1;
        const outcome = await this.#attempt(payload, signal);
        if (outcome.verdict === 'aborted') return aborted();
        const { verdict, thrown } = outcome;
        switch (verdict.kind) {
          case 'delivered':
            this.#metrics?.alertsSent.inc();
            this.#metrics?.lastDeliverySeconds.set(this.#now() / 1000);
            if (attempts > 1) this.#logger.info({ attempts }, 'slack accepted the alert after retrying');
            return { ok: true, attempts };
          case 'never_retry': {
            const cause = this.#scrub(verdict.cause);
            this.#metrics?.alertsFailed.inc({ slack_error: verdict.error });
            this.#logger.error(
              { err: this.#scrubbedError(thrown), status: verdict.status, slackError: verdict.error, refusal: verdict.reason, cause, attempts },
              `slack delivery failed for good (${verdict.error}): ${REFUSAL_ADVICE[verdict.reason]}; this alert is dropped`,
            );
            return { ok: false, permanent: true, reason: verdict.reason, status: verdict.status, error: verdict.error, cause, attempts };
          }
          case 'retry_later': {
            lastFailure = this.#scrub(verdict.cause);
            if (verdict.reason === 'rate_limited') {
              const pauseMs = Math.min(this.#maxRetryAfterMs, verdict.retryAfterMs ?? this.#defaultRetryAfterMs);
              this.#nextAttemptAt = Math.max(this.#nextAttemptAt, this.#now() + pauseMs);
              this.#logger.warn({ attempts, pauseMs }, 'slack rate-limited the webhook: pausing the queue');
              break;
            }
            const waitMs = backoffDelay(this.#retryBackoff, transientFailures, this.#random);
            transientFailures += 1;
            this.#logger.warn(
              { err: this.#scrubbedError(thrown), status: verdict.status, cause: lastFailure, attempts, waitMs },
              'slack delivery failed: retrying',
            );
            if (!(await this.#pause(waitMs, signal))) return aborted();
            break;
          }
        }
      }
    } catch (error) {
      // A bug here must not crash the daemon nor lose the alert silently: say so, leave it un-alerted.
      this.#logger.error({ err: this.#scrubbedError(error), attempts }, 'slack delivery failed unexpectedly');
      return aborted();
    }
  }

  /** Waits until this webhook may be called again; false if aborted meanwhile. */
  async #waitForSlot(signal: AbortSignal | undefined): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const waitMs = this.#nextAttemptAt - this.#now();
      if (waitMs <= 0) return true;
      if (!(await this.#pause(waitMs, signal))) return false;
    }
  }

  async #pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.#sleep(ms, signal);
    } catch {
      // An aborted sleep rejects; anything else just ends the wait early.
    }
    return !signal?.aborted;
  }

  async #attempt(payload: SlackPayload, signal: AbortSignal | undefined): Promise<Outcome> {
    const started = this.#now();
    this.#nextAttemptAt = started + this.#minIntervalMs;
    let answered: { status: number; retryAfter: string | null; location: string | null } | undefined;
    // IncomingWebhook hides the response headers, takes no caller signal and follows no redirect policy of ours, so
    // this wrapper records the answer's head, adds the shutdown signal to IncomingWebhook's own timeout signal, asks
    // for redirects to be returned rather than followed, and ends a 2xx at its status line (see the file comment).
    const fetchOnce: FetchFunction = async (url, init) => {
      const signals = [init?.signal, signal].filter((s): s is AbortSignal => s !== undefined);
      const response = await this.#fetch(url, {
        ...init,
        redirect: 'manual',
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      });
      answered = { status: response.status, retryAfter: response.headers.get('retry-after'), location: response.headers.get('location') };
      if (response.status >= 200 && response.status < 300) {
        (response as Partial<Response>).body?.cancel().catch(() => undefined);
        return new Response(null, { status: response.status }) as unknown as Awaited<ReturnType<FetchFunction>>;
      }
      return response;
    };
    const webhook = new IncomingWebhook(this.#url, { fetch: fetchOnce, timeout: this.#timeoutMs, retryConfig: { retries: 0 } });
    let attempt: Attempt;
    let thrown: unknown;
    try {
      await webhook.send(payload as IncomingWebhookSendArguments);
      attempt = { response: { status: answered?.status ?? 200, body: '' } };
    } catch (error) {
      if (signal?.aborted) return { verdict: 'aborted' };
      thrown = error instanceof IncomingWebhookRequestError ? error.original : error;
      if (answered !== undefined && answered.status >= 200 && answered.status < 300) {
        attempt = { response: { status: answered.status, body: '' } };
      } else if (error instanceof IncomingWebhookHTTPError) {
        thrown = undefined; // an answer, not an exception: status and body say it all
        attempt = { response: { status: error.statusCode, body: error.body, retryAfter: answered?.retryAfter, location: answered?.location } };
      } else {
        const timedOut = thrown instanceof Error && (thrown.name === 'TimeoutError' || thrown.name === 'AbortError');
        attempt = { error: thrown, timedOut, timeoutMs: this.#timeoutMs };
      }
    }
    const verdict = classifyAnswer(attempt, this.#now());
    const seconds = Math.max(0, this.#now() - started) / 1000;
    this.#metrics?.slackLatency.observe({ outcome: outcomeLabel(verdict) }, seconds);
    this.#metrics?.slackAttempts.inc({ outcome: outcomeLabel(verdict) });
    return { verdict, thrown };
  }

  #scrub(text: string): string {
    let scrubbed = text.split(this.#url).join(this.#fingerprint);
    try {
      const path = new URL(this.#url).pathname;
      if (path.length > 1) scrubbed = scrubbed.split(path).join('/…');
    } catch {
      // Not a URL: the whole-string replacement above is all there is.
    }
    return scrubbed;
  }

  /**
   * A copy of `error` and its causes, of the same types (so pino's serializer reports the real `type`), with the
   * webhook URL scrubbed from every message, stack and string property; undefined stays undefined.
   */
  #scrubbedError(error: unknown): Error | undefined {
    if (error === undefined) return undefined;
    const copies = causeChain(error).map((link) => {
      if (!(link instanceof Error)) return new Error(this.#scrub(String(link)));
      // Own properties are defined, not assigned: DOMException (a fetch timeout) has getter-only message and name.
      const copy = Object.create(Object.getPrototypeOf(link) as object) as Error;
      const define = (key: string, value: unknown): void => void Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
      for (const [key, value] of Object.entries(link)) if (typeof value === 'string' || typeof value === 'number') define(key, typeof value === 'string' ? this.#scrub(value) : value);
      define('name', link.name);
      define('message', this.#scrub(link.message));
      if (link.stack !== undefined) define('stack', this.#scrub(link.stack));
      const code = (link as { code?: unknown }).code;
      if (typeof code === 'string' || typeof code === 'number') define('code', code);
      return copy;
    });
    copies.forEach((copy, i) => {
      if (i + 1 < copies.length) Object.defineProperty(copy, 'cause', { value: copies[i + 1], enumerable: false, configurable: true });
    });
    return copies[0];
  }
}

/** What to do about each kind of refusal, for the error line. */
const REFUSAL_ADVICE: Readonly<Record<RefusalReason, string>> = {
  rejected: 'check the webhook (revoked, channel archived, or a payload Slack will not take)',
  redirect: 'the webhook URL redirects; set SLACK_WEBHOOK_URL to the URL Slack gave you',
  tls: 'the webhook\'s TLS certificate is not trusted (expired, self-signed, unknown CA or wrong host); a proxy intercepting TLS needs its CA in NODE_EXTRA_CA_CERTS',
  dns: 'the webhook\'s host name does not resolve; check SLACK_WEBHOOK_URL and the pod\'s DNS',
};

/**
 * Logs the message it would have sent; for DRY_RUN and for running without a webhook. `builderUrl` opens the same
 * blocks in Slack's Block Kit Builder, so a dry run shows what the channel would see without posting anything.
 */
export class DryRunDeliverer implements Deliverer {
  readonly #logger: Logger;

  constructor(options: { readonly logger?: Logger } = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  async deliver(payload: SlackPayload): Promise<DeliveryResult> {
    this.#logger.info(
      { dryRun: true, payload: JSON.stringify(payload), builderUrl: blockKitBuilderUrl(payload) },
      'dry run: alert not posted to Slack',
    );
    return { ok: true, attempts: 0 };
  }
}

/** Resolves true when `promise` settles, false as soon as `signal` aborts. */
function untilOrAborted(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) return promise.then(() => true, () => true);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => { signal.removeEventListener('abort', onAbort); resolve(!signal.aborted); },
      () => { signal.removeEventListener('abort', onAbort); resolve(!signal.aborted); },
    );
  });
}

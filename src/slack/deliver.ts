/**
 * deliver(payload): gets one message into Slack, or says precisely why it cannot.
 *
 * Built on @slack/webhook's IncomingWebhook for the request itself (one attempt each: its retry policy cannot
 * honour Retry-After or a shutdown signal), with this file owning the policy, in the three kinds of error:
 * - retry later: 429 pauses the whole queue for Retry-After, then retries the same message; 5xx, network errors and
 *   timeouts retry with full-jitter backoff, with no attempt limit: an alert is never dropped for a transient error.
 * - never retry: any other 4xx (no_service, channel_is_archived, invalid_payload, ...) is logged at error level
 *   with Slack's error string and counted in alerts_failed_total{slack_error}; retrying cannot fix a revoked webhook.
 * - absorb: deliver() never throws. A shutdown (the signal) ends the wait with `aborted`, and the caller does not
 *   mark the Job as alerted, so the next start sends it.
 * Posts are serialized in a FIFO queue and spaced by minIntervalMs: Slack allows about one message per second
 * per webhook, and bursts (a node dies, twenty Jobs fail) would otherwise earn 429s.
 *
 * The webhook URL is a secret (whoever holds it can post to the channel): it is never logged, only its
 * fingerprint, and error messages are scrubbed of it before they are logged or returned.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type FetchFunction,
  type IncomingWebhookSendArguments,
} from '@slack/webhook';
import { silentLogger, type Logger } from '../log.ts';
import { backoffDelay } from '../queue/backoff.ts';
import type { Metrics } from '../metrics.ts';
import { blockKitBuilderUrl, type SlackPayload } from './format.ts';

export type DeliveryResult =
  | { readonly ok: true; readonly attempts: number }
  /** Slack refused the message for good: `error` is Slack's error string (no_service, invalid_payload, ...). */
  | { readonly ok: false; readonly permanent: true; readonly status: number; readonly error: string; readonly attempts: number }
  /** Not delivered, but not refused either (shutdown): the caller should leave the failure un-alerted. */
  | { readonly ok: false; readonly permanent: false; readonly error: 'aborted'; readonly attempts: number };

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
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
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

export const DELIVERY_DEFAULTS = {
  timeoutMs: 10_000,
  minIntervalMs: 1000,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  defaultRetryAfterMs: 30_000,
  maxRetryAfterMs: 300_000,
} as const;

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

/** Retry-After (delta-seconds or HTTP-date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (/[a-z]/i.test(value) && !Number.isNaN(date)) return Math.max(0, date - nowMs);
  return undefined;
}


const defaultSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal ? { signal } : undefined);
};

type AttemptOutcome =
  | { kind: 'ok' }
  | { kind: 'rate_limited'; retryAfterMs: number | undefined }
  | { kind: 'server_error'; status: number; error: string }
  | { kind: 'network'; error: string }
  | { kind: 'rejected'; status: number; error: string }
  | { kind: 'aborted' };

export class SlackDeliverer implements Deliverer {
  readonly #url: string;
  readonly #fingerprint: string;
  readonly #fetch: FetchFunction;
  readonly #timeoutMs: number;
  readonly #minIntervalMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
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
    this.#url = options.url;
    this.#fingerprint = webhookFingerprint(options.url);
    this.#fetch = options.fetch ?? (globalThis.fetch as FetchFunction);
    this.#timeoutMs = options.timeoutMs ?? DELIVERY_DEFAULTS.timeoutMs;
    this.#minIntervalMs = options.minIntervalMs ?? DELIVERY_DEFAULTS.minIntervalMs;
    this.#backoffBaseMs = options.backoffBaseMs ?? DELIVERY_DEFAULTS.backoffBaseMs;
    this.#backoffMaxMs = options.backoffMaxMs ?? DELIVERY_DEFAULTS.backoffMaxMs;
    this.#defaultRetryAfterMs = options.defaultRetryAfterMs ?? DELIVERY_DEFAULTS.defaultRetryAfterMs;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? DELIVERY_DEFAULTS.maxRetryAfterMs;
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
    try {
      if (!(await untilOrAborted(previous, signal))) return aborted(attempts);
      let transientFailures = 0;
      for (;;) {
        if (!(await this.#waitForSlot(signal))) return aborted(attempts);
        attempts += 1;
        const outcome = await this.#attempt(payload, signal);
        switch (outcome.kind) {
          case 'ok':
            this.#metrics?.alertsSent.inc();
            this.#metrics?.lastDeliverySeconds.set(this.#now() / 1000);
            if (attempts > 1) this.#logger.info({ attempts }, 'slack accepted the alert after retrying');
            return { ok: true, attempts };
          case 'aborted':
            return aborted(attempts);
          case 'rejected':
            this.#metrics?.alertsFailed.inc({ slack_error: outcome.error });
            this.#logger.error(
              { status: outcome.status, slackError: outcome.error, attempts },
              `slack refused the alert for good (${outcome.error}): check the webhook; this alert is dropped`,
            );
            return { ok: false, permanent: true, status: outcome.status, error: outcome.error, attempts };
          case 'rate_limited': {
            const pauseMs = Math.min(this.#maxRetryAfterMs, outcome.retryAfterMs ?? this.#defaultRetryAfterMs);
            this.#nextAttemptAt = Math.max(this.#nextAttemptAt, this.#now() + pauseMs);
            this.#logger.warn({ attempts, pauseMs }, 'slack rate-limited the webhook: pausing the queue');
            break;
          }
          case 'server_error':
          case 'network': {
            const waitMs = backoffDelay({ baseMs: this.#backoffBaseMs, maxMs: this.#backoffMaxMs }, transientFailures, this.#random);
            transientFailures += 1;
            this.#logger.warn(
              { attempts, waitMs, status: outcome.kind === 'server_error' ? outcome.status : undefined, err: outcome.error },
              'slack delivery failed: retrying',
            );
            if (!(await this.#pause(waitMs, signal))) return aborted(attempts);
            break;
          }
        }
      }
    } catch (error) {
      // A bug here must not crash the daemon nor lose the alert silently: say so, leave it un-alerted.
      this.#logger.error({ err: this.#scrub(describe(error)), attempts }, 'slack delivery failed unexpectedly');
      return aborted(attempts);
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

  async #attempt(payload: SlackPayload, signal: AbortSignal | undefined): Promise<AttemptOutcome> {
    const started = this.#now();
    this.#nextAttemptAt = started + this.#minIntervalMs;
    let retryAfter: string | null = null;
    // IncomingWebhook hides the response headers and takes no caller signal, so this wrapper records Retry-After
    // and adds the shutdown signal to IncomingWebhook's own per-attempt timeout signal.
    const fetchOnce: FetchFunction = async (url, init) => {
      const signals = [init?.signal, signal].filter((s): s is AbortSignal => s !== undefined);
      const response = await this.#fetch(url, { ...init, signal: signals.length > 0 ? AbortSignal.any(signals) : undefined });
      retryAfter = response.headers.get('retry-after');
      return response;
    };
    const webhook = new IncomingWebhook(this.#url, { fetch: fetchOnce, timeout: this.#timeoutMs, retryConfig: { retries: 0 } });
    const outcome = await this.#classify(webhook, payload, signal, () => retryAfter);
    const seconds = Math.max(0, this.#now() - started) / 1000;
    if (outcome.kind !== 'aborted') {
      this.#metrics?.slackLatency.observe({ outcome: outcome.kind }, seconds);
      this.#metrics?.slackAttempts.inc({ outcome: outcome.kind });
    }
    return outcome;
  }

  async #classify(
    webhook: IncomingWebhook,
    payload: SlackPayload,
    signal: AbortSignal | undefined,
    retryAfter: () => string | null,
  ): Promise<AttemptOutcome> {
    try {
      await webhook.send(payload as IncomingWebhookSendArguments);
      return { kind: 'ok' };
    } catch (error) {
      if (signal?.aborted) return { kind: 'aborted' };
      if (error instanceof IncomingWebhookHTTPError) {
        const status = error.statusCode;
        if (status === 429) return { kind: 'rate_limited', retryAfterMs: parseRetryAfter(retryAfter(), this.#now()) };
        // 408 is the only 4xx that says "try again": a proxy gave up waiting, not a refusal.
        if (status >= 500 || status === 408) return { kind: 'server_error', status, error: slackError(error.body, status) };
        return { kind: 'rejected', status, error: slackError(error.body, status) };
      }
      if (error instanceof IncomingWebhookRequestError) {
        const original = error.original;
        const timedOut = original.name === 'TimeoutError' || (original.name === 'AbortError' && !signal?.aborted);
        const detail = timedOut ? `timed out after ${this.#timeoutMs} ms` : describe(original);
        return { kind: 'network', error: this.#scrub(detail) };
      }
      return { kind: 'network', error: this.#scrub(describe(error)) };
    }
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
}

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

function aborted(attempts: number): DeliveryResult {
  return { ok: false, permanent: false, error: 'aborted', attempts };
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

/** Slack answers errors as a short text/plain string; anything else (an HTML error page) becomes http_<status>. */
function slackError(body: string, status: number): string {
  const text = body.trim();
  return /^[a-z][a-z0-9_]{0,63}$/.test(text) ? text : `http_${status}`;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

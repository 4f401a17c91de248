/**
 * A dead man's switch outside the cluster (healthchecks.io, Cronitor, an Alertmanager Watchdog): a GET to
 * HEARTBEAT_URL every HEARTBEAT_INTERVAL while the daemon is watching and delivering. When the pod is gone, the
 * API server unreachable or Slack unreachable for long, the pings stop and the outside service raises the alarm
 * that this daemon cannot raise about itself.
 *
 * "Watching and delivering" is read from cheap flags: every informer listed and watching (the readiness check),
 * and no message waiting longer than `stuckAfterMs` in the outbox. A ping that fails is a warning, once per streak.
 * The URL is a secret (whoever holds it can fake the heartbeat): only its fingerprint is ever logged.
 */
import type { Logger } from './log.ts';

export interface HeartbeatOptions {
  readonly url: string;
  readonly intervalMs: number;
  /** Why the daemon is not healthy now, or undefined when it is (watching, and delivering in time). */
  readonly unhealthy: () => string | undefined;
  readonly fetch?: typeof globalThis.fetch;
  readonly timeoutMs?: number;
  readonly logger: Logger;
  readonly fingerprint: string;
}

export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;
  #skipping: string | undefined;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  start(): void {
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One heartbeat: a GET when healthy. Returns what it did, for tests and logs. Never throws. */
  async beat(): Promise<'sent' | 'skipped' | 'failed'> {
    const { logger, fingerprint } = this.#options;
    const why = this.#options.unhealthy();
    if (why !== undefined) {
      if (this.#skipping !== why) logger.warn({ heartbeat: fingerprint, why }, 'not healthy: heartbeat withheld, so the outside monitor can tell');
      this.#skipping = why;
      return 'skipped';
    }
    if (this.#skipping !== undefined) logger.info({ heartbeat: fingerprint }, 'healthy again: heartbeat resumed');
    this.#skipping = undefined;
    try {
      const response = await (this.#options.fetch ?? globalThis.fetch)(this.#options.url, {
        method: 'GET',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
      await response.body?.cancel();
      if (response.status < 200 || response.status >= 300) throw new Error(`HTTP ${response.status}`);
      if (this.#failing) logger.info({ heartbeat: fingerprint }, 'heartbeat delivered again');
      this.#failing = false;
      return 'sent';
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      if (!this.#failing) logger.warn({ heartbeat: fingerprint, err: detail.split(this.#options.url).join(fingerprint) }, 'heartbeat ping failed');
      this.#failing = true;
      return 'failed';
    }
  }
}

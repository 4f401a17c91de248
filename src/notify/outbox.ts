/**
 * Render, then send, then mark: the last stretch of the corridor, off the workers' path.
 *
 * A worker hands a decided notification to `send()` and moves on: rendering is pure and immediate (a message that
 * cannot be rendered is a bug, logged and settled, never retried forever), and the transport delivers in the
 * background with its own pacing and retries. Why not wait in the worker: while Slack is down for ten minutes the
 * workers must keep deciding (and capturing evidence for) new failures, or those would wait behind the outage.
 * `onSettled` runs once per notification with the transport's answer: the controller marks what was delivered.
 */
import type { Logger } from '../log.ts';
import type { Notification } from './notification.ts';
import { subjectOf } from './notification.ts';
import type { SendResult, Transport } from './transport.ts';

export interface OutboxOptions<Message> {
  readonly render: (notification: Notification) => Message;
  /** The transport for a notification (its route); one per destination, each with its own queue. */
  readonly transportFor: (notification: Notification) => Transport<Message>;
  /** Called once per notification, after the transport answered (or after a render failure, as permanent). */
  readonly onSettled: (notification: Notification, result: SendResult) => Promise<void> | void;
  readonly logger: Logger;
  readonly onDepth?: (inFlight: number) => void;
}

export class Outbox<Message> {
  readonly #options: OutboxOptions<Message>;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(options: OutboxOptions<Message>) {
    this.#options = options;
  }

  /** Renders now, delivers in the background. Never throws. */
  send(notification: Notification): void {
    const { logger } = this.#options;
    let message: Message;
    try {
      message = this.#options.render(notification);
    } catch (error) {
      logger.error({ subject: subjectOf(notification), kind: notification.kind, err: error instanceof Error ? error.stack : String(error) }, 'could not render the message: not sent');
      this.#track(this.#settle(notification, { ok: false, permanent: true, error: 'render_error', attempts: 0 }));
      return;
    }
    const transport = this.#options.transportFor(notification);
    const work = transport
      .post(message, this.#abort.signal)
      .catch((error: unknown): SendResult => {
        // Transports never throw by contract; one that does must not lose the message silently.
        logger.error({ subject: subjectOf(notification), transport: transport.name, err: String(error) }, 'transport failed unexpectedly: the next start sends it');
        return { ok: false, permanent: false, error: 'aborted', attempts: 0 };
      })
      .then((result) => this.#settle(notification, result));
    this.#track(work);
  }

  /** Notifications rendered and not yet settled. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Gives deliveries in flight `graceMs` to finish, then aborts the rest: they settle as `aborted`, are left
   * unmarked, and the next process sends them.
   */
  async stop(graceMs: number): Promise<void> {
    const all = Promise.allSettled([...this.#inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.#abort.abort();
    await Promise.allSettled([...this.#inFlight]);
  }

  async #settle(notification: Notification, result: SendResult): Promise<void> {
    try {
      await this.#options.onSettled(notification, result);
    } catch (error) {
      this.#options.logger.error({ subject: subjectOf(notification), err: error instanceof Error ? error.stack : String(error) }, 'could not record the delivery');
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    this.#options.onDepth?.(this.#inFlight.size);
    void work.finally(() => {
      this.#inFlight.delete(work);
      this.#options.onDepth?.(this.#inFlight.size);
    });
  }
}

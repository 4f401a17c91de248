/**
 * Render, then send, then mark: the last stretch of the corridor, off the workers' path.
 *
 * A worker hands a decided notification to `send()` and moves on: rendering is pure and immediate (a message that
 * cannot be rendered is a bug, logged and settled, never retried forever), and each destination (transport) gets
 * its own lane, delivered one message at a time in order, so one slow or revoked webhook never delays another.
 * Why not wait in the worker: while Slack is down for ten minutes the workers must keep deciding (and capturing
 * evidence for) new failures, or those would wait behind the outage.
 *
 * The lanes are bounded in count and bytes. When one is full, its oldest waiting failures are folded into one digest
 * (every Job still named, each marked when the digest is delivered) rather than lost; only what cannot be folded
 * (reminders, recoveries, digests) is dropped, counted and logged, and left unmarked for the next start.
 * `onSettled` runs once per notification with the transport's answer: the controller marks what was delivered.
 */
import type { Logger } from '../log.ts';
import type { FailureNotification, Notification } from './notification.ts';
import { subjectOf } from './notification.ts';
import { digestsOf } from './storm.ts';
import type { SendResult, Transport } from './transport.ts';

export interface OutboxOptions<Message> {
  readonly render: (notification: Notification) => Message;
  /** The transport for a notification (its route); one per destination, each with its own lane. */
  readonly transportFor: (notification: Notification) => Transport<Message>;
  /** Called once per notification, after the transport answered (or after a render failure, as permanent). */
  readonly onSettled: (notification: Notification, result: SendResult) => Promise<void> | void;
  readonly logger: Logger;
  /** Messages waiting per lane before the oldest failures are folded into a digest. */
  readonly maxPending: number;
  /** Bytes (of rendered messages) waiting per lane, likewise. */
  readonly maxBytes: number;
  /** Jobs per folded digest. */
  readonly perDigest: number;
  readonly onDepth?: (waiting: number) => void;
  /** A notification dropped because its lane was full and it could not be folded. */
  readonly onDropped?: (notification: Notification) => void;
}

interface Item<Message> {
  readonly notification: Notification;
  readonly message: Message;
  readonly bytes: number;
  /** When it was handed over (ms): how long a destination has kept it waiting. */
  readonly since: number;
}

interface Lane<Message> {
  readonly transport: Transport<Message>;
  readonly waiting: Item<Message>[];
  bytes: number;
  sending: Promise<void> | undefined;
  current: Item<Message> | undefined;
}

export class Outbox<Message> {
  readonly #options: OutboxOptions<Message>;
  readonly #lanes = new Map<string, Lane<Message>>();
  readonly #settling = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(options: OutboxOptions<Message>) {
    this.#options = options;
  }

  /** Renders now, delivers in the background, in order per destination. Never throws. */
  send(notification: Notification): void {
    if (this.#abort.signal.aborted) {
      this.#options.logger.info({ kind: notification.kind, subject: subjectOf(notification) }, 'stopping: not sent, the next start sends it');
      return;
    }
    const item = this.#render(notification);
    if (!item) return;
    const transport = this.#options.transportFor(notification);
    let lane = this.#lanes.get(transport.name);
    if (!lane) this.#lanes.set(transport.name, (lane = { transport, waiting: [], bytes: 0, sending: undefined, current: undefined }));
    lane.waiting.push(item);
    lane.bytes += item.bytes;
    this.#bound(lane);
    this.#depth();
    this.#pump(lane);
  }

  /** How long the oldest message not yet delivered has waited (ms), over all lanes; 0 when none waits. */
  oldestWaitingMs(now = Date.now()): number {
    let oldest = now;
    for (const lane of this.#lanes.values()) {
      if (lane.current) oldest = Math.min(oldest, lane.current.since);
      if (lane.waiting[0]) oldest = Math.min(oldest, lane.waiting[0].since);
    }
    return now - oldest;
  }

  /** Notifications rendered and not yet answered, over all lanes. */
  get inFlight(): number {
    let count = 0;
    for (const lane of this.#lanes.values()) count += lane.waiting.length + (lane.sending ? 1 : 0);
    return count;
  }

  /**
   * Gives the lanes `graceMs` to drain, then aborts: the message in flight settles as `aborted`, the rest are not
   * attempted. Neither is marked, so the next process sends them.
   */
  async stop(graceMs: number): Promise<void> {
    const drained = async () => {
      for (;;) {
        const sending = [...this.#lanes.values()].map((lane) => lane.sending).filter((work) => work !== undefined);
        if (sending.length === 0) return;
        await Promise.allSettled(sending);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.#abort.abort();
    let left = 0;
    for (const lane of this.#lanes.values()) {
      left += lane.waiting.length;
      lane.waiting.splice(0);
      lane.bytes = 0;
    }
    if (left > 0) this.#options.logger.info({ messages: left }, 'stopping: messages not attempted yet are left unmarked: the next start sends them');
    await Promise.allSettled([...this.#lanes.values()].map((lane) => lane.sending));
    await Promise.allSettled([...this.#settling]);
  }

  #render(notification: Notification): Item<Message> | undefined {
    try {
      const message = this.#options.render(notification);
      return { notification, message, bytes: JSON.stringify(message).length, since: Date.now() };
    } catch (error) {
      this.#options.logger.error({ subject: subjectOf(notification), kind: notification.kind, err: error instanceof Error ? error.stack : String(error) }, 'could not render the message: not sent');
      this.#settle(notification, { ok: false, permanent: true, error: 'render_error', attempts: 0 });
      return undefined;
    }
  }

  /** Folds the oldest waiting failures into a digest while the lane is over its bounds; drops what cannot fold. */
  #bound(lane: Lane<Message>): void {
    const { maxPending, maxBytes, perDigest, logger } = this.#options;
    while (lane.waiting.length > maxPending || lane.bytes > maxBytes) {
      if (this.#fold(lane, perDigest)) continue;
      const dropped = lane.waiting.shift()!;
      lane.bytes -= dropped.bytes;
      this.#options.onDropped?.(dropped.notification);
      logger.error(
        { transport: lane.transport.name, kind: dropped.notification.kind, subject: subjectOf(dropped.notification), waiting: lane.waiting.length },
        'outbox full and nothing left to fold: the oldest message is dropped (left unmarked: a restart sends it if still recent)',
      );
    }
  }

  /**
   * Folds the oldest waiting failures and digests (a storm's small digests too) that fit one digest together into
   * one, in place of the first of them. True when it could; false when nothing can fold (only reminders, recoveries,
   * health messages, or digests too full to join another).
   */
  #fold(lane: Lane<Message>, perDigest: number): boolean {
    const sizeOf = (item: Item<Message>) => (item.notification.kind === 'digest' ? item.notification.failures.length : item.notification.kind === 'failure' ? 1 : Infinity);
    const candidates = lane.waiting.filter((item) => sizeOf(item) < perDigest);
    // The oldest run of at least two (of the same kind of copy) whose Jobs fit one digest.
    for (let start = 0; start < candidates.length - 1; start++) {
      const copy = candidates[start]!.notification.copy === true;
      const group: Item<Message>[] = [];
      let size = 0;
      for (const item of candidates.slice(start)) {
        if ((item.notification.copy === true) !== copy || size + sizeOf(item) > perDigest) break;
        group.push(item);
        size += sizeOf(item);
      }
      if (group.length < 2) continue;
      const failures = group
        .flatMap((item) => (item.notification.kind === 'digest' ? item.notification.failures : [item.notification as FailureNotification]))
        .sort((a, b) => a.at.getTime() - b.at.getTime());
      const windowMs = failures.at(-1)!.at.getTime() - failures[0]!.at.getTime();
      const digests = digestsOf(failures, 'backlog', perDigest, windowMs).map((digest) => this.#render(digest)).filter((item): item is Item<Message> => item !== undefined);
      const folded = new Set(group);
      const at = lane.waiting.indexOf(group[0]!);
      const kept = lane.waiting.filter((item) => !folded.has(item));
      kept.splice(Math.min(at, kept.length), 0, ...digests);
      lane.waiting.splice(0, lane.waiting.length, ...kept);
      lane.bytes = kept.reduce((sum, item) => sum + item.bytes, 0);
      this.#options.logger.warn(
        { transport: lane.transport.name, folded: failures.length, from: group.length, waiting: lane.waiting.length },
        'outbox full: the oldest waiting failures (and digests) are folded into one digest',
      );
      return true;
    }
    return false;
  }

  #pump(lane: Lane<Message>): void {
    if (lane.sending || lane.waiting.length === 0 || this.#abort.signal.aborted) return;
    const item = lane.waiting.shift()!;
    lane.bytes -= item.bytes;
    lane.current = item;
    this.#depth();
    lane.sending = lane.transport
      .post(item.message, this.#abort.signal)
      .catch((error: unknown): SendResult => {
        // Transports never throw by contract; one that does must not lose the message silently.
        this.#options.logger.error({ subject: subjectOf(item.notification), transport: lane.transport.name, err: String(error) }, 'transport failed unexpectedly: the next start sends it');
        return { ok: false, permanent: false, error: 'aborted', attempts: 0 };
      })
      // Settling (the marks: API writes with retries) must not hold up the next post to this destination.
      .then((result) => void this.#settle(item.notification, result))
      .finally(() => {
        lane.sending = undefined;
        lane.current = undefined;
        this.#pump(lane);
      });
  }

  #settle(notification: Notification, result: SendResult): Promise<void> {
    const settling = (async () => {
      try {
        await this.#options.onSettled(notification, result);
      } catch (error) {
        this.#options.logger.error({ subject: subjectOf(notification), err: error instanceof Error ? error.stack : String(error) }, 'could not record the delivery');
      }
    })();
    this.#settling.add(settling);
    void settling.finally(() => this.#settling.delete(settling));
    return settling;
  }

  #depth(): void {
    let waiting = 0;
    for (const lane of this.#lanes.values()) waiting += lane.waiting.length;
    this.#options.onDepth?.(waiting);
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log.ts';
import type { FailureNotification, Notification } from '../../../src/notify/notification.ts';
import { Outbox } from '../../../src/notify/outbox.ts';
import type { SendResult, Transport } from '../../../src/notify/transport.ts';
import { oomKilledAlert } from '../../fixtures/alerts.ts';

function failure(name: string, route = 'a'): FailureNotification {
  return { ...oomKilledAlert, kind: 'failure', at: new Date(0), failure: { ...oomKilledAlert.failure, name, uid: name, namespace: route } };
}
const label = (n: Notification) => (n.kind === 'digest' ? `digest(${n.failures.map((f) => f.failure.name).join(',')})` : n.kind === 'failure' ? n.failure.name : n.kind);

/** A transport that answers only when told (Slack down, then back). */
class GatedTransport implements Transport<string> {
  readonly posted: string[] = [];
  #release: (() => void) | undefined;
  #gate = new Promise<void>((resolve) => (this.#release = resolve));
  readonly name: string;
  constructor(name: string, open = false) {
    this.name = name;
    if (open) this.open();
  }
  open(): void {
    this.#release?.();
  }
  async post(message: string, signal?: AbortSignal): Promise<SendResult> {
    await Promise.race([this.#gate, new Promise((resolve) => signal?.addEventListener('abort', resolve))]);
    if (signal?.aborted) return { ok: false, permanent: false, error: 'aborted', attempts: 1 };
    this.posted.push(message);
    return { ok: true, attempts: 1 };
  }
}

function outbox(transports: Record<string, GatedTransport>, bounds = { maxPending: 100, maxBytes: 1_000_000 }) {
  const settled: string[] = [];
  const dropped: string[] = [];
  const box = new Outbox<string>({
    render: label,
    transportFor: (n) => transports[n.kind === 'failure' ? n.failure.namespace : 'a']!,
    onSettled: (n, result) => void settled.push(`${label(n)}:${result.ok ? 'ok' : result.error}`),
    logger: silentLogger,
    perDigest: 3,
    onDropped: (n) => void dropped.push(label(n)),
    ...bounds,
  });
  return { box, settled, dropped };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Outbox', () => {
  it('delivers in order per destination, and a stuck destination does not hold up another', async () => {
    const a = new GatedTransport('a');
    const b = new GatedTransport('b', true);
    const { box, settled } = outbox({ a, b });
    for (const n of [failure('a1'), failure('b1', 'b'), failure('a2'), failure('b2', 'b')]) box.send(n);
    await tick();
    assert.deepEqual(b.posted, ['b1', 'b2']);
    assert.deepEqual(a.posted, []);
    a.open();
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(a.posted, ['a1', 'a2']);
    assert.deepEqual(settled.sort(), ['a1:ok', 'a2:ok', 'b1:ok', 'b2:ok']);
  });

  it('when a lane is full, folds its oldest waiting failures into a digest (every Job still named) instead of losing them', async () => {
    const a = new GatedTransport('a');
    const { box, settled, dropped } = outbox({ a }, { maxPending: 3, maxBytes: 1_000_000 });
    for (let i = 1; i <= 6; i++) box.send(failure(`f${i}`));
    a.open();
    for (let i = 0; i < 10; i++) await tick();
    // f1 was in flight; f2..f4 folded when f5 came in; then f5, f6 waited.
    assert.deepEqual(a.posted, ['f1', 'digest(f2,f3,f4)', 'f5', 'f6']);
    assert.deepEqual(dropped, []);
    assert.ok(settled.includes('digest(f2,f3,f4):ok'));
  });

  it('drops (counts and logs) what cannot be folded, leaving it unmarked', async () => {
    const a = new GatedTransport('a');
    const { box, dropped, settled } = outbox({ a }, { maxPending: 1, maxBytes: 1_000_000 });
    const recovery = { kind: 'recovery', at: new Date(0), cluster: undefined, cronJob: { namespace: 'a', name: 'c', schedule: undefined, timeZone: undefined, suspended: false, lastSuccessAt: undefined, nextRunAt: undefined }, failures: 2, since: undefined, run: { namespace: 'a', name: 'r', uid: 'r', startedAt: undefined, succeededAt: undefined } } as const;
    box.send(failure('in-flight'));
    box.send(recovery);
    box.send(recovery);
    assert.deepEqual(dropped, ['recovery']);
    assert.ok(!settled.some((line) => line.startsWith('recovery')), 'a dropped message is not settled as delivered');
    a.open();
    await box.stop(1000);
  });

  it('on stop, gives deliveries their grace, then aborts: nothing unsent is marked', async () => {
    const a = new GatedTransport('a');
    const { box, settled } = outbox({ a });
    box.send(failure('f1'));
    box.send(failure('f2'));
    await box.stop(20);
    assert.deepEqual(settled, ['f1:aborted']);
    box.send(failure('late'));
    assert.deepEqual(a.posted, []);
  });

  it('a message that cannot be rendered is settled as refused, not retried', async () => {
    const settled: string[] = [];
    const box = new Outbox<string>({
      render: () => {
        throw new Error('bug');
      },
      transportFor: () => new GatedTransport('a', true),
      onSettled: (_n, result) => void settled.push(result.ok ? 'ok' : result.error),
      logger: silentLogger,
      maxPending: 10,
      maxBytes: 1000,
      perDigest: 3,
    });
    box.send(failure('x'));
    await tick();
    assert.deepEqual(settled, ['render_error']);
  });
});

describe('Outbox: folding digests', () => {
  it('folds small storm digests waiting behind an outage together, instead of dropping them', async () => {
    const a = new GatedTransport('a');
    const { box, dropped } = outbox({ a }, { maxPending: 2, maxBytes: 1_000_000 });
    const digest = (names: string[]) => ({ kind: 'digest', why: 'storm', at: new Date(0), cluster: undefined, failures: names.map((name) => failure(name)), part: undefined, windowMs: 0 }) as const;
    box.send(failure('in-flight'));
    box.send(digest(['s1', 's2']));
    box.send(digest(['s3']));
    box.send(digest(['s4'])); // over the bound: the first two waiting digests (3 Jobs) fold into one
    box.send(failure('f5')); // over again: the folded digest (3 Jobs, full) stays; s4 and f5 fold
    assert.deepEqual(dropped, []);
    a.open();
    for (let i = 0; i < 10; i++) await tick();
    assert.deepEqual(a.posted, ['in-flight', 'digest(s1,s2,s3)', 'digest(s4,f5)']);
  });
});

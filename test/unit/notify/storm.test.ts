import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureNotification, Notification } from '../../../src/notify/notification.ts';
import { StormGate } from '../../../src/notify/storm.ts';
import { oomKilledAlert } from '../../fixtures/alerts.ts';

function failure(name: string, route = 'default'): FailureNotification {
  return { ...oomKilledAlert, kind: 'failure', at: new Date(0), failure: { ...oomKilledAlert.failure, name, uid: name, namespace: route } };
}

function gate(threshold = 5, windowMs = 10_000) {
  let now = 0;
  const timers: { at: number; callback: () => void; cleared: boolean }[] = [];
  const sent: Notification[] = [];
  const storms = new StormGate({
    next: { send: (n) => void sent.push(n) },
    threshold,
    windowMs,
    perDigest: 40,
    routeOf: (n) => (n.kind === 'failure' ? n.failure.namespace : 'default'),
    now: () => now,
    setTimer: (callback, ms) => {
      const timer = { at: now + ms, callback, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => void ((timer as { cleared: boolean }).cleared = true),
  });
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.filter((t) => !t.cleared && t.at <= now)) {
      timer.cleared = true;
      timer.callback();
    }
  };
  const lines = () => sent.map((n) => (n.kind === 'digest' ? `digest ${n.failures.length}${n.part ? ` ${n.part.index}/${n.part.total}` : ''}` : n.kind === 'failure' ? n.failure.name : n.kind));
  return { storms, sent, advance, lines };
}

describe('StormGate', () => {
  it('sends up to GROUP_THRESHOLD failures at once, holds the rest and names them all in a digest at the end of the window', () => {
    const g = gate();
    for (let i = 1; i <= 12; i++) g.storms.send(failure(`j${i}`));
    assert.deepEqual(g.lines(), ['j1', 'j2', 'j3', 'j4', 'j5']);
    assert.equal(g.storms.held, 7);
    g.advance(10_000);
    assert.deepEqual(g.lines().slice(5), ['digest 7']);
    const digest = g.sent[5]!;
    assert.ok(digest.kind === 'digest' && digest.why === 'storm');
    assert.deepEqual(digest.failures.map((f) => f.failure.name), ['j6', 'j7', 'j8', 'j9', 'j10', 'j11', 'j12']);
  });

  it('keeps digesting each window while failures keep coming, then ends the storm', () => {
    const g = gate();
    for (let i = 1; i <= 7; i++) g.storms.send(failure(`a${i}`));
    g.advance(10_000);
    for (let i = 1; i <= 3; i++) g.storms.send(failure(`b${i}`));
    g.advance(10_000);
    g.advance(10_000); // an empty window: the storm is over
    g.storms.send(failure('c1'));
    assert.deepEqual(g.lines(), ['a1', 'a2', 'a3', 'a4', 'a5', 'digest 2', 'digest 3', 'c1']);
  });

  it('splits a digest into numbered parts of at most 40 Jobs', () => {
    const g = gate();
    for (let i = 1; i <= 1000; i++) g.storms.send(failure(`j${i}`));
    g.advance(10_000);
    const digests = g.sent.filter((n) => n.kind === 'digest');
    assert.equal(digests.length, 25);
    assert.deepEqual(g.lines().slice(5, 7), ['digest 40 1/25', 'digest 40 2/25']);
    assert.equal(g.lines().at(-1), 'digest 35 25/25');
    const named = g.sent.flatMap((n) => (n.kind === 'digest' ? n.failures.map((f) => f.failure.name) : n.kind === 'failure' ? [n.failure.name] : []));
    assert.equal(new Set(named).size, 1000, 'every Job named once');
  });

  it('counts per route: a storm in one namespace does not hold another\'s failures', () => {
    const g = gate();
    for (let i = 1; i <= 8; i++) g.storms.send(failure(`a${i}`, 'team-a'));
    g.storms.send(failure('b1', 'team-b'));
    assert.deepEqual(g.lines(), ['a1', 'a2', 'a3', 'a4', 'a5', 'b1']);
  });

  it('failures spread out over more than the window are never held', () => {
    const g = gate();
    for (let i = 1; i <= 20; i++) {
      g.storms.send(failure(`j${i}`));
      g.advance(2_001);
    }
    assert.equal(g.sent.filter((n) => n.kind === 'failure').length, 20);
  });

  it('GROUP_THRESHOLD=0 never groups; reminders and recoveries are never held', () => {
    const g = gate(0);
    for (let i = 1; i <= 10; i++) g.storms.send(failure(`j${i}`));
    assert.equal(g.sent.length, 10);
    const h = gate(1);
    h.storms.send(failure('x1'));
    h.storms.send(failure('x2'));
    h.storms.send({ ...failure('r'), kind: 'reminder', cronJob: { namespace: 'default', name: 'c', schedule: undefined, timeZone: undefined, suspended: false, lastSuccessAt: undefined, nextRunAt: undefined }, streak: { count: 2, since: undefined, notifiedBefore: 1, lastNotifiedAt: undefined } });
    assert.deepEqual(h.lines(), ['x1', 'reminder']);
  });

  it('after stop, held failures are not sent (they stay unmarked for the next start)', () => {
    const g = gate();
    for (let i = 1; i <= 8; i++) g.storms.send(failure(`j${i}`));
    g.storms.stop();
    g.advance(20_000);
    assert.deepEqual(g.lines(), ['j1', 'j2', 'j3', 'j4', 'j5']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue, type QueueTimers } from '../../../src/queue/workqueue.ts';

/** A clock and timers that move only when told. */
class FakeTimers implements QueueTimers {
  time = 0;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = until;
  }
}

function queue(timers = new FakeTimers()) {
  return { q: new WorkQueue({ backoff: { baseMs: 100, maxMs: 1000, jitter: 'none' }, timers }), timers };
}

/** Every key ready now, in order, each marked done. */
async function drain(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.depth - waitingCount(q) > 0) {
    const key = (await q.get())!;
    keys.push(key);
    q.done(key);
  }
  return keys;
}
function waitingCount(q: WorkQueue): number {
  return ['a', 'b', 'c'].filter((k) => q.dueAt(k) !== undefined).length;
}

describe('WorkQueue', () => {
  it('queues a key once however often it is added, in first-added order', async () => {
    const { q } = queue();
    for (const key of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(key);
    assert.equal(q.depth, 3);
    assert.deepEqual(await drain(q), ['a', 'b', 'c']);
  });

  it('never hands a key being processed to a second worker; added meanwhile, it comes back after done()', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    q.add('a');
    let second: string | undefined;
    void q.get().then((key) => (second = key));
    await Promise.resolve();
    assert.equal(second, undefined, 'a second worker got the key while the first was still on it');
    q.done(first!);
    await Promise.resolve();
    assert.equal(second, 'a');
    q.done('a');
    assert.equal(q.depth, 0);
  });

  it('wakes a waiting worker when a key is added', async () => {
    const { q } = queue();
    const got = q.get();
    q.add('x');
    assert.equal(await got, 'x');
  });

  it('addAfter: due only once the time has passed, with one timer for many keys; the earliest time wins', async () => {
    const { q, timers } = queue();
    q.addAfter('a', 500);
    q.addAfter('b', 200);
    q.addAfter('a', 300);
    q.addAfter('a', 900); // later than pending: ignored
    assert.equal(timers.pending, 1);
    assert.equal(q.dueAt('a'), 300);
    timers.advance(199);
    assert.deepEqual(await drain(q), []);
    timers.advance(1);
    assert.deepEqual(await drain(q), ['b']);
    timers.advance(100);
    assert.deepEqual(await drain(q), ['a']);
    assert.equal(timers.pending, 0);
  });

  it('addAfter with no delay is add', async () => {
    const { q } = queue();
    q.addAfter('a', 0);
    assert.deepEqual(await drain(q), ['a']);
  });

  it('a key added now is not processed a second time when its earlier addAfter fires', async () => {
    const { q, timers } = queue();
    q.addAfter('a', 100);
    q.add('a');
    assert.deepEqual(await drain(q), ['a']);
    timers.advance(1000);
    assert.deepEqual(await drain(q), []);
  });

  it('addRateLimited backs off per key (100, 200, 400 ms ...) until forget()', async () => {
    const { q, timers } = queue();
    q.addRateLimited('a');
    q.addRateLimited('b');
    assert.equal(q.dueAt('a'), 100);
    timers.advance(100);
    assert.deepEqual(await drain(q), ['a', 'b']);
    q.addRateLimited('a');
    assert.equal(q.dueAt('a'), 300, 'second retry waits 200 ms');
    timers.advance(200);
    await drain(q);
    q.addRateLimited('a');
    assert.equal(q.dueAt('a'), 300 + 400);
    assert.equal(q.retries('a'), 3);
    q.forget('a');
    assert.equal(q.retries('a'), 0);
    timers.advance(400);
    await drain(q);
    q.addRateLimited('a');
    assert.equal(q.dueAt('a'), timers.time + 100, 'after forget() the backoff starts over');
  });

  it('shutDown: waiting workers get undefined, nothing more is queued, timers are cleared', async () => {
    const { q, timers } = queue();
    const waiting = q.get();
    q.addAfter('a', 100);
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add('b');
    assert.equal(await q.get(), undefined);
    assert.equal(timers.pending, 0);
  });

  it('reports its depth', () => {
    const depths: number[] = [];
    const q = new WorkQueue({ backoff: { baseMs: 1, maxMs: 1 }, timers: new FakeTimers(), onDepth: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    assert.deepEqual(depths, [1, 2]);
  });

  it('hands out 50,000 keys in first-added order, and its depth stays right while the ready list is compacted', async () => {
    const { q } = queue();
    const n = 50_000;
    for (let i = 0; i < n; i++) q.add(`k${i}`);
    for (let i = 0; i < n; i++) {
      const key = await q.get();
      assert.equal(key, `k${i}`);
      q.done(key!);
      if (i % 7919 === 0) assert.equal(q.depth, n - i - 1 + (i > 30_000 ? 1 : 0));
      if (i === 30_000) q.add('k0'); // done long ago: queued again, behind the rest
    }
    assert.equal(await q.get(), 'k0');
    assert.equal(q.depth, 0);
  });

  it('fires 5,000 waiting keys in the order of their times, with one timer, skipping those added or moved earlier meanwhile', async () => {
    const { q, timers } = queue();
    // Deterministic pseudo-random times, several keys on the same millisecond.
    const due = new Map<string, number>();
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 48271) % 2147483647;
      const ms = 1 + (seed % 2000);
      due.set(`w${i}`, ms);
      q.addAfter(`w${i}`, ms);
    }
    assert.equal(timers.pending, 1);
    q.addAfter('w1', 5000); // later: the earlier time stays
    q.addAfter('w2', 0); // now: ready at once, its timed entry is moot
    due.delete('w2');
    due.set('w3', 1); // earlier: wins
    q.addAfter('w3', 1);
    assert.equal(await q.get(), 'w2');
    q.done('w2');
    const fired: string[] = [];
    for (let t = 1; t <= 2000; t++) {
      timers.advance(1);
      while (q.depth - q.waiting > 0) {
        const key = (await q.get())!;
        fired.push(key);
        assert.equal(due.get(key), t, `${key} fired at ${t} ms`);
        q.done(key);
      }
    }
    assert.equal(fired.length, 4999);
    assert.equal(new Set(fired).size, 4999);
    assert.equal(q.waiting, 0);
    assert.equal(timers.pending, 0);
  });
});

/**
 * The leader election (src/kube/lease.ts): its pure rules as tables, then the loop with the production timings
 * (15 s, 10 s, 2 s) on a virtual clock, against an in-memory Lease store that keeps resourceVersions as the API
 * server does. Every time asserted here is virtual and exact. The real client against the emulator is in
 * test/integration/lease.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import {
  LeaderElector,
  LeaderMetrics,
  leaseValid,
  mayAcquire,
  nextRecord,
  rawOf,
  releasedRecord,
  validateTimings,
  type LeaderCallbacks,
  type LeaseRecord,
  type LeasesApi,
  type Sleep,
} from '../../../src/kube/lease.ts';
import { DEFAULT_SETTINGS } from '../../../src/settings.ts';

const T0 = Date.UTC(2026, 10, 29, 15, 4, 5, 123);
const at = (ms: number) => new V1MicroTime(T0 + ms);
const record = (fields: Partial<LeaseRecord>): LeaseRecord => ({
  holderIdentity: 'a',
  leaseDurationSeconds: 15,
  acquireTime: at(0),
  renewTime: at(0),
  leaseTransitions: 3,
  ...fields,
});

// --- the rules -----------------------------------------------------------------------------------------------------

describe('mayAcquire: free, ours, or unchanged for its leaseDurationSeconds as we saw it', () => {
  const cases: Array<[string, LeaseRecord, number, boolean]> = [
    ['free (released)', record({ holderIdentity: '' }), 0, true],
    ['ours', record({ holderIdentity: 'me' }), 0, true],
    ['theirs, seen to change just now', record({}), 0, false],
    ['theirs, seen to change 14.999 s ago', record({}), 14_999, false],
    ['theirs, seen to change 15 s ago', record({}), 15_000, true],
    ['theirs, with no duration', record({ leaseDurationSeconds: 0 }), 0, true],
    ['theirs, renewTime far in the future (their clock is not ours)', record({ renewTime: at(86_400_000) }), 15_000, true],
    ['theirs, renewTime long past (their clock is not ours)', record({ renewTime: at(-86_400_000) }), 14_999, false],
  ];
  for (const [name, lease, sinceMs, expected] of cases) {
    it(`${name} -> ${expected}`, () => assert.equal(mayAcquire(lease, T0, T0 + sinceMs, 'me'), expected));
  }
  it('leaseValid is the other side of it', () => {
    assert.equal(leaseValid(record({}), T0, T0 + 14_999), true);
    assert.equal(leaseValid(record({}), T0, T0 + 15_000), false);
  });
});

describe('nextRecord and releasedRecord: what is written', () => {
  it('creating: ours, transitions 0, acquired and renewed now', () => {
    assert.deepEqual(nextRecord(undefined, 'me', 15, at(5)), { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: at(5), renewTime: at(5), leaseTransitions: 0 });
  });
  it('renewing: keeps acquireTime and transitions, moves renewTime', () => {
    assert.deepEqual(nextRecord(record({ holderIdentity: 'me' }), 'me', 15, at(5)), record({ holderIdentity: 'me', renewTime: at(5) }));
  });
  it('taking over from another holder: one more transition, acquired now', () => {
    assert.deepEqual(nextRecord(record({}), 'me', 15, at(5)), { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: at(5), renewTime: at(5), leaseTransitions: 4 });
  });
  it('taking a released Lease: one more transition too', () => {
    assert.equal(nextRecord(record({ holderIdentity: '' }), 'me', 15, at(5)).leaseTransitions, 4);
  });
  it('releasing: nobody holds it, it lasts 1 s, transitions kept', () => {
    assert.deepEqual(releasedRecord(record({ holderIdentity: 'me' }), at(9)), { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at(9), renewTime: at(9), leaseTransitions: 3 });
  });
  it('rawOf tells a renewal from no change, whether a time is the server\'s string or ours', () => {
    assert.equal(rawOf(record({ renewTime: at(0) })), rawOf(record({ renewTime: '2026-11-29T15:04:05.123000Z' as unknown as V1MicroTime })));
    assert.notEqual(rawOf(record({ renewTime: at(0) })), rawOf(record({ renewTime: at(1) })));
  });
});

describe('validateTimings: client-go\'s constraints', () => {
  const valid = DEFAULT_SETTINGS.leaderElection;
  it('the defaults are 15 s, 10 s, 2 s', () => {
    assert.deepEqual([valid.leaseDurationMs, valid.renewDeadlineMs, valid.retryPeriodMs], [15_000, 10_000, 2000]);
    validateTimings(valid);
  });
  const cases: Array<[string, Partial<typeof valid>, RegExp]> = [
    ['a lease of 1.5 s (the Lease stores whole seconds)', { leaseDurationMs: 1500 }, /whole seconds/],
    ['a renew deadline as long as the lease', { renewDeadlineMs: 15_000 }, /greater than renewDeadlineMs/],
    ['a renew deadline within 1.2 retry periods', { retryPeriodMs: 9000 }, /greater than 1\.2 x retryPeriodMs/],
    ['no call timeout', { callTimeoutMs: 0 }, /callTimeoutMs/],
  ];
  for (const [name, change, message] of cases) {
    it(`refuses ${name}`, () => assert.throws(() => validateTimings({ ...valid, ...change }), message));
  }
});

// --- the loop on a virtual clock -------------------------------------------------------------------------------------

/** Virtual time: sleeps wait for advance(); every pending promise settles before the clock moves. */
class VirtualTime {
  nowMs = T0;
  readonly #timers: { at: number; wake: () => void }[] = [];
  readonly clock = { now: () => new Date(this.nowMs) };
  readonly sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const cancel = (): void => {
        const index = this.#timers.indexOf(timer);
        if (index !== -1) this.#timers.splice(index, 1);
        resolve();
      };
      const timer = {
        at: this.nowMs + Math.max(0, ms),
        wake: () => {
          signal.removeEventListener('abort', cancel);
          resolve();
        },
      };
      this.#timers.push(timer);
      signal.addEventListener('abort', cancel, { once: true });
    });

  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Runs every timer due up to `elapsedMs` after T0, in order. */
  async advanceTo(elapsedMs: number): Promise<void> {
    const until = T0 + elapsedMs;
    for (;;) {
      await this.settle();
      this.#timers.sort((x, y) => x.at - y.at);
      const next = this.#timers[0];
      if (next === undefined || next.at > until) break;
      this.#timers.shift();
      this.nowMs = next.at;
      next.wake();
    }
    this.nowMs = until;
    await this.settle();
  }
}

/** One Lease, kept as the API server keeps it: resourceVersion preconditions, 404, 409, and JSON on the wire. */
class LeaseStore {
  lease: V1Lease | undefined;
  #revision = 1000;
  /** Who wrote what, when (virtual ms after T0). */
  readonly writes: { by: string; at: number; holder: string }[] = [];
  /** Identities whose every call fails with 500 (their network, or the API server, is down for them). */
  readonly broken = new Set<string>();

  readonly time: VirtualTime;

  constructor(time: VirtualTime) {
    this.time = time;
  }

  apiFor(identity: string): LeasesApi {
    const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
    const check = (): void => {
      if (this.broken.has(identity)) throw new ApiException(500, 'injected', '{"message":"injected"}', {});
    };
    const conflict = (): ApiException<string> => new ApiException(409, 'Conflict', '{"reason":"Conflict"}', {});
    const stored = (body: V1Lease): V1Lease => {
      this.lease = wire({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.#revision) } });
      this.writes.push({ by: identity, at: this.time.nowMs - T0, holder: this.lease.spec?.holderIdentity ?? '' });
      return wire(this.lease);
    };
    return {
      readNamespacedLease: async () => {
        check();
        if (!this.lease) throw new ApiException(404, 'NotFound', '{"reason":"NotFound"}', {});
        return wire(this.lease);
      },
      createNamespacedLease: async ({ body }) => {
        check();
        if (this.lease) throw new ApiException(409, 'AlreadyExists', '{"reason":"AlreadyExists"}', {});
        return stored(body);
      },
      replaceNamespacedLease: async ({ body }) => {
        check();
        if (!this.lease) throw new ApiException(404, 'NotFound', '{"reason":"NotFound"}', {});
        if (body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw conflict();
        return stored(body);
      },
    };
  }
}

interface Candidate {
  elector: LeaderElector;
  metrics: LeaderMetrics;
  run: Promise<void>;
}

/** A world of candidates sharing one store and one virtual clock, and one log of what each was told. */
function world(options: { random?: () => number } = {}) {
  const time = new VirtualTime();
  const store = new LeaseStore(time);
  const events: string[] = [];
  const log = (entry: string) => events.push(`${time.nowMs - T0} ${entry}`);
  const candidate = (identity: string, callbacks: Partial<LeaderCallbacks> = {}): Candidate => {
    const metrics = new LeaderMetrics(new Registry());
    const elector = new LeaderElector({
      leasesApi: store.apiFor(identity),
      namespace: 'kube-job-alerts',
      name: 'kube-job-alerts',
      identity,
      clock: time.clock,
      sleep: time.sleep,
      random: options.random ?? (() => 0),
      metrics,
    });
    const run = elector.run({
      onStartedLeading: (signal) => {
        log(`${identity} started`);
        callbacks.onStartedLeading?.(signal);
      },
      onStoppedLeading: async (reason) => {
        log(`${identity} stopped ${reason}`);
        await callbacks.onStoppedLeading?.(reason);
      },
      onNewLeader: (leader) => log(`${identity} sees ${leader}`),
    });
    return { elector, metrics, run };
  };
  return { time, store, events, candidate };
}

const gauge = async (metrics: LeaderMetrics) => (await metrics.leader.get()).values[0]?.value;
const started = async (metrics: LeaderMetrics) => (await metrics.transitions.get()).values[0]?.value ?? 0;

describe('LeaderElector with the production timings (virtual clock)', () => {
  it('a lone candidate creates the Lease at once and renews it every retry period', async () => {
    const { time, store, events, candidate } = world();
    const a = candidate('a');
    await time.advanceTo(0);
    assert.deepEqual(events, ['0 a sees a', '0 a started']);
    assert.equal(a.elector.isLeader, true);
    assert.equal(await gauge(a.metrics), 1);
    assert.deepEqual(store.lease?.spec, {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-29T15:04:05.123000Z',
      renewTime: '2026-11-29T15:04:05.123000Z',
      leaseTransitions: 0,
    });
    await time.advanceTo(6000);
    assert.deepEqual(store.writes.map((write) => write.at), [0, 2000, 4000, 6000]);
    assert.equal(store.lease?.spec?.renewTime as unknown, '2026-11-29T15:04:11.123000Z');
    assert.equal(store.lease?.spec?.acquireTime as unknown, '2026-11-29T15:04:05.123000Z');
    await a.elector.stop();
    await a.run;
  });

  it('a follower takes over a Lease nobody renews only after seeing it unchanged for 15 s, whatever its renewTime says', async () => {
    for (const renewTime of ['2099-01-01T00:00:00.000000Z', '1970-01-01T00:00:00.000000Z']) {
      const { time, store, events, candidate } = world();
      // Left by a replica that was killed: holder set, never renewed again.
      store.lease = { metadata: { name: 'kube-job-alerts', resourceVersion: '999' }, spec: { holderIdentity: 'killed', leaseDurationSeconds: 15, renewTime: renewTime as unknown as V1MicroTime, leaseTransitions: 7 } };
      const b = candidate('b');
      await time.advanceTo(15_999);
      assert.equal(b.elector.isLeader, false, renewTime);
      // Tries every 2 s (jitter 0 here): the first try at or after 15 s is at 16 s.
      await time.advanceTo(16_000);
      assert.deepEqual(events, ['0 b sees killed', '16000 b sees b', '16000 b started'], renewTime);
      assert.equal(store.lease?.spec?.leaseTransitions, 8);
      await b.elector.stop();
    }
  });

  it('a leader whose renewals fail stops 10 s after its last successful renewal began; the follower leads only 15 s after seeing it', async () => {
    const { time, store, events, candidate } = world();
    const a = candidate('a');
    await time.advanceTo(0);
    const b = candidate('b');
    await time.advanceTo(5000);
    // a renewed at 2000 and 4000; from 5 s on, every call a makes fails.
    store.broken.add('a');
    await time.advanceTo(30_000);
    const lastRenewal = Math.max(...store.writes.filter((write) => write.by === 'a').map((write) => write.at));
    assert.equal(lastRenewal, 4000);
    assert.deepEqual(events, [
      '0 a sees a',
      '0 a started',
      '0 b sees a',
      `${lastRenewal + 10_000} a stopped lost`,
      // b saw a's 4 s renewal at its 4 s try (tries at 0, 2, 4 ... with jitter 0): it may take over from 19 s, and
      // tries at 20 s.
      '20000 b sees b',
      '20000 b started',
    ]);
    assert.equal(a.elector.isLeader, false);
    assert.equal(await gauge(a.metrics), 0);
    // Back on the network, a follows.
    store.broken.delete('a');
    await time.advanceTo(40_000);
    assert.equal(events.at(-1)?.endsWith('a sees b'), true);
    assert.equal(a.elector.isLeader, false);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it('a leader that finds another holder in the Lease stops at once', async () => {
    const { time, store, events, candidate } = world();
    const a = candidate('a');
    await time.advanceTo(1000);
    // An operator (or a buggy peer) writes the Lease: a's next renewal fails on the resourceVersion, its re-read
    // shows another holder with a fresh term.
    store.lease = { ...store.lease, spec: { ...store.lease!.spec, holderIdentity: 'intruder' }, metadata: { ...store.lease!.metadata, resourceVersion: '1' } };
    await time.advanceTo(2000);
    assert.deepEqual(events, ['0 a sees a', '0 a started', '2000 a sees intruder', '2000 a stopped lost']);
    await a.elector.stop();
  });

  it('two candidates starting together: one creates the Lease, the other gets 409 and follows', async () => {
    const { time, store, events, candidate } = world();
    const a = candidate('a');
    const b = candidate('b');
    await time.advanceTo(10_000);
    // Both read 404 and create; the store takes a's, b's create gets 409 AlreadyExists, and b sees a at its next try.
    assert.deepEqual(events, ['0 a sees a', '0 a started', '2000 b sees a']);
    assert.deepEqual(store.writes.filter((write) => write.at === 0).map((write) => write.by), ['a']);
    assert.equal([a, b].filter((c) => c.elector.isLeader).length, 1);
    assert.equal(store.lease?.spec?.holderIdentity, 'a');
    assert.equal(store.lease?.spec?.leaseTransitions, 0);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it('stop(): onStoppedLeading finishes before the Lease is released, and the follower takes it at its next try', async () => {
    const { time, store, events, candidate } = world();
    let heldDuringDrain = false;
    const a = candidate('a', {
      // The daemon drains here: in-flight posts finish and are marked. It takes 3.5 s.
      onStoppedLeading: async () => {
        await time.sleep(3500, new AbortController().signal);
        heldDuringDrain = store.lease?.spec?.holderIdentity === 'a';
      },
    });
    await time.advanceTo(0);
    const b = candidate('b');
    await time.advanceTo(5000);
    const stopping = a.elector.stop();
    await time.advanceTo(8500);
    await stopping;
    assert.equal(heldDuringDrain, true);
    assert.deepEqual(store.lease?.spec, {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: '2026-11-29T15:04:13.623000Z',
      renewTime: '2026-11-29T15:04:13.623000Z',
      leaseTransitions: 0,
    });
    assert.deepEqual(store.writes.at(-1), { by: 'a', at: 8500, holder: '' });
    // b tries every 2 s (jitter 0): its next try after the release, at 10 s, takes the Lease.
    await time.advanceTo(10_000);
    assert.deepEqual(events.slice(-3), ['5000 a stopped stopped', '10000 b sees b', '10000 b started']);
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    assert.equal(await started(a.metrics), 1);
    assert.equal(await gauge(a.metrics), 0);
    await b.elector.stop();
  });

  it('a candidate\'s tries are jittered between 2 and 4.4 s, as client-go\'s', async () => {
    for (const [random, expected] of [[0, 2000], [0.5, 3200], [0.75, 3800], [0.999, 4398]] as const) {
      const { time, store } = world({ random: () => random });
      store.lease = { metadata: { name: 'kube-job-alerts', resourceVersion: '999' }, spec: { holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 0 } };
      const reads: number[] = [];
      const api = store.apiFor('b');
      const counting: LeasesApi = { ...api, readNamespacedLease: (param) => (reads.push(Math.round(time.nowMs - T0)), api.readNamespacedLease(param)) };
      const b = new LeaderElector({ leasesApi: counting, namespace: 'n', name: 'kube-job-alerts', identity: 'b', clock: time.clock, sleep: time.sleep, random: () => random });
      void b.run({ onStartedLeading: () => {}, onStoppedLeading: () => {} });
      await time.advanceTo(9000);
      assert.deepEqual(reads.slice(0, 2), [0, expected], `random ${random}`);
      await b.stop();
    }
  });

  it('callbacks that throw are logged, and the election goes on', async () => {
    const { time, store, candidate } = world();
    const a = candidate('a', {
      onStartedLeading: () => {
        throw new Error('boom');
      },
      onStoppedLeading: () => {
        throw new Error('boom');
      },
    });
    await time.advanceTo(4000);
    assert.equal(a.elector.isLeader, true);
    await a.elector.stop();
    assert.equal(store.lease?.spec?.holderIdentity, '');
  });

  it('stop() before leading stops trying, and writes nothing', async () => {
    const { time, store, candidate } = world();
    store.lease = { metadata: { name: 'kube-job-alerts', resourceVersion: '999' }, spec: { holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 0 } };
    const b = candidate('b');
    await time.advanceTo(3000);
    await b.elector.stop();
    await b.run;
    await time.advanceTo(60_000);
    assert.deepEqual(store.writes, []);
    assert.equal(b.elector.isLeader, false);
  });
});

/**
 * Leader election (src/kube/lease.ts) with the real @kubernetes/client-node over HTTPS against the API-server
 * emulator, which checks Leases as the real server does (test/world/leases.ts). Timings are shortened (a lease of
 * 2 s, or 1 s in the race); the code paths are the production ones. Each replica has its own token, so a fault can
 * hit one replica only (a partition, a frozen process); a killed replica is a child process sent SIGKILL.
 *
 * Orders are asserted (who stopped before whom, which request came after which), never upper bounds on time; the
 * takeover times are measured and printed as diagnostics.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { LeaderElector, LeaderMetrics, type LeaderElectionTimings } from '../../src/kube/lease.ts';
import { silentLogger } from '../../src/log.ts';
import { startApiServer, type RecordedRequest } from '../world/apiserver.ts';
import { ElectorProcess } from '../world/elector.ts';

const NAMESPACE = 'kube-job-alerts';
const NAME = 'kube-job-alerts';
// Short, but with room for a loaded CI machine: a call that takes a second under load must not end a term.
const TIMINGS: LeaderElectionTimings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300, callTimeoutMs: 1000 };
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface Moment {
  at: number;
  who: string;
  what: string;
}

/** One emulator, and the replicas' callbacks in the order they happened. */
async function cluster(t: TestContext) {
  const server = await startApiServer();
  const stoppers: (() => Promise<void>)[] = [];
  // Replicas first (each releases what it holds), then the server.
  t.after(async () => {
    await Promise.all(stoppers.map((stop) => stop()));
    await server.close();
  });
  const timeline: Moment[] = [];
  const waiters: { match: (moment: Moment) => boolean; resolve: () => void }[] = [];
  const note = (who: string, what: string): void => {
    const moment = { at: Date.now(), who, what };
    timeline.push(moment);
    for (const waiter of waiters.filter((w) => w.match(moment))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  /** Resolves with the first moment that matches (already, or later); fails the test after 15 s rather than hang it. */
  const first = (match: (moment: Moment) => boolean, what: string): Promise<Moment> => {
    const seen = timeline.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never happened: ${what}; timeline: ${JSON.stringify(timeline)}`)), 15_000);
      timer.unref();
      waiters.push({ match, resolve: () => (clearTimeout(timer), resolve(timeline.find(match)!)) });
    });
  };
  const happened = (who: string, what: string): Promise<Moment> => first((m) => m.who === who && m.what === what, `${who} ${what}`);
  const replica = (identity: string, timings = TIMINGS) => {
    const config = new KubeConfig();
    config.loadFromFile(server.writeKubeconfig({ client: identity }));
    const metrics = new LeaderMetrics(new Registry());
    const elector = new LeaderElector({ clients: { config }, namespace: NAMESPACE, name: NAME, identity, timings, logger: silentLogger, metrics });
    const run = elector.run({
      onStartedLeading: () => note(identity, 'started'),
      onStoppedLeading: (reason) => note(identity, `stopped ${reason}`),
      onNewLeader: (leader) => note(identity, `sees ${leader}`),
    });
    stoppers.push(() => elector.stop());
    return { identity, elector, metrics, run };
  };
  return { server, timeline, first, happened, replica };
}

const leaseCall = (client: string, verb?: string) => (request: RecordedRequest): boolean =>
  request.client === client && request.resource === 'leases' && (verb === undefined || request.verb === verb);

/** Who led, from when to when, from the timeline; throws if one started while another was leading. */
function leadership(timeline: readonly Moment[]): { who: string; from: number; to: number | undefined }[] {
  const terms: { who: string; from: number; to: number | undefined }[] = [];
  for (const moment of timeline) {
    if (moment.what === 'started') {
      const current = terms.find((term) => term.to === undefined);
      assert.equal(current, undefined, `${moment.who} started leading while ${current?.who} was leading: ${JSON.stringify(timeline)}`);
      terms.push({ who: moment.who, from: moment.at, to: undefined });
    } else if (moment.what.startsWith('stopped')) {
      const term = terms.find((candidate) => candidate.who === moment.who && candidate.to === undefined);
      assert.ok(term, `${moment.who} stopped without having started`);
      term.to = moment.at;
    }
  }
  return terms;
}

describe('leader election against the emulator (real client)', () => {
  it('one replica acquires: it creates the Lease, written as the API server writes it, and renews it', async (t) => {
    const { server, happened, replica } = await cluster(t);
    const a = replica('a');
    await happened('a', 'started');
    assert.equal(a.elector.isLeader, true);
    assert.equal((await a.metrics.leader.get()).values[0]?.value, 1);
    const created = server.get('leases', NAMESPACE, NAME)!;
    assert.equal(created.spec.holderIdentity, 'a');
    assert.equal(created.spec.leaseDurationSeconds, 3);
    assert.equal(created.spec.leaseTransitions, 0);
    assert.match(created.spec.renewTime, MICRO_TIME);
    assert.equal(created.spec.acquireTime, created.spec.renewTime);
    const calls = server.requests.filter(leaseCall('a')).map((r) => `${r.verb} ${r.status}`);
    assert.equal(calls[0], 'get 404');
    assert.ok(calls.includes('create 201'), calls.join(', '));

    await server.nextRequest((r) => leaseCall('a', 'update')(r) && r.status === 200);
    const renewed = server.get('leases', NAMESPACE, NAME)!;
    assert.equal(renewed.spec.holderIdentity, 'a');
    assert.notEqual(renewed.spec.renewTime, created.spec.renewTime);
    assert.equal(renewed.spec.acquireTime, created.spec.acquireTime);
    assert.equal(renewed.spec.leaseTransitions, 0);
    // A leader renews on the Lease it last wrote: no read in between.
    assert.equal(server.requests.filter(leaseCall('a', 'get')).length, 1);
  });

  it('a second replica waits while the first renews, and knows who leads', async (t) => {
    const { server, timeline, happened, replica } = await cluster(t);
    replica('a');
    await happened('a', 'started');
    const b = replica('b');
    await happened('b', 'sees a');
    for (let reads = 0; reads < 3; reads++) await server.nextRequest(leaseCall('b', 'get'));
    assert.equal(b.elector.isLeader, false);
    assert.equal(b.elector.leader, 'a');
    assert.deepEqual(server.requests.filter((r) => leaseCall('b')(r) && r.verb !== 'get'), [], 'a follower never writes a held Lease');
    assert.deepEqual(leadership(timeline).map((term) => term.who), ['a']);
  });

  it('the leader stops: it stops leading, then releases, and the follower leads at its next try', async (t) => {
    const { server, timeline, happened, replica } = await cluster(t);
    const a = replica('a');
    await happened('a', 'started');
    replica('b');
    await happened('b', 'sees a');
    const aCalls = (): RecordedRequest[] => server.requests.filter(leaseCall('a'));
    const stopping = Date.now();
    const stop = a.elector.stop();
    await happened('a', 'stopped stopped');
    // Told to stop, a stops leading first; the Lease is still its own then (the release waits for onStoppedLeading).
    const heldWhileStopping = server.get('leases', NAMESPACE, NAME)!.spec.holderIdentity;
    await stop;
    const released = Date.now();
    const release = aCalls().at(-1)!;
    assert.equal(`${release.verb} ${release.status}`, 'update 200');
    assert.equal(heldWhileStopping, 'a');

    const bStarted = await happened('b', 'started');
    // The first read b made after the release saw a free Lease, and b's next call took it.
    const after = server.requests.slice(server.requests.indexOf(release) + 1).filter(leaseCall('b'));
    const firstRead = after.findIndex((r) => r.verb === 'get');
    assert.deepEqual(after.slice(firstRead, firstRead + 2).map((r) => `${r.verb} ${r.status}`), ['get 200', 'update 200'], JSON.stringify(after));
    const lease = server.get('leases', NAMESPACE, NAME)!;
    assert.equal(lease.spec.holderIdentity, 'b');
    assert.equal(lease.spec.leaseTransitions, 1);
    assert.deepEqual(leadership(timeline).map((term) => term.who), ['a', 'b']);
    t.diagnostic(`release -> new leader: ${bStarted.at - released} ms (stop() called -> new leader: ${bStarted.at - stopping} ms; retry period ${TIMINGS.retryPeriodMs} ms, jittered up to x2.2)`);
  });

  it('the leader is killed (no release): the follower leads once the Lease has gone unrenewed for leaseDuration', async (t) => {
    const { server, happened, replica } = await cluster(t);
    const killed = new ElectorProcess({ kubeconfigPath: server.writeKubeconfig({ client: 'a' }), namespace: NAMESPACE, name: NAME, identity: 'a', timings: TIMINGS });
    t.after(() => killed.kill());
    await killed.waitFor((e) => e.event === 'started');
    replica('b');
    await happened('b', 'sees a');
    await server.nextRequest((r) => leaseCall('a', 'update')(r) && r.status === 200);
    await killed.kill('SIGKILL');
    const killedAt = Date.now();
    const lastRenewal = server.requests.filter((r) => leaseCall('a', 'update')(r) && r.status === 200).at(-1)!;

    const bStarted = await happened('b', 'started');
    // b cannot have seen that renewal before it arrived, and must then wait a full lease on its own clock.
    assert.ok(bStarted.at - lastRenewal.time >= TIMINGS.leaseDurationMs, `b led ${bStarted.at - lastRenewal.time} ms after a's last renewal`);
    assert.deepEqual(killed.events.filter((e) => e.event === 'stopped'), [], 'a killed process says nothing');
    const lease = server.get('leases', NAMESPACE, NAME)!;
    assert.equal(lease.spec.holderIdentity, 'b');
    assert.equal(lease.spec.leaseTransitions, 1);
    t.diagnostic(`kill -> new leader: ${bStarted.at - killedAt} ms (last renewal -> new leader: ${bStarted.at - lastRenewal.time} ms; lease ${TIMINGS.leaseDurationMs} ms)`);
  });

  for (const fault of ['500s', 'hangs'] as const) {
    it(`a leader whose renewals get ${fault} stops leading before the follower can take over`, async (t) => {
      const { server, timeline, happened, replica } = await cluster(t);
      const a = replica('a');
      await happened('a', 'started');
      replica('b');
      await happened('b', 'sees a');
      await server.nextRequest((r) => leaseCall('a', 'update')(r) && r.status === 200);
      if (fault === '500s') server.faults.failNext(1_000_000, { match: leaseCall('a') });
      else server.faults.hang(leaseCall('a'));

      const aStopped = await happened('a', 'stopped lost');
      const bStarted = await happened('b', 'started');
      assert.deepEqual(leadership(timeline).map((term) => `${term.who} ${term.to === undefined ? 'leading' : 'done'}`), ['a done', 'b leading']);
      assert.ok(aStopped.at <= bStarted.at);
      assert.equal(a.elector.isLeader, false);
      assert.equal((await a.metrics.leader.get()).values[0]?.value, 0);
      const lastRenewal = server.requests.filter((r) => leaseCall('a', 'update')(r) && r.status === 200).at(-1)!;
      t.diagnostic(`a's last renewal -> a stopped leading: ${aStopped.at - lastRenewal.time} ms (renew deadline ${TIMINGS.renewDeadlineMs} ms); -> b led: ${bStarted.at - lastRenewal.time} ms (lease ${TIMINGS.leaseDurationMs} ms)`);

      // Back on the network, a follows b.
      server.faults.reset();
      await happened('a', 'sees b');
      assert.equal(a.elector.isLeader, false);
      assert.equal(server.get('leases', NAMESPACE, NAME)!.spec.holderIdentity, 'b');
    });
  }

  it('replicas racing for the Lease, their leaders stopped and cut off, never lead two at a time', async (t) => {
    const { server, timeline, replica } = await cluster(t);
    const fast: LeaderElectionTimings = { leaseDurationMs: 1000, renewDeadlineMs: 500, retryPeriodMs: 100, callTimeoutMs: 250 };
    const replicas = ['r0', 'r1', 'r2'].map((identity) => replica(identity, fast));
    let next = 3;
    const cutOff = new Set<string>();
    // Every 150 ms for about 4 s: stop the leader (it releases), or cut it off for 1.5 s, longer than its lease, and
    // leave it be: it must step down on its own before another replica takes over.
    for (let round = 0; round < 26; round++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      const leader = replicas.find((r) => r.elector.isLeader);
      if (leader === undefined || cutOff.has(leader.identity)) continue;
      if (round % 3 === 0) {
        await leader.elector.stop();
        replicas.splice(replicas.indexOf(leader), 1, replica(`r${next++}`, fast));
      } else if (round % 3 === 1) {
        cutOff.add(leader.identity);
        server.faults.failNext(1_000_000, { match: leaseCall(leader.identity) });
        setTimeout(() => {
          server.faults.reset();
          cutOff.delete(leader.identity);
        }, 1500);
      }
    }
    const terms = leadership(timeline);
    const creates = server.requests.filter((r) => r.verb === 'create' && r.resource === 'leases').map((r) => r.status);
    assert.deepEqual(creates.filter((status) => status !== 409), [201], 'one replica created the Lease; any other create got 409 AlreadyExists');
    // At least two handovers among different replicas (a loaded machine gets fewer rounds in; the point is the overlap check).
    assert.ok(terms.length >= 3 && new Set(terms.map((term) => term.who)).size >= 2, `leadership changed hands: ${JSON.stringify(terms)}`);
    const conflicts = server.requests.filter((r) => r.verb === 'update' && r.resource === 'leases' && r.status === 409).length;
    t.diagnostic(`${terms.length} terms over ${timeline.at(-1)!.at - timeline[0]!.at} ms, none overlapping: ${terms.map((term) => term.who).join(' -> ')}; creates ${creates.join(',')}; ${conflicts} writes lost a race (409)`);
  });

  it('two replicas that read a free Lease at the same version: one write wins, the other gets 409 and follows', async (t) => {
    const { server, timeline, first, happened, replica } = await cluster(t);
    server.create('leases', {
      metadata: { name: NAME, namespace: NAMESPACE },
      spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: '2026-11-29T15:04:05.123456Z', acquireTime: '2026-11-29T15:04:05.123456Z', leaseTransitions: 4 },
    });
    // Both reads are held until both have arrived, so both answers carry the same resourceVersion.
    const isRead = (r: RecordedRequest) => r.resource === 'leases' && r.verb === 'get';
    server.faults.hang(isRead);
    const reads = Promise.all(['a', 'b'].map((client) => server.nextRequest((r) => isRead(r) && r.client === client)));
    replica('a');
    replica('b');
    await reads;
    server.faults.clearHang();
    const winner = await first((m) => m.what === 'started', 'a replica started leading');
    const loser = winner.who === 'a' ? 'b' : 'a';
    await happened(loser, `sees ${winner.who}`);
    const writes = server.requests.filter((r) => r.verb === 'update' && r.resource === 'leases');
    assert.deepEqual(writes.slice(0, 2).map((r) => `${r.client} ${r.status}`).sort(), [`${winner.who} 200`, `${loser} 409`]);
    assert.deepEqual(leadership(timeline).map((term) => term.who), [winner.who]);
    assert.equal(server.get('leases', NAMESPACE, NAME)!.spec.leaseTransitions, 5);
  });
});

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics (tools/leaderelection and
 * resourcelock/leaselock.go) and timings: lease 15 s, renew deadline 10 s, retry 2 s.
 *
 * Why each rule:
 * - Remote times are never trusted. A candidate takes over a Lease held by another only when it has seen the Lease
 *   stay unchanged for its leaseDurationSeconds, measured on the candidate's own clock from the moment it saw the
 *   last change. renewTime is written for humans (`kubectl get lease -o yaml`); two nodes' clocks may disagree by
 *   minutes, but they run at nearly the same rate.
 * - Every write carries the resourceVersion that was read. Two candidates racing for a free or expired Lease both
 *   PUT with the same version; the API server accepts one and answers 409 Conflict to the other, who waits.
 * - A leader that cannot renew gives up before anyone else can take over. Its renew deadline (10 s) counts from the
 *   start of its last successful renewal, which is at or before the moment others saw that renewal; others wait the
 *   full lease (15 s) from that moment. (client-go counts the deadline from the start of each renew round, which
 *   begins a retry period after the last success: 12 s. Counting from the last success keeps 5 s of margin for
 *   clock rate, callback latency and a loaded event loop, instead of 3 s minus the renewal's own latency.)
 * - A stopping leader releases the Lease (client-go's ReleaseOnCancel: holderIdentity cleared, leaseDurationSeconds
 *   1), after its onStoppedLeading has returned, so a follower takes over at its next try instead of 15 s later, and
 *   never while the old leader is still working.
 *
 * Unlike client-go's Run, which returns after leadership is lost (and most controllers then exit), run() goes back
 * to being a candidate: this daemon's followers keep their caches warm, so a replica that lost the Lease is a
 * follower like any other.
 */
import { CoordinationV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { apiClient, describeError, statusOf, withTimeout, type KubeClients } from './client.ts';

export interface LeaderElectionTimings {
  /** How long others wait without seeing a renewal before they take over. Whole seconds: the Lease stores seconds. */
  readonly leaseDurationMs: number;
  /** A leader that has not renewed for this long stops leading. Less than leaseDurationMs. */
  readonly renewDeadlineMs: number;
  /** Between two tries (acquire, renew); a candidate's tries are jittered up to 2.2 times this, as client-go's. */
  readonly retryPeriodMs: number;
  /** Each API call gives up after this long (and a leader's never later than its renew deadline). */
  readonly callTimeoutMs: number;
}

/** client-go's JitterFactor: a candidate waits retryPeriod * (1 + random * 1.2) between tries. */
const JITTER_FACTOR = 1.2;

/** The calls the election makes: a read, a create, and an update that carries the resourceVersion read. */
export type LeasesApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** Waits `ms`; resolves early when `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface LeaderCallbacks {
  /** Leading from now on. Not awaited (renewals go on meanwhile); `signal` aborts when leadership ends. */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /**
   * Leadership ended: `lost` (could not renew in time, or another holder was seen) or `stopped` (stop() was called).
   * Awaited: after `lost` the replica becomes a candidate again only once this returns, and after `stopped` the
   * Lease is released only then, so no follower starts while this replica is still delivering.
   */
  readonly onStoppedLeading: (reason: 'lost' | 'stopped') => void | Promise<void>;
  /** Another holder (or this one) was seen holding the Lease: the first seen, then every change. */
  readonly onNewLeader?: (identity: string) => void;
}

/** The two metrics of the election, registered on the daemon's registry (src/metrics.ts's `registry`). */
export class LeaderMetrics {
  readonly leader: Gauge;
  readonly transitions: Counter;

  constructor(registry: Registry) {
    this.leader = new Gauge({
      name: 'kube_job_alerts_leader',
      help: 'Whether this replica holds the Lease and delivers alerts (1) or follows (0).',
      registers: [registry],
    });
    this.transitions = new Counter({
      name: 'kube_job_alerts_leader_transitions_total',
      help: 'Times this replica started leading.',
      registers: [registry],
    });
  }
}

export interface LeaderElectorOptions {
  /** The client; or `leasesApi` directly. */
  readonly clients?: Pick<KubeClients, 'config'>;
  readonly leasesApi?: LeasesApi;
  /** Where the Lease lives: the pod's own namespace (POD_NAMESPACE). */
  readonly namespace: string;
  /** LEASE_NAME. */
  readonly name: string;
  /** This replica: its pod name (POD_NAME), unique among the candidates. */
  readonly identity: string;
  readonly timings?: LeaderElectionTimings;
  readonly clock?: { now(): Date };
  readonly sleep?: Sleep;
  /** [0, 1), for the candidate's jitter. */
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly metrics?: LeaderMetrics;
}

// --- the pure part: what the Lease says, and what to write ---------------------------------------------------------

/**
 * The fields of a Lease's spec that the election reads and writes (client-go's LeaderElectionRecord). Times are kept
 * exactly as the API server returned them (the client leaves MicroTime as a string) or as V1MicroTime for new ones:
 * they are only ever compared as a whole, to notice a change, never read as a time.
 */
export interface LeaseRecord {
  /** '' when nobody holds the Lease (never taken, or released). */
  readonly holderIdentity: string;
  /** 0 when unset. */
  readonly leaseDurationSeconds: number;
  readonly acquireTime: V1MicroTime | undefined;
  readonly renewTime: V1MicroTime | undefined;
  readonly leaseTransitions: number;
}

export function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime ?? undefined,
    renewTime: spec.renewTime ?? undefined,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

/** The record as bytes, to tell whether the Lease changed since it was last seen (client-go's observedRawRecord). */
export function rawOf(record: LeaseRecord): string {
  return JSON.stringify([record.holderIdentity, record.leaseDurationSeconds, record.acquireTime, record.renewTime, record.leaseTransitions]);
}

/**
 * Whether `identity` may write the Lease at `nowMs`: it is free, it is ours, or it has not changed for its own
 * leaseDurationSeconds since `observedAtMs` (when this replica last saw it change, on this replica's clock).
 */
export function mayAcquire(record: LeaseRecord, observedAtMs: number, nowMs: number, identity: string): boolean {
  if (record.holderIdentity === '' || record.holderIdentity === identity) return true;
  return !leaseValid(record, observedAtMs, nowMs);
}

/** Whether the holder's term still runs: seen to change less than its leaseDurationSeconds ago (client-go's isLeaseValid). */
export function leaseValid(record: LeaseRecord, observedAtMs: number, nowMs: number): boolean {
  return observedAtMs + record.leaseDurationSeconds * 1000 > nowMs;
}

/**
 * What `identity` writes to take or keep the Lease: a renewal keeps acquireTime and leaseTransitions; taking it
 * from another holder (or a free Lease) counts one more transition. `current` undefined: the Lease is created.
 */
export function nextRecord(current: LeaseRecord | undefined, identity: string, leaseDurationSeconds: number, now: V1MicroTime): LeaseRecord {
  if (current !== undefined && current.holderIdentity === identity) {
    return { ...current, leaseDurationSeconds, renewTime: now };
  }
  return { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: current ? current.leaseTransitions + 1 : 0 };
}

/** What a stopping leader writes (client-go's release): nobody holds it, and it expires in 1 s for any late reader. */
export function releasedRecord(current: LeaseRecord, now: V1MicroTime): LeaseRecord {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions };
}

/** Every field written, as client-go's LeaderElectionRecordToLeaseSpec does (an empty holder is written as ''). */
function leaseWith(lease: V1Lease, record: LeaseRecord): V1Lease {
  return {
    ...lease,
    spec: {
      ...lease.spec,
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: record.acquireTime,
      renewTime: record.renewTime,
      leaseTransitions: record.leaseTransitions,
    },
  };
}

export function validateTimings(timings: LeaderElectionTimings): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs, callTimeoutMs } = timings;
  const problems: string[] = [];
  if (!Number.isInteger(leaseDurationMs / 1000) || leaseDurationMs < 1000) problems.push(`leaseDurationMs must be whole seconds, at least 1000 (got ${leaseDurationMs})`);
  if (!(leaseDurationMs > renewDeadlineMs)) problems.push(`leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`);
  if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) problems.push(`renewDeadlineMs (${renewDeadlineMs}) must be greater than ${JITTER_FACTOR} x retryPeriodMs (${retryPeriodMs})`);
  if (!(retryPeriodMs > 0)) problems.push(`retryPeriodMs must be positive (got ${retryPeriodMs})`);
  if (!(callTimeoutMs > 0)) problems.push(`callTimeoutMs must be positive (got ${callTimeoutMs})`);
  if (problems.length > 0) throw new Error(`invalid leader election timings: ${problems.join('; ')}`);
}

// --- the loop ------------------------------------------------------------------------------------------------------

/** What one try came to: we hold the Lease now, another holder does, or we could not tell (API error, 409). */
type TryOutcome = 'ours' | 'theirs' | 'failed';

const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class LeaderElector {
  readonly #api: LeasesApi;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #timings: LeaderElectionTimings;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #logger: Logger;
  readonly #metrics: LeaderMetrics | undefined;
  /** Aborted by stop(): ends sleeps and in-flight calls at once. */
  readonly #stopping = new AbortController();

  /** The Lease as last read or written: its resourceVersion is the precondition of the next write. */
  #lease: V1Lease | undefined;
  /** The record last seen, its bytes, and when it was seen to change (on our clock). */
  #observed: { record: LeaseRecord; raw: string; atMs: number } | undefined;
  #reportedLeader = '';
  #leading: AbortController | undefined;
  /** A write was cut short by stop(): it may still have landed, so the Lease may be ours without our knowing. */
  #unsureWrite = false;
  /** The last lease call failed: further failures are logged at debug until one succeeds. */
  #failing = false;
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    const api = options.leasesApi ?? (options.clients ? apiClient(options.clients.config, CoordinationV1Api) : undefined);
    if (!api) throw new Error('LeaderElector needs clients or leasesApi');
    if (options.identity === '') throw new Error('LeaderElector needs a non-empty identity (POD_NAME)');
    this.#api = api;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = options.identity;
    this.#timings = options.timings ?? DEFAULT_SETTINGS.leaderElection;
    validateTimings(this.#timings);
    const clock = options.clock ?? { now: () => new Date() };
    this.#now = () => clock.now().getTime();
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#logger = (options.logger ?? silentLogger).child({ lease: `${this.#namespace}/${this.#name}`, identity: this.#identity });
    this.#metrics = options.metrics;
    this.#metrics?.leader.set(0);
  }

  /** True from just before onStartedLeading until just before onStoppedLeading. */
  get isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** The holder this replica last saw ('' when none yet, or the Lease is free). */
  get leader(): string {
    return this.#observed?.record.holderIdentity ?? '';
  }

  /** Runs until stop(): candidate, leader, and candidate again whenever leadership is lost. Call once. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    this.#running ??= this.#loop(callbacks);
    return this.#running;
  }

  /**
   * Stops: a leader stops leading (onStoppedLeading, awaited), then releases the Lease so a follower takes over at its
   * next try. Resolves once all that is done.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
  }

  async #loop(callbacks: LeaderCallbacks): Promise<void> {
    const { signal } = this.#stopping;
    this.#logger.info({ timings: this.#timings }, 'waiting to lead: trying to acquire the lease');
    while (!signal.aborted) {
      const acquiredAt = await this.#acquire(callbacks);
      if (acquiredAt === undefined) break;
      this.#startLeading(callbacks);
      const reason = await this.#renew(callbacks, acquiredAt);
      await this.#stopLeading(callbacks, reason);
      if (reason === 'stopped') break;
    }
    // Leading or not, a write cut short by stop() may have made the Lease ours: hand it back rather than make the
    // others wait out a lease nobody renews.
    if (this.#observed?.record.holderIdentity === this.#identity || this.#unsureWrite) await this.#release();
  }

  /** Tries at once, then every retry period (jittered) until it holds the Lease; the time of the winning try, or undefined when stopped. */
  async #acquire(callbacks: LeaderCallbacks): Promise<number | undefined> {
    const { signal } = this.#stopping;
    while (!signal.aborted) {
      const startedAt = this.#now();
      const outcome = await this.#tryAcquireOrRenew(startedAt, Number.POSITIVE_INFINITY);
      this.#reportLeader(callbacks);
      if (outcome === 'ours' && !signal.aborted) return startedAt;
      const { retryPeriodMs } = this.#timings;
      await this.#sleep(retryPeriodMs * (1 + this.#random() * JITTER_FACTOR), signal);
    }
    return undefined;
  }

  /**
   * Renews every retry period. Returns `lost` once a renewal has not succeeded within the renew deadline, counted
   * from the start of the last successful one (every call is cut off at that deadline), or as soon as another holder
   * is seen; `stopped` when stop() is called.
   */
  async #renew(callbacks: LeaderCallbacks, lastRenewedAt: number): Promise<'lost' | 'stopped'> {
    const { signal } = this.#stopping;
    const { retryPeriodMs, renewDeadlineMs } = this.#timings;
    for (;;) {
      await this.#sleep(retryPeriodMs, signal);
      for (;;) {
        if (signal.aborted) return 'stopped';
        const startedAt = this.#now();
        const deadline = lastRenewedAt + renewDeadlineMs;
        if (startedAt >= deadline) {
          this.#logger.warn({ renewDeadlineMs }, 'could not renew the lease within the renew deadline: stopping leading before it can expire elsewhere');
          return 'lost';
        }
        const outcome = await this.#tryAcquireOrRenew(startedAt, deadline);
        this.#reportLeader(callbacks);
        if (signal.aborted) return 'stopped';
        if (outcome === 'ours') {
          lastRenewedAt = startedAt;
          break;
        }
        if (outcome === 'theirs') {
          this.#logger.warn({ holder: this.leader }, 'the lease is held by another replica: stopping leading');
          return 'lost';
        }
        await this.#sleep(Math.max(0, Math.min(retryPeriodMs, deadline - this.#now())), signal);
      }
    }
  }

  #startLeading(callbacks: LeaderCallbacks): void {
    const leading = new AbortController();
    this.#leading = leading;
    this.#metrics?.leader.set(1);
    this.#metrics?.transitions.inc();
    this.#logger.info({ transitions: this.#observed?.record.leaseTransitions }, 'acquired the lease: leading');
    try {
      Promise.resolve(callbacks.onStartedLeading(leading.signal)).catch((error: unknown) =>
        this.#logger.error({ err: describeError(error) }, 'onStartedLeading failed'),
      );
    } catch (error) {
      this.#logger.error({ err: describeError(error) }, 'onStartedLeading failed');
    }
  }

  async #stopLeading(callbacks: LeaderCallbacks, reason: 'lost' | 'stopped'): Promise<void> {
    this.#leading?.abort();
    this.#leading = undefined;
    this.#metrics?.leader.set(0);
    this.#logger.info({ reason }, 'stopped leading');
    try {
      await callbacks.onStoppedLeading(reason);
    } catch (error) {
      this.#logger.error({ err: describeError(error) }, 'onStoppedLeading failed');
    }
  }

  #reportLeader(callbacks: LeaderCallbacks): void {
    const holder = this.leader;
    if (holder === '' || holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder !== this.#identity) this.#logger.info({ leader: holder }, 'another replica leads');
    try {
      callbacks.onNewLeader?.(holder);
    } catch (error) {
      this.#logger.error({ err: describeError(error) }, 'onNewLeader failed');
    }
  }

  /** client-go's tryAcquireOrRenew: a fast renewal when we hold it, else read, judge, and write (or create). */
  async #tryAcquireOrRenew(nowMs: number, deadline: number): Promise<TryOutcome> {
    const durationSeconds = this.#timings.leaseDurationMs / 1000;
    const now = new V1MicroTime(nowMs);
    const observed = this.#observed;

    // 1. A leader renews the Lease it last wrote, assuming nothing changed since (one call instead of two).
    if (this.#lease && observed && observed.record.holderIdentity === this.#identity && leaseValid(observed.record, observed.atMs, nowMs)) {
      try {
        await this.#write(leaseWith(this.#lease, nextRecord(observed.record, this.#identity, durationSeconds, now)), deadline);
        return 'ours';
      } catch (error) {
        this.#logger.debug({ err: describeError(error) }, 'fast renewal failed: reading the lease');
      }
    }

    // 2. Read it, or create it when there is none.
    let lease: V1Lease;
    try {
      lease = await this.#call(this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name }), deadline);
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.#apiFailed('could not read the lease', error);
        return 'failed';
      }
      return this.#create(nextRecord(undefined, this.#identity, durationSeconds, now), deadline);
    }
    this.#lease = lease;
    const record = recordOf(lease);
    this.#observe(record);

    // 3. Someone else holds it and has renewed within the lease duration (as we saw it): wait.
    if (!mayAcquire(record, this.#observed!.atMs, nowMs, this.#identity)) return 'theirs';

    // 4. Free, ours, or expired: write, on the resourceVersion just read.
    try {
      await this.#write(leaseWith(lease, nextRecord(record, this.#identity, durationSeconds, now)), deadline);
      return 'ours';
    } catch (error) {
      if (statusOf(error) === 409) this.#logger.debug('another replica wrote the lease first (409): trying again later');
      else this.#apiFailed('could not write the lease', error);
      return 'failed';
    }
  }

  async #create(record: LeaseRecord, deadline: number): Promise<TryOutcome> {
    const body = leaseWith({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#name, namespace: this.#namespace } }, record);
    try {
      this.#accept(await this.#call(this.#api.createNamespacedLease({ namespace: this.#namespace, body }), deadline, true));
      this.#logger.info('created the lease');
      return 'ours';
    } catch (error) {
      if (statusOf(error) === 409) this.#logger.debug('another replica created the lease first (409): trying again later');
      else this.#apiFailed('could not create the lease', error);
      return 'failed';
    }
  }

  async #write(lease: V1Lease, deadline: number): Promise<void> {
    this.#accept(await this.#call(this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: lease }), deadline, true));
  }

  /** Bounded by the call timeout and `deadline`, and cut short by stop(). */
  async #call<T>(call: Promise<T>, deadline: number, isWrite = false): Promise<T> {
    const timeoutMs = Math.max(1, Math.min(this.#timings.callTimeoutMs, deadline - this.#now()));
    try {
      const answer = await withTimeout(call, timeoutMs, this.#stopping.signal);
      if (this.#failing) this.#logger.info('the lease API answers again');
      this.#failing = false;
      return answer;
    } catch (error) {
      if (isWrite && this.#stopping.signal.aborted) this.#unsureWrite = true;
      throw error;
    }
  }

  /** Warns once per run of failures, then logs at debug: a follower tries every 2-4 s through an API outage. */
  #apiFailed(message: string, error: unknown): void {
    if (this.#failing) this.#logger.debug({ err: describeError(error) }, message);
    else this.#logger.warn({ err: describeError(error) }, `${message} (further failures at debug level until it answers)`);
    this.#failing = true;
  }

  /** The Lease as the API server wrote it: the next write's precondition, and what we now see. */
  #accept(lease: V1Lease): void {
    this.#lease = lease;
    this.#observe(recordOf(lease));
  }

  /** The observed time moves only when the record changed (or was written by us): that is what "renewed" means. */
  #observe(record: LeaseRecord): void {
    const raw = rawOf(record);
    if (this.#observed?.raw === raw) return;
    this.#observed = { record, raw, atMs: this.#now() };
  }

  /** Hands the Lease back: re-read once if our copy is stale (409) or a cut-short write left us unsure. */
  async #release(): Promise<void> {
    const bounded = <T>(call: Promise<T>): Promise<T> => withTimeout(call, this.#timings.callTimeoutMs);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (attempt > 0 || this.#unsureWrite || !this.#lease) {
          this.#lease = await bounded(this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name }));
          this.#observe(recordOf(this.#lease));
        }
        const current = recordOf(this.#lease);
        if (current.holderIdentity !== this.#identity) return;
        const released = leaseWith(this.#lease, releasedRecord(current, new V1MicroTime(this.#now())));
        this.#accept(await bounded(this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: released })));
        this.#logger.info('released the lease');
        return;
      } catch (error) {
        if (statusOf(error) === 409 && attempt === 0) continue;
        this.#logger.warn({ err: describeError(error) }, 'could not release the lease: another replica takes over once it expires');
        return;
      }
    }
  }
}

/**
 * The daemon's tunables in one place, built from the validated config. Stages take the part they need as
 * constructor options (with these as production values), so tests pass their own; no stage hard-codes a literal.
 *
 * Why a second object beside Config: Config is what the user set (environment variables, validated); Settings is
 * everything the daemon runs with, including timings no user should need to touch but every test does.
 */
import type { Config } from './config.ts';
import type { BackoffPolicy } from './queue/backoff.ts';

export interface Settings {
  /** Keys processed at once (each: decide, capture evidence, render, hand to the transport). */
  readonly workers: number;
  readonly api: {
    /** Every single API call (get, list of pods or events, patch, log read) gives up after this long. */
    readonly callTimeoutMs: number;
    /** Retries of a failed annotation write (the mark). */
    readonly markAttempts: number;
    readonly markBackoff: BackoffPolicy;
  };
  /** What gathering one failure's evidence may cost: API reads and what is kept of them (kube/evidence.ts). */
  readonly gather: {
    /** limitBytes of one log read. The kubelet counts it from the start of the tailLines window: see detect/log-tail.ts. */
    readonly logReadBytes: number;
    /** Log reads per failure at most, each with fewer lines, when the lines asked for do not fit in logReadBytes. */
    readonly logReads: number;
    /** The log tail kept, from its end (a Slack message shows at most 3,000 characters of it). */
    readonly logKeepBytes: number;
    /** Warning events kept, the newest. */
    readonly events: number;
  };
  readonly informer: {
    /** A watch that sends nothing (not even a bookmark) for this long is ended and resumed. */
    readonly silenceMs: number;
    readonly restartBackoff: BackoffPolicy;
    /**
     * A list (the first, or a relist after a 410 or a history reset) that has not answered by then is abandoned and
     * retried: a hung LIST must not leave the informer blind. The API server itself gives up on requests after 60 s
     * (--request-timeout), so an answer later than that will not come.
     */
    readonly listTimeoutMs: number;
    /**
     * Objects per list page (`limit`; the rest follow with `continue`): kubectl's and client-go's pager's 500. A page
     * of 500 Jobs is ~3 MB of JSON, parsed in ~20 ms; the whole list in one piece would hold the event loop for
     * seconds and double the memory while it is parsed.
     */
    readonly pageSize: number;
    /** /readyz answers 503 once an informer has been unable to list or watch for this long (NOT_READY_AFTER). */
    readonly notReadyAfterMs: number;
  };
  /** Per-key requeue after a transient error in a worker (client-go's per-item exponential rate limiter). */
  readonly requeueBackoff: BackoffPolicy;
  readonly slack: {
    readonly attemptTimeoutMs: number;
    /** At most one post per this interval per webhook (Slack allows about one a second). */
    readonly minIntervalMs: number;
    /**
     * 5xx, 408, network errors and timeouts. Capped at 15 s: a channel whose webhook is back hears within ~15 s, and a
     * few posts a minute against a failing webhook harm nobody (429 follows Retry-After instead).
     */
    readonly retryBackoff: BackoffPolicy;
    /** For a 429 without a readable Retry-After. */
    readonly defaultRetryAfterMs: number;
    /** Retry-After is capped: a misbehaving proxy must not stall alerts for a day. */
    readonly maxRetryAfterMs: number;
  };
  /** Rendered messages waiting per destination; beyond either bound the oldest failures fold into a digest. */
  readonly outbox: { readonly maxPending: number; readonly maxBytes: number; readonly perDigest: number };
  /** Evidence captured at first sight, kept until its Job is gone (alerts/evidence-store.ts). */
  readonly evidence: { readonly maxEntries: number; readonly maxBytes: number };
  /** Missed-schedule checks (detect/cronjob-health.ts). */
  readonly schedule: {
    /** A missed run's grace is never shorter (the controller and the watch need a moment to report a run). */
    readonly minGraceMs: number;
    /** Missed runs are counted up to this many (the controller itself gives up counting at 100). */
    readonly missedCountLimit: number;
  };
  /**
   * LEADER_ELECTION=true (src/kube/lease.ts): client-go's defaults. A follower takes over leaseDurationMs (plus up to
   * two jittered retries) after the leader's last renewal, or at its next retry after a release; a leader that cannot
   * renew stops renewDeadlineMs after its last renewal began.
   */
  readonly leaderElection: {
    readonly leaseDurationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
    /** Per Lease call: half the renew deadline, so a leader gets at least two tries before it gives up. */
    readonly callTimeoutMs: number;
  };
  readonly shutdown: {
    /** After SIGTERM, in-flight deliveries get this long before they are handed back (left unmarked). */
    readonly drainMs: number;
    /** The process exits by then whatever happens: within Kubernetes' default 30 s grace and our 10 s promise. */
    readonly exitDeadlineMs: number;
  };
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  workers: 4,
  api: { callTimeoutMs: 10_000, markAttempts: 4, markBackoff: { baseMs: 1000, maxMs: 8000, jitter: 'none' } },
  gather: { logReadBytes: 256 * 1024, logReads: 4, logKeepBytes: 16 * 1024, events: 5 },
  informer: {
    silenceMs: 90_000,
    restartBackoff: { baseMs: 1000, maxMs: 30_000, jitter: 'equal' },
    listTimeoutMs: 60_000,
    pageSize: 500,
    notReadyAfterMs: 120_000,
  },
  requeueBackoff: { baseMs: 500, maxMs: 60_000, jitter: 'full' },
  slack: {
    attemptTimeoutMs: 10_000,
    minIntervalMs: 1000,
    retryBackoff: { baseMs: 1000, maxMs: 15_000, jitter: 'full' },
    defaultRetryAfterMs: 30_000,
    maxRetryAfterMs: 300_000,
  },
  // 40 Jobs fit one digest within Slack's limits (slack/digest.ts DIGEST_SIZE, checked by its tests).
  outbox: { maxPending: 1000, maxBytes: 32 * 1024 * 1024, perDigest: 40 },
  evidence: { maxEntries: 2000, maxBytes: 16 * 1024 * 1024 },
  schedule: { minGraceMs: 10_000, missedCountLimit: 100 },
  leaderElection: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000, callTimeoutMs: 5000 },
  shutdown: { drainMs: 6000, exitDeadlineMs: 9000 },
} satisfies Settings);

/** The settings for a validated config: the defaults, with what the user may set (NOT_READY_AFTER, OUTBOX_MAX_PENDING) applied. */
export function settingsFrom(config: Config): Settings {
  return Object.freeze({
    ...DEFAULT_SETTINGS,
    informer: { ...DEFAULT_SETTINGS.informer, notReadyAfterMs: config.notReadyAfterMs },
    outbox: { ...DEFAULT_SETTINGS.outbox, maxPending: config.outboxMaxPending },
  });
}

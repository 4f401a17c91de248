/**
 * The domain types that flow down the corridor (see STYLE.md and README "How it decides"):
 *   informers (kube/) -> record cache (slim records, detect/records.ts) --keys--> work queue (queue/)
 *   -> workers (alerts/controller.ts): decide (decide/, pure) -> evidence (kube/evidence.ts, captured once)
 *   -> outbox (notify/): render (slack/render.ts, pure) -> transport (slack/transport.ts) -> marks (state/)
 * They are plain data, so every stage can be tested with tables of values.
 */

/** Why and when a Job failed, read from the Job object alone (see detect/failure.ts). */
export interface JobFailure {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** The condition that said so first: `FailureTarget` (Kubernetes >= 1.31) or `Failed`. */
  readonly condition: 'Failed' | 'FailureTarget';
  /** BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy, MaxFailedIndexesExceeded, FailedIndexes, or verbatim. */
  readonly reason: string;
  readonly message: string;
  /** The condition's lastTransitionTime; `completionTime` is only set on success. */
  readonly failedAt: Date | undefined;
  readonly startedAt: Date | undefined;
  /** status.failed: how many pods failed. */
  readonly failedPods: number;
  readonly succeededPods: number;
  readonly backoffLimit: number | undefined;
  /** status.failedIndexes of an Indexed Job with backoffLimitPerIndex. */
  readonly failedIndexes: string | undefined;
  /** The owning CronJob (ownerReference kind CronJob, controller true). */
  readonly cronJob: string | undefined;
  /** batch.kubernetes.io/cronjob-scheduled-timestamp, when the CronJob created it. */
  readonly scheduledAt: Date | undefined;
}

/** What the cluster still holds about the failing container, gathered best effort (kube/evidence.ts). */
export interface Evidence {
  readonly pod?: string;
  readonly node?: string;
  readonly container?: string;
  readonly exitCode?: number;
  /** Container reason (OOMKilled, Error, ...) or, for a pod that failed with no containers, the pod's (Evicted, ...). */
  readonly reason?: string;
  /** The signal number, for exit codes above 128. */
  readonly signal?: number;
  /** The container's or pod's termination message. */
  readonly message?: string;
  /** The last lines of the failed container's log, oldest first; the last one is the log's last line. */
  readonly logTail?: readonly string[];
  /** The failed instance is the container's previous one (it restarted, restartPolicy OnFailure): `logs --previous`. */
  readonly previous?: boolean;
  /** The failed container's image, as the pod spec names it. */
  readonly image?: string;
  /** For an OOMKilled container: its `resources.limits.memory` (`512Mi`), when it has one. */
  readonly memoryLimit?: string;
  /**
   * Every failed attempt the Job's pods still show (failed pods, and restarts of OnFailure containers), grouped by
   * reason and exit code, most frequent first (detect/attempts.ts). A group with neither is restarts whose details
   * the kubelet no longer keeps (it keeps only the last termination).
   */
  readonly attempts?: {
    readonly total: number;
    readonly groups: readonly { readonly reason?: string; readonly exitCode?: number; readonly count: number }[];
  };
  /** Indexed Jobs: the last failure of each index that has a failed pod, by index (detect/attempts.ts). */
  readonly indexes?: readonly { readonly index: number; readonly exitCode?: number; readonly reason?: string; readonly failures: number }[];
  /** Warning events of the Job and of its failed pod, newest first, at most a few (detect/events.ts). */
  readonly events?: readonly {
    /** `Job` or `Pod`, with the object's name. */
    readonly kind: string;
    readonly name: string;
    readonly reason: string;
    readonly message: string;
    /** How often it happened (the event's count or series.count). */
    readonly count: number;
    readonly lastSeen?: Date;
  }[];
  /** One short line per part that could not be gathered, saying why. */
  readonly notes: readonly string[];
}

/** What every message about a CronJob's run says about the CronJob itself. */
export interface CronJobContext {
  readonly namespace: string;
  readonly name: string;
  readonly schedule: string | undefined;
  readonly timeZone: string | undefined;
  readonly suspended: boolean;
  /** status.lastSuccessfulTime; undefined: it never succeeded (as far as the cluster remembers). */
  readonly lastSuccessAt: Date | undefined;
  /** The next scheduled run, when the schedule could be read. */
  readonly nextRunAt: Date | undefined;
}

/** Everything one failure message says. */
export interface Alert {
  readonly cluster: string | undefined;
  readonly failure: JobFailure;
  readonly evidence: Evidence;
  /** For a CronJob's run: the CronJob, and the failure's place in its streak. */
  readonly cronJob?: CronJobContext;
  readonly streak?: StreakFacts;
  /** A reminder that the CronJob is still failing, rather than the first word of it. */
  readonly reminder?: boolean;
  /** When the message was decided: "3 h ago" is relative to this (default: the failure time). */
  readonly at?: Date;
}

export type { Clock } from './time.ts';
import type { StreakFacts } from './decide/decide.ts';

/**
 * The one retry-delay formula: exponential growth from `baseMs`, capped at `maxMs`, with jitter.
 *
 * Why one helper: retries happen in several places (informer restarts, Slack deliveries, annotation writes, the
 * work queue's per-key requeue) and three hand-written formulas had drifted apart. Jitter spreads out the many
 * daemons (or keys) that one outage made fail at the same moment.
 * - `full` (the default): uniform in [0, ceiling): best for many independent retriers (AWS's analysis).
 * - `equal`: uniform in [ceiling/2, ceiling): never retries almost at once, for one supervised loop.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter?: 'full' | 'equal' | 'none';
}

/** The delay before retry number `retry` (0 for the first retry). `random` returns [0, 1). */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(retry, 0), 30));
  switch (policy.jitter ?? 'full') {
    case 'none':
      return ceiling;
    case 'equal':
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    case 'full':
      return Math.floor(random() * ceiling);
  }
}

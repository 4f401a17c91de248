/**
 * Every metric the daemon exports, on one registry that main creates and /metrics serves. Stages receive this
 * object rather than touching prom-client's global registry, so tests can read the values they caused.
 *
 * Conventions, so dashboards and alerts work without surprises:
 * - Node's process metrics keep their standard names (`process_*`, `nodejs_*`): the dashboards everyone already has
 *   find them. Only the daemon's own metrics carry the `kube_job_alerts_` prefix.
 * - `kube_job_alerts_build_info{version,node}` is always 1: join on it, or alert on its absence.
 * - Every labelled counter starts with a 0 series for each label value known in advance, so `rate()` and
 *   `increase()` see the first event as an increase (a series born at 1 has no increase), and absence means the
 *   daemon is not scraped rather than that nothing happened.
 * - A label name means one thing: `job_reason` is a Job's failure reason, `slack_error` is Slack's error string.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SkipReason } from './decide/decide.ts';
import { packageVersion } from './version.ts';

/** The reasons Kubernetes puts on a Job's Failed (or FailureTarget) condition; others are counted as they come. */
export const JOB_REASONS = ['BackoffLimitExceeded', 'DeadlineExceeded', 'PodFailurePolicy', 'FailedIndexes', 'MaxFailedIndexesExceeded'] as const;

/**
 * The errors Slack documents for incoming webhooks, plus the two ways the daemon itself gives up on an alert:
 * `internal_error` (a bug while alerting) and `outbox_full` (a storm outgrew the outbox while Slack was slow). An
 * error Slack adds later, or `http_<status>` for an answer that is not one of its error strings, is counted as it comes.
 */
export const SLACK_ERRORS = [
  'invalid_payload',
  'user_not_found',
  'channel_not_found',
  'channel_is_archived',
  'action_prohibited',
  'posting_to_general_channel_denied',
  'too_many_attachments',
  'no_service',
  'no_service_id',
  'no_team',
  'team_disabled',
  'invalid_token',
  'internal_error',
  'outbox_full',
] as const;

/** Every reason decide/ skips a failure for: an object, so the compiler names one added there and missing here. */
const SKIPS: Record<SkipReason, true> = {
  already_alerted: true,
  opted_out: true,
  too_old: true,
  suspended: true,
  managed_elsewhere: true,
  alert_after: true,
  repeat_first: true,
  repeat_interval: true,
};
export const SKIP_REASONS = Object.keys(SKIPS) as readonly SkipReason[];

export const SLACK_OUTCOMES = ['ok', 'rate_limited', 'server_error', 'network', 'rejected'] as const;
export type SlackOutcome = (typeof SLACK_OUTCOMES)[number];

export const METRIC_PREFIX = 'kube_job_alerts_';

/**
 * How often prom-client's event-loop monitor samples (perf_hooks monitorEventLoopDelay resolution) for the
 * `nodejs_eventloop_lag_*` histogram. Its default, 10 ms, wakes an idle daemon 100 times a second: measured on Node 24,
 * 146 ms of CPU per 20 s idle, against 17 ms at 100 ms and 2 ms at 1 s (1 ms with no monitor). A stall still shows at
 * 1 s (it delays the next sample by its length); only stalls shorter than a second may go unseen, and those harm
 * nothing this daemon does. `nodejs_eventloop_lag_seconds` (measured at each scrape) is unaffected.
 */
export const EVENT_LOOP_MONITORING_PRECISION_MS = 1000;

export interface MetricsOptions {
  /** Node's process metrics (`process_*`, `nodejs_*`). Off in tests that create many registries. */
  readonly defaultMetrics?: boolean;
  /** Default EVENT_LOOP_MONITORING_PRECISION_MS. */
  readonly eventLoopMonitoringPrecisionMs?: number;
  /** For build_info; default: package.json's. */
  readonly version?: string;
}

export class Metrics {
  readonly registry: Registry;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly failuresDetected: Counter<'job_reason'>;
  readonly alertsSent: Counter;
  readonly alertsFailed: Counter<'slack_error'>;
  readonly alertsSkipped: Counter<'why'>;
  readonly slackLatency: Histogram<'outcome'>;
  readonly slackAttempts: Counter<'outcome'>;
  readonly queueDepth: Gauge;
  readonly informerRestarts: Counter<'resource'>;
  readonly informerHealthy: Gauge<'resource'>;
  readonly informerLastContactSeconds: Gauge<'resource'>;
  readonly lastDeliverySeconds: Gauge;
  /** Messages per destination (route), by result: delivered, refused (for good), aborted (at shutdown). */
  readonly routeMessages: Counter<'route' | 'result'>;
  readonly ready: Gauge;
  #isReady: () => boolean = () => false;

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: options.eventLoopMonitoringPrecisionMs ?? EVENT_LOOP_MONITORING_PRECISION_MS });
    }
    this.buildInfo = new Gauge({
      name: `${METRIC_PREFIX}build_info`,
      help: 'Always 1: the running version of kube-job-alerts and of Node.js.',
      labelNames: ['version', 'node'],
      registers,
    });
    this.buildInfo.set({ version: options.version ?? packageVersion(), node: process.versions.node }, 1);
    this.failuresDetected = new Counter({
      name: `${METRIC_PREFIX}failures_detected_total`,
      help: 'Job failures that reached the alert stage (once per Job UID), by the Job\'s failure reason.',
      labelNames: ['job_reason'],
      registers,
    });
    this.alertsSent = new Counter({
      name: `${METRIC_PREFIX}alerts_sent_total`,
      help: 'Alerts Slack accepted.',
      registers,
    });
    this.alertsFailed = new Counter({
      name: `${METRIC_PREFIX}alerts_failed_total`,
      help: 'Alerts given up on, by Slack\'s error (no_service, channel_is_archived, invalid_payload, http_4xx, ...), or internal_error, outbox_full.',
      labelNames: ['slack_error'],
      registers,
    });
    this.alertsSkipped = new Counter({
      name: `${METRIC_PREFIX}alerts_skipped_total`,
      help: 'Failures not alerted, by why (already_alerted, too_old, opted_out, suspended, alert_after, ...).',
      labelNames: ['why'],
      registers,
    });
    this.slackLatency = new Histogram({
      name: `${METRIC_PREFIX}slack_request_duration_seconds`,
      help: 'Duration of each HTTP attempt to the Slack webhook, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.slackAttempts = new Counter({
      name: `${METRIC_PREFIX}slack_attempts_total`,
      help: 'HTTP attempts to the Slack webhook, by outcome (ok, rate_limited, server_error, network, rejected).',
      labelNames: ['outcome'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: `${METRIC_PREFIX}queue_depth`,
      help: 'Failures waiting to be enriched and delivered.',
      registers,
    });
    this.informerRestarts = new Counter({
      name: `${METRIC_PREFIX}informer_restarts_total`,
      help: 'Informer restarts after an error or a silent watch, by resource.',
      labelNames: ['resource'],
      registers,
    });
    this.informerHealthy = new Gauge({
      name: 'kube_job_alerts_informer_healthy',
      help: 'Per informer: 1 while it lists and watches; 0 from its first error or silent watch until it next lists or watches.',
      labelNames: ['resource'],
      registers,
    });
    this.informerLastContactSeconds = new Gauge({
      name: 'kube_job_alerts_informer_last_contact_timestamp_seconds',
      help: 'Per informer: Unix time it last heard from the API server (a list, a watch opening, an event or bookmark).',
      labelNames: ['resource'],
      registers,
    });
    this.routeMessages = new Counter({
      name: `${METRIC_PREFIX}route_messages_total`,
      help: 'Messages per destination route (default is SLACK_WEBHOOK_URL), by result: delivered, refused, aborted.',
      labelNames: ['route', 'result'],
      registers,
    });
    this.lastDeliverySeconds = new Gauge({
      name: `${METRIC_PREFIX}last_successful_delivery_timestamp_seconds`,
      help: 'Unix time of the last alert Slack accepted (0 = none yet).',
      registers,
    });
    const isReady = () => this.#isReady();
    this.ready = new Gauge({
      name: `${METRIC_PREFIX}ready`,
      help: '1 when every informer has listed (what /readyz answers), else 0.',
      registers,
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    });

    for (const job_reason of JOB_REASONS) this.failuresDetected.inc({ job_reason }, 0);
    for (const slack_error of SLACK_ERRORS) this.alertsFailed.inc({ slack_error }, 0);
    for (const why of SKIP_REASONS) this.alertsSkipped.inc({ why }, 0);
    for (const outcome of SLACK_OUTCOMES) {
      this.slackAttempts.inc({ outcome }, 0);
      this.slackLatency.zero({ outcome });
    }
  }

  /** An informer exists for `resource` (`jobs/default`, `cronjobs`): its restart counter starts at 0. */
  informerCreated(resource: string): void {
    this.informerRestarts.inc({ resource }, 0);
  }

  /** What `ready` reports at each scrape; the source of /readyz (JobWatch) sets it. */
  /** A destination exists: its series start at 0, so rate() and absence alerts work from the start. */
  routeCreated(route: string): void {
    for (const result of ['delivered', 'refused', 'aborted']) this.routeMessages.inc({ route, result }, 0);
  }

  reportReadiness(isReady: () => boolean): void {
    this.#isReady = isReady;
  }
}

/**
 * Every metric the daemon exports, on one registry that main creates and /metrics serves. Stages receive this
 * object rather than touching prom-client's global registry, so tests can read the values they caused.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry: Registry;
  readonly failuresDetected: Counter<'reason'>;
  readonly alertsSent: Counter;
  readonly alertsFailed: Counter<'reason'>;
  readonly alertsSkipped: Counter<'why'>;
  readonly slackLatency: Histogram<'outcome'>;
  readonly slackAttempts: Counter<'outcome'>;
  readonly queueDepth: Gauge;
  readonly informerRestarts: Counter<'resource'>;
  readonly informerHealthy: Gauge<'resource'>;
  readonly informerLastContactSeconds: Gauge<'resource'>;
  readonly lastDeliverySeconds: Gauge;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'kube_job_alerts_' });
    this.failuresDetected = new Counter({
      name: 'kube_job_alerts_failures_detected_total',
      help: 'Job failures detected (once per Job UID), by failure reason.',
      labelNames: ['reason'],
      registers,
    });
    this.alertsSent = new Counter({
      name: 'kube_job_alerts_alerts_sent_total',
      help: 'Alerts Slack accepted.',
      registers,
    });
    this.alertsFailed = new Counter({
      name: 'kube_job_alerts_alerts_failed_total',
      help: 'Alerts given up on, by Slack error (no_service, channel_is_archived, invalid_payload, http_4xx, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.alertsSkipped = new Counter({
      name: 'kube_job_alerts_alerts_skipped_total',
      help: 'Failures not alerted, by why (already_alerted, too_old, opted_out).',
      labelNames: ['why'],
      registers,
    });
    this.slackLatency = new Histogram({
      name: 'kube_job_alerts_slack_request_duration_seconds',
      help: 'Duration of each HTTP attempt to the Slack webhook.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.slackAttempts = new Counter({
      name: 'kube_job_alerts_slack_attempts_total',
      help: 'HTTP attempts to the Slack webhook, by outcome (ok, rate_limited, server_error, network, rejected).',
      labelNames: ['outcome'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'kube_job_alerts_queue_depth',
      help: 'Failures waiting to be enriched and delivered.',
      registers,
    });
    this.informerRestarts = new Counter({
      name: 'kube_job_alerts_informer_restarts_total',
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
    this.lastDeliverySeconds = new Gauge({
      name: 'kube_job_alerts_last_successful_delivery_timestamp_seconds',
      help: 'Unix time of the last alert Slack accepted (0 = none yet).',
      registers,
    });
  }
}

/**
 * What /metrics promises to dashboards and alert rules: standard process metrics, build_info, a 0 series for every
 * known label value before the first event, and label names that mean one thing each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { JOB_REASONS, Metrics, SKIP_REASONS, SLACK_ERRORS, SLACK_OUTCOMES } from '../../src/metrics.ts';
import { packageVersion } from '../../src/version.ts';

async function metricsOf(metrics: Metrics): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
  return (await metrics.registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
}

async function series(metrics: Metrics, name: string): Promise<MetricValue<string>[]> {
  const metric = (await metricsOf(metrics)).find((m) => m.name === name);
  assert.ok(metric, `${name} is exported`);
  return metric.values;
}

describe('Metrics', () => {
  it('default metrics keep their standard names: process_* and nodejs_*, not prefixed', async () => {
    const names = (await metricsOf(new Metrics({ defaultMetrics: true }))).map((m) => m.name);
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    const ours = names.filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
    assert.deepEqual(ours.filter((name) => !name.startsWith('kube_job_alerts_')), []);
    assert.deepEqual(names.filter((name) => /^kube_job_alerts_(process|nodejs)_/.test(name)), []);
  });

  it('build_info is 1, labelled with the package version and the Node.js version', async () => {
    assert.deepEqual(await series(new Metrics(), 'kube_job_alerts_build_info'), [
      { value: 1, labels: { version: packageVersion(), node: process.versions.node } },
    ]);
    assert.deepEqual((await series(new Metrics({ version: '9.9.9' }), 'kube_job_alerts_build_info'))[0]?.labels.version, '9.9.9');
  });

  const known: [metric: string, label: string, values: readonly string[]][] = [
    ['kube_job_alerts_failures_detected_total', 'job_reason', JOB_REASONS],
    ['kube_job_alerts_alerts_failed_total', 'slack_error', SLACK_ERRORS],
    ['kube_job_alerts_alerts_skipped_total', 'why', SKIP_REASONS],
    ['kube_job_alerts_slack_attempts_total', 'outcome', SLACK_OUTCOMES],
  ];
  for (const [name, label, values] of known) {
    it(`${name} has a 0 series for each known ${label} before any event`, async () => {
      const found = await series(new Metrics(), name);
      assert.deepEqual(found.map((v) => v.labels[label]).sort(), [...values].sort());
      assert.ok(found.every((v) => v.value === 0));
    });
  }

  it('the Slack latency histogram has a zero series per outcome', async () => {
    const counts = (await series(new Metrics(), 'kube_job_alerts_slack_request_duration_seconds')).filter((v) => (v as MetricValue<string> & { metricName?: string }).metricName?.endsWith('_count'));
    assert.deepEqual(counts.map((v) => [v.labels.outcome, v.value]).sort(), SLACK_OUTCOMES.map((outcome) => [outcome, 0]).sort());
  });

  it('an informer\'s restart counter exists at 0 as soon as the informer does', async () => {
    const metrics = new Metrics();
    assert.deepEqual(await series(metrics, 'kube_job_alerts_informer_restarts_total'), []);
    metrics.informerCreated('jobs/default');
    assert.deepEqual(await series(metrics, 'kube_job_alerts_informer_restarts_total'), [{ value: 0, labels: { resource: 'jobs/default' } }]);
  });

  it('ready reports the readiness source at each scrape (0 until one is given)', async () => {
    const metrics = new Metrics();
    assert.equal((await series(metrics, 'kube_job_alerts_ready'))[0]?.value, 0);
    let ready = false;
    metrics.reportReadiness(() => ready);
    assert.equal((await series(metrics, 'kube_job_alerts_ready'))[0]?.value, 0);
    ready = true;
    assert.equal((await series(metrics, 'kube_job_alerts_ready'))[0]?.value, 1);
  });

  it('a label name means one thing: no two metrics share one unless it is the same dimension', async () => {
    const labelsOf = new Map<string, Set<string>>();
    for (const metric of await metricsOf(new Metrics())) {
      for (const value of metric.values) for (const label of Object.keys(value.labels)) {
        if (label === 'le') continue; // histogram buckets
        labelsOf.set(label, (labelsOf.get(label) ?? new Set()).add(metric.name));
      }
    }
    assert.equal(labelsOf.get('reason'), undefined, 'reason is ambiguous: job_reason or slack_error');
    // outcome is shared on purpose: the same attempt, counted and timed.
    for (const [label, metrics] of labelsOf) {
      if (label === 'outcome') assert.deepEqual([...metrics].sort(), ['kube_job_alerts_slack_attempts_total', 'kube_job_alerts_slack_request_duration_seconds']);
      else assert.equal(metrics.size, 1, `${label} is used by ${[...metrics].join(', ')}`);
    }
  });
});

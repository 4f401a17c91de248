/**
 * deploy/components/monitoring and network-policy: they render with deploy/ and its cluster-wide overlay, select
 * the daemon's own Service and pods, and the alert rules and the dashboard read only metrics the daemon exports.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { V1Deployment, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import { Metrics } from '../../src/metrics.ts';
import { only, parseManifests, renderWithComponents, repoRoot, type Manifest } from '../world/deploy.ts';
import { metricNames } from '../world/promql.ts';
import { assertValid } from '../world/schemas.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

/** Every series name /metrics can show: each metric, and a histogram's _bucket, _sum and _count. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await new Metrics({ defaultMetrics: true }).registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

describe('metricNames (PromQL)', () => {
  const cases: [string, string[]][] = [
    ['up', ['up']],
    ['sum by (namespace, job) (increase(a_total{x="y"}[30m])) > 0 unless on (namespace, job) b_total', ['a_total', 'b_total']],
    ['histogram_quantile(0.99, sum by (le) (rate(h_bucket{namespace=~"$namespace"}[$__rate_interval])))', ['h_bucket']],
    ['time() - max(t_seconds > 0)', ['t_seconds']],
    ['absent(build_info)', ['build_info']],
    ['x_total offset 5m / 1e3', ['x_total']],
    ['label_replace(m, "dst", "$1", "src", "(.*)")', ['m']],
  ];
  for (const [expression, names] of cases) it(expression, () => assert.deepEqual(metricNames(expression), names));
});

for (const install of ['deploy', 'deploy/overlays/cluster-wide']) {
  describe(`components/monitoring with ${install}`, () => {
    let objects: Manifest[];
    before(async () => (objects = parseManifests(await renderWithComponents(install, ['monitoring']))));

    it('renders a ServiceMonitor, a PrometheusRule and the dashboard ConfigMap, valid, in kube-job-alerts', async () => {
      await assertValid(objects);
      for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap']) assert.equal(only(objects, kind).metadata.namespace, 'kube-job-alerts', kind);
    });

    it('the ServiceMonitor selects the daemon\'s Service, on a port it has', () => {
      const monitor = only<Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(objects, 'ServiceMonitor');
      const service = only<V1Service>(objects, 'Service');
      for (const [label, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata!.labels![label], value, label);
      assert.deepEqual(monitor.spec.endpoints.map((endpoint) => [endpoint.port, endpoint.path]), [['http', '/metrics']]);
      assert.ok(service.spec!.ports!.some((port) => port.name === 'http'));
    });

    it('the dashboard ConfigMap carries dashboard.json, for Grafana\'s sidecar', () => {
      const map = only<Manifest & { data: Record<string, string> }>(objects, 'ConfigMap');
      assert.equal(map.metadata.labels?.['grafana_dashboard'], '1');
      assert.equal(map.data['kube-job-alerts.json'], readFileSync(join(repoRoot, 'deploy/components/monitoring/dashboard.json'), 'utf8'));
    });
  });
}

describe('the PrometheusRule', () => {
  let rules: Rule[];
  before(async () => {
    const objects = parseManifests(await renderWithComponents('deploy', ['monitoring']));
    rules = only<Manifest & { spec: { groups: { rules: Rule[] }[] } }>(objects, 'PrometheusRule').spec.groups.flatMap((group) => group.rules);
  });

  it('alerts on: not delivering while failures are detected, informer restarting, not ready (and more)', () => {
    const alerts = rules.map((rule) => rule.alert);
    for (const alert of ['KubeJobAlertsNotDelivering', 'KubeJobAlertsInformerRestarting', 'KubeJobAlertsNotReady']) assert.ok(alerts.includes(alert), alert);
  });

  it('each expression names only metrics that src/metrics.ts exports', async () => {
    const exported = await exportedNames();
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      assert.ok(names.length > 0, `${rule.alert} names no metric`);
      for (const name of names) assert.ok(exported.has(name), `${rule.alert}: ${name} is not exported`);
    }
  });

  it('not delivering: failures detected without deliveries, in one (namespace, job)', () => {
    const rule = rules.find((candidate) => candidate.alert === 'KubeJobAlertsNotDelivering')!;
    assert.deepEqual(metricNames(rule.expr), ['kube_job_alerts_alerts_sent_total', 'kube_job_alerts_failures_detected_total']);
    assert.match(rule.expr, /unless on \(namespace, job\)/);
  });

  it('every alert has a severity, a summary and a description', () => {
    for (const rule of rules) {
      assert.match(rule.labels.severity, /^(critical|warning)$/, rule.alert);
      assert.ok(rule.annotations.summary && rule.annotations.description, rule.alert);
    }
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(repoRoot, 'deploy/components/monitoring/dashboard.json'), 'utf8')) as {
    uid: string;
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { name: string }[] };
  };

  it('every panel\'s queries name only metrics the daemon exports', async () => {
    const exported = await exportedNames();
    assert.ok(dashboard.panels.length > 0);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const names = metricNames(target.expr);
        assert.ok(names.length > 0, `${panel.title}: ${target.expr}`);
        for (const name of names) assert.ok(exported.has(name), `${panel.title}: ${name} is not exported`);
      }
    }
  });

  it('has a data-source variable and a namespace variable, and a stable uid', () => {
    assert.deepEqual(dashboard.templating.list.map((variable) => variable.name), ['datasource', 'namespace']);
    assert.equal(dashboard.uid, 'kube-job-alerts');
  });
});

describe('components/network-policy', () => {
  let objects: Manifest[];
  before(async () => (objects = parseManifests(await renderWithComponents('deploy', ['network-policy']))));

  it('renders a valid NetworkPolicy in kube-job-alerts that selects the daemon\'s pods', async () => {
    await assertValid(objects);
    const policy = only<V1NetworkPolicy>(objects, 'NetworkPolicy');
    assert.equal(policy.metadata!.namespace, 'kube-job-alerts');
    const podLabels = only<V1Deployment>(objects, 'Deployment').spec!.template.metadata!.labels!;
    for (const [label, value] of Object.entries(policy.spec!.podSelector!.matchLabels!)) assert.equal(podLabels[label], value, label);
  });

  it('egress: DNS to kube-dns, and TCP 443 and 6443 (the API server, Slack) only; ingress: the http port only', () => {
    const policy = only<V1NetworkPolicy>(objects, 'NetworkPolicy').spec!;
    assert.deepEqual(policy.policyTypes, ['Ingress', 'Egress']);
    const egress = policy.egress!.map((rule) => ({ to: rule.to, ports: rule.ports!.map((port) => `${port.port}/${port.protocol}`) }));
    assert.deepEqual(egress, [
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: ['53/UDP', '53/TCP'] },
      { to: undefined, ports: ['443/TCP', '6443/TCP'] },
    ]);
    assert.deepEqual(policy.ingress, [{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const container = only<V1Deployment>(objects, 'Deployment').spec!.template.spec!.containers[0]!;
    assert.ok(container.ports!.some((port) => port.name === 'http'));
  });
});

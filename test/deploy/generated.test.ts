/**
 * The files `npm run manifests` generates from deploy/ are current: deploy/install.yaml (compared as objects) and
 * the chart's copies of deploy/role.yaml, the PrometheusRule, the dashboard and the NetworkPolicy (byte for byte).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { V1Deployment } from '@kubernetes/client-node';
import { CHART_COPIES, INSTALL_YAML, staleFiles } from '../../scripts/manifests.ts';
import { packageVersion } from '../../src/version.ts';
import { only, parseManifests, repoRoot } from '../world/deploy.ts';

it('every generated file is current (else: npm run manifests)', async () => {
  assert.deepEqual(await staleFiles(), []);
});

it('the chart renders its RBAC rules, alert rules, dashboard and NetworkPolicy from those copies', () => {
  for (const copy of Object.keys(CHART_COPIES)) {
    const file = copy.replace('charts/kube-job-alerts/', '');
    const used = ['_helpers.tpl', 'monitoring.yaml', 'networkpolicy.yaml'].some((template) =>
      readFileSync(join(repoRoot, 'charts/kube-job-alerts/templates', template), 'utf8').includes(`.Files.Get "${file}"`),
    );
    assert.ok(used, `no template reads ${file}`);
  }
});

it('install.yaml installs the image of package.json\'s version', () => {
  const objects = parseManifests(readFileSync(join(repoRoot, INSTALL_YAML), 'utf8'));
  assert.equal(only<V1Deployment>(objects, 'Deployment').spec!.template.spec!.containers[0]!.image, `ghcr.io/kube-job-alerts/kube-job-alerts:${packageVersion()}`);
  for (const object of objects) assert.equal(object.metadata.labels?.['app.kubernetes.io/version'], packageVersion(), object.kind);
});

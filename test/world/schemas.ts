/**
 * Rendered objects checked against the Kubernetes schemas (kubernetes-models, generated from the API's OpenAPI),
 * and the Prometheus Operator's kinds against the fields their CRDs require (no schema package is installed).
 */
import assert from 'node:assert/strict';
import type { Manifest } from './deploy.ts';

type Model = new (data: never) => { validate(): void };
const schemas: Record<string, () => Promise<Model>> = {
  'v1/Namespace': async () => (await import('kubernetes-models/v1/Namespace')).Namespace,
  'v1/ServiceAccount': async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
  'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret,
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  'rbac.authorization.k8s.io/v1/Role': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/Role')).Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding')).RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole')).ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': async () =>
    (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding')).ClusterRoleBinding,
  'policy/v1/PodDisruptionBudget': async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': async () => (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy,
};

/** The fields the Prometheus Operator's CRDs require, and the shapes our files use. */
const operatorKinds: Record<string, (object: Manifest) => void> = {
  'monitoring.coreos.com/v1/ServiceMonitor': (object) => {
    const spec = object.spec as { selector?: { matchLabels?: object }; endpoints?: { port?: string; path?: string }[] };
    assert.ok(spec.selector?.matchLabels, 'ServiceMonitor spec.selector.matchLabels');
    assert.ok(spec.endpoints?.length && spec.endpoints.every((endpoint) => typeof endpoint.port === 'string'), 'ServiceMonitor spec.endpoints[].port');
  },
  'monitoring.coreos.com/v1/PrometheusRule': (object) => {
    const spec = object.spec as { groups?: { name?: string; rules?: { alert?: string; record?: string; expr?: unknown; for?: string }[] }[] };
    assert.ok(spec.groups?.length, 'PrometheusRule spec.groups');
    for (const group of spec.groups) {
      assert.equal(typeof group.name, 'string', 'PrometheusRule group name');
      for (const rule of group.rules ?? []) {
        assert.ok(typeof rule.alert === 'string' !== (typeof rule.record === 'string'), 'a rule is an alert or a record');
        assert.equal(typeof rule.expr, 'string', `${rule.alert} expr`);
        if (rule.for !== undefined) assert.match(rule.for, /^(\d+(ms|s|m|h|d|w|y))+$/, `${rule.alert} for`);
      }
    }
  },
};

export async function assertValid(objects: readonly Manifest[]): Promise<void> {
  for (const object of objects) {
    const kind = `${object.apiVersion}/${object.kind}`;
    const operator = operatorKinds[kind];
    if (operator) {
      operator(object);
      continue;
    }
    const load = schemas[kind];
    assert.ok(load, `no schema listed for ${object.apiVersion} ${object.kind}: add it to test/world/schemas.ts`);
    const Model = await load();
    assert.doesNotThrow(() => new Model(object as never).validate(), `${object.kind} ${object.metadata.name}`);
  }
}

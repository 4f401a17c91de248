/**
 * charts/kube-job-alerts, rendered by the real helm, against deploy/ rendered by kubectl's kustomize: the same
 * workload, RBAC and security settings, with every intended difference listed once (DIFFERENCES below). The chart
 * values for the comparison are read from the kustomize rendering (replicas, leader election, watched namespaces,
 * env), so rules, variables and settings that others add to deploy/ are compared without editing this test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { V1Container, V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { loadConfig } from '../../src/config.ts';
import { packageVersion } from '../../src/version.ts';
import { configVariables, only, parseManifests, renderDeployText, renderWithComponents, repoRoot, resolvedEnv, roleRules, unknownFields, type GrantedRule, type Manifest } from '../world/deploy.ts';
import { startApiServer } from '../world/apiserver.ts';
import { CHART, helm, templateChart } from '../world/helm.ts';
import { assertValid } from '../world/schemas.ts';

const NAMESPACE = 'kube-job-alerts';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';

/**
 * What differs between `helm install` and `kubectl apply -k deploy/`, on purpose. Nothing else may.
 * - Namespace: deploy/ creates its namespace with Pod Security "restricted" enforced; Helm does not manage
 *   namespaces (`--create-namespace` cannot label one), so NOTES.txt gives the label command instead.
 * - Labels: each tool names itself in app.kubernetes.io/managed-by, and Helm adds helm.sh/chart.
 * - The order of env entries: a kustomize patch puts its variables first (no entry refers to another, so order
 *   does not matter).
 */
const DIFFERENCES = {
  kustomizeOnlyKinds: ['Namespace'],
  toolLabels: ['app.kubernetes.io/managed-by', 'helm.sh/chart'],
  envOrder: true,
};

/**
 * How the chart's named values map onto the daemon's variables (the rest go through `env`). Reading the kustomize
 * rendering through this table gives the values that should reproduce it.
 */
type Values = Record<string, unknown> & { env: Record<string, string>; extraEnv: V1EnvVar[] };
const NAMED: Record<string, (values: Values, variable: V1EnvVar) => void> = {
  SLACK_WEBHOOK_URL: (values, variable) => {
    const ref = variable.valueFrom?.secretKeyRef;
    assert.ok(ref, 'deploy/ takes SLACK_WEBHOOK_URL from a Secret');
    values.slack = { webhook: { existingSecret: ref.name, key: ref.key } };
  },
  CLUSTER_NAME: (values, variable) => (values.clusterName = variable.value ?? ''),
  WATCH_NAMESPACES: (values, variable) => (values.watchNamespaces = (variable.value ?? '').split(',')),
  ALERT_MAX_AGE: (values, variable) => (values.alertMaxAge = variable.value),
  STATE_STORE: (values, variable) => (values.stateStore = variable.value),
  LOG_TAIL_LINES: (values, variable) => (values.logTailLines = Number(variable.value)),
  LOG_LEVEL: (values, variable) => (values.logLevel = variable.value),
  DRY_RUN: (values, variable) => (values.dryRun = variable.value === 'true'),
  LEADER_ELECTION: (values, variable) => (values.leaderElection = { ...(values.leaderElection as object), enabled: variable.value === 'true' }),
  LEASE_NAME: (values, variable) => (values.leaderElection = { ...(values.leaderElection as object), leaseName: variable.value }),
  // Always set by the chart, from the downward API, as deploy/ does.
  POD_NAME: () => {},
  POD_NAMESPACE: () => {},
  // The chart serves on 8080, the daemon's default, like deploy/.
  HTTP_PORT: (_values, variable) => assert.equal(variable.value, '8080', 'the chart serves on 8080'),
};

function deploymentOf(objects: readonly Manifest[]): V1Deployment {
  return only<V1Deployment>(objects, 'Deployment');
}
function containerOf(objects: readonly Manifest[]): V1Container {
  return deploymentOf(objects).spec!.template.spec!.containers[0]!;
}

/** The chart values that should render what kustomize rendered. */
function valuesFor(kustomize: readonly Manifest[]): Values {
  const deployment = deploymentOf(kustomize);
  const container = containerOf(kustomize);
  const [repository, tag] = container.image!.split(':');
  const values: Values = { image: { repository, tag }, replicaCount: deployment.spec!.replicas, env: {}, extraEnv: [] };
  for (const variable of container.env ?? []) {
    const named = NAMED[variable.name];
    if (named) named(values, variable);
    else if (variable.valueFrom) values.extraEnv.push(variable);
    else values.env[variable.name] = variable.value ?? '';
  }
  return values;
}

/** Both renderings minus DIFFERENCES, keyed and sorted so a difference names its object. */
function comparable(objects: readonly Manifest[]): Record<string, Manifest> {
  const strip = (labels: Record<string, string> | undefined) => {
    for (const label of DIFFERENCES.toolLabels) delete labels?.[label];
  };
  const result: Record<string, Manifest> = {};
  for (const original of objects) {
    if (DIFFERENCES.kustomizeOnlyKinds.includes(original.kind)) continue;
    const object = structuredClone(original);
    strip(object.metadata.labels);
    if (object.kind === 'Deployment') {
      const template = (object as unknown as V1Deployment).spec!.template;
      strip(template.metadata!.labels);
      if (DIFFERENCES.envOrder) for (const container of template.spec!.containers) container.env?.sort((a, b) => a.name.localeCompare(b.name));
    }
    result[`${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`] = object;
  }
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}

/** `verb group/resource [names] in namespace`: what a rule grants, independent of how the rules are grouped. */
function grants(rules: readonly GrantedRule[]): string[] {
  const all = rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((resource) =>
        rule.verbs.flatMap((verb) =>
          (rule.namespaces ?? ['*']).map((namespace) => `${verb} ${group}/${resource}${rule.resourceNames ? ` [${rule.resourceNames.join(',')}]` : ''} in ${namespace}`),
        ),
      ),
    ),
  );
  return [...new Set(all)].sort();
}

async function rendered(values: object, options?: { release?: string; namespace?: string }): Promise<{ text: string; objects: Manifest[] }> {
  const result = await templateChart(values, options);
  assert.ok(result.ok, `helm template failed:\n${result.stderr}`);
  return { text: result.stdout, objects: parseManifests(result.stdout) };
}

async function refused(values: object): Promise<string> {
  const result = await templateChart(values);
  assert.ok(!result.ok, `helm template accepted ${JSON.stringify(values)}`);
  return result.stderr;
}

const kindsOf = (objects: readonly Manifest[]) => objects.map((object) => object.kind).sort();
const withSecret = { slack: { webhook: { existingSecret: 'kube-job-alerts' } } };

describe('helm lint', () => {
  it('passes --strict with the default values and with every option on', async () => {
    for (const args of [[], ['--set', 'slack.webhook.existingSecret=kja', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.dashboard.enabled=true', '--set', 'networkPolicy.enabled=true', '--set', 'podDisruptionBudget.enabled=true', '--set', 'leaderElection.enabled=true', '--set', 'replicaCount=2']]) {
      const result = await helm('lint', '--strict', CHART, ...args);
      assert.ok(result.ok, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('Chart.yaml: version and appVersion are package.json\'s version', () => {
    const chart = readFileSync(join(CHART, 'Chart.yaml'), 'utf8');
    assert.match(chart, new RegExp(`^version: ${packageVersion().replaceAll('.', '\\.')}$`, 'm'));
    assert.match(chart, new RegExp(`^appVersion: "${packageVersion().replaceAll('.', '\\.')}"$`, 'm'));
  });
});

/** deploy/'s optional components, and the chart values that turn on the same objects. */
const EVERY_COMPONENT = {
  components: ['pdb', 'monitoring', 'network-policy'],
  values: {
    metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboard: { enabled: true } },
    networkPolicy: { enabled: true },
    podDisruptionBudget: { enabled: true },
  },
};

const installs: [name: string, render: () => Promise<string>, extraValues: object][] = [
  ['deploy/', () => renderDeployText('deploy'), {}],
  ['deploy/overlays/cluster-wide', () => renderDeployText('deploy/overlays/cluster-wide'), {}],
  ['deploy/ with every component', () => renderWithComponents('deploy', EVERY_COMPONENT.components), EVERY_COMPONENT.values],
];

for (const [name, render, extraValues] of installs) {
  describe(`the chart renders what ${name} renders`, () => {
    let kustomize: Manifest[];
    let chart: { text: string; objects: Manifest[] };
    before(async () => {
      kustomize = parseManifests(await render());
      chart = await rendered({ ...valuesFor(kustomize), ...extraValues });
    });

    it('every object validates against its schema, with no unknown field', async () => {
      await assertValid(chart.objects);
      // unknownFields reads keys line by line: the long texts of the dashboard's JSON and the rules' annotations,
      // which helm wraps over lines, would read as keys. Those two kinds have no Kubernetes type to drop fields.
      const typed = chart.text.split(/^---$/m).filter((doc) => !/^kind: (ConfigMap|PrometheusRule)$/m.test(doc));
      assert.deepEqual(unknownFields(typed.join('---\n')), []);
    });

    it('the same objects, field for field, but for DIFFERENCES', () => {
      assert.deepEqual(comparable(chart.objects), comparable(kustomize));
    });

    // Implied by the above; kept apart so that a failure says which promise broke.
    it('the same RBAC: every grant, in the same namespaces', () => {
      assert.deepEqual(grants(roleRules(chart.objects)), grants(roleRules(kustomize)));
    });

    it('the same pod and container security settings, and the config the daemon loads', () => {
      assert.deepEqual(deploymentOf(chart.objects).spec!.template.spec!.securityContext, deploymentOf(kustomize).spec!.template.spec!.securityContext);
      assert.deepEqual(containerOf(chart.objects).securityContext, containerOf(kustomize).securityContext);
      const config = (objects: Manifest[]) => {
        const env = containerOf(objects).env ?? [];
        // Leader election is refused by config.ts until it exists; compare the rest.
        return loadConfig(resolvedEnv(env.filter((variable) => variable.name !== 'LEADER_ELECTION')));
      };
      assert.deepEqual(config(chart.objects), config(kustomize));
    });
  });
}

describe('chart values', () => {
  it('the webhook: an existing Secret, read through secretKeyRef; no Secret is rendered', async () => {
    const { objects } = await rendered({ slack: { webhook: { existingSecret: 'my-webhook', key: 'url' } } });
    assert.equal(objects.filter((object) => object.kind === 'Secret').length, 0);
    assert.deepEqual(containerOf(objects).env?.find((variable) => variable.name === 'SLACK_WEBHOOK_URL')?.valueFrom, { secretKeyRef: { name: 'my-webhook', key: 'url' } });
  });

  it('the webhook: a URL, stored in a Secret the chart creates; the plain URL appears nowhere in the manifests', async () => {
    const { text, objects } = await rendered({ slack: { webhook: { url: WEBHOOK } } });
    await assertValid(objects);
    const secret = only<Manifest & { data: Record<string, string> }>(objects, 'Secret');
    assert.equal(Buffer.from(secret.data['webhook-url']!, 'base64').toString(), WEBHOOK);
    assert.deepEqual(containerOf(objects).env?.find((variable) => variable.name === 'SLACK_WEBHOOK_URL')?.valueFrom, { secretKeyRef: { name: secret.metadata.name, key: 'webhook-url' } });
    assert.ok(!text.includes(WEBHOOK));
    assert.match(deploymentOf(objects).spec!.template.metadata!.annotations!['checksum/webhook']!, /^[0-9a-f]{64}$/);
  });

  it('routes: each a named webhook from its own Secret (SLACK_ROUTE_<NAME>), which the daemon reads as that route', async () => {
    const { objects } = await rendered({ ...withSecret, slack: { webhook: { existingSecret: 'kube-job-alerts' }, routes: { 'team-a': { existingSecret: 'slack-team-a' }, data: { existingSecret: 'slack-data', key: 'url' } } } });
    const env = containerOf(objects).env ?? [];
    assert.deepEqual(env.find((variable) => variable.name === 'SLACK_ROUTE_TEAM_A')?.valueFrom, { secretKeyRef: { name: 'slack-team-a', key: 'webhook-url' } });
    assert.deepEqual(env.find((variable) => variable.name === 'SLACK_ROUTE_DATA')?.valueFrom, { secretKeyRef: { name: 'slack-data', key: 'url' } });
    assert.deepEqual([...loadConfig(resolvedEnv(env)).routes.keys()].sort(), ['data', 'team-a']);
  });

  it('no webhook and no dry run: refused, saying what to set', async () => {
    assert.match(await refused({}), /slack\.webhook: set existingSecret .* or url .*, or set dryRun: true/);
  });

  it('dry run needs no webhook, and says so to the daemon', async () => {
    const { objects } = await rendered({ dryRun: true });
    const config = loadConfig(resolvedEnv(containerOf(objects).env ?? []));
    assert.equal(config.dryRun, true);
    assert.equal(config.slackWebhookUrl, undefined);
  });

  it('every variable config.ts reads can be set: named values or `env`; the named ones reach the daemon', async () => {
    const { objects } = await rendered({
      ...withSecret,
      clusterName: 'prod-eu',
      watchNamespaces: ['batch', 'etl'],
      alertMaxAge: '2h',
      stateStore: 'memory',
      logTailLines: 0,
      logLevel: 'debug',
      env: { SOME_FUTURE_VARIABLE: 'x' },
      extraEnv: [{ name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    });
    const env = containerOf(objects).env ?? [];
    const config = loadConfig(resolvedEnv(env.filter((variable) => variable.name !== 'FROM_SECRET')));
    assert.equal(config.clusterName, 'prod-eu');
    assert.deepEqual(config.watchNamespaces, ['batch', 'etl']);
    assert.equal(config.alertMaxAgeMs, 7_200_000);
    assert.equal(config.stateStore, 'memory');
    assert.equal(config.logTailLines, 0);
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(env.find((variable) => variable.name === 'SOME_FUTURE_VARIABLE'), { name: 'SOME_FUTURE_VARIABLE', value: 'x' });
    assert.ok(env.some((variable) => variable.name === 'FROM_SECRET'));
    // A variable that has no named value must be free to set through env (the schema reserves the named ones).
    for (const variable of configVariables().filter((name) => !(name in NAMED))) {
      assert.ok((await templateChart({ ...withSecret, env: { [variable]: 'x' } })).ok, `${variable} cannot be set through env`);
    }
  });

  it('unset values are left to the daemon\'s defaults (the chart repeats none)', async () => {
    const env = containerOf((await rendered(withSecret)).objects).env ?? [];
    assert.deepEqual(env.map((variable) => variable.name), ['SLACK_WEBHOOK_URL', 'CLUSTER_NAME', 'POD_NAME', 'POD_NAMESPACE']);
  });

  it('watchNamespaces [a, b]: a ClusterRole bound by a RoleBinding in each, and nowhere else', async () => {
    const { objects } = await rendered({ ...withSecret, watchNamespaces: ['batch', 'etl'] });
    await assertValid(objects);
    assert.deepEqual(kindsOf(objects), ['ClusterRole', 'Deployment', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount']);
    assert.deepEqual([...new Set(roleRules(objects).map((rule) => rule.namespaces?.join()))].sort(), ['batch', 'etl']);
  });

  it('leader election: the variables, a Lease Role in the release namespace only, rolling updates, more replicas', async () => {
    const { objects } = await rendered({ ...withSecret, replicaCount: 2, leaderElection: { enabled: true }, watchNamespaces: ['*'] });
    await assertValid(objects);
    const env = Object.fromEntries((containerOf(objects).env ?? []).map((variable) => [variable.name, variable.value ?? variable.valueFrom]));
    assert.equal(env.LEADER_ELECTION, 'true');
    assert.equal(env.LEASE_NAME, 'kube-job-alerts');
    assert.deepEqual(env.POD_NAME, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.equal(deploymentOf(objects).spec!.replicas, 2);
    assert.equal(deploymentOf(objects).spec!.strategy!.type, 'RollingUpdate');
    const leases = grants(roleRules(objects)).filter((grant) => grant.includes('coordination.k8s.io'));
    assert.deepEqual(leases, [
      `create coordination.k8s.io/leases in ${NAMESPACE}`,
      `get coordination.k8s.io/leases [kube-job-alerts] in ${NAMESPACE}`,
      `update coordination.k8s.io/leases [kube-job-alerts] in ${NAMESPACE}`,
    ]);
  });

  it('leader election off (the default): no Lease rule, Recreate, one replica', async () => {
    const { objects } = await rendered(withSecret);
    assert.deepEqual(grants(roleRules(objects)).filter((grant) => grant.includes('leases')), []);
    assert.equal(deploymentOf(objects).spec!.strategy!.type, 'Recreate');
    assert.equal(deploymentOf(objects).spec!.replicas, 1);
  });

  it('a release under another name and namespace: names, selectors and bindings follow it', async () => {
    const { objects } = await rendered(withSecret, { release: 'alerts', namespace: 'ops' });
    for (const object of objects) assert.equal(object.metadata.namespace, 'ops', object.kind);
    assert.deepEqual(new Set(objects.map((object) => object.metadata.name)), new Set(['alerts-kube-job-alerts']));
    assert.deepEqual(grants(roleRules(objects)).every((grant) => grant.endsWith(' in ops')), true);
    assert.deepEqual(deploymentOf(objects).spec!.selector.matchLabels, { 'app.kubernetes.io/name': 'kube-job-alerts', 'app.kubernetes.io/instance': 'alerts' });
  });

  it('an image digest pins the image', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(containerOf((await rendered({ ...withSecret, image: { digest } })).objects).image, `ghcr.io/kube-job-alerts/kube-job-alerts@${digest}`);
  });

  it('monitoring, NetworkPolicy and PodDisruptionBudget are off by default (on, they equal deploy/components: above)', async () => {
    assert.deepEqual(kindsOf((await rendered(withSecret)).objects), ['Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  });
});

describe('the chart\'s RBAC, enforced by the API-server emulator, grants everything `kube-job-alerts check` asks', () => {
  for (const watchNamespaces of [[], ['*'], ['batch', 'etl']]) {
    it(`watchNamespaces: ${JSON.stringify(watchNamespaces)}`, async (t) => {
      const { objects } = await rendered({ ...withSecret, watchNamespaces });
      const api = await startApiServer({ rbac: roleRules(objects) });
      t.after(() => api.close());
      const env = Object.fromEntries((containerOf(objects).env ?? []).filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value]));
      // As `kubectl exec deploy/kube-job-alerts -- kube-job-alerts check` would run it, with the pod's variables.
      const check = promisify(execFile)(process.execPath, [join(repoRoot, 'bin/kube-job-alerts.js'), 'check'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, KUBECONFIG: api.kubeconfigPath, POD_NAMESPACE: NAMESPACE },
      });
      const { stdout } = await check;
      assert.match(stdout, /All \d+ permissions granted\./);
    });
  }
});

describe('values.schema.json refuses bad values, naming the value', () => {
  const cases: [what: string, values: object, message: RegExp][] = [
    ['a misspelt value', { ...withSecret, clustername: 'x' }, /additional properties 'clustername' not allowed/],
    ['an unknown log level', { ...withSecret, logLevel: 'verbose' }, /\/logLevel/],
    ['a duration without a unit', { ...withSecret, alertMaxAge: '90' }, /\/alertMaxAge/],
    ['LOG_TAIL_LINES over 1000', { ...withSecret, logTailLines: 5000 }, /\/logTailLines/],
    ['a plain-http webhook', { slack: { webhook: { url: 'http://hooks.slack.com/x' } } }, /\/slack\/webhook\/url/],
    ['* with other namespaces', { ...withSecret, watchNamespaces: ['*', 'a'] }, /\/watchNamespaces/],
    ['a namespace that is not a DNS label', { ...withSecret, watchNamespaces: ['Batch'] }, /\/watchNamespaces/],
    ['a variable the chart sets itself, through env', { ...withSecret, env: { SLACK_WEBHOOK_URL: 'x' } }, /SLACK_WEBHOOK_URL/],
    ['a route\'s webhook in plain env (it belongs in a Secret: slack.routes)', { ...withSecret, env: { SLACK_ROUTE_OPS: 'https://hooks.slack.com/x' } }, /SLACK_ROUTE_OPS/],
    ['a route without its Secret', { slack: { webhook: { existingSecret: 'a' }, routes: { ops: { key: 'url' } } } }, /\/slack\/routes\/ops/],
    ['two replicas without leader election', { ...withSecret, replicaCount: 2 }, /\/leaderElection\/enabled/],
    ['a digest that is not sha256', { ...withSecret, image: { digest: 'sha256:abc' } }, /\/image\/digest/],
  ];
  for (const [what, values, message] of cases) it(what, async () => assert.match(await refused(values), message));
});

describe('NOTES.txt', () => {
  it('says how to check it works: rollout, kube-job-alerts check and test-alert in the pod, logs, /readyz', async () => {
    const result = await helm('install', 'kube-job-alerts', CHART, '--namespace', NAMESPACE, '--dry-run=client', '--set', 'slack.webhook.existingSecret=kube-job-alerts');
    assert.ok(result.ok, result.stderr);
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    for (const line of [
      `kubectl -n ${NAMESPACE} rollout status deploy/kube-job-alerts`,
      `kubectl -n ${NAMESPACE} exec deploy/kube-job-alerts -- kube-job-alerts check`,
      `kubectl -n ${NAMESPACE} exec deploy/kube-job-alerts -- kube-job-alerts test-alert`,
      `kubectl -n ${NAMESPACE} logs deploy/kube-job-alerts`,
      'curl -s localhost:8080/readyz',
    ]) {
      assert.ok(notes.includes(line), `NOTES.txt lacks: ${line}\n${notes}`);
    }
  });
});

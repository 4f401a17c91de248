/**
 * deploy/ as kubectl applies it (`kubectl kustomize`), checked against the Kubernetes schemas, the hardening it
 * promises, and the code it deploys: env names config.ts reads, the probe paths and port server.ts serves, the
 * drain main.ts does, and RBAC that grants exactly the API calls src/kube/ makes (read from the source).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1Deployment, V1PodDisruptionBudget, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { loadConfig } from '../../src/config.ts';
import { packageVersion } from '../../src/version.ts';
import { requiredPermissions } from '../../src/kube/permissions.ts';
import {
  configVariables,
  only,
  parseManifests,
  renderDeploy,
  renderDeployText,
  repoRoot,
  resolvedEnv,
  roleRules,
  unknownFields,
  type GrantedRule,
  type Manifest,
} from '../world/deploy.ts';
import { assertValid } from '../world/schemas.ts';

const NAMESPACE = 'kube-job-alerts';
const OVERLAY = 'deploy/overlays/cluster-wide';
const HA = 'deploy/overlays/ha';
const LABELS = {
  'app.kubernetes.io/name': 'kube-job-alerts',
  'app.kubernetes.io/instance': 'kube-job-alerts',
  'app.kubernetes.io/component': 'controller',
  'app.kubernetes.io/part-of': 'kube-job-alerts',
  'app.kubernetes.io/managed-by': 'kustomize',
  'app.kubernetes.io/version': packageVersion(),
};
/** What src/main.ts promises: SIGTERM drains and exits within this. */
const DRAIN_SECONDS = 10;

// --- the code's side: config names, API calls ------------------------------------------------------------------

/** Families of variables loadConfig reads by prefix (`export const ROUTE_VARIABLE_PREFIX = 'SLACK_ROUTE_'`): one Config field each. */
function configVariablePrefixes(): string[] {
  const source = readFileSync(join(repoRoot, 'src/config.ts'), 'utf8');
  return [...source.matchAll(/^export const \w+_PREFIX = '([A-Z][A-Z0-9_]*_)';$/gm)].map((match) => match[1]!);
}

/** `verb group/resource`, the unit RBAC grants. */
type Grant = string;
const grant = (verb: string, group: string, resource: string): Grant => `${verb} ${group}/${resource}`;

/** The Kubernetes kinds the generated clients' method names carry, and what RBAC calls them. */
const apiResources: Record<string, { group: string; resource: string } | 'anyone'> = {
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
  Pod: { group: '', resource: 'pods' },
  PodLog: { group: '', resource: 'pods/log' },
  Event: { group: '', resource: 'events' },
  Lease: { group: 'coordination.k8s.io', resource: 'leases' },
  Secret: { group: '', resource: 'secrets' },
  // Every authenticated user may create these (the system:basic-user ClusterRole): no rule of ours is needed.
  SelfSubjectAccessReview: 'anyone',
  Namespace: { group: '', resource: 'namespaces' },
};
const verbOfMethod: Record<string, string> = { list: 'list', read: 'get', patch: 'patch', create: 'create', replace: 'update', delete: 'delete' };

/**
 * What src/kube/ asks of the API server, read from its source: client calls such as `listNamespacedJob(` or
 * `readNamespacedPodLog(`, and informers' paths such as path: `/apis/batch/v1${where}/jobs` (an informer lists its
 * path, in pages, and watches it). `only` reads the named files alone.
 */
function apiCallsInSource(only?: readonly string[]): Set<Grant> {
  const calls = new Set<Grant>();
  const files = readdirSync(join(repoRoot, 'src/kube')).filter((name) => name.endsWith('.ts') && (only === undefined || only.includes(name)));
  for (const file of files) {
    const source = readFileSync(join(repoRoot, 'src/kube', file), 'utf8');
    for (const [call, method, namespaced, kind, all] of source.matchAll(/\.(list|read|patch|create|replace|delete)(Namespaced)?([A-Z][A-Za-z]*?)(ForAllNamespaces)?\(/g)) {
      const target = apiResources[kind!];
      if (target === undefined) {
        // Not a Kubernetes call unless its name says so.
        assert.ok(!namespaced && !all, `src/kube/${file}: ${call} is an API call this test cannot map: add ${kind} to apiResources`);
        continue;
      }
      if (target !== 'anyone') calls.add(grant(verbOfMethod[method!]!, target.group, target.resource));
    }
    for (const [, group = '', resource] of source.matchAll(/\bpath:\s*[`'"]\/api(?:s\/([a-z0-9.-]+))?\/v[0-9a-z]+(?:\$\{\w+\})?\/([a-z]+)[`'"]/g)) {
      calls.add(grant('list', group, resource!));
      calls.add(grant('watch', group, resource!));
    }
  }
  return calls;
}

function grantsOf(rules: readonly GrantedRule[]): Set<Grant> {
  const grants = rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => grant(verb, group, resource)))),
  );
  return new Set(grants);
}

const sorted = (grants: Iterable<Grant>): Grant[] => [...grants].sort();

/** The verbs the brief allows per resource; anything else is a widening that needs a reason in code first. */
const ALLOWED_VERBS: Record<string, readonly string[]> = {
  'batch/jobs': ['list', 'watch', 'patch'],
  'batch/cronjobs': ['get', 'list', 'watch', 'patch'],
  '/pods': ['list'],
  '/pods/log': ['get'],
  '/events': ['list', 'watch'],
  '/namespaces': ['get', 'list', 'watch'],
  'coordination.k8s.io/leases': ['get', 'create', 'update'],
};

/**
 * Calls src/kube/ makes only when the user opts in, and the component that grants them: the plain installs leave
 * them out (RBAC stays exactly what that configuration calls), and install + component grant exactly all calls.
 */
const OPT_IN_GRANTS: Record<Grant, string> = {
  [grant('get', '', 'namespaces')]: 'components/namespace-annotations',
  [grant('list', '', 'namespaces')]: 'components/namespace-annotations',
  [grant('watch', '', 'namespaces')]: 'components/namespace-annotations',
  // LEADER_ELECTION=true: src/kube/lease.ts reads, creates and updates the Lease.
  [grant('get', 'coordination.k8s.io', 'leases')]: 'components/leader-election',
  [grant('create', 'coordination.k8s.io', 'leases')]: 'components/leader-election',
  [grant('update', 'coordination.k8s.io', 'leases')]: 'components/leader-election',
};
const NAMESPACE_ANNOTATIONS_COMPONENT = 'deploy/components/namespace-annotations';

// --- helpers over the rendered objects ---------------------------------------------------------------------------

function deploymentOf(objects: readonly Manifest[]): V1Deployment {
  return only<V1Deployment>(objects, 'Deployment', 'kube-job-alerts');
}

function containerOf(objects: readonly Manifest[]): V1Container {
  const containers = deploymentOf(objects).spec!.template.spec!.containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
}

function at(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
}

/** A kustomization in a fresh temporary directory (kustomize refuses absolute paths, so it refers by relative ones). */
function withKustomization(make: (repo: string) => string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
  writeFileSync(join(dir, 'kustomization.yaml'), make(relative(dir, repoRoot)));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Each directory is rendered once per run: kubectl kustomize takes a few hundred milliseconds. */
const renders = new Map<string, Promise<string>>();
function rendered(dir: string): Promise<string> {
  if (!renders.has(dir)) renders.set(dir, renderDeployText(dir));
  return renders.get(dir)!;
}
const objectsOf = async (dir: string): Promise<Manifest[]> => parseManifests(await rendered(dir));

// --- the checks both installs share -------------------------------------------------------------------------------

/**
 * How the Deployment runs, and the opt-in components an install includes: one replica recreated, or two rolled one
 * at a time with leader election (overlays/ha).
 */
interface Rollout {
  replicas: number;
  strategy: object;
  components: readonly string[];
}
const SINGLE: Rollout = { replicas: 1, strategy: { type: 'Recreate' }, components: [] };
const ROLLED: Rollout = {
  replicas: 2,
  strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
  components: ['components/leader-election'],
};

function sharedChecks(name: string, dir: string, expectedKinds: string[], rollout: Rollout = SINGLE): void {
  describe(`${name}: objects`, () => {
    let text: string;
    let objects: Manifest[];
    before(async () => {
      text = await rendered(dir);
      objects = parseManifests(text);
    });

    it('renders exactly the expected kinds', () => {
      assert.deepEqual(objects.map((object) => object.kind).sort(), [...expectedKinds].sort());
    });

    it('every object validates against its Kubernetes schema', async () => {
      await assertValid(objects);
    });

    it('no field is unknown to the API (kubectl apply would refuse it)', () => {
      assert.deepEqual(unknownFields(text), []);
    });

    it('every namespaced object is in kube-job-alerts, and every object has the app.kubernetes.io labels', () => {
      for (const object of objects) {
        const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind);
        assert.equal(object.metadata.namespace, clusterScoped ? undefined : NAMESPACE, `${object.kind} namespace`);
        for (const [label, value] of Object.entries(LABELS)) assert.equal(object.metadata.labels?.[label], value, `${object.kind} ${label}`);
      }
    });

    it('ships no Secret: the webhook Secret is the user\'s', () => {
      assert.equal(objects.filter((object) => object.kind === 'Secret').length, 0);
      assert.doesNotMatch(text, /hooks\.slack\.com/);
    });

    it('the namespace enforces Pod Security "restricted"', () => {
      assert.equal(only(objects, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    });
  });

  describe(`${name}: the Deployment`, () => {
    let objects: Manifest[];
    before(async () => (objects = await objectsOf(dir)));

    // One `it` per promised setting, so a regression names the setting.
    const settings: [string, unknown][] = [
      ['spec.replicas', rollout.replicas],
      ['spec.strategy', rollout.strategy],
      ['spec.template.spec.serviceAccountName', 'kube-job-alerts'],
      ['spec.template.spec.automountServiceAccountToken', true],
      ['spec.template.spec.terminationGracePeriodSeconds', 30],
      ['spec.template.spec.securityContext.runAsNonRoot', true],
      ['spec.template.spec.securityContext.runAsUser', 65532],
      ['spec.template.spec.securityContext.runAsGroup', 65532],
      ['spec.template.spec.securityContext.fsGroup', 65532],
      ['spec.template.spec.securityContext.seccompProfile.type', 'RuntimeDefault'],
      ['spec.template.spec.hostNetwork', undefined],
      ['spec.template.spec.hostPID', undefined],
      ['spec.template.spec.hostIPC', undefined],
      ['spec.template.spec.volumes', undefined],
    ];
    for (const [path, expected] of settings) {
      it(`${path} is ${JSON.stringify(expected)}`, () => assert.deepEqual(at(deploymentOf(objects), path), expected));
    }

    const containerSettings: [string, unknown][] = [
      ['securityContext.readOnlyRootFilesystem', true],
      ['securityContext.allowPrivilegeEscalation', false],
      ['securityContext.privileged', false],
      ['securityContext.capabilities.drop', ['ALL']],
      ['securityContext.capabilities.add', undefined],
      ['securityContext.runAsUser', undefined],
      ['resources.requests.cpu', '20m'],
      ['resources.requests.memory', '192Mi'],
      ['resources.limits.memory', '384Mi'],
      ['resources.limits.cpu', undefined],
      ['image', `ghcr.io/kube-job-alerts/kube-job-alerts:${packageVersion()}`],
      ['volumeMounts', undefined],
    ];
    for (const [path, expected] of containerSettings) {
      it(`container ${path} is ${JSON.stringify(expected)}`, () => assert.deepEqual(at(containerOf(objects), path), expected));
    }

    it('terminationGracePeriodSeconds leaves room for the drain (exits within 10 s)', () => {
      assert.ok(deploymentOf(objects).spec!.template.spec!.terminationGracePeriodSeconds! > DRAIN_SECONDS);
    });

    it('only the daemon\'s pod mounts the ServiceAccount token', () => {
      assert.equal(only<V1ServiceAccount>(objects, 'ServiceAccount').automountServiceAccountToken, false);
    });

    it('every env name is one config.ts reads', () => {
      const known = configVariables();
      const prefixes = configVariablePrefixes();
      assert.deepEqual(prefixes, ['SLACK_ROUTE_']);
      // The scan finds one name (or prefix) per Config field, or it has stopped matching config.ts.
      assert.equal(known.length + prefixes.length, Object.keys(loadConfig({ DRY_RUN: 'true' })).length);
      for (const variable of containerOf(objects).env ?? []) {
        assert.ok(known.includes(variable.name) || prefixes.some((prefix) => variable.name.startsWith(prefix)), `${variable.name} is not read by config.ts`);
      }
    });

    it('SLACK_WEBHOOK_URL comes from the Secret kube-job-alerts, key webhook-url', () => {
      const webhook = containerOf(objects).env?.find((variable) => variable.name === 'SLACK_WEBHOOK_URL');
      assert.equal(webhook?.value, undefined);
      assert.deepEqual(webhook?.valueFrom, { secretKeyRef: { name: 'kube-job-alerts', key: 'webhook-url' } });
    });

    it('POD_NAME comes from the downward API', () => {
      const podName = containerOf(objects).env?.find((variable) => variable.name === 'POD_NAME');
      assert.deepEqual(podName?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    });

    it('POD_NAMESPACE comes from the downward API', () => {
      const podNamespace = containerOf(objects).env?.find((variable) => variable.name === 'POD_NAMESPACE');
      assert.deepEqual(podNamespace?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
    });

    it('the env passes loadConfig, and the container serves on the port config.ts listens on', () => {
      const config = loadConfig(resolvedEnv(containerOf(objects).env ?? []));
      assert.equal(config.dryRun, false);
      assert.equal(config.podName, 'kube-job-alerts-5d8f7c9b6-x7k2p');
      assert.deepEqual(containerOf(objects).ports, [{ name: 'http', containerPort: config.httpPort, protocol: 'TCP' }]);
      assert.equal(config.httpPort, 8080);
    });

    it('liveness probes /healthz and readiness /readyz, on the http port', () => {
      const container = containerOf(objects);
      assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
      assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
      assert.equal(container.ports?.find((port) => port.name === 'http')?.containerPort, 8080);
    });

    it('Prometheus scrapes /metrics on the container port', () => {
      const annotations = deploymentOf(objects).spec!.template.metadata!.annotations!;
      assert.equal(annotations['prometheus.io/scrape'], 'true');
      assert.equal(annotations['prometheus.io/path'], '/metrics');
      assert.equal(annotations['prometheus.io/port'], String(containerOf(objects).ports![0]!.containerPort));
    });

    it('the selector matches the pod labels and carries only name and instance (selectors are immutable)', () => {
      const deployment = deploymentOf(objects);
      const selector = deployment.spec!.selector.matchLabels!;
      assert.deepEqual(selector, { 'app.kubernetes.io/name': 'kube-job-alerts', 'app.kubernetes.io/instance': 'kube-job-alerts' });
      for (const [label, value] of Object.entries(selector)) assert.equal(deployment.spec!.template.metadata!.labels![label], value);
    });

    it('the metrics Service selects the pod, targets its http port, and is not annotated for scraping twice', () => {
      const service = only<V1Service>(objects, 'Service');
      const podLabels = deploymentOf(objects).spec!.template.metadata!.labels!;
      for (const [label, value] of Object.entries(service.spec!.selector!)) assert.equal(podLabels[label], value);
      assert.deepEqual(service.spec!.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
      assert.equal(service.spec!.publishNotReadyAddresses, true);
      assert.equal(service.metadata!.annotations?.['prometheus.io/scrape'], undefined);
    });
  });

  describe(`${name}: RBAC`, () => {
    let objects: Manifest[];
    let rules: GrantedRule[];
    before(async () => {
      objects = await objectsOf(dir);
      rules = roleRules(objects);
    });

    it('has no wildcard, no resource names and no Secrets', () => {
      for (const rule of rules) {
        for (const field of [rule.apiGroups, rule.resources, rule.verbs]) assert.ok(!field.includes('*'), JSON.stringify(rule));
        assert.ok(!rule.resources.includes('secrets'), JSON.stringify(rule));
        assert.equal(rule.resourceNames, undefined);
      }
    });

    it('grants no verb beyond jobs list/watch/patch, cronjobs get/list/watch/patch, pods list, events list/watch, pods/log get, leases get/create/update', () => {
      for (const rule of rules) {
        for (const group of rule.apiGroups) {
          for (const resource of rule.resources) {
            const allowed = ALLOWED_VERBS[`${group}/${resource}`];
            assert.ok(allowed, `${group}/${resource} is not needed`);
            for (const verb of rule.verbs) assert.ok(allowed.includes(verb), `${verb} ${group}/${resource} is not needed`);
          }
        }
      }
    });

    it('grants exactly the API calls src/kube/ makes (read from its source), but those of opt-in components', () => {
      // An install grants the calls every configuration makes, plus those of the opt-in components it includes.
      const granted = [...apiCallsInSource()].filter((call) => !(call in OPT_IN_GRANTS) || rollout.components.includes(OPT_IN_GRANTS[call]!));
      assert.deepEqual(sorted(grantsOf(rules)), sorted(granted));
    });

    it('grants exactly what the start-up permission check asks for (src/kube/permissions.ts)', () => {
      const deployment = deploymentOf(objects);
      const config = loadConfig(resolvedEnv(containerOf(objects).env ?? []));
      const scope = config.watchNamespaces ?? [deployment.metadata!.namespace!];
      const needed = requiredPermissions(config, scope);
      assert.deepEqual(sorted(grantsOf(rules)), sorted(new Set(needed.map((p) => grant(p.verb, p.group, p.resource)))));
      // And where: a Role only in the watched namespace, a ClusterRole at the cluster scope ('').
      const where = [...new Set(needed.map((p) => p.namespace))];
      for (const rule of rules) assert.deepEqual(rule.namespaces ?? [''], where);
    });
  });
}

// --- the two installs ---------------------------------------------------------------------------------------------

sharedChecks('deploy/', 'deploy', ['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'Service', 'Deployment']);
sharedChecks('overlays/cluster-wide', OVERLAY, ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Service', 'Deployment']);
sharedChecks(
  'overlays/ha',
  HA,
  ['Namespace', 'ServiceAccount', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'Deployment', 'PodDisruptionBudget'],
  ROLLED,
);

describe('deploy/: namespace-scoped', () => {
  let objects: Manifest[];
  before(async () => (objects = await renderDeploy()));

  it('leaves WATCH_NAMESPACES unset, so the daemon watches its own namespace (the one its Role covers)', () => {
    const env = containerOf(objects).env ?? [];
    assert.equal(env.find((variable) => variable.name === 'WATCH_NAMESPACES'), undefined);
    assert.equal(loadConfig(resolvedEnv(env)).watchNamespaces, undefined);
  });

  it('the RoleBinding binds the ServiceAccount of kube-job-alerts to the Role there', () => {
    const binding = only<Manifest & { roleRef: object; subjects: object[] }>(objects, 'RoleBinding');
    assert.equal(binding.metadata.namespace, NAMESPACE);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: only(objects, 'Role').metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'kube-job-alerts', namespace: NAMESPACE }]);
  });

  it('roleRules: the Role\'s rules, held in kube-job-alerts only', () => {
    assert.deepEqual(roleRules(objects), [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'], namespaces: [NAMESPACE] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['patch'], namespaces: [NAMESPACE] },
      { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['patch'], namespaces: [NAMESPACE] },
      { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get', 'list', 'watch'], namespaces: [NAMESPACE] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'], namespaces: [NAMESPACE] },
      { apiGroups: [''], resources: ['events'], verbs: ['list'], namespaces: [NAMESPACE] },
      { apiGroups: [''], resources: ['events'], verbs: ['watch'], namespaces: [NAMESPACE] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'], namespaces: [NAMESPACE] },
    ]);
  });
});

describe('overlays/cluster-wide', () => {
  let base: Manifest[];
  let overlay: Manifest[];
  before(async () => {
    [base, overlay] = await Promise.all([objectsOf('deploy'), objectsOf(OVERLAY)]);
  });

  it('has no Role or RoleBinding', () => {
    assert.deepEqual(overlay.filter((object) => object.kind === 'Role' || object.kind === 'RoleBinding'), []);
  });

  it('sets WATCH_NAMESPACES=*, which config.ts reads as all namespaces', () => {
    const env = containerOf(overlay).env ?? [];
    assert.deepEqual(env.find((variable) => variable.name === 'WATCH_NAMESPACES'), { name: 'WATCH_NAMESPACES', value: '*' });
    assert.equal(loadConfig(resolvedEnv(env)).watchNamespaces, 'all');
  });

  it('the ClusterRole has the base Role\'s rules, rule for rule', () => {
    assert.deepEqual((only(overlay, 'ClusterRole') as Manifest & { rules: unknown }).rules, (only(base, 'Role') as Manifest & { rules: unknown }).rules);
  });

  it('the ClusterRoleBinding binds the ServiceAccount in kube-job-alerts to the ClusterRole', () => {
    const binding = only<Manifest & { roleRef: object; subjects: object[] }>(overlay, 'ClusterRoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: only(overlay, 'ClusterRole').metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'kube-job-alerts', namespace: NAMESPACE }]);
  });

  it('roleRules: the same rules, held in every namespace', () => {
    assert.deepEqual(roleRules(overlay), roleRules(base).map(({ namespaces: _namespaces, ...rule }) => rule));
  });

  it('the Deployment is the base\'s but for WATCH_NAMESPACES', () => {
    const withoutWatch = (objects: Manifest[]) => {
      const deployment = structuredClone(deploymentOf(objects));
      const container = deployment.spec!.template.spec!.containers[0]!;
      container.env = container.env?.filter((variable) => variable.name !== 'WATCH_NAMESPACES');
      return deployment;
    };
    assert.deepEqual(withoutWatch(overlay), withoutWatch(base));
  });

  it('everything else is the base\'s, object for object', () => {
    const rest = (objects: Manifest[]) => objects.filter((object) => !['Deployment', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind));
    assert.deepEqual(rest(overlay), rest(base));
  });
});

// --- the opt-in component ------------------------------------------------------------------------------------------

describe('components/namespace-annotations', () => {
  const removals: (() => void)[] = [];
  after(() => removals.forEach((remove) => remove()));
  const render = async (install: string): Promise<{ text: string; objects: Manifest[] }> => {
    const { dir, remove } = withKustomization((repo) => `resources:\n  - ${repo}/${install}\ncomponents:\n  - ${repo}/${NAMESPACE_ANNOTATIONS_COMPONENT}\n`);
    removals.push(remove);
    const text = await renderDeployText(dir);
    return { text, objects: parseManifests(text) };
  };

  it('with the cluster-wide overlay: valid, NAMESPACE_ANNOTATIONS=true, and the ClusterRole grants exactly requiredPermissions and every call', async () => {
    const { text, objects } = await render(OVERLAY);
    await assertValid(objects);
    assert.deepEqual(unknownFields(text), []);
    const config = loadConfig(resolvedEnv(containerOf(objects).env ?? []));
    assert.equal(config.namespaceAnnotations, true);
    const rules = roleRules(objects);
    const needed = requiredPermissions(config, 'all');
    assert.deepEqual(sorted(grantsOf(rules)), sorted(new Set(needed.map((p) => grant(p.verb, p.group, p.resource)))));
    const calls = [...apiCallsInSource()].filter((call) => !(call in OPT_IN_GRANTS) || OPT_IN_GRANTS[call] === 'components/namespace-annotations');
    assert.deepEqual(sorted(grantsOf(rules)), sorted(calls));
    assert.deepEqual(rules.at(-1), { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] });
    for (const rule of rules) assert.ok(!rule.resources.includes('*') && !rule.verbs.includes('*'));
  });

  it('with deploy/ (a Role): nothing is granted, and the daemon refuses the configuration instead of running half-blind', async () => {
    const { objects } = await render('deploy');
    assert.deepEqual(roleRules(objects), roleRules(await objectsOf('deploy')));
    assert.throws(() => loadConfig(resolvedEnv(containerOf(objects).env ?? [])), /NAMESPACE_ANNOTATIONS: true needs WATCH_NAMESPACES=\*/);
  });
});

describe('overlays/ha: two replicas, one leader', () => {
  let base: Manifest[];
  let ha: Manifest[];
  before(async () => {
    [base, ha] = await Promise.all([objectsOf('deploy'), objectsOf(HA)]);
  });
  const leaseRules = (objects: readonly Manifest[]) => roleRules(objects).filter((rule) => rule.resources.includes('leases'));

  it('sets LEADER_ELECTION=true, which config.ts accepts with the downward API\'s POD_NAME and POD_NAMESPACE', () => {
    const env = containerOf(ha).env ?? [];
    assert.deepEqual(env.find((variable) => variable.name === 'LEADER_ELECTION'), { name: 'LEADER_ELECTION', value: 'true' });
    const config = loadConfig(resolvedEnv(env));
    assert.deepEqual([config.leaderElection, config.podName, config.podNamespace, config.leaseName], [true, 'kube-job-alerts-5d8f7c9b6-x7k2p', NAMESPACE, 'kube-job-alerts']);
  });

  it('grants get, create and update on leases with a Role bound in kube-job-alerts only, as requiredPermissions asks', () => {
    assert.deepEqual(leaseRules(ha), [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'], namespaces: [NAMESPACE] }]);
    const config = loadConfig(resolvedEnv(containerOf(ha).env ?? []));
    const needed = requiredPermissions(config, [NAMESPACE]).filter((p) => p.resource === 'leases');
    const granted = leaseRules(ha).flatMap((rule) => rule.verbs.map((verb) => `${verb} ${rule.apiGroups[0]}/${rule.resources[0]} ${rule.namespaces}`));
    assert.deepEqual(needed.map((p) => `${p.verb} ${p.group}/${p.resource} ${p.namespace}`), granted);
    const binding = only<Manifest & { roleRef: object; subjects: object[] }>(ha, 'RoleBinding', 'kube-job-alerts-leader-election');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kube-job-alerts-leader-election' });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'kube-job-alerts', namespace: NAMESPACE }]);
  });

  it('the Lease rules are exactly the calls of src/kube/lease.ts, the opt-in calls of components/leader-election', () => {
    assert.deepEqual(sorted(apiCallsInSource(['lease.ts'])), sorted(grantsOf(leaseRules(ha))));
    const optIn = Object.keys(OPT_IN_GRANTS).filter((call) => OPT_IN_GRANTS[call] === 'components/leader-election');
    assert.deepEqual(sorted(optIn), sorted(grantsOf(leaseRules(ha))));
  });

  it('keeps a replica running through a rollout (maxUnavailable 0) and a drain (the PDB lets one of two go)', () => {
    const deployment = deploymentOf(ha);
    assert.deepEqual(deployment.spec!.strategy, ROLLED.strategy);
    const pdb = only<V1PodDisruptionBudget>(ha, 'PodDisruptionBudget');
    assert.equal(pdb.spec!.maxUnavailable, 1);
    assert.ok(deployment.spec!.replicas! > (pdb.spec!.maxUnavailable as number));
    const podLabels = deployment.spec!.template.metadata!.labels!;
    for (const [label, value] of Object.entries(pdb.spec!.selector!.matchLabels!)) assert.equal(podLabels[label], value);
  });

  it('spreads the replicas over nodes, without refusing to schedule on one', () => {
    const deployment = deploymentOf(ha);
    const [spread, ...more] = deployment.spec!.template.spec!.topologySpreadConstraints ?? [];
    assert.deepEqual(more, []);
    assert.equal(spread?.topologyKey, 'kubernetes.io/hostname');
    assert.equal(spread?.whenUnsatisfiable, 'ScheduleAnyway');
    assert.equal(spread?.maxSkew, 1);
    assert.deepEqual(spread?.labelSelector?.matchLabels, deployment.spec!.selector.matchLabels);
  });

  it('its Role and RoleBinding for Jobs are deploy/\'s, object for object (copies: kustomize cannot include deploy/ from below it)', () => {
    for (const kind of ['Role', 'RoleBinding']) assert.deepEqual(only(ha, kind, 'kube-job-alerts'), only(base, kind, 'kube-job-alerts'));
  });

  it('the Deployment is the base\'s but for replicas, strategy, spread and LEADER_ELECTION', () => {
    const unelected = (objects: Manifest[]) => {
      const deployment = structuredClone(deploymentOf(objects));
      delete deployment.spec!.replicas;
      delete deployment.spec!.strategy;
      delete deployment.spec!.template.spec!.topologySpreadConstraints;
      const container = deployment.spec!.template.spec!.containers[0]!;
      container.env = container.env?.filter((variable) => variable.name !== 'LEADER_ELECTION');
      return deployment;
    };
    assert.deepEqual(unelected(ha), unelected(base));
  });

  it('everything else is the base\'s, object for object', () => {
    const rest = (objects: Manifest[]) => objects.filter((object) => !['Deployment', 'Role', 'RoleBinding', 'PodDisruptionBudget'].includes(object.kind));
    assert.deepEqual(rest(ha), rest(base));
  });
});

// --- what the README tells users to write -------------------------------------------------------------------------

describe('customising', () => {
  const removals: (() => void)[] = [];
  after(() => removals.forEach((remove) => remove()));
  const render = async (make: (repo: string) => string): Promise<{ text: string; objects: Manifest[] }> => {
    const { dir, remove } = withKustomization(make);
    removals.push(remove);
    const text = await renderDeployText(dir);
    return { text, objects: parseManifests(text) };
  };

  for (const install of ['deploy', OVERLAY]) {
    it(`components/pdb adds a PodDisruptionBudget that never blocks a drain (${install})`, async () => {
      const { text, objects } = await render((repo) => `resources:\n  - ${repo}/${install}\ncomponents:\n  - ${repo}/deploy/components/pdb\n`);
      await assertValid(objects);
      assert.deepEqual(unknownFields(text), []);
      const pdb = only<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget');
      assert.equal(pdb.metadata!.namespace, NAMESPACE);
      assert.equal(pdb.spec!.maxUnavailable, 1);
      assert.equal(pdb.spec!.minAvailable, undefined);
      assert.equal(pdb.spec!.unhealthyPodEvictionPolicy, 'AlwaysAllow');
      const podLabels = deploymentOf(objects).spec!.template.metadata!.labels!;
      for (const [label, value] of Object.entries(pdb.spec!.selector!.matchLabels!)) assert.equal(podLabels[label], value);
      assert.ok(deploymentOf(objects).spec!.replicas! <= (pdb.spec!.maxUnavailable as number), 'with this many replicas the budget would block drains');
    });
  }

  it('the README\'s overlay: into an existing namespace, named cluster, image pinned by digest', async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    const { objects } = await render(
      (repo) => `resources:
  - ${repo}/deploy
namespace: batch
patches:
  - patch: |-
      $patch: delete
      apiVersion: v1
      kind: Namespace
      metadata:
        name: kube-job-alerts
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: kube-job-alerts
      spec:
        template:
          spec:
            containers:
              - name: kube-job-alerts
                env:
                  - name: CLUSTER_NAME
                    value: prod-eu
images:
  - name: ghcr.io/kube-job-alerts/kube-job-alerts
    digest: ${digest}
`,
    );
    await assertValid(objects);
    assert.equal(objects.filter((object) => object.kind === 'Namespace').length, 0, 'the existing namespace must not be managed (or deleted) by us');
    for (const object of objects) assert.equal(object.metadata.namespace, 'batch', object.kind);
    assert.deepEqual(roleRules(objects).map((rule) => rule.namespaces), roleRules(objects).map(() => ['batch']));
    const container = containerOf(objects);
    assert.equal(container.image, `ghcr.io/kube-job-alerts/kube-job-alerts@${digest}`);
    assert.equal(loadConfig(resolvedEnv(container.env ?? [])).clusterName, 'prod-eu');
  });

  it('cluster-wide with two replicas (components/leader-election and pdb): Jobs everywhere, the Lease in its namespace only', async () => {
    const { text, objects } = await render(
      (repo) => `resources:\n  - ${repo}/${OVERLAY}\ncomponents:\n  - ${repo}/deploy/components/leader-election\n  - ${repo}/deploy/components/pdb\n`,
    );
    await assertValid(objects);
    assert.deepEqual(unknownFields(text), []);
    const config = loadConfig(resolvedEnv(containerOf(objects).env ?? []));
    assert.equal(config.leaderElection, true);
    const needed = requiredPermissions(config, config.watchNamespaces ?? []);
    const wanted = needed.map((p) => `${p.verb} ${p.group}/${p.resource} ${p.namespace || '*'}`);
    const granted = roleRules(objects).flatMap((rule) =>
      (rule.namespaces ?? ['*']).flatMap((where) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${group}/${resource} ${where}`)))),
    );
    assert.deepEqual(sorted(granted), sorted(wanted));
    assert.ok(wanted.includes(`update coordination.k8s.io/leases ${NAMESPACE}`) && wanted.includes('watch batch/jobs *'));
    const binding = only<Manifest & { subjects: object[] }>(objects, 'RoleBinding', 'kube-job-alerts-leader-election');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'kube-job-alerts', namespace: NAMESPACE }]);
    assert.equal(deploymentOf(objects).spec!.replicas, 2);
  });

  it('overlays/ha moved to another namespace: the Lease Role, its binding and the PDB follow', async () => {
    const { objects } = await render((repo) => `resources:\n  - ${repo}/${HA}\nnamespace: ops\n`);
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) assert.equal(object.metadata.namespace, 'ops', `${object.kind} ${object.metadata.name}`);
    assert.deepEqual(roleRules(objects).map((rule) => rule.namespaces), roleRules(objects).map(() => ['ops']));
    const binding = only<Manifest & { subjects: { namespace: string }[] }>(objects, 'RoleBinding', 'kube-job-alerts-leader-election');
    assert.deepEqual(binding.subjects.map((subject) => subject.namespace), ['ops']);
  });

  it('cluster-wide, moved to another namespace: the ClusterRoleBinding follows the ServiceAccount', async () => {
    const { objects } = await render((repo) => `resources:\n  - ${repo}/${OVERLAY}\nnamespace: ops\n`);
    const binding = only<Manifest & { subjects: { namespace: string }[] }>(objects, 'ClusterRoleBinding');
    assert.deepEqual(binding.subjects.map((subject) => subject.namespace), ['ops']);
    assert.equal(roleRules(objects).length, 8);
  });
});

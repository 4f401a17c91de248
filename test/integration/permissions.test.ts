/**
 * The permission check (src/kube/permissions.ts) with the real client over HTTPS, against the emulator's RBAC:
 * SelfSubjectAccessReview answers per Role rules, and the list of needs is proven equal to what the daemon's own
 * code calls, by running that code under exactly those rules and recording every request.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { failureOf } from '../../src/detect/failure.ts';
import { connect, type KubeClients } from '../../src/kube/client.ts';
import { evidenceGatherer } from '../../src/kube/evidence.ts';
import { annotationWriter, classifyWriteError } from '../../src/kube/annotate.ts';
import { CronJobEvents } from '../../src/kube/cronjob-events.ts';
import { LeaderElector } from '../../src/kube/lease.ts';
import { checkPermissions, requiredPermissions, type Permission, type PermissionCheck } from '../../src/kube/permissions.ts';
import { NamespaceWatch } from '../../src/kube/namespaces.ts';
import { JobWatch } from '../../src/kube/watching.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { failedJob, failedPod, loadFixture } from '../fixtures/index.ts';
import { startApiServer, type ApiServer, type PolicyRule, type RecordedRequest } from '../world/apiserver.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const annotation = { stateStore: 'annotation', logTailLines: 20 } as const;

/** The rules of deploy/role.yaml's Role: what an install grants. */
const deployedRole = (loadFixture(join(REPO, 'deploy/role.yaml')).find((document) => (document as { kind?: string }).kind === 'Role') as { rules: PolicyRule[] }).rules;

/** A Role that grants exactly these permissions (one rule each), bound where each applies. */
function rulesFor(permissions: readonly Permission[]): PolicyRule[] {
  return permissions.map(({ verb, group, resource, namespace }) => ({
    apiGroups: [group],
    resources: [resource],
    verbs: [verb],
    ...(namespace === '' ? {} : { namespaces: [namespace] }),
  }));
}

const inNamespace = (namespace: string, rules: PolicyRule[]): PolicyRule[] => rules.map((rule) => ({ ...rule, namespaces: [namespace] }));

/** `patch jobs default: false`: one line per row, for readable failures. */
const lines = (rows: readonly PermissionCheck[]): string[] =>
  rows.map(({ permission, allowed }) => `${permission.verb} ${permission.resource} ${permission.namespace || '*'}: ${allowed}`);

const denied = (rows: readonly PermissionCheck[]): string[] => lines(rows.filter((row) => row.allowed !== true));

let api: ApiServer;
let clients: KubeClients;

before(async () => {
  api = await startApiServer();
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(api.kubeconfigPath);
  clients = connect(kubeconfig);
});
afterEach(() => {
  api.setRbac(undefined);
  api.faults.reset();
});
after(() => api.close());

describe('requiredPermissions', () => {
  it('is per watched namespace, and at the cluster scope for *', () => {
    const two = requiredPermissions(annotation, ['default', 'batch']);
    assert.deepEqual([...new Set(two.map((p) => p.namespace))], ['default', 'batch']);
    assert.equal(two.length, 22);
    assert.deepEqual([...new Set(requiredPermissions(annotation, 'all').map((p) => p.namespace))], ['']);
  });

  it('needs patch only with the annotation store and not in a dry run, and pods/log only when logs are read', () => {
    const names = (permissions: Permission[]) => permissions.map((p) => `${p.verb} ${p.resource}`);
    assert.deepEqual(names(requiredPermissions(annotation, ['default'])), [
      'list jobs', 'watch jobs', 'patch jobs', 'get cronjobs', 'list cronjobs', 'watch cronjobs', 'patch cronjobs', 'list pods', 'list events', 'watch events', 'get pods/log',
    ]);
    for (const noWrites of [{ ...annotation, stateStore: 'memory' as const }, { ...annotation, dryRun: true }]) {
      const needed = names(requiredPermissions(noWrites, ['default']));
      assert.ok(!needed.includes('patch jobs') && !needed.includes('patch cronjobs'), JSON.stringify(noWrites));
    }
    assert.ok(!names(requiredPermissions({ ...annotation, logTailLines: 0 }, ['default'])).includes('get pods/log'));
    for (const permission of requiredPermissions(annotation, ['default'])) assert.ok(permission.why && permission.without, `${permission.verb} ${permission.resource} says why`);
  });

  it('needs namespaces get, list and watch (cluster scope) only cluster-wide with NAMESPACE_ANNOTATIONS', () => {
    const names = (permissions: Permission[]) => permissions.filter((p) => p.resource === 'namespaces').map((p) => `${p.verb} ${p.resource} ${p.namespace || '*'}`);
    assert.deepEqual(names(requiredPermissions({ ...annotation, namespaceAnnotations: true }, 'all')), ['get namespaces *', 'list namespaces *', 'watch namespaces *']);
    assert.deepEqual(names(requiredPermissions({ ...annotation, namespaceAnnotations: false }, 'all')), []);
    assert.deepEqual(names(requiredPermissions({ ...annotation, namespaceAnnotations: true }, ['default'])), [], 'a Role cannot grant them anyway');
    for (const permission of requiredPermissions({ ...annotation, namespaceAnnotations: true }, 'all')) assert.ok(permission.why && permission.without);
  });

  it('with LEADER_ELECTION=true: get, create and update on leases in POD_NAMESPACE, whatever is watched', () => {
    const leases = (permissions: Permission[]) => permissions.filter((p) => p.resource === 'leases').map((p) => `${p.verb} ${p.group}/${p.resource} ${p.namespace}`);
    const elected = { ...annotation, leaderElection: true, podNamespace: 'ops' };
    const expected = ['get coordination.k8s.io/leases ops', 'create coordination.k8s.io/leases ops', 'update coordination.k8s.io/leases ops'];
    assert.deepEqual(leases(requiredPermissions(elected, ['team-a', 'team-b'])), expected);
    assert.deepEqual(leases(requiredPermissions(elected, 'all')), expected);
    assert.deepEqual(leases(requiredPermissions({ ...elected, leaderElection: false }, 'all')), []);
    for (const permission of requiredPermissions(elected, ['ops'])) assert.ok(permission.why && permission.without, `${permission.verb} ${permission.resource} says why`);
  });
});

describe('checkPermissions against RBAC', () => {
  it('reports every permission allowed under deploy/role.yaml, as the emulator decides it', async () => {
    api.setRbac(inNamespace('default', deployedRole));
    const rows = await checkPermissions(clients, requiredPermissions(annotation, ['default']));
    assert.deepEqual(denied(rows), []);
    assert.equal(rows.length, 11);
    assert.ok(rows.every((row) => row.reason?.startsWith('RBAC: allowed')));
  });

  it('reports patch missing, and the server really refuses the annotation with the real 403', async () => {
    const withoutPatch = deployedRole.map((rule) => ({ ...rule, verbs: rule.verbs.filter((verb) => verb !== 'patch') }));
    api.setRbac(inNamespace('default', withoutPatch));
    const rows = await checkPermissions(clients, requiredPermissions(annotation, ['default']));
    assert.deepEqual(denied(rows), ['patch jobs default: false', 'patch cronjobs default: false']);

    const job = api.create('jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'unpatchable' }, spec: {} });
    const error = await annotationWriter(clients.batch, 5000)({ kind: 'Job', namespace: 'default', name: 'unpatchable', uid: job.metadata.uid }, { a: 'b' }).then(() => undefined, (e: unknown) => e);
    assert.equal(classifyWriteError(error), 'denied');
    const status = JSON.parse((error as { body: string }).body);
    assert.equal(status.reason, 'Forbidden');
    assert.equal(status.code, 403);
    assert.deepEqual(status.details, { name: 'unpatchable', group: 'batch', kind: 'jobs' });
    assert.equal(
      status.message,
      'jobs.batch "unpatchable" is forbidden: User "system:serviceaccount:kube-job-alerts:kube-job-alerts" cannot patch resource "jobs" in API group "batch" in the namespace "default"',
    );
    assert.deepEqual(api.denied.map((r) => `${r.verb} ${r.resource} ${r.namespace}/${r.name}`), ['patch jobs default/unpatchable']);
  });

  it('does not need patch with STATE_STORE=memory', async () => {
    const withoutPatch = deployedRole.map((rule) => ({ ...rule, verbs: rule.verbs.filter((verb) => verb !== 'patch') }));
    api.setRbac(inNamespace('default', withoutPatch));
    const rows = await checkPermissions(clients, requiredPermissions({ ...annotation, stateStore: 'memory' }, ['default']));
    assert.deepEqual(denied(rows), []);
  });

  it('reports pods/log missing when only pods is granted (a subresource needs its own rule)', async () => {
    api.setRbac(inNamespace('default', deployedRole.filter((rule) => !rule.resources.includes('pods/log'))));
    const rows = await checkPermissions(clients, requiredPermissions(annotation, ['default']));
    assert.deepEqual(denied(rows), ['get pods/log default: false']);
  });

  it('tells a Role in one namespace from a ClusterRole bound cluster-wide', async () => {
    api.setRbac(inNamespace('default', deployedRole));
    // A Role grants nothing at the cluster scope, nor in another namespace.
    const everywhere = await checkPermissions(clients, requiredPermissions(annotation, 'all'));
    assert.equal(denied(everywhere).length, 11);
    assert.ok(denied(everywhere).every((line) => line.endsWith(' *: false')));
    const two = await checkPermissions(clients, requiredPermissions(annotation, ['default', 'other']));
    assert.deepEqual(denied(two).map((line) => line.split(' ')[2]), Array(11).fill('other:'));

    // The same rules bound by a ClusterRoleBinding: the cluster scope and every namespace.
    api.setRbac(deployedRole);
    assert.deepEqual(denied(await checkPermissions(clients, requiredPermissions(annotation, 'all'))), []);
    assert.deepEqual(denied(await checkPermissions(clients, requiredPermissions(annotation, ['default', 'other']))), []);
  });

  it('reports rows as unknown, and does not throw, when the review endpoint fails or hangs', async () => {
    api.setRbac(inNamespace('default', deployedRole));
    const isReview = (r: RecordedRequest) => r.resource === 'selfsubjectaccessreviews';
    api.faults.failNext(2, { status: 500, match: isReview });
    const rows = await checkPermissions(clients, requiredPermissions(annotation, ['default']));
    const unknown = rows.filter((row) => row.allowed === 'unknown');
    assert.equal(unknown.length, 2);
    for (const row of unknown) assert.match(row.error ?? '', /HTTP 500/);
    assert.equal(rows.filter((row) => row.allowed === true).length, 9);

    api.faults.hang(isReview);
    const started = Date.now();
    const hung = await checkPermissions(clients, requiredPermissions(annotation, ['default']), { timeoutMs: 300 });
    assert.ok(Date.now() - started < 5_000);
    assert.ok(hung.every((row) => row.allowed === 'unknown' && /no answer within/.test(row.error ?? '')));
  });

  it('allows everything when the emulator has no RBAC', async () => {
    assert.deepEqual(denied(await checkPermissions(clients, requiredPermissions(annotation, 'all'))), []);
  });
});

describe('the needs are exactly what the code calls', () => {
  /** Runs every call the daemon makes (informers, CronJob read, evidence, annotation) and returns what reached the server. */
  async function runDaemonCalls(namespaces: readonly string[] | 'all', namespace: string): Promise<RecordedRequest[]> {
    const from = api.requests.length;
    // The informers list first, then watch: wait until both watches are open, so both are recorded.
    const watching = ['jobs', 'cronjobs', 'events'].map((resource) => api.nextRequest((r) => r.verb === 'watch' && r.resource === resource));
    const watch = new JobWatch({ clients, namespaces, onJob: () => {}, onJobDeleted: () => {}, logger: silentLogger, metrics: new Metrics() });
    const events = new CronJobEvents({ clients, namespaces, onEvent: () => {}, logger: silentLogger });
    try {
      await Promise.all([watch.start(), events.start()]);
      await watch.whenSynced();
      await Promise.all(watching);
      assert.equal(await watch.readCronJob(namespace, 'not-cached-yet'), undefined);
      const job = failedJob({ name: `calls-${namespace}`, namespace });
      const stored = api.create('jobs', job);
      const pod = api.create('pods', failedPod(job, {}));
      api.setPodLog(namespace, pod.metadata.name, pod.spec.containers[0].name, 'the last line\n');
      const evidence = await evidenceGatherer({ core: clients.core, tailLines: 5, logger: silentLogger })(failureOf(job)!, new AbortController().signal);
      assert.deepEqual(evidence.notes, [], 'evidence was gathered without a denied call');
      const write = annotationWriter(clients.batch, 5000);
      await write({ kind: 'Job', namespace, name: job.metadata.name, uid: stored.metadata.uid }, { 'kube-job-alerts.io/alerted-at': new Date().toISOString() });
      const cronJob = api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: `calls-${namespace}`, namespace }, spec: { schedule: '0 * * * *', jobTemplate: { spec: {} } } });
      await write({ kind: 'CronJob', namespace, name: cronJob.metadata.name, uid: cronJob.metadata.uid }, { 'kube-job-alerts.io/story': '{"v":1,"failures":[]}' });
    } finally {
      await Promise.all([watch.stop(), events.stop()]);
    }
    return api.requests.slice(from).filter((r) => r.resource !== '');
  }

  it('in a namespace: under a Role of exactly requiredPermissions, nothing is denied and every permission is used', async () => {
    const needed = requiredPermissions(annotation, ['team-a']);
    api.setRbac(rulesFor(needed));
    const requests = await runDaemonCalls(['team-a'], 'team-a');
    assert.deepEqual(api.denied.filter((r) => r.namespace === 'team-a'), []);
    const used = new Set(requests.map((r) => `${r.verb} ${r.resource} ${r.namespace}`));
    assert.deepEqual([...used].sort(), needed.map((p) => `${p.verb} ${p.resource} ${p.namespace}`).sort());
  });

  it('for *: cluster-wide rules of exactly requiredPermissions cover every call', async () => {
    const needed = requiredPermissions(annotation, 'all');
    api.setRbac(rulesFor(needed));
    const deniedBefore = api.denied.length;
    const requests = await runDaemonCalls('all', 'team-b');
    assert.equal(api.denied.length, deniedBefore);
    const used = new Set(requests.map((r) => `${r.verb} ${r.resource}`));
    assert.deepEqual([...used].sort(), needed.map((p) => `${p.verb} ${p.resource}`).sort());
  });

  it('cluster-wide with NAMESPACE_ANNOTATIONS: the Namespace reader\'s calls are exactly the namespaces needs', async () => {
    const needed = requiredPermissions({ ...annotation, namespaceAnnotations: true }, 'all').filter((p) => p.resource === 'namespaces');
    api.setRbac(rulesFor(needed));
    const deniedBefore = api.denied.length;
    const from = api.requests.length;
    const watching = api.nextRequest((r) => r.verb === 'watch' && r.resource === 'namespaces');
    const namespaces = new NamespaceWatch({ clients, logger: silentLogger });
    try {
      await namespaces.start();
      await namespaces.whenSynced();
      await watching;
      await namespaces.namespace('not-cached-yet');
    } finally {
      await namespaces.stop();
    }
    assert.equal(api.denied.length, deniedBefore);
    const used = new Set(api.requests.slice(from).filter((r) => r.resource !== '').map((r) => `${r.verb} ${r.resource} ${r.namespace || '*'}`));
    assert.deepEqual([...used].sort(), needed.map((p) => `${p.verb} ${p.resource} *`).sort());
  });
});

describe('the Lease needs are exactly what the elector calls', () => {
  const elected = { ...annotation, leaderElection: true, podNamespace: 'ops' } as const;
  const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1200, retryPeriodMs: 200, callTimeoutMs: 1000 };

  /** One replica's whole life: create the Lease, renew it, stop and release it. */
  async function leadOnce(): Promise<RecordedRequest[]> {
    const from = api.requests.length;
    const elector = new LeaderElector({ clients, namespace: 'ops', name: 'kube-job-alerts', identity: 'pod-a', timings, logger: silentLogger });
    let leading!: () => void;
    const led = new Promise<void>((resolve) => (leading = resolve));
    void elector.run({ onStartedLeading: () => leading(), onStoppedLeading: () => {} });
    await led;
    await api.nextRequest((r) => r.resource === 'leases' && r.verb === 'update');
    await elector.stop();
    return api.requests.slice(from).filter((r) => r.resource === 'leases');
  }

  it('under a Role of exactly the lease permissions, the elector leads, renews and releases with nothing denied', async () => {
    const needed = requiredPermissions(elected, ['ops']).filter((p) => p.resource === 'leases');
    api.setRbac(rulesFor(needed));
    const deniedBefore = api.denied.length;
    const requests = await leadOnce();
    assert.equal(api.denied.length, deniedBefore);
    assert.deepEqual([...new Set(requests.map((r) => `${r.verb} ${r.resource} ${r.namespace}`))].sort(), needed.map((p) => `${p.verb} ${p.resource} ${p.namespace}`).sort());
    assert.equal(api.get('leases', 'ops', 'kube-job-alerts')?.spec.holderIdentity, '');
    assert.deepEqual(denied(await checkPermissions(clients, requiredPermissions(elected, ['ops']).filter((p) => p.resource === 'leases'))), []);
  });

  it('without create: the check says so, and the elector cannot lead (the real 403)', async () => {
    api.remove('leases', 'ops', 'kube-job-alerts');
    const needed = requiredPermissions(elected, ['ops']).filter((p) => p.resource === 'leases');
    api.setRbac(rulesFor(needed.filter((p) => p.verb !== 'create')));
    assert.deepEqual(denied(await checkPermissions(clients, needed)), ['create leases ops: false']);
    const elector = new LeaderElector({ clients, namespace: 'ops', name: 'kube-job-alerts', identity: 'pod-a', timings, logger: silentLogger });
    let led = false;
    void elector.run({ onStartedLeading: () => void (led = true), onStoppedLeading: () => {} });
    for (let tries = 0; tries < 2; tries++) await api.nextRequest((r) => r.resource === 'leases' && r.verb === 'create' && r.status === 403);
    await elector.stop();
    assert.equal(led, false);
  });
});

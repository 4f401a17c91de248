/**
 * The Namespace reader (src/kube/namespaces.ts) with the real client over HTTPS against the emulator's cluster-scoped
 * Namespaces: the cache follows annotation changes, a Namespace not cached yet is read directly, a missing one is
 * undefined, and a refused read is absorbed (the alert goes on without that Namespace's annotations).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { connect, type KubeClients } from '../../src/kube/client.ts';
import { NamespaceWatch } from '../../src/kube/namespaces.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { chooseRoute } from '../../src/route/choose.ts';
import { loadConfig } from '../../src/config.ts';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { kubectlFor, type Kubectl } from '../world/kubectl.ts';

let api: ApiServer;
let clients: KubeClients;
let kubectl: Kubectl;

before(async () => {
  api = await startApiServer({ bookmarkIntervalMs: 100 });
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(api.kubeconfigPath);
  clients = connect(kubeconfig);
  kubectl = kubectlFor(api.kubeconfigPath);
});
after(async () => {
  kubectl.close();
  await api.close();
});

const ROUTE = 'kube-job-alerts.io/route';

/** Polls the reader until `check` holds (watch events arrive asynchronously), failing after 5 s. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`never became true: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the emulator serves Namespaces as the real server does', () => {
  it('cluster-scoped, labelled with their name, Active, and kubectl can read them', async () => {
    const created = api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-k', annotations: { [ROUTE]: 'team-a' } } });
    assert.equal(created.metadata.namespace, undefined);
    assert.equal(created.metadata.labels?.['kubernetes.io/metadata.name'], 'team-k');
    const read = await clients.core.readNamespace({ name: 'team-k' });
    assert.equal(read.metadata?.annotations?.[ROUTE], 'team-a');
    const listed = await clients.core.listNamespace({ labelSelector: 'kubernetes.io/metadata.name=team-k' });
    assert.deepEqual(listed.items.map((ns) => ns.metadata?.name), ['team-k']);
    const { stdout } = await kubectl.run('get', 'namespace', 'team-k', '-o', 'jsonpath={.metadata.annotations}');
    assert.match(stdout, /team-a/);
  });

  it('a patch keeps it cluster-scoped', async () => {
    await kubectl.run('annotate', 'namespace', 'team-k', `${ROUTE}=team-b`, '--overwrite');
    assert.equal(api.get('namespaces', '', 'team-k')?.metadata.annotations?.[ROUTE], 'team-b');
    assert.equal(api.get('namespaces', '', 'team-k')?.metadata.namespace, undefined);
  });
});

describe('NamespaceWatch', () => {
  it('lists, then follows annotation changes; only name and annotations come out', async () => {
    api.create('namespaces', { metadata: { name: 'payments', annotations: { [ROUTE]: 'team-a' }, labels: { a: 'b' } } });
    const namespaces = new NamespaceWatch({ clients, logger: silentLogger });
    try {
      await namespaces.start();
      await namespaces.whenSynced();
      assert.equal(namespaces.synced, true);
      assert.deepEqual(await namespaces.namespace('payments'), { metadata: { name: 'payments', annotations: { [ROUTE]: 'team-a' } } });
      api.modify('namespaces', '', 'payments', (ns) => (ns.metadata.annotations = { [ROUTE]: 'team-b' }));
      await eventually(() => namespaces.namespace('payments'), (ns) => ns?.metadata.annotations?.[ROUTE] === 'team-b');
      api.modify('namespaces', '', 'payments', (ns) => delete ns.metadata.annotations);
      assert.deepEqual(await eventually(() => namespaces.namespace('payments'), (ns) => ns?.metadata.annotations === undefined), { metadata: { name: 'payments' } });
    } finally {
      await namespaces.stop();
    }
  });

  it('reads a Namespace the cache does not hold yet, and gives undefined for one that does not exist', async () => {
    const namespaces = new NamespaceWatch({ clients, logger: silentLogger });
    try {
      await namespaces.start();
      await namespaces.whenSynced();
      // Created while the watch is silenced: the cache cannot know it yet.
      api.faults.silenceWatches((r) => r.resource === 'namespaces');
      api.create('namespaces', { metadata: { name: 'brand-new', annotations: { [ROUTE]: 'team-a' } } });
      const gets = api.requests.length;
      assert.equal((await namespaces.namespace('brand-new'))?.metadata.annotations?.[ROUTE], 'team-a');
      assert.deepEqual(api.requests.slice(gets).map((r) => `${r.verb} ${r.resource} ${r.name}`), ['get namespaces brand-new']);
      assert.equal(await namespaces.namespace('never-created'), undefined);
    } finally {
      api.faults.reset();
      await namespaces.stop();
    }
  });

  it('a read the server refuses is logged and absorbed: the route falls back to what the Job and config say', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
    const namespaces = new NamespaceWatch({ clients, logger });
    try {
      api.faults.failNext(1, { status: 403, match: (r) => r.verb === 'get' && r.resource === 'namespaces' });
      const namespace = await namespaces.namespace('payments');
      assert.equal(namespace, undefined);
      const warning = JSON.parse(lines.at(-1)!);
      assert.equal(warning.namespace, 'payments');
      assert.match(warning.msg, /could not read the Namespace/);
      assert.match(warning.err, /HTTP 403/);
      const config = loadConfig({ DRY_RUN: 'true', SLACK_ROUTE_TEAM_A: 'https://hooks.example/a', NAMESPACE_ROUTES: 'payments=team-a' });
      assert.equal(chooseRoute({ job: { metadata: { name: 'j', namespace: 'payments' } }, namespace }, config).route, 'team-a');
    } finally {
      api.faults.reset();
    }
  });
});

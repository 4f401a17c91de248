/**
 * The generated API clients over real HTTPS against the emulator: requests reuse their connections (client-node
 * alone opens one per request, with a TLS handshake each), credentials are still applied to each request, and the
 * pool is renewed after `renewMs`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, createConfiguration, KubeConfig, ServerConfiguration } from '@kubernetes/client-node';
import { apiClient, connect, PooledAuthentication } from '../../src/kube/client.ts';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';

let api: ApiServer;
before(async () => {
  api = await startApiServer();
  api.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
});
after(() => api.close());

const load = (path = api.kubeconfigPath): KubeConfig => {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(path);
  return kubeconfig;
};

async function tenCalls(core: CoreV1Api): Promise<number> {
  const before = api.connections;
  for (let i = 0; i < 10; i++) assert.equal((await core.listNamespacedPod({ namespace: 'default' })).items.length, 1);
  return api.connections - before;
}

describe('API clients', () => {
  it('reuse one connection for calls one after another (client-node alone opens one per call)', async () => {
    const kubeconfig = load();
    // At most 2: undici opens a second connection after the first request to this server (plain undici does the same).
    assert.ok((await tenCalls(connect(kubeconfig).core)) <= 2);
    assert.equal(await tenCalls(apiClient(kubeconfig, CoreV1Api)), 0, 'every client made for one kubeconfig shares its pool');
    assert.equal(await tenCalls(kubeconfig.makeApiClient(CoreV1Api)), 10);
  });

  it('apply the credentials to every request: another token, another answer, on the same pool', async () => {
    const kubeconfig = load(api.writeKubeconfig({ token: 'wrong' }));
    const core = apiClient(kubeconfig, CoreV1Api);
    await assert.rejects(core.listNamespacedPod({ namespace: 'default' }), (error: { code?: number }) => error.code === 401);
    const user = kubeconfig.getCurrentUser() as { token?: string };
    user.token = api.token; // as a refreshed token would be
    assert.equal((await core.listNamespacedPod({ namespace: 'default' })).items.length, 1);
  });

  it('renew the pool after renewMs (rotated client certificates are taken up)', async () => {
    const kubeconfig = load();
    let now = 0;
    const auth = new PooledAuthentication(kubeconfig, { renewMs: 60_000, now: () => now });
    const core = new CoreV1Api(createConfiguration({ baseServer: new ServerConfiguration(kubeconfig.getCurrentCluster()!.server, {}), authMethods: { default: auth } }));
    assert.ok((await tenCalls(core)) <= 2);
    assert.equal(await tenCalls(core), 0);
    now = 60_000;
    const renewed = await tenCalls(core);
    assert.ok(renewed >= 1 && renewed <= 2, `a new pool: ${renewed} new connections`);
  });
});

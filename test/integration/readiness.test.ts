/**
 * /readyz reflects the present: the daemon's watches (src/kube/watching.ts) and probe server (src/server.ts) with the
 * real @kubernetes/client-node over HTTPS against the API-server emulator. NOT_READY_AFTER is 400 ms here: a watch
 * that cannot list or watch for that long makes /readyz 503 (naming it and the error) and its informer_healthy gauge
 * 0; both come back once it works again.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { connect } from '../../src/kube/client.ts';
import { JobWatch } from '../../src/kube/watching.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { startServer } from '../../src/server.ts';
import { startApiServer, type ApiServer, type RecordedRequest } from '../world/apiserver.ts';

let api: ApiServer;
const stops: (() => Promise<void> | void)[] = [];

before(async () => {
  api = await startApiServer({ bookmarkIntervalMs: 100 });
});
afterEach(async () => {
  api.faults.reset();
  for (const stop of stops.splice(0).reverse()) await stop();
});
after(() => api.close());

/** The daemon's watches on `namespace`, and its probe server. */
async function watching(namespace: string) {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(api.kubeconfigPath);
  const metrics = new Metrics();
  const watch = new JobWatch({
    clients: connect(kubeconfig),
    namespaces: [namespace],
    onJob: () => undefined,
    onJobDeleted: () => undefined,
    logger: silentLogger,
    metrics,
    restartBackoff: { baseMs: 20, maxMs: 100 },
    listTimeoutMs: 300,
    notReadyAfterMs: 400,
  });
  const { server, port } = await startServer(0, watch, metrics.registry);
  stops.push(() => watch.stop(), () => void (server as Server).close());
  const readyz = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: response.status, body: await response.text() };
  };
  const healthy = async () => Object.fromEntries((await metrics.informerHealthy.get()).values.map((v) => [v.labels.resource, v.value]));
  return { watch, readyz, healthy };
}

/** Polls `probe` until `accept` holds; the last value otherwise, once `timeoutMs` is over. */
async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const inNamespace = (namespace: string, verbs: string[]) => (request: RecordedRequest) => request.namespace === namespace && verbs.includes(request.verb);

describe('/readyz', () => {
  it('is 503 until every watch has listed, naming them', async () => {
    api.faults.hang(inNamespace('first', ['list']));
    const { watch, readyz } = await watching('first');
    void watch.start();
    await api.nextRequest(inNamespace('first', ['list']));
    const waiting = await readyz();
    assert.equal(waiting.status, 503);
    assert.match(waiting.body, /jobs\/first: waiting for the first list/);
    api.faults.clearHang();
    await watch.whenSynced();
    assert.deepEqual(await readyz(), { status: 200, body: 'ok\n' });
  });

  const outages: Array<[string, number, RegExp]> = [
    ['API 500s', 500, /jobs\/five: unable to list or watch for [\d.]+ s: HTTP 500/],
    ['401s (an expired token)', 401, /jobs\/five: unable to list or watch for [\d.]+ s: HTTP 401/],
  ];
  for (const [name, status, reason] of outages) {
    it(`${name} on list and watch: 503 with the reason after NOT_READY_AFTER, informer_healthy 0; 200 and 1 again after recovery`, async () => {
      const { watch, readyz, healthy } = await watching('five');
      await watch.start();
      await watch.whenSynced();
      assert.equal((await readyz()).status, 200);
      api.faults.failNext(100_000, { status, match: inNamespace('five', ['list', 'watch']) });
      api.faults.compact();
      api.faults.dropWatches(inNamespace('five', ['watch']));
      const down = await until(readyz, (r) => r.status === 503);
      assert.equal(down.status, 503);
      assert.match(down.body, reason);
      assert.match(down.body, /cronjobs\/five: unable to list or watch/);
      assert.equal((await healthy())['jobs/five'], 0);
      api.faults.reset();
      const back = await until(readyz, (r) => r.status === 200);
      assert.deepEqual(back, { status: 200, body: 'ok\n' });
      assert.equal((await healthy())['jobs/five'], 1);
    });
  }

  it('a relist that hangs: 503 (the list is abandoned and retried meanwhile), 200 once lists answer', async () => {
    const { watch, readyz } = await watching('hung');
    await watch.start();
    await watch.whenSynced();
    api.faults.hang(inNamespace('hung', ['list']));
    // A change the watches miss, compacted away: they must relist, and the relists hang.
    api.faults.silenceWatches(inNamespace('hung', ['watch']));
    api.create('jobs', { metadata: { name: 'missed', namespace: 'hung' }, spec: {} });
    api.create('cronjobs', { metadata: { name: 'missed', namespace: 'hung' }, spec: { schedule: '* * * * *', jobTemplate: { spec: {} } } });
    api.faults.compact();
    api.faults.dropWatches(inNamespace('hung', ['watch']));
    const down = await until(readyz, (r) => r.status === 503);
    assert.equal(down.status, 503);
    assert.match(down.body, /jobs\/hung: unable to list or watch for [\d.]+ s: (the list did not answer within 0.3 s|a list has not answered yet)/);
    assert.ok(api.requests.filter(inNamespace('hung', ['list'])).length >= 4, 'hung lists are retried');
    api.faults.clearHang();
    api.faults.unsilenceWatches();
    const back = await until(readyz, (r) => r.status === 200);
    assert.equal(back.status, 200);
  });
});

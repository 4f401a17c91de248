// Proves the API-server emulator is faithful enough to trust: the real @kubernetes/client-node and the real
// kubectl, over real HTTPS, with no mocks. If these pass, a daemon test that fails is the daemon's fault.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import {
  ApiException,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1Job, V1Lease } from '@kubernetes/client-node';
import { startApiServer } from '../world/apiserver.ts';
import type { ApiServer, RecordedRequest } from '../world/apiserver.ts';
import { kubectlFor } from '../world/kubectl.ts';

const jobsPath = '/apis/batch/v1/namespaces/default/jobs';

function job(name: string, labels: Record<string, string> = {}): object {
  return {
    metadata: { name, labels },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
  };
}

function pod(name: string, containers: string[], labels: Record<string, string> = {}): object {
  return {
    metadata: { name, labels },
    spec: { containers: containers.map((container) => ({ name: container, image: 'busybox' })) },
    status: { phase: 'Running' },
  };
}

async function serve(t: TestContext, options?: Parameters<typeof startApiServer>[0]): Promise<{ server: ApiServer; kc: KubeConfig }> {
  const server = await startApiServer(options);
  t.after(() => server.close());
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  return { server, kc };
}

const isJobWatch = (request: RecordedRequest): boolean => request.verb === 'watch' && request.resource === 'jobs';
const isJobList = (request: RecordedRequest): boolean => request.verb === 'list' && request.resource === 'jobs';

/** The next object an informer reports for `verb`. */
function nextInformerEvent(informer: ListWatch<KubernetesObject>, verb: 'add' | 'update' | 'delete'): Promise<KubernetesObject> {
  return new Promise((resolve) => {
    const handler = (object: KubernetesObject): void => {
      informer.off(verb, handler);
      resolve(object);
    };
    informer.on(verb, handler);
  });
}

function jobInformer(t: TestContext, kc: KubeConfig): ListWatch<V1Job> {
  const batch = kc.makeApiClient(BatchV1Api);
  const informer = makeInformer(kc, jobsPath, () => batch.listNamespacedJob({ namespace: 'default' }));
  t.after(() => informer.stop());
  return informer as ListWatch<V1Job>;
}

/** A raw GET, as the informer's list pages are read: the body as sent. */
async function fetchList(kc: KubeConfig, path: string): Promise<string> {
  const { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } = await import('@kubernetes/client-node');
  const request = new RequestContext(kc.getCurrentCluster()!.server + path, HttpMethod.GET);
  await kc.applySecurityAuthentication(request);
  const response = await new IsomorphicFetchHttpLibrary().send(request).toPromise();
  return response.body.text();
}

/** A Watch whose inactivity timeout is short; the field is private in the typings but meant to be tuned. */
function watchWithTimeout(kc: KubeConfig, requestTimeoutMs: number): Watch {
  const watch = new Watch(kc);
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = requestTimeoutMs;
  return watch;
}

describe('the emulator with @kubernetes/client-node', () => {
  it('feeds an informer: list, then add, update and delete from the watch', async (t) => {
    const { server, kc } = await serve(t);
    server.create('jobs', job('before'));
    const informer = jobInformer(t, kc);
    const listed = nextInformerEvent(informer, 'add');
    const watching = server.nextRequest(isJobWatch);
    await informer.start();
    const first = (await listed) as V1Job;
    assert.equal(first.metadata?.name, 'before');
    // From the list the client builds class instances, with Dates.
    assert.ok(first.metadata?.creationTimestamp instanceof Date);
    await watching;

    const added = nextInformerEvent(informer, 'add');
    const created = server.create('jobs', job('during'));
    assert.equal(((await added) as V1Job).metadata?.uid, created.metadata.uid);

    const updated = nextInformerEvent(informer, 'update');
    server.modify('jobs', 'default', 'during', (object) => {
      object.status = { failed: 1 };
    });
    assert.deepEqual(((await updated) as V1Job).status, { failed: 1 });

    const deleted = nextInformerEvent(informer, 'delete');
    server.remove('jobs', 'default', 'during');
    assert.equal(((await deleted) as V1Job).metadata?.name, 'during');
    assert.deepEqual(informer.list('default').map((object) => object.metadata?.name), ['before']);
  });

  it('makes an informer relist after its watch expires, recovering an event the dead watch lost', async (t) => {
    const { server, kc } = await serve(t);
    const informer = jobInformer(t, kc);
    const errors: unknown[] = [];
    informer.on('error', (error) => errors.push(error));
    const watching = server.nextRequest(isJobWatch);
    await informer.start();
    await watching;

    server.faults.silenceWatches(isJobWatch);
    server.create('jobs', job('lost-on-the-wire'));
    server.faults.compact();
    const recovered = nextInformerEvent(informer, 'add');
    const relisted = server.nextRequest(isJobList);
    const expired = server.nextRequest(isJobWatch);
    server.faults.dropWatches(isJobWatch);

    assert.equal((await expired).status, 200);
    await relisted;
    assert.equal(((await recovered) as V1Job).metadata?.name, 'lost-on-the-wire');
    assert.deepEqual(errors, []);
  });

  it('sends a watch resumed from a compacted resourceVersion one 410 ERROR event, then ends it', async (t) => {
    const { server, kc } = await serve(t);
    server.create('jobs', job('a'));
    const before = server.resourceVersion();
    server.create('jobs', job('b'));
    server.faults.compact();
    const events: { type: string; object: { code?: number; reason?: string; message?: string } }[] = [];
    const done = new Promise((resolve) => {
      void new Watch(kc).watch(jobsPath, { resourceVersion: before }, (type, object) => events.push({ type, object }), resolve);
    });
    assert.equal(await done, null);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'ERROR');
    assert.equal(events[0]?.object.code, 410);
    assert.equal(events[0]?.object.reason, 'Expired');
    assert.match(events[0]?.object.message ?? '', /^too old resource version: \d+ \(\d+\)$/);

    const batch = kc.makeApiClient(BatchV1Api);
    await assert.rejects(
      batch.listNamespacedJob({ namespace: 'default', resourceVersion: before, resourceVersionMatch: 'Exact' }),
      (error: ApiException<unknown>) => error.code === 410,
    );
  });

  it('replays history to a watch from a resourceVersion, with selectors turning moves into ADDED/DELETED', async (t) => {
    const { server, kc } = await serve(t);
    const from = server.resourceVersion();
    server.create('jobs', job('blue', { team: 'blue' }));
    server.create('jobs', job('red', { team: 'red' }));
    const events: string[] = [];
    let sawDelete: () => void = () => {};
    const deleted = new Promise<void>((resolve) => (sawDelete = resolve));
    const controller = await new Watch(kc).watch(
      jobsPath,
      { resourceVersion: from, labelSelector: 'team in (blue)' },
      (type, object: V1Job) => {
        events.push(`${type} ${object.metadata?.name}`);
        if (type === 'DELETED') sawDelete();
      },
      () => {},
    );
    t.after(() => controller.abort());
    server.modify('jobs', 'default', 'red', (object) => (object.metadata.labels = { team: 'blue' }));
    server.modify('jobs', 'default', 'blue', (object) => (object.metadata.labels = { team: 'green' }));
    await deleted;
    assert.deepEqual(events, ['ADDED blue', 'ADDED red', 'DELETED blue']);
  });

  it('reports a failing watch to the informer error callback', async (t) => {
    const { server, kc } = await serve(t);
    server.faults.failNext(1, { status: 500, match: isJobWatch });
    const informer = jobInformer(t, kc);
    const failed = new Promise<unknown>((resolve) => informer.on('error', resolve));
    await informer.start();
    const error = (await failed) as { statusCode?: number };
    assert.equal(error.statusCode, 500);
    assert.equal(server.requests.filter(isJobWatch).at(-1)?.status, 500);
  });

  it('keeps a watch alive with bookmarks, and a silenced one trips the client inactivity timeout', async (t) => {
    const { server, kc } = await serve(t, { bookmarkIntervalMs: 50 });
    const watch = watchWithTimeout(kc, 400);
    let bookmarks = 0;
    let enoughBookmarks: () => void = () => {};
    const bookmarked = new Promise<void>((resolve) => (enoughBookmarks = resolve));
    const done = new Promise<unknown>((resolve) => {
      void watch.watch(
        jobsPath,
        { allowWatchBookmarks: true },
        (type, object: V1Job) => {
          assert.equal(type, 'BOOKMARK');
          assert.equal(object.metadata?.resourceVersion, server.resourceVersion());
          if (++bookmarks === 12) enoughBookmarks();
        },
        resolve,
      );
    });
    // 12 bookmarks at 50 ms outlive the 400 ms timeout: the stream's activity keeps resetting it.
    await bookmarked;
    server.faults.silenceWatches(isJobWatch);
    const error = (await done) as Error;
    assert.equal(error.name, 'TimeoutError');
  });

  it('lets a ListWatch with a short watch timeout resume after silence without losing the event', async (t) => {
    const { server, kc } = await serve(t);
    const batch = kc.makeApiClient(BatchV1Api);
    const watch = watchWithTimeout(kc, 300);
    const informer = new ListWatch<V1Job>(jobsPath, watch, () => batch.listNamespacedJob({ namespace: 'default' }), false);
    t.after(() => informer.stop());
    const watching = server.nextRequest(isJobWatch);
    await informer.start();
    const firstWatch = await watching;

    server.faults.silenceWatches(isJobWatch);
    const added = nextInformerEvent(informer, 'add');
    server.create('jobs', job('sent-into-silence'));
    const resumed = await server.nextRequest(isJobWatch);
    assert.equal(resumed.query.resourceVersion, firstWatch.query.resourceVersion);
    assert.equal(((await added) as V1Job).metadata?.name, 'sent-into-silence');
  });

  it('patches a Job with JSON patch (~1 escapes) and merge patch, bumping resourceVersion', async (t) => {
    const { server, kc } = await serve(t);
    const created = server.create('jobs', job('x'));
    const batch = kc.makeApiClient(BatchV1Api);
    const modified = server.nextRequest((request) => request.verb === 'patch');
    const patched = await batch.patchNamespacedJob({
      name: 'x',
      namespace: 'default',
      body: [
        { op: 'test', path: '/metadata/name', value: 'x' },
        { op: 'add', path: '/metadata/annotations', value: {} },
        { op: 'add', path: '/metadata/annotations/kube-job-alerts.io~1alerted-at', value: '2024-01-01T00:00:00Z' },
      ],
    });
    assert.equal((await modified).resource, 'jobs');
    assert.equal(patched.metadata?.annotations?.['kube-job-alerts.io/alerted-at'], '2024-01-01T00:00:00Z');
    assert.ok(Number(patched.metadata?.resourceVersion) > Number(created.metadata.resourceVersion));

    const merged = await batch.patchNamespacedJob(
      { name: 'x', namespace: 'default', body: { metadata: { annotations: { 'kube-job-alerts.io/alerted-at': null, other: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata?.annotations, { other: 'yes' });
    assert.deepEqual(server.get('jobs', 'default', 'x')?.metadata.annotations, { other: 'yes' });

    await assert.rejects(
      batch.patchNamespacedJob({ name: 'x', namespace: 'default', body: [{ op: 'test', path: '/metadata/name', value: 'y' }] }),
      (error: ApiException<unknown>) => error.code === 422,
    );
    await assert.rejects(
      batch.patchNamespacedJob({ name: 'x', namespace: 'default', body: {} }, setHeaderOptions('Content-Type', 'application/yaml')),
      (error: ApiException<unknown>) => error.code === 415,
    );
  });

  it('answers create and replace conflicts like the real server', async (t) => {
    const { server, kc } = await serve(t);
    const batch = kc.makeApiClient(BatchV1Api);
    const created = await batch.createNamespacedJob({ namespace: 'default', body: job('x') as V1Job });
    assert.equal(created.metadata?.namespace, 'default');
    await assert.rejects(batch.createNamespacedJob({ namespace: 'default', body: job('x') as V1Job }), (error: ApiException<string>) => {
      assert.equal(error.code, 409);
      assert.equal(JSON.parse(error.body).reason, 'AlreadyExists');
      return true;
    });
    server.modify('jobs', 'default', 'x', (object) => (object.metadata.labels = { bumped: 'yes' }));
    await assert.rejects(batch.replaceNamespacedJob({ name: 'x', namespace: 'default', body: created }), (error: ApiException<string>) => {
      assert.equal(error.code, 409);
      assert.equal(JSON.parse(error.body).reason, 'Conflict');
      return true;
    });
    await assert.rejects(batch.readNamespacedJob({ name: 'nope', namespace: 'default' }), (error: ApiException<unknown>) => error.code === 404);
  });

  it('serves the last lines of a container log, and insists on a container when there are several', async (t) => {
    const { server, kc } = await serve(t);
    server.create('pods', pod('one', ['c']));
    server.create('pods', pod('two', ['a', 'b']));
    server.setPodLog('default', 'one', 'c', 'first\nsecond\nthird\n');
    server.setPodLog('default', 'one', 'c', 'crashed before\n', { previous: true });
    const core = kc.makeApiClient(CoreV1Api);

    assert.equal(await core.readNamespacedPodLog({ name: 'one', namespace: 'default', container: 'c', tailLines: 2 }), 'second\nthird\n');
    assert.equal(await core.readNamespacedPodLog({ name: 'one', namespace: 'default', previous: true }), 'crashed before\n');
    assert.equal(await core.readNamespacedPodLog({ name: 'one', namespace: 'default', limitBytes: 5 }), 'first');
    await assert.rejects(core.readNamespacedPodLog({ name: 'two', namespace: 'default' }), (error: ApiException<string>) => {
      assert.equal(error.code, 400);
      assert.equal(JSON.parse(error.body).message, 'a container name must be specified for pod two, choose one of: [a b]');
      return true;
    });
    await assert.rejects(core.readNamespacedPodLog({ name: 'two', namespace: 'default', container: 'a' }), (error: ApiException<unknown>) => error.code === 404);
    await assert.rejects(core.readNamespacedPodLog({ name: 'gone', namespace: 'default' }), (error: ApiException<unknown>) => error.code === 404);
    assert.equal(server.requests.filter((request) => request.resource === 'pods/log').length, 6);
  });

  it('filters pods by label and field selectors', async (t) => {
    const { server, kc } = await serve(t);
    server.create('pods', pod('a', ['c'], { 'job-name': 'x', tier: 'batch' }));
    server.create('pods', pod('b', ['c'], { 'job-name': 'y' }));
    server.create('pods', { ...pod('c', ['c'], { 'job-name': 'x' }), metadata: { name: 'c', namespace: 'other', labels: { 'job-name': 'x' } } });
    const core = kc.makeApiClient(CoreV1Api);
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      (await core.listNamespacedPod({ namespace: 'default', labelSelector, fieldSelector })).items.map((item) => item.metadata?.name ?? '');

    assert.deepEqual(await names('job-name=x'), ['a']);
    assert.deepEqual(await names('job-name!=x'), ['b']);
    assert.deepEqual(await names('job-name in (x,y),!tier'), ['b']);
    assert.deepEqual(await names('tier'), ['a']);
    assert.deepEqual(await names(undefined, 'metadata.name=b'), ['b']);
    assert.deepEqual(await names(undefined, 'status.phase==Running,metadata.name!=a'), ['b']);
    const everywhere = await core.listPodForAllNamespaces({ labelSelector: 'job-name==x' });
    assert.deepEqual(everywhere.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`), ['default/a', 'other/c']);
    await assert.rejects(names(undefined, 'spec.bogus=1'), (error: ApiException<unknown>) => error.code === 400);
  });

  it('refuses a wrong token with 401', async (t) => {
    const { server } = await serve(t);
    const kc = new KubeConfig();
    kc.loadFromFile(server.writeKubeconfig({ token: 'wrong' }));
    await assert.rejects(kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: 'default' }), (error: ApiException<unknown>) => error.code === 401);
    assert.equal(server.requests.at(-1)?.status, 401);
  });

  it('holds hung requests until cleared and delays others', async (t) => {
    const { server, kc } = await serve(t);
    const batch = kc.makeApiClient(BatchV1Api);
    server.faults.hang(isJobList);
    const hungRequest = server.nextRequest(isJobList);
    const answer = batch.listNamespacedJob({ namespace: 'default' });
    assert.equal((await hungRequest).status, 0);
    server.faults.clearHang();
    assert.deepEqual((await answer).items, []);

    server.faults.delay(200, isJobList);
    const started = Date.now();
    await batch.listNamespacedJob({ namespace: 'default' });
    assert.ok(Date.now() - started >= 190);
    server.faults.reset();
  });

  it('refuses connections while unreachable, ending open watches, and serves the same store again after', async (t) => {
    const { server, kc } = await serve(t);
    const batch = kc.makeApiClient(BatchV1Api);
    server.create('jobs', job('kept'));
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(jobsPath, {}, () => {}, resolve);
    });
    await server.nextRequest(isJobWatch);
    server.faults.unreachable();
    await ended;
    await assert.rejects(batch.listNamespacedJob({ namespace: 'default' }), (error: Error & { cause?: { code?: string } }) => {
      assert.equal(error.cause?.code ?? (error as { code?: string }).code, 'ECONNREFUSED', String(error));
      return true;
    });
    await server.faults.reachable();
    assert.deepEqual((await batch.listNamespacedJob({ namespace: 'default' })).items.map((item) => item.metadata?.name), ['kept']);
  });

  it('paginates a list with limit and continue: one snapshot across pages, remainingItemCount without selectors', async (t) => {
    const { server, kc } = await serve(t);
    for (const name of ['a', 'b', 'c', 'd', 'e']) server.create('jobs', job(name, { n: name }));
    server.create('jobs', { ...job('z'), metadata: { name: 'z', namespace: 'other' } });
    const batch = kc.makeApiClient(BatchV1Api);
    const first = await batch.listNamespacedJob({ namespace: 'default', limit: 2 });
    assert.deepEqual(first.items.map((item) => item.metadata?.name), ['a', 'b']);
    assert.equal(first.metadata?.remainingItemCount, 3);
    assert.ok(first.metadata?._continue);
    // Changes after the first page are not in the later ones: they are read at the first page's revision.
    server.create('jobs', job('c2'));
    server.modify('jobs', 'default', 'd', (object) => (object.metadata.labels = { n: 'changed' }));
    server.remove('jobs', 'default', 'e');
    const second = await batch.listNamespacedJob({ namespace: 'default', limit: 2, _continue: first.metadata?._continue });
    assert.deepEqual(second.items.map((item) => `${item.metadata?.name}:${item.metadata?.labels?.n}`), ['c:c', 'd:d']);
    assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
    assert.equal(second.metadata?.remainingItemCount, 1);
    const third = await batch.listNamespacedJob({ namespace: 'default', limit: 2, _continue: second.metadata?._continue });
    assert.deepEqual(third.items.map((item) => item.metadata?.name), ['e']);
    assert.equal(third.metadata?._continue, undefined);
    assert.equal(third.metadata?.remainingItemCount, undefined);
    // A new list sees the present; all namespaces, and a selector (no count: the server cannot know it).
    const now = await batch.listNamespacedJob({ namespace: 'default', limit: 10 });
    assert.deepEqual(now.items.map((item) => item.metadata?.name), ['a', 'b', 'c', 'c2', 'd']);
    const everywhere = await batch.listJobForAllNamespaces({ limit: 5 });
    assert.deepEqual(everywhere.items.map((item) => item.metadata?.name), ['a', 'b', 'c', 'c2', 'd']);
    assert.deepEqual((await batch.listJobForAllNamespaces({ limit: 5, _continue: everywhere.metadata?._continue })).items.map((item) => item.metadata?.name), ['z']);
    const selected = await batch.listNamespacedJob({ namespace: 'default', limit: 1, labelSelector: 'n in (a,b)' });
    assert.deepEqual(selected.items.map((item) => item.metadata?.name), ['a']);
    assert.ok(selected.metadata?._continue);
    assert.equal(selected.metadata?.remainingItemCount, undefined);
  });

  it('answers an expired continue token with 410 and a token that continues, inconsistently, at the latest revision', async (t) => {
    const { server, kc } = await serve(t);
    for (const name of ['a', 'b', 'c']) server.create('jobs', job(name));
    const batch = kc.makeApiClient(BatchV1Api);
    const first = await batch.listNamespacedJob({ namespace: 'default', limit: 1 });
    server.create('jobs', job('bb'));
    server.faults.compact();
    const refused = await batch.listNamespacedJob({ namespace: 'default', limit: 1, _continue: first.metadata?._continue }).then(
      () => assert.fail('an expired token was accepted'),
      (error: ApiException<string>) => error,
    );
    assert.equal(refused.code, 410);
    const status = JSON.parse(refused.body) as { reason: string; message: string; metadata: { continue?: string } };
    assert.equal(status.reason, 'Expired');
    assert.match(status.message, /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter/);
    assert.ok(status.metadata.continue);
    const rest = await batch.listNamespacedJob({ namespace: 'default', limit: 10, _continue: status.metadata.continue });
    assert.deepEqual(rest.items.map((item) => item.metadata?.name), ['b', 'bb', 'c']);
    // A token that is not one, and a token with a resourceVersion: 400, as the real server answers.
    await assert.rejects(batch.listNamespacedJob({ namespace: 'default', _continue: 'bm90LWEtdG9rZW4' }), (error: ApiException<string>) => error.code === 400 && /invalid continue token/.test(error.body));
    await assert.rejects(batch.listNamespacedJob({ namespace: 'default', resourceVersion: '5', _continue: rest.metadata?._continue ?? first.metadata?._continue }), (error: ApiException<unknown>) => error.code === 400);
  });

  it('counts the body bytes of each response, and streams a large list in pieces', async (t) => {
    const { server, kc } = await serve(t);
    for (let i = 0; i < 450; i++) server.create('jobs', job(`j-${String(i).padStart(3, '0')}`));
    const kubeconfig = server.writeKubeconfig({ client: 'counted' });
    const counted = new KubeConfig();
    counted.loadFromFile(kubeconfig);
    const response = await fetchList(kc, '/apis/batch/v1/namespaces/default/jobs');
    assert.equal(JSON.parse(response).items.length, 450);
    const listed = server.requests.filter(isJobList).at(-1)!;
    assert.equal(listed.bytes, Buffer.byteLength(response));
    await counted.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: 'default', limit: 1 });
    assert.ok(server.requests.some((request) => request.client === 'counted' && request.bytes > 0));
  });

  it('ends a watch after timeoutSeconds', async (t) => {
    const { kc } = await serve(t);
    const done = new Promise((resolve) => {
      void new Watch(kc).watch(jobsPath, { timeoutSeconds: 1 }, () => {}, resolve);
    });
    assert.equal(await done, null);
  });
});

describe('the emulator: Leases, as the real server checks them', () => {
  const lease = (name: string, spec: object): V1Lease => ({ metadata: { name }, spec }) as V1Lease;
  const rejectsWith = (code: number, message: RegExp) => (error: ApiException<string>) => {
    assert.equal(error.code, code);
    assert.match(JSON.parse(error.body).message, message);
    return true;
  };

  it('creates (409 AlreadyExists on a second create), reads, and updates only on the current resourceVersion', async (t) => {
    const { kc } = await serve(t);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const renewTime = new V1MicroTime(Date.UTC(2026, 10, 29, 15, 4, 5, 123));
    const created = await leases.createNamespacedLease({
      namespace: 'default',
      body: lease('kube-job-alerts', { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: renewTime, renewTime, leaseTransitions: 0 }),
    });
    // The client leaves MicroTime as the server's string; the server wrote it with six digits, in UTC.
    assert.equal(created.spec?.renewTime as unknown, '2026-11-29T15:04:05.123000Z');
    await assert.rejects(
      leases.createNamespacedLease({ namespace: 'default', body: lease('kube-job-alerts', { holderIdentity: 'pod-b' }) }),
      rejectsWith(409, /^leases\.coordination\.k8s\.io "kube-job-alerts" already exists$/),
    );
    const read = await leases.readNamespacedLease({ namespace: 'default', name: 'kube-job-alerts' });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);

    const renewed = await leases.replaceNamespacedLease({ namespace: 'default', name: 'kube-job-alerts', body: { ...read, spec: { ...read.spec, holderIdentity: 'pod-a' } } });
    assert.notEqual(renewed.metadata?.resourceVersion, read.metadata?.resourceVersion);
    await assert.rejects(
      leases.replaceNamespacedLease({ namespace: 'default', name: 'kube-job-alerts', body: { ...read, spec: { ...read.spec, holderIdentity: 'pod-b' } } }),
      rejectsWith(409, /the object has been modified; please apply your changes to the latest version/),
    );
    const { resourceVersion: _resourceVersion, ...unversioned } = renewed.metadata!;
    await assert.rejects(
      leases.replaceNamespacedLease({ namespace: 'default', name: 'kube-job-alerts', body: { ...renewed, metadata: unversioned } }),
      rejectsWith(422, /metadata\.resourceVersion: Invalid value: 0x0: must be specified for an update/),
    );
    assert.equal((await leases.readNamespacedLease({ namespace: 'default', name: 'kube-job-alerts' })).spec?.holderIdentity, 'pod-a');
  });

  it('decodes MicroTime as the real server does: six digits or 400; other zones stored in UTC', async (t) => {
    const { server, kc } = await serve(t);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const withTime = (name: string, renewTime: string) => lease(name, { renewTime: renewTime as unknown as V1MicroTime });
    const message = (text: string, rest: string, element: string) =>
      new RegExp(`^Lease in version "v1" cannot be handled as a Lease: parsing time "${text.replace(/[.+]/g, '\\$&')}" as "2006-01-02T15:04:05\\.000000Z07:00": cannot parse "${rest.replace(/[.+]/g, '\\$&')}" as "${element.replace(/[.]/g, '\\$&')}"$`);

    // What Date#toISOString() writes: milliseconds. A real server refuses it.
    await assert.rejects(leases.createNamespacedLease({ namespace: 'default', body: withTime('ms', '2026-11-29T15:04:05.123Z') }), rejectsWith(400, message('2026-11-29T15:04:05.123Z', '.123Z', '.000000')));
    await assert.rejects(leases.createNamespacedLease({ namespace: 'default', body: withTime('ns', '2026-11-29T15:04:05.123456789Z') }), rejectsWith(400, message('2026-11-29T15:04:05.123456789Z', '789Z', 'Z07:00')));
    await assert.rejects(leases.createNamespacedLease({ namespace: 'default', body: withTime('s', '2026-11-29T15:04:05Z') }), rejectsWith(400, message('2026-11-29T15:04:05Z', 'Z', '.000000')));
    assert.deepEqual(server.list('leases'), []);

    await leases.createNamespacedLease({ namespace: 'default', body: withTime('micro', '2026-11-29T15:04:05.123456Z') });
    await leases.createNamespacedLease({ namespace: 'default', body: withTime('offset', '2026-11-29T16:04:05.000001+01:00') });
    assert.equal(server.get('leases', 'default', 'micro')?.spec.renewTime, '2026-11-29T15:04:05.123456Z');
    assert.equal(server.get('leases', 'default', 'offset')?.spec.renewTime, '2026-11-29T15:04:05.000001Z');
  });

  it('validates the spec and the name (422)', async (t) => {
    const { kc } = await serve(t);
    const leases = kc.makeApiClient(CoordinationV1Api);
    await assert.rejects(
      leases.createNamespacedLease({ namespace: 'default', body: lease('zero', { leaseDurationSeconds: 0 }) }),
      rejectsWith(422, /^Lease\.coordination\.k8s\.io "zero" is invalid: spec\.leaseDurationSeconds: Invalid value: 0: must be greater than 0$/),
    );
    await assert.rejects(
      leases.createNamespacedLease({ namespace: 'default', body: lease('Bad_Name', { leaseTransitions: -1 }) }),
      rejectsWith(422, /^Lease\.coordination\.k8s\.io "Bad_Name" is invalid: \[metadata\.name: .*RFC 1123 subdomain.*, spec\.leaseTransitions: Invalid value: -1: must be greater than or equal to 0\]$/),
    );
  });

  it('records which client sent a request, so a fault can hit one replica only', async (t) => {
    const { server, kc } = await serve(t);
    const other = new KubeConfig();
    other.loadFromFile(server.writeKubeconfig({ client: 'replica-b' }));
    const mine = kc.makeApiClient(CoordinationV1Api);
    const theirs = other.makeApiClient(CoordinationV1Api);
    server.faults.failNext(1, { match: (request) => request.client === 'replica-b' });
    await assert.rejects(theirs.readNamespacedLease({ namespace: 'default', name: 'x' }), (error: ApiException<unknown>) => error.code === 500);
    await assert.rejects(mine.readNamespacedLease({ namespace: 'default', name: 'x' }), (error: ApiException<unknown>) => error.code === 404);
    await assert.rejects(theirs.readNamespacedLease({ namespace: 'default', name: 'x' }), (error: ApiException<unknown>) => error.code === 404);
    assert.deepEqual(server.requests.map((request) => [request.client, request.status]), [['replica-b', 500], ['', 404], ['replica-b', 404]]);
  });
});

describe('the emulator with kubectl', () => {
  it('lists, watches, patches and reads logs', async (t) => {
    const { server } = await serve(t);
    const kubectl = kubectlFor(server.kubeconfigPath);
    t.after(() => kubectl.close());
    server.create('jobs', job('x', { app: 'demo' }));
    server.create('pods', pod('x-abcde', ['c']));
    server.setPodLog('default', 'x-abcde', 'c', 'one\ntwo\n');

    const listed = JSON.parse((await kubectl.run('get', 'jobs', '-o', 'json')).stdout);
    assert.deepEqual(listed.items.map((item: V1Job) => `${item.kind} ${item.metadata?.name}`), ['Job x']);

    await kubectl.run('patch', 'job', 'x', '--type', 'merge', '-p', '{"metadata":{"annotations":{"kube-job-alerts.io/alerted-at":"now"}}}');
    assert.equal(server.get('jobs', 'default', 'x')?.metadata.annotations?.['kube-job-alerts.io/alerted-at'], 'now');

    assert.equal((await kubectl.run('logs', 'pod/x-abcde', '-c', 'c', '--tail', '1')).stdout, 'two\n');

    const watching = server.nextRequest(isJobWatch);
    const watcher = kubectl.spawn('get', 'jobs', '-w');
    t.after(() => watcher.kill());
    const lines = createInterface(watcher.stdout)[Symbol.asyncIterator]();
    let stderr = '';
    watcher.stderr.on('data', (chunk) => (stderr += String(chunk)));
    // A line that never comes fails the test with what kubectl said, instead of hanging the run.
    const nextLine = async (): Promise<string> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`kubectl printed no line within 10 s; stderr: ${stderr}`)), 10_000);
      });
      try {
        return String((await Promise.race([lines.next(), timeout])).value);
      } finally {
        clearTimeout(timer);
      }
    };
    assert.match(await nextLine(), /^NAME\s+AGE$/);
    assert.match(await nextLine(), /^x\s+\d+s$/);
    await watching;
    server.create('jobs', job('y'));
    assert.match(await nextLine(), /^y\s+\d+s$/);
    server.modify('jobs', 'default', 'x', (object) => (object.status = { failed: 1 }));
    assert.match(await nextLine(), /^x\s+\d+s$/);
    watcher.kill();
    await once(watcher, 'exit');
  });

  it('lists in chunks (--chunk-size), following continue tokens to the end', async (t) => {
    const { server } = await serve(t);
    const kubectl = kubectlFor(server.kubeconfigPath);
    t.after(() => kubectl.close());
    for (const name of ['a', 'b', 'c', 'd', 'e']) server.create('jobs', job(name));
    const listed = JSON.parse((await kubectl.run('get', 'jobs', '--chunk-size=2', '-o', 'json')).stdout);
    assert.deepEqual(listed.items.map((item: V1Job) => item.metadata?.name), ['a', 'b', 'c', 'd', 'e']);
    const lists = server.requests.filter(isJobList);
    assert.deepEqual(lists.map((request) => [request.query.limit, request.query.continue === undefined]), [['2', true], ['2', false], ['2', false]]);
    const names = (await kubectl.run('get', 'jobs', '--chunk-size=2', '-o', 'name')).stdout.trim().split('\n');
    assert.deepEqual(names, ['job.batch/a', 'job.batch/b', 'job.batch/c', 'job.batch/d', 'job.batch/e']);
  });

  it('gets leases, and one as YAML with its MicroTimes verbatim', async (t) => {
    const { server } = await serve(t);
    const kubectl = kubectlFor(server.kubeconfigPath);
    t.after(() => kubectl.close());
    server.create('leases', {
      metadata: { name: 'kube-job-alerts' },
      spec: { holderIdentity: 'kube-job-alerts-5d8f7c9b6-x7k2p', leaseDurationSeconds: 15, renewTime: '2026-11-29T15:04:05.123456Z', leaseTransitions: 2 },
    });
    assert.match((await kubectl.run('get', 'leases')).stdout, /^NAME\s+AGE\nkube-job-alerts\s+\d+s\n$/);
    const yaml = (await kubectl.run('get', 'lease', 'kube-job-alerts', '-o', 'yaml')).stdout;
    assert.match(yaml, /^apiVersion: coordination\.k8s\.io\/v1\nkind: Lease\n/);
    assert.match(yaml, /\n {2}holderIdentity: kube-job-alerts-5d8f7c9b6-x7k2p\n/);
    assert.match(yaml, /\n {2}renewTime: "2026-11-29T15:04:05\.123456Z"\n/);
    assert.match(yaml, /\n {2}leaseTransitions: 2\n/);
  });
});

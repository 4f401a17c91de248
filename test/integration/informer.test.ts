/**
 * The supervised informer (src/kube/informer.ts) with the real @kubernetes/client-node over HTTPS against the
 * API-server emulator: bookmarks and timeouts requested, 410 relists, dropped and silent watches, 5xx restarts,
 * a hung relist abandoned and retried, relists after a history reset (504 Too large resource version).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, type V1Job } from '@kubernetes/client-node';
import { Informer } from '../../src/kube/informer.ts';
import { identity, slimJob } from '../../src/kube/slim.ts';
import { RecordCache } from '../../src/kube/record-cache.ts';
import { failedJob } from '../fixtures/index.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';

let api: ApiServer;
let kubeconfig: KubeConfig;

before(async () => {
  api = await startApiServer({ bookmarkIntervalMs: 200 });
  kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(api.kubeconfigPath);
});
// Informers a failed test left running must not keep the process (and the emulator) alive.
const informers: Informer<V1Job>[] = [];
after(async () => {
  await Promise.all(informers.map((informer) => informer.stop()));
  await api.close();
});

/** An informer on Jobs in `namespace` that records what it was told, name by name. */
function jobInformer(namespace: string, options: { silenceMs?: number; listTimeoutMs?: number; pageSize?: number; slim?: (object: unknown) => V1Job; keep?: (object: V1Job) => V1Job; onAdd?: (job: V1Job) => void; onDelete?: (job: V1Job) => void } = {}) {
  const seen: string[] = [];
  const told: V1Job[] = [];
  const waiters: { name: string; resolve: () => void }[] = [];
  // `update:name`, and `update:name:v` when the Job has a label v: which version the handler was told about.
  const note = (kind: string) => (job: V1Job) => {
    const version = job.metadata?.labels?.v;
    const entries = [`${kind}:${job.metadata?.name}`, ...(version === undefined ? [] : [`${kind}:${job.metadata?.name}:${version}`])];
    seen.push(...entries);
    told.push(job);
    for (const waiter of waiters.filter((w) => entries.includes(w.name))) waiter.resolve();
  };
  const metrics = new Metrics();
  const informer = new Informer<V1Job>({
    resource: 'jobs',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    kubeconfig,
    logger: silentLogger,
    metrics,
    silenceMs: options.silenceMs,
    listTimeoutMs: options.listTimeoutMs,
    pageSize: options.pageSize,
    slim: options.slim,
    keep: options.keep,
    backoff: { baseMs: 50, maxMs: 200 },
    onAdd: (job) => {
      options.onAdd?.(job);
      note('add')(job);
    },
    onUpdate: note('update'),
    onDelete: (job) => {
      options.onDelete?.(job);
      note('delete')(job);
    },
  });
  informers.push(informer);
  const saw = (entry: string, timeoutMs = 10_000) =>
    seen.includes(entry)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`never saw ${entry}; saw ${seen.join(', ')}`)), timeoutMs);
          waiters.push({ name: entry, resolve: () => (clearTimeout(timer), resolve()) });
        });
  const restarts = async () => (await metrics.informerRestarts.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { informer, seen, told, saw, restarts };
}

function job(namespace: string, name: string) {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace }, spec: {} };
}

const watchesIn = (namespace: string) => (request: { verb: string; namespace: string }) => request.verb === 'watch' && request.namespace === namespace;
const listsIn = (namespace: string) => (request: { verb: string; namespace: string }) => request.verb === 'list' && request.namespace === namespace;
const listCount = (namespace: string) => api.requests.filter(listsIn(namespace)).length;

/** Resolves once `check()` holds; rejects, saying `what`, if it does not within `timeoutMs`. */
async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Informer', () => {
  it('lists, then watches with bookmarks and a server-side timeout of 5-10 minutes', async () => {
    api.create('jobs', job('a', 'existing'));
    const { informer, saw } = jobInformer('a');
    assert.equal(informer.synced, false);
    await informer.start();
    await informer.whenSynced();
    assert.equal(informer.synced, true);
    await saw('add:existing');
    api.create('jobs', job('a', 'live'));
    await saw('add:live');
    const watch = api.requests.find((r) => r.verb === 'watch' && r.namespace === 'a')!;
    assert.equal(watch.query.allowWatchBookmarks, 'true');
    const timeout = Number(watch.query.timeoutSeconds);
    assert.ok(timeout >= 300 && timeout <= 600, `timeoutSeconds=${timeout}`);
    await informer.stop();
  });

  it('relists after 410 Expired and sees what changed meanwhile', async () => {
    const { informer, saw } = jobInformer('b');
    await informer.start();
    api.create('jobs', job('b', 'one'));
    await saw('add:one');
    const listsBefore = api.requests.filter((r) => r.verb === 'list' && r.namespace === 'b').length;
    // Changes the informer cannot resume to: the history before them is compacted away.
    api.faults.silenceWatches(watchesIn('b'));
    api.remove('jobs', 'b', 'one');
    api.create('jobs', job('b', 'two'));
    api.faults.compact();
    api.faults.dropWatches(watchesIn('b'));
    await saw('add:two');
    await saw('delete:one');
    const expired = api.requests.find((r) => r.verb === 'watch' && r.namespace === 'b' && r.status === 200 && r.query.resourceVersion !== undefined);
    assert.ok(expired);
    assert.equal(api.requests.filter((r) => r.verb === 'list' && r.namespace === 'b').length, listsBefore + 1, 'one relist');
    await informer.stop();
  });

  it('restarts after a 500 on the watch and on the list, and counts the restarts', async () => {
    const { informer, saw, restarts } = jobInformer('c');
    await informer.start();
    api.faults.failNext(2, { status: 500, match: (r) => r.namespace === 'c' && (r.verb === 'watch' || r.verb === 'list') });
    api.faults.compact();
    api.faults.dropWatches(watchesIn('c'));
    api.create('jobs', job('c', 'after-errors'));
    await saw('add:after-errors');
    assert.ok((await restarts()) >= 1);
    await informer.stop();
  });

  it('resumes a watch that went silent (watchdog)', async () => {
    const { informer, saw, restarts } = jobInformer('d', { silenceMs: 600 });
    await informer.start(); // resolves once the watch is open
    api.faults.silenceWatches(watchesIn('d'));
    api.create('jobs', job('d', 'during-silence'));
    // The silenced stream never delivers it: only a new watch (from the last resourceVersion) can.
    await saw('add:during-silence', 10_000);
    assert.ok((await restarts()) >= 1, 'the silence was noticed');
    api.faults.unsilenceWatches();
    await informer.stop();
  });

  it('is not synced while the API server hangs its list, and syncs once it answers', async () => {
    api.faults.hang((r) => r.verb === 'list' && r.namespace === 'e');
    const { informer, saw } = jobInformer('e');
    api.create('jobs', job('e', 'waiting'));
    void informer.start();
    await api.nextRequest((r) => r.verb === 'list' && r.namespace === 'e');
    assert.equal(informer.synced, false);
    api.faults.clearHang();
    await informer.whenSynced();
    await saw('add:waiting');
    assert.equal(informer.synced, true);
    await informer.stop();
  });

  it('gives up on a hung relist after listTimeoutMs and lists again, instead of staying blind', async () => {
    const { informer, saw } = jobInformer('i', { listTimeoutMs: 300 });
    await informer.start();
    await informer.whenSynced();
    api.faults.hang(listsIn('i'));
    const hung = api.nextRequest(listsIn('i'));
    // A 410 makes it relist (a change it missed, then compacted away); that list hangs.
    api.faults.silenceWatches(watchesIn('i'));
    api.create('jobs', job('i', 'missed'));
    api.faults.compact();
    api.faults.dropWatches(watchesIn('i'));
    await hung;
    // Only an abandoned list is followed by another one.
    await api.nextRequest(listsIn('i'));
    const { unableSince, lastError } = informer.health();
    assert.ok(unableSince !== undefined, 'it knows it cannot list');
    assert.match(lastError ?? '', /the list did not answer within 0.3 s/);
    api.create('jobs', job('i', 'after-the-hang'));
    api.faults.clearHang();
    api.faults.unsilenceWatches();
    await saw('add:missed');
    await saw('add:after-the-hang');
    // Items are told as the list streams in; the list is done (and the informer able again) once it has ended.
    await eventually(() => informer.health().unableSince === undefined, 'able again once the list has answered');
    await informer.stop();
  });

  it('relists after a history reset (etcd restore: 504 Too large resource version), and its cache ends up right', async () => {
    api.create('jobs', job('g', 'kept'));
    const { informer, saw, seen } = jobInformer('g');
    await informer.start();
    await saw('add:kept');
    const backup = api.faults.snapshot();
    api.modify('jobs', 'g', 'kept', (object) => (object.metadata.labels = { v: 'after-backup' }));
    api.create('jobs', job('g', 'gone'));
    await saw('update:kept:after-backup');
    await saw('add:gone');
    const lists = listCount('g');
    const watchesBefore = api.requests.filter(watchesIn('g')).length;

    api.faults.resetHistory(backup);
    // Changed while the informer cannot watch: the write reuses the resourceVersion its cache holds for `kept`.
    const changed = api.modify('jobs', 'g', 'kept', (object) => (object.metadata.labels = { v: 'during-reset' }));
    assert.equal(changed.metadata.resourceVersion, informer.get('kept', 'g')?.metadata?.resourceVersion);

    await saw('delete:gone');
    await saw('update:kept:during-reset');
    assert.equal(informer.get('kept', 'g')?.metadata?.labels?.v, 'during-reset');
    assert.equal(informer.get('gone', 'g'), undefined);
    assert.equal(listCount('g'), lists + 1, 'one relist');
    // Resumed from the future (refused), then watched from the new list's resourceVersion.
    const resumed = () => api.requests.filter(watchesIn('g')).slice(watchesBefore);
    await eventually(() => resumed().length >= 2, 'a watch after the relist');
    assert.ok(Number(resumed()[0]!.query.resourceVersion) > Number(changed.metadata.resourceVersion));
    assert.equal(Number(resumed()[1]!.query.resourceVersion), Number(changed.metadata.resourceVersion));
    // And it works on from there.
    api.create('jobs', job('g', 'after-reset'));
    await saw('add:after-reset');
    assert.equal(seen.filter((entry) => entry === 'add:kept').length, 1);
    await informer.stop();
  });

  it('relists after a watch answered a bare 504 (the client cannot read its body)', async () => {
    const { informer, saw } = jobInformer('j');
    await informer.start();
    await informer.whenSynced();
    const lists = listCount('j');
    api.faults.failNext(1, { status: 504, match: watchesIn('j') });
    api.faults.dropWatches(watchesIn('j'));
    api.create('jobs', job('j', 'after-504'));
    await saw('add:after-504');
    await eventually(() => listCount('j') === lists + 1, 'a relist');
    await informer.stop();
  });

  it('lists in pages of pageSize, following continue to the last page, and caches and hands on only slim copies', async () => {
    for (let i = 0; i < 7; i++) api.create('jobs', { ...failedJob({ name: `paged-${i}`, namespace: 'k' }), status: {} });
    const { informer, told } = jobInformer('k', { pageSize: 3, slim: (object) => slimJob(object) as V1Job });
    const listedAt = api.resourceVersion();
    await informer.start();
    await informer.whenSynced();
    const pages = api.requests.filter(listsIn('k'));
    assert.deepEqual(pages.map((request) => [request.query.limit, request.query.continue === undefined]), [['3', true], ['3', false], ['3', false]]);
    assert.deepEqual(informer.list().map((job) => job.metadata?.name).sort(), ['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4', 'paged-5', 'paged-6']);
    // The watch starts from the list's revision, and what it delivers is slimmed too.
    assert.equal(api.requests.find(watchesIn('k'))?.query.resourceVersion, listedAt);
    api.create('jobs', failedJob({ name: 'watched', namespace: 'k' }));
    await eventually(() => informer.get('watched', 'k') !== undefined, 'the watched Job cached');
    for (const job of [...told, ...informer.list()]) {
      assert.equal(job.spec?.template, undefined, `${job.metadata?.name} has no pod template`);
      assert.equal(job.metadata?.labels, undefined);
    }
    await informer.stop();
  });

  it('lists again from the first page when its continue token expires mid-list, and ends up with each Job once', async () => {
    for (let i = 0; i < 5; i++) api.create('jobs', job('l', `expiring-${i}`));
    // The second page waits until the first page's snapshot has been compacted away.
    api.faults.hang((r) => listsIn('l')(r) && r.query.continue !== undefined);
    const { informer, seen } = jobInformer('l', { pageSize: 2 });
    void informer.start();
    await api.nextRequest((r) => listsIn('l')(r) && r.query.continue !== undefined);
    api.create('jobs', job('l', 'created-meanwhile'));
    api.remove('jobs', 'l', 'expiring-4');
    api.faults.compact();
    api.faults.clearHang();
    await informer.whenSynced();
    const lists = api.requests.filter(listsIn('l'));
    assert.equal(lists.filter((request) => request.status === 410).length, 1, 'one expired token');
    assert.equal(lists.filter((request) => request.query.continue === undefined).length, 2, 'listed again from the first page');
    assert.deepEqual(informer.list().map((object) => object.metadata?.name).sort(), ['created-meanwhile', 'expiring-0', 'expiring-1', 'expiring-2', 'expiring-3']);
    assert.deepEqual(seen.filter((entry) => entry.startsWith('add:expiring-0')), ['add:expiring-0'], 'not added twice');
    assert.ok(!seen.includes('add:expiring-4'), 'the deleted Job was never on a consistent page');
    await informer.stop();
  });

  it('reports a Job deleted and re-created under its name while unwatched as a delete and an add, not an update', async () => {
    api.create('jobs', job('m', 'reused'));
    const { informer, told, saw } = jobInformer('m');
    await informer.start();
    await saw('add:reused');
    const before = informer.get('reused', 'm')!.metadata!.uid;
    api.faults.silenceWatches(watchesIn('m'));
    api.remove('jobs', 'm', 'reused');
    const after = api.create('jobs', job('m', 'reused')).metadata.uid;
    api.faults.compact();
    api.faults.dropWatches(watchesIn('m'));
    await saw('delete:reused');
    await eventually(() => told.filter((object) => object.metadata?.name === 'reused').length === 3, 'the new one added');
    assert.deepEqual(told.map((object) => object.metadata?.uid), [before, before, after]);
    assert.equal(informer.get('reused', 'm')?.metadata?.uid, after);
    api.faults.unsilenceWatches();
    await informer.stop();
  });

  it('keeping only each object\'s identity (the record cache keeps the rest), a relist still finds deletes and re-created names', async () => {
    const run = (name: string) => {
      const object = job('k', name) as ReturnType<typeof job> & { metadata: Record<string, unknown> };
      object.metadata['ownerReferences'] = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'cj-1', controller: true }];
      return object;
    };
    api.create('jobs', run('nightly-1'));
    api.create('jobs', run('nightly-2'));
    const records = new RecordCache(silentLogger);
    const { informer, saw } = jobInformer('k', {
      slim: (object) => slimJob(object) as V1Job,
      keep: (object) => identity(object) as V1Job,
      onAdd: (object) => records.putJob(object),
      onDelete: (object) => records.deleteJob(object),
    });
    await informer.start();
    await saw('add:nightly-2');
    const first = informer.get('nightly-1', 'k')!;
    assert.deepEqual(Object.keys(first.metadata!).sort(), ['name', 'namespace', 'resourceVersion', 'uid']);
    assert.equal(first.spec, undefined);
    assert.deepEqual(records.runsOf('k', 'nightly').map((r) => r.name).sort(), ['nightly-1', 'nightly-2']);
    // While unwatched: nightly-1 deleted, nightly-2 deleted and re-created under its name.
    api.faults.silenceWatches(watchesIn('k'));
    const oldUid = informer.get('nightly-2', 'k')!.metadata!.uid!;
    api.remove('jobs', 'k', 'nightly-1');
    api.remove('jobs', 'k', 'nightly-2');
    const newUid = api.create('jobs', run('nightly-2')).metadata.uid;
    api.faults.compact();
    api.faults.dropWatches(watchesIn('k'));
    await saw('delete:nightly-1');
    await eventually(() => records.job(newUid) !== undefined, 'the re-created run recorded');
    assert.equal(records.job(oldUid), undefined);
    assert.deepEqual(records.runsOf('k', 'nightly').map((r) => r.uid), [newUid]);
    assert.equal(informer.get('nightly-1', 'k'), undefined);
    api.faults.unsilenceWatches();
    await informer.stop();
  });

  it('survives a handler that throws: the next objects are still cached and told', async () => {
    api.create('jobs', job('n', 'first'));
    const { informer, saw, restarts } = jobInformer('n', {
      onAdd: (object) => {
        if (object.metadata?.name !== 'third') throw new Error('a handler bug');
      },
    });
    await informer.start();
    await informer.whenSynced();
    api.create('jobs', job('n', 'second'));
    api.create('jobs', job('n', 'third'));
    await saw('add:third');
    assert.ok(informer.get('first', 'n'));
    assert.ok(informer.get('second', 'n'));
    assert.equal(await restarts(), 0, 'neither the list nor the watch failed');
    await informer.stop();
  });

  it('stops without restarting itself', async () => {
    const { informer, restarts } = jobInformer('f');
    await informer.start();
    await informer.stop();
    const before = api.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await restarts(), 0);
    assert.equal(api.requests.filter((r, i) => i >= before && r.namespace === 'f').length, 0);
  });
});

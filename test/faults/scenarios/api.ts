/**
 * The API server misbehaving: watches dropped, history compacted (410), 500s for a minute, down (refusing) or cut off
 * (hanging) for two, calls that hang, and its history reset (an etcd restore). Every Job that fails meanwhile must be
 * named once, and /readyz must say what the daemon can know.
 */
import type { RecordedRequest } from '../../world/apiserver.ts';
import { isoNow, startJob } from '../../world/cluster.ts';
import { portOf, probe, sleep, until, type World } from '../harness.ts';
import { resultOf, type Check, type Context, type Scenario } from '../scenario.ts';

const jobWatch = (r: RecordedRequest) => r.verb === 'watch' && r.resource === 'jobs';
const jobList = (r: RecordedRequest) => r.verb === 'list' && r.resource === 'jobs';
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

export const watchDrops: Scenario = {
  id: 'watch-drops',
  light: true,
  title: 'every watch dropped again and again while Jobs fail',
  budgetMs: () => 60_000,
  async run({ world: make, quick }: Context) {
    const world = await make();
    const daemon = world.daemon();
    await daemon.ready();
    const rounds = quick ? 6 : 12;
    const watchesBefore = world.api.requests.filter(jobWatch).length;
    const expected: string[] = [];
    let lastDrop = 0;
    for (let i = 0; i < rounds; i++) {
      expected.push(...world.failNew([`drop-${i}`]));
      world.api.faults.dropWatches();
      lastDrop = Date.now();
      await sleep(250);
    }
    const lastFailure = Date.now();
    await world.waitNamed(expected, 40_000);
    await world.sentinel();
    const watches = world.api.requests.filter(jobWatch);
    return resultOf(world, expected, {
      faults: `${rounds} drops of every watch, 250 ms apart`,
      from: ['the last failure', lastFailure],
      checks: [{ what: `the Job watch was reopened after the drops (${watches.length - watchesBefore} times)`, ok: watches.some((r) => r.time >= lastDrop) }],
    });
  },
};

export const compaction: Scenario = {
  id: 'compaction-410',
  light: true,
  title: 'the watch misses failures, then resumes below the compaction point (410 Expired)',
  budgetMs: () => 60_000,
  async run({ world: make }: Context) {
    const world = await make();
    const daemon = world.daemon();
    await daemon.ready();
    const listsBefore = world.api.requests.filter(jobList).length;
    // A dead link: the watch stays open but carries nothing, so these failures never reach the daemon by it.
    world.api.faults.silenceWatches(jobWatch);
    const expected = world.failNew(names('expired', 4));
    world.api.faults.compact();
    world.api.faults.unsilenceWatches();
    world.api.faults.dropWatches(jobWatch); // resuming from its last resourceVersion now gets 410
    const injectedAt = Date.now();
    await world.waitNamed(expected, 40_000);
    await world.sentinel();
    const relists = world.api.requests.filter(jobList).length - listsBefore;
    return resultOf(world, expected, {
      faults: 'watch silenced while 4 Jobs fail, history compacted, watch dropped',
      from: ['the watch dropped', injectedAt],
      checks: [{ what: `the Job informer relisted after the 410 (${relists} lists)`, ok: relists >= 1 }],
    });
  },
};

/**
 * An outage of `outageMs` with `breakIt`/`mendIt`, Jobs failing all along it; /readyz must turn 503 once
 * NOT_READY_AFTER passes, name the informer, and turn 200 again after.
 */
async function outage(
  context: Context,
  shape: {
    label: string;
    outageMs: number;
    notReadyAfter: string;
    notReadyAfterMs: number;
    /** False where the daemon cannot know within the outage (a silent watch is only suspected after 90 s). */
    expectNotReady?: boolean;
    breakIt: (world: World) => void;
    mendIt: (world: World) => Promise<void>;
  },
) {
  const world = await context.world();
  const daemon = world.daemon({ NOT_READY_AFTER: shape.notReadyAfter });
  const port = await portOf(daemon);
  await daemon.ready();
  const expected = world.failNew(['before-outage']);
  await world.waitNamed(expected, 20_000);
  const broken = Date.now();
  shape.breakIt(world);
  const readyz: { at: number; status: number; body: string }[] = [];
  let i = 0;
  while (Date.now() - broken < shape.outageMs) {
    if (i % 4 === 0 && i / 4 < (context.quick ? 4 : 12)) expected.push(...world.failNew([`during-outage-${String(i / 4).padStart(2, '0')}`]));
    const answer = await probe(port, '/readyz');
    readyz.push({ at: Date.now() - broken, ...answer });
    i++;
    await sleep(Math.min(1000, Math.max(0, shape.outageMs - (Date.now() - broken))));
  }
  await shape.mendIt(world);
  const mended = Date.now();
  context.say(`${shape.label} for ${Math.round((mended - broken) / 1000)} s: mended; ${expected.length} Jobs to be named`);
  await world.waitNamed(expected, 90_000);
  let ready = false;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !ready; await sleep(250)) ready = (await probe(port, '/readyz')).status === 200;
  await world.sentinel();
  const notReady = readyz.filter((answer) => answer.status === 503);
  const firstNotReady = notReady[0];
  const checks: Check[] = [
    shape.expectNotReady === false
      ? { what: `/readyz 200 all along (${notReady.length} answers 503): the watch went silent for less than the 90 s watchdog`, ok: notReady.length === 0 }
      : {
          what: `/readyz 503 naming the Job informer once NOT_READY_AFTER (${shape.notReadyAfter}) passed${firstNotReady ? ` (from ${Math.round(firstNotReady.at / 1000)} s)` : ''}`,
          ok: firstNotReady !== undefined && firstNotReady.at >= shape.notReadyAfterMs - 1000 && /jobs/.test(firstNotReady.body),
        },
    { what: '/readyz 200 before NOT_READY_AFTER', ok: readyz.filter((answer) => answer.at < shape.notReadyAfterMs - 1000).every((answer) => answer.status === 200) },
    { what: '/readyz 200 again after the outage', ok: ready },
  ];
  return { world, expected, checks, mended, notReadyBody: firstNotReady?.body };
}

export const apiErrors: Scenario = {
  id: 'api-500s',
  light: true,
  title: 'every API request answered 500 for a minute (open watches dropped)',
  budgetMs: (quick) => (quick ? 60_000 : 180_000),
  async run(context: Context) {
    const outageMs = context.quick ? 10_000 : 60_000;
    const { world, expected, checks, mended, notReadyBody } = await outage(context, {
      label: 'API 500s',
      outageMs,
      notReadyAfter: context.quick ? '5s' : '30s',
      notReadyAfterMs: context.quick ? 5000 : 30_000,
      breakIt: (w) => {
        w.api.faults.failNext(Number.MAX_SAFE_INTEGER, { status: 500 });
        w.api.faults.dropWatches();
      },
      mendIt: async (w) => w.api.faults.reset(),
    });
    return resultOf(world, expected, {
      faults: `every request 500 for ${outageMs / 1000} s`,
      from: ['the API server answered again', mended],
      checks,
      figures: notReadyBody ? [`/readyz said: ${notReadyBody.trim().split('\n').join(' | ')}`] : [],
    });
  },
};

export const apiUnreachable: Scenario = {
  id: 'api-unreachable',
  light: true,
  title: 'the API server down for two minutes: connections refused, open ones reset',
  budgetMs: (quick) => (quick ? 60_000 : 240_000),
  async run(context: Context) {
    const outageMs = context.quick ? 15_000 : 120_000;
    const { world, expected, checks, mended, notReadyBody } = await outage(context, {
      label: 'API unreachable',
      outageMs,
      notReadyAfter: context.quick ? '5s' : '1m',
      notReadyAfterMs: context.quick ? 5000 : 60_000,
      breakIt: (w) => w.api.faults.unreachable(),
      mendIt: (w) => w.api.faults.reachable(),
    });
    return resultOf(world, expected, {
      faults: `connections refused for ${outageMs / 1000} s`,
      from: ['the API server listened again', mended],
      checks,
      figures: notReadyBody ? [`/readyz said: ${notReadyBody.trim().split('\n').join(' | ')}`] : [],
    });
  },
};

export const apiPartition: Scenario = {
  id: 'api-partition',
  light: true,
  title: 'the API server cut off for two minutes: every request hangs, open watches go silent',
  budgetMs: (quick) => (quick ? 60_000 : 300_000),
  async run(context: Context) {
    const outageMs = context.quick ? 15_000 : 120_000;
    const { world, expected, checks, mended, notReadyBody } = await outage(context, {
      label: 'API partitioned',
      outageMs,
      notReadyAfter: '1m',
      notReadyAfterMs: 60_000,
      // A silent watch is suspected after 90 s (then resumed); the quick outage is over before that.
      expectNotReady: !context.quick,
      breakIt: (w) => {
        w.api.faults.hang();
        w.api.faults.silenceWatches();
      },
      // The link comes back: watches still open are ended (the API server drops watchers that stopped reading; over a
      // real link the events would arrive late rather than never), hung requests are answered, late.
      mendIt: async (w) => {
        w.api.faults.dropWatches();
        w.api.faults.reset();
      },
    });
    return resultOf(world, expected, {
      faults: `every request hung, watches silent, for ${outageMs / 1000} s`,
      from: ['the API server answered again', mended],
      checks,
      figures: notReadyBody ? [`/readyz said: ${notReadyBody.trim().split('\n').join(' | ')}`] : [],
    });
  },
};

export const hungCalls: Scenario = {
  id: 'api-hung-calls',
  light: true,
  full: true,
  title: 'hung PATCH (the mark), CronJob GET, log read and Job LIST',
  budgetMs: () => 180_000,
  async run({ world: make, say }: Context) {
    const world = await make();
    const daemon = world.daemon();
    await daemon.ready();
    const { api } = world;
    const patches = (r: RecordedRequest) => r.verb === 'patch' && r.resource === 'jobs';
    const cronJobGet = (r: RecordedRequest) => r.verb === 'get' && r.resource === 'cronjobs';
    const logRead = (r: RecordedRequest) => r.verb === 'get' && r.resource === 'pods/log';
    // The CronJob's watch carries nothing from now on, so its Job's failure makes the daemon read it directly.
    api.faults.silenceWatches((r) => r.verb === 'watch' && r.resource === 'cronjobs');
    api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'hourly', namespace: 'default' }, spec: { schedule: '0 * * * *', jobTemplate: { spec: {} } } });
    api.faults.hang((r) => patches(r) || cronJobGet(r) || logRead(r));
    const hungAt = Date.now();
    const standalone = world.failNew(['hung-mark-1', 'hung-mark-2', 'hung-mark-3']);
    const expected = [...standalone, ...world.fail([startJob(api, { name: 'hourly-001', cronJob: { name: 'hourly', scheduledAt: isoNow(-60_000) } })])];
    const hangMs = 40_000;
    const namedWhileHung = await world.waitNamed(standalone, hangMs);
    await until(() => Date.now() - hungAt >= hangMs, hangMs);
    const namedDuringHang = world.tally(expected).firstNamed;
    api.faults.clearHang();
    const clearedAt = Date.now();
    say(`hangs cleared after ${Math.round((clearedAt - hungAt) / 1000)} s; named meanwhile: ${[...namedDuringHang].map(([job, at]) => `${job} at ${((at - hungAt) / 1000).toFixed(1)} s`).join(', ') || 'none'}`);
    await world.waitNamed(expected, 60_000);

    // A relist whose LIST hangs: the informer is blind until its list deadline (60 s) abandons it and lists again.
    api.faults.silenceWatches(jobWatch);
    world.start(['filler']); // history moves on while the watch hears nothing
    api.faults.compact();
    let toHang = 1;
    api.faults.hang((r) => jobList(r) && toHang-- > 0);
    api.faults.unsilenceWatches();
    api.faults.dropWatches(jobWatch); // resumes below the compaction point: 410, relist, and that LIST hangs
    const relisting = await until(() => toHang <= 0, 20_000);
    const listHungAt = Date.now();
    expected.push(...world.failNew(['while-list-hangs']));
    await world.waitNamed(expected, 90_000);
    await world.sentinel(30_000);
    const listAnsweredAfter = (api.requests.find((r) => jobList(r) && r.time > listHungAt && r.status === 200)?.time ?? NaN) - listHungAt;
    const markAttempts = api.requests.filter((r) => patches(r) && r.name === 'hung-mark-1' && r.time < clearedAt).length;
    const cronJobGets = api.requests.filter((r) => cronJobGet(r) && r.time < clearedAt).length;
    return resultOf(world, expected, {
      faults: `PATCH, CronJob GET, log reads hung ${hangMs / 1000} s; a relist's LIST hung`,
      from: ['the hung LIST began', listHungAt],
      checks: [
        { what: `the standalone Jobs named while their marks and log reads hang`, ok: namedWhileHung },
        { what: `the hung mark PATCH was retried (${markAttempts} attempts for hung-mark-1 while hung)`, ok: markAttempts >= 2 },
        { what: `the hung CronJob GET was retried (${cronJobGets} GETs while hung)`, ok: cronJobGets >= 2 },
        { what: `the hung LIST was abandoned and retried (the next one answered ${(listAnsweredAfter / 1000).toFixed(1)} s later)`, ok: relisting && listAnsweredAfter > 0 && listAnsweredAfter < 75_000 },
      ],
    });
  },
};

export const historyReset: Scenario = {
  id: 'history-reset',
  light: true,
  title: "the API server's history reset (etcd restored from a backup): 504 Too large resource version",
  budgetMs: () => 90_000,
  async run({ world: make }: Context) {
    const world = await make();
    const daemon = world.daemon();
    await daemon.ready();
    const { api } = world;
    const expected = world.failNew(['before-backup']);
    await world.waitNamed(expected, 20_000);
    const rolledBack = world.start(['rolled-back']);
    const backup = api.faults.snapshot();
    expected.push(...world.fail(rolledBack));
    await world.waitNamed(expected, 20_000);
    // etcd restored: rolled-back is running again (its failure and its mark gone), resourceVersions go back.
    api.faults.resetHistory(backup);
    const resetAt = Date.now();
    // The daemon resumes its watch from a resourceVersion the server has not reached (504): it must relist. Writes made
    // before it asks would reach its resourceVersion first and be skipped, on this emulator as on a real restore
    // without --bump-revision (see README, Fault suite); those after it reuse resourceVersions it has seen.
    const relisted = await daemon.waitForLog((line) => /history reset/.test(line.msg), 20_000).then(() => true, () => false);
    expected.push(...world.failNew(names('after-restore', 3)));
    await world.waitNamed(expected, 60_000);
    // The Job controller fails the rolled-back Job again: the same failure (same uid), already in Slack.
    world.fail(rolledBack);
    await world.sentinel(30_000);
    return resultOf(world, expected, {
      faults: 'snapshot, 1 failure, restore: resourceVersions go back',
      from: ['the restore', resetAt],
      checks: [{ what: 'the daemon said the history was reset and relisted', ok: relisted }],
    });
  },
};

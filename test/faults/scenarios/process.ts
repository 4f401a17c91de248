/**
 * The daemon stopped: SIGTERM while a post is in flight (drain, then exit 0 within 10 s, leaving the rest unmarked for
 * the next start), and SIGKILL at random moments, restarted each time. The one duplicate a kill can cause is a post
 * Slack accepted whose `alerted-at` mark was not written yet: these scenarios measure how often that happens.
 */
import type { Daemon } from '../../world/daemon.ts';
import { sleep, until, type World } from '../harness.ts';
import { jobsNamedIn, tally } from '../ledger.ts';
import { resultOf, type Context, type Scenario } from '../scenario.ts';

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

function isMarked(world: World, job: string): boolean {
  const [namespace, name] = job.split('/');
  return world.api.get('jobs', namespace!, name!)?.metadata.annotations?.['kube-job-alerts.io/alerted-at'] !== undefined;
}

/** Jobs Slack had accepted by `at` whose mark was not written by then: the post-then-kill window. */
function unmarkedAt(world: World, at: number): string[] {
  const accepted = world.slack.accepted.filter((post) => post.at <= at);
  const named = tally(accepted, []).firstNamed;
  return [...named.keys()].filter((job) => !world.sentinels.includes(job) && !((world.markedAt(job) ?? Infinity) <= at));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export const sigtermMidSend: Scenario = {
  id: 'sigterm-mid-send',
  light: true,
  title: 'SIGTERM while a slow post is in flight, the next one hangs and two more wait',
  budgetMs: () => 90_000,
  async run({ world: make }: Context) {
    const world = await make();
    const first = world.daemon({ GROUP_THRESHOLD: '0' });
    await first.ready();
    world.slack.script({ slowMs: 2000 }, 'hang');
    const expected = world.failNew(names('in-flight', 4));
    await until(() => world.slack.received.length >= 1, 20_000);
    const stop = await first.stop('SIGTERM');
    const stoppedAt = Date.now();
    const acceptedBeforeExit = tally(world.slack.accepted, expected).firstNamed;
    const markedBeforeExit = expected.filter((job) => isMarked(world, job));
    const second = world.daemon({ GROUP_THRESHOLD: '0' });
    await second.ready();
    await world.waitNamed(expected, 40_000);
    await world.sentinel();
    return resultOf(world, expected, {
      faults: 'SIGTERM during a 2 s post; the next post hangs',
      from: ['the restart', stoppedAt],
      checks: [
        { what: `exit 0 within 10 s (code ${stop.code}, ${(stop.ms / 1000).toFixed(1)} s)`, ok: stop.code === 0 && stop.ms < 10_000 },
        { what: `the post in flight finished and was marked before the exit (${acceptedBeforeExit.size} accepted, ${markedBeforeExit.length} marked)`, ok: acceptedBeforeExit.size === 1 && markedBeforeExit.length === 1 },
        { what: 'the restarted daemon sent the other three, not the marked one', ok: second.logs.some((line) => line.why === 'already_alerted') },
      ],
    });
  },
};

/**
 * One kill-and-restart cycle after another: each daemon gets Jobs to deliver and is SIGKILLed at a random moment;
 * the next one starts on the same cluster. Returns the Jobs at risk at each kill (accepted, not yet marked).
 */
async function killCycles(world: World, runs: number, kill: (daemon: Daemon, run: number) => Promise<void>, jobsPerRun: number, say: (line: string) => void) {
  const expected: string[] = [];
  const atRisk = new Set<string>();
  let killsInWindow = 0;
  for (let run = 0; run < runs; run++) {
    const daemon = world.daemon({ GROUP_THRESHOLD: '0' });
    await daemon.ready(30_000);
    expected.push(...world.failNew(names(`run-${String(run).padStart(2, '0')}`, jobsPerRun)));
    await kill(daemon, run);
    await daemon.stop('SIGKILL');
    const risky = unmarkedAt(world, Date.now());
    if (risky.some((job) => !atRisk.has(job))) killsInWindow++;
    for (const job of risky) atRisk.add(job);
    if ((run + 1) % 10 === 0) say(`${run + 1} kills, ${killsInWindow} of them in a post-then-mark window`);
  }
  const last = world.daemon({ GROUP_THRESHOLD: '0' });
  await last.ready(30_000);
  await world.waitNamed(expected, 60_000);
  await world.sentinel();
  return { expected, atRisk, killsInWindow };
}

export const sigkillRandom: Scenario = {
  id: 'sigkill-random',
  title: 'SIGKILL at a random moment while 3 Jobs are delivered, then restart; N times',
  budgetMs: (quick) => (quick ? 90_000 : 420_000),
  async run({ world: make, quick, say }: Context) {
    const world = await make();
    const runs = Number(process.env.FAULTS_KILL_RUNS ?? (quick ? 5 : 30));
    const started = Date.now();
    // Three posts take about 2 s at Slack's pace (one a second); kill anywhere from at once to a little after.
    const { expected, atRisk, killsInWindow } = await killCycles(world, runs, () => sleep(Math.random() * 3500), 3, say);
    const counted = world.tally(expected);
    const duplicates = [...counted.duplicated.keys()];
    const extra = [...counted.duplicated.values()].reduce((sum, n) => sum + n - 1, 0);
    // How long each delivered Job sat between Slack's 200 and its mark: the window a kill must hit to duplicate.
    // (The post that was marked: for a Job posted twice, the first window is the kill's, not the daemon's.)
    const windows = expected.flatMap((job) => {
      const marked = world.markedAt(job);
      if (marked === undefined) return [];
      const posted = world.slack.accepted.filter((post) => post.at <= marked && jobsNamedIn(post.body).includes(job)).at(-1)?.at;
      return posted === undefined ? [] : [marked - posted];
    });
    return resultOf(world, expected, {
      faults: `${runs} SIGKILLs at random, each followed by a restart`,
      from: ['the start of the first run', started],
      allowedDuplicates: atRisk.size,
      checks: [{ what: 'every duplicate is a Job accepted but not marked when its daemon was killed', ok: duplicates.every((job) => atRisk.has(job)) }],
      figures: [
        `duplicates: ${extra} extra messages (${duplicates.length} Jobs) in ${runs} kills: ${((100 * extra) / runs).toFixed(1)} % of kills; kills that hit a post-then-mark window: ${killsInWindow}`,
        `post-then-mark window per message (Slack's 200 to the PATCH arriving): median ${quantile(windows, 0.5)} ms, p95 ${quantile(windows, 0.95)} ms, max ${quantile(windows, 1)} ms over ${windows.length} messages`,
        `so a kill while messages flow at Slack's pace (one a second) duplicates one with probability about mean window / 1 s = ${(mean(windows) / 10).toFixed(1)} %`,
      ],
    });
  },
};

export const sigkillAtAccept: Scenario = {
  id: 'sigkill-at-200',
  title: "SIGKILL the moment Slack answers 200 (the worst moment), then restart; 5 times",
  full: true,
  budgetMs: () => 180_000,
  async run({ world: make, say }: Context) {
    const world = await make();
    const runs = 5;
    const started = Date.now();
    const kill = async (daemon: Daemon) => {
      const before = world.slack.accepted.length;
      await until(() => world.slack.accepted.length > before, 20_000);
      // At once: the emulator has just written its answer; the daemon has not yet read it, or is about to PATCH.
      try {
        process.kill(-daemon.child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    const { expected, atRisk } = await killCycles(world, runs, kill, 2, say);
    const duplicated = world.tally(expected).duplicated;
    const extra = [...duplicated.values()].reduce((sum, n) => sum + n - 1, 0);
    return resultOf(world, expected, {
      faults: `${runs} SIGKILLs right at Slack's 200`,
      from: ['the start of the first run', started],
      allowedDuplicates: atRisk.size,
      figures: [`duplicates: ${extra} extra messages (${duplicated.size} Jobs) in ${runs} kills at the worst moment; Jobs accepted and unmarked at a kill: ${atRisk.size}`],
    });
  },
};

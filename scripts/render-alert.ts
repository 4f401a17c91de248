/**
 * `node scripts/render-alert.ts [out.png]`: the README's picture of an alert (docs/alert.png by default).
 *
 * The message is real: the fixtures' builders make a CronJob's failed Job and its OOMKilled pod, src/detect reads
 * them as the daemon would, and buildAlert formats them. scripts/slack-preview.ts turns the blocks into an HTML page
 * that looks like Slack's rendering; headless Chromium, when installed (`apt-get install chromium`), screenshots
 * it. Without Chromium the HTML is still written, so it can be opened in any browser. Nothing here runs in CI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { evidenceFromPods } from '../src/detect/container.ts';
import { attemptsOf } from '../src/detect/attempts.ts';
import { failureOf } from '../src/detect/failure.ts';
import { buildAlert } from '../src/slack/format.ts';
import { failedJob, failedPod, loadFixture } from '../test/fixtures/index.ts';
import { alertHtml } from './slack-preview.ts';

const WIDTH = 720;
/** Twice the CSS pixels, so it stays sharp on high-density screens; the README shows it at WIDTH. */
const SCALE = 2;

function payload() {
  // The kubelet's verdict for a container over its memory limit, from the Kubernetes docs.
  const [oom] = loadFixture('kubernetes-website_assign-memory-resource_OOMKilled-lastState.yaml') as Array<{ lastState: { terminated: { exitCode: number; reason: string } } }>;
  const job = failedJob({
    namespace: 'batch',
    cronJob: { name: 'nightly-report', scheduledAt: '2026-11-25T02:00:00Z' },
    failedAt: '2026-11-25T02:04:53Z',
    backoffLimit: 2,
    container: 'report',
    image: 'registry.example.com/reports:2.14.0',
  });
  const oomPod = (attempt: number) =>
    failedPod(job, { name: `${job.metadata.name}-${['b4k9q', 'm2x8d', 'x7k2p'][attempt]}`, attempt, node: 'worker-3', exitCode: oom!.lastState.terminated.exitCode, reason: oom!.lastState.terminated.reason });
  const pods = [0, 1, 2].map(oomPod);
  const failure = failureOf(job);
  if (!failure) throw new Error('the fixture Job is not failed');
  const { previous: _previous, ...container } = evidenceFromPods(pods);
  const at = new Date('2026-11-25T02:05:10Z');
  return buildAlert({
    cluster: 'prod-eu',
    at,
    // The CronJob's story as the daemon tells it: the 3rd nightly run in a row to fail.
    cronJob: {
      namespace: 'batch',
      name: 'nightly-report',
      schedule: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      suspended: false,
      lastSuccessAt: new Date('2026-11-22T02:06:41Z'),
      nextRunAt: new Date('2026-11-26T02:00:00Z'),
    },
    streak: { count: 3, since: new Date('2026-11-23T02:04:12Z'), notifiedBefore: 2, lastNotifiedAt: new Date('2026-11-24T02:04:40Z') },
    failure,
    evidence: {
      ...container,
      attempts: attemptsOf(pods),
      logTail: [
        'INFO  nightly-report 2.14.0: report for 2026-11-24, all regions',
        'INFO  fetched 1,204,332 order rows in 41.2 s',
        'INFO  joining returns and refunds (312,906 rows)',
        'INFO  building pivot: region x product x day',
        'WARN  heap at 486 MiB of a 512 MiB container limit',
      ],
      notes: [],
    },
  });
}

function chromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      execFileSync('which', [name], { stdio: 'ignore' });
      return name;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--hide-scrollbars', '--no-first-run'];

function main(): void {
  const out = resolve(process.argv[2] ?? new URL('../docs/alert.png', import.meta.url).pathname);
  const directory = mkdtempSync(join(tmpdir(), 'kja-render-'));
  const page = join(directory, 'alert.html');
  // The page writes its own height into the DOM, so a first run can size the window of the second.
  writeFileSync(page, alertHtml(payload(), { time: '2:04 AM', width: WIDTH }).replace(
    '</body>',
    '<script>document.body.dataset.height = String(Math.ceil(document.documentElement.getBoundingClientRect().height));</script></body>',
  ));
  const browser = chromium();
  if (!browser) {
    process.stdout.write(`no Chromium found (apt-get install chromium); open ${page} in a browser instead\n`);
    return;
  }
  const dom = execFileSync(browser, [...CHROME_FLAGS, `--window-size=${WIDTH},2000`, '--dump-dom', `file://${page}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const height = Number(/data-height="(\d+)"/.exec(dom)?.[1]);
  if (!Number.isFinite(height) || height <= 0) throw new Error('could not measure the page');
  execFileSync(browser, [
    ...CHROME_FLAGS, `--force-device-scale-factor=${SCALE}`, `--window-size=${WIDTH},${height}`, `--screenshot=${out}`, `file://${page}`,
  ], { stdio: 'ignore' });
  rmSync(directory, { recursive: true, force: true });
  process.stdout.write(`wrote ${out} (${WIDTH}x${height} CSS pixels at ${SCALE}x)\n`);
}

main();

/**
 * `npm run demo`, as a newcomer runs it: three Jobs fail live on the API-server emulator and the daemon, in dry
 * run, prints one alert for each, with its Block Kit Builder link; then it stops and the demo exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import type { SlackPayload } from '../../src/slack/format.ts';

const REPO = new URL('../..', import.meta.url).pathname;

function npmRunDemo(): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = spawn('npm', ['run', 'demo'], { cwd: REPO, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output: stripVTControlCharacters(output), ms: Date.now() - started })));
}

it('npm run demo prints three live alerts with the right reasons and evidence, then exits 0', async (t) => {
  const { code, output, ms } = await npmRunDemo();
  t.diagnostic(`npm run demo took ${ms} ms`);
  assert.equal(code, 0, output);
  assert.ok(ms < 15_000, `took ${ms} ms`);
  assert.match(output, /^kube-job-alerts demo: /m);
  assert.match(output, /daemon ready after [\d.]+ s: watching Jobs in every namespace, nothing failed yet/);

  const sections = output.split(/^━━━ /m).slice(1);
  const expected: Array<[RegExp, string[]]> = [
    [/^1\/3 {2}batch\/nightly-report-\d+: /, ['Reason: BackoffLimitExceeded', 'CronJob: nightly-report', 'Exit code: 137, signal 9 (SIGKILL)', 'Reason: OOMKilled', '│ WARN  heap at 486 MiB']],
    [/^2\/3 {2}shop\/orders-reindex: /, ['Reason: DeadlineExceeded', 'Message: Job was active longer than specified deadline', 'Exit code: 143, signal 15 (SIGTERM)', '│ reindex: still waiting for lock']],
    [/^3\/3 {2}default\/job-pod-failure-policy-failjob: /, ['Reason: PodFailurePolicy', 'failed with exit code 42 matching FailJob rule at index 0', 'Exit code: 42', "│ Hello world! I'm going to exit with 42"]],
  ];
  assert.equal(sections.length, expected.length, output);
  for (const [index, [title, fragments]] of expected.entries()) {
    const section = sections[index] ?? '';
    assert.match(section, title);
    assert.match(section, /^daemon {3}alert ready \d+ ms later/m, 'the alert came after the failure, live');
    for (const fragment of fragments) assert.ok(section.includes(fragment), `${fragment} in section ${index + 1}:\n${section}`);
    // The Builder link opens exactly the blocks printed above it.
    const url = /Block Kit Builder: (https:\/\/app\.slack\.com\/block-kit-builder\/#\S+)/.exec(section)?.[1];
    assert.ok(url, `no Builder link in section ${index + 1}`);
    const { blocks } = JSON.parse(decodeURIComponent(url.slice(url.indexOf('#') + 1))) as Pick<SlackPayload, 'blocks'>;
    const name = /^\d\/3 {2}(\S+):/.exec(section)?.[1] ?? '?';
    assert.equal(blocks[0]?.type === 'header' ? blocks[0].text.text : '', `:rotating_light: Job failed: ${name}`);
  }
  assert.match(output, /Done: 3 failures, 3 alerts/);
  assert.match(output, /The daemon stopped on SIGTERM in \d+ ms and exited 0/);
  assert.match(output, /Run it for real/);
});

/**
 * The Dockerfile's steps, without Docker (CI has no Docker engine): each stage in a fresh folder holding only what
 * that stage COPYs, so a file the image needs but the Dockerfile forgets, a build that only works with the dev
 * tree's node_modules, or a runtime import of a devDependency fails here.
 *   build:  package.json, package-lock.json, tsconfig*.json, src/  ->  npm ci, npm run build
 *   deps:   package.json, package-lock.json                        ->  npm ci --omit=dev
 *   image:  deps' node_modules + build's dist/ + package.json      ->  node dist/cli.js, and `kube-job-alerts`
 * npm ci reuses npm's cache (--prefer-offline), so only a cold cache goes to the registry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import { startApiServer } from '../world/apiserver.ts';
import { failJob, startJob } from '../world/cluster.ts';

const REPO = new URL('../..', import.meta.url).pathname;

/** The environment of a fresh shell: npm's variables from an enclosing `npm test` (prefix, lifecycle) left out. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry|userconfig)$/i.test(key)) continue;
    if (key === 'NODE_ENV' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

async function npm(cwd: string, args: string[]): Promise<number> {
  const started = Date.now();
  const child = spawn('npm', args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, `npm ${args.join(' ')} in ${cwd} failed:\n${output.slice(-4000)}`);
  return Date.now() - started;
}

async function runToEnd(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

function copy(from: string, to: string, paths: readonly string[]): void {
  for (const path of paths) cpSync(join(from, path), join(to, path), { recursive: true });
}

interface LockEntry {
  readonly dev?: boolean;
}

it("the Dockerfile's steps work in a clean copy, and the image runs with production dependencies only", async (t) => {
  const build = mkdtempSync(join(tmpdir(), 'kja-build-'));
  const image = mkdtempSync(join(tmpdir(), 'kja-image-'));
  const home = mkdtempSync(join(tmpdir(), 'kja-home-'));
  t.after(() => {
    for (const dir of [build, image, home]) rmSync(dir, { recursive: true, force: true });
  });
  const timings: string[] = [];

  // Stage build: COPY package.json package-lock.json; RUN npm ci; COPY tsconfig*.json src; RUN npm run build.
  copy(REPO, build, ['package.json', 'package-lock.json']);
  timings.push(`npm ci ${await npm(build, ['ci', '--no-audit', '--no-fund', '--prefer-offline'])} ms`);
  copy(REPO, build, ['tsconfig.json', 'tsconfig.build.json', 'src']);
  timings.push(`build ${await npm(build, ['run', 'build'])} ms`);
  assert.ok(existsSync(join(build, 'dist', 'main.js')), 'npm run build wrote dist/main.js');

  // Stage deps: npm ci --omit=dev. Then the image: its node_modules, the build's dist/ and package.json.
  copy(REPO, image, ['package.json', 'package-lock.json']);
  timings.push(`npm ci --omit=dev ${await npm(image, ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'])} ms`);
  copy(build, image, ['dist']);
  t.diagnostic(timings.join(', '));

  // No devDependency, direct or transitive (the lockfile marks them `dev`), is in the image.
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev === true).map(([path]) => path);
  for (const name of ['typescript', 'eslint', 'kubernetes-models']) assert.ok(name in manifest.devDependencies, `${name} is a devDependency`);
  assert.ok(devOnly.includes('node_modules/typescript') && devOnly.includes('node_modules/kubernetes-models'), 'the lockfile marks dev packages');
  const present = devOnly.filter((path) => existsSync(join(image, path)));
  assert.deepEqual(present, [], 'devDependencies in the image');
  assert.ok(existsSync(join(image, 'node_modules', '@kubernetes', 'client-node')), 'production dependencies are in the image');

  const api = await startApiServer({ bookmarkIntervalMs: 500 });
  t.after(() => api.close());
  const imageEnv = { PATH: process.env.PATH ?? '', HOME: home, NODE_ENV: 'production', KUBECONFIG: api.kubeconfigPath };

  // `kubectl exec deploy/kube-job-alerts -- kube-job-alerts check`: the launcher the Dockerfile puts on PATH, with
  // its /app paths pointed at this copy (its first line, /nodejs/bin/node, is the distroless image's node).
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^COPY --chmod=0755 docker\/kube-job-alerts \/usr\/local\/bin\/kube-job-alerts$/m);
  assert.match(dockerfile, /^ENV PATH=\/usr\/local\/bin:/m);
  const launcherText = readFileSync(join(REPO, 'docker/kube-job-alerts'), 'utf8');
  assert.match(launcherText, /^#!\/nodejs\/bin\/node\n/);
  const launcher = join(image, 'kube-job-alerts');
  writeFileSync(launcher, launcherText.replaceAll('/app/', `${image}/`));
  const version = await runToEnd(process.execPath, [launcher, '--version'], image, imageEnv);
  assert.deepEqual(version, { code: 0, stdout: `kube-job-alerts ${manifest.version}\n`, stderr: '' });
  const check = await runToEnd(process.execPath, [launcher, 'check'], image, imageEnv);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /^All \d+ permissions granted\.$/m);

  // The image's ENTRYPOINT, node dist/cli.js, against the API-server emulator, in dry run.
  const job = startJob(api, { name: 'packaged' });
  const child = spawn(process.execPath, ['dist/cli.js'], {
    cwd: image,
    env: { ...imageEnv, DRY_RUN: 'true', HTTP_PORT: '0', CLUSTER_NAME: 'package', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const lines: Array<Record<string, unknown>> = [];
  let output = '';
  const waiters = new Set<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (text) => {
      output += `${text}\n`;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const waiter of waiters) {
          if (!waiter.match(line)) continue;
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      } catch {
        // not a log line
      }
    });
  }
  const logLine = (match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<Record<string, unknown>>((resolve) => waiters.add({ match, resolve })),
      exited.then((code) => Promise.reject(new Error(`node dist/cli.js exited (${code}):\n${output.slice(-4000)}`))),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no such log line in 15 s:\n${output.slice(-4000)}`)), 15_000).unref()),
    ]);
  };

  await logLine((line) => line['msg'] === 'caches synced: alerting');
  failJob(api, job, { exitCode: 3, log: 'connecting to db\nerror: connection refused\n' });
  const dryRun = await logLine((line) => line['msg'] === 'dry run: alert not posted to Slack');
  const payload = JSON.parse(String(dryRun['payload'])) as { text: string };
  assert.match(payload.text, /Job failed: default\/packaged \(BackoffLimitExceeded\), cluster package/);
  assert.match(String(dryRun['payload']), /error: connection refused/);
  assert.match(String(dryRun['builderUrl']), /^https:\/\/app\.slack\.com\/block-kit-builder\/#/);

  const stopping = Date.now();
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output.slice(-4000));
  assert.ok(Date.now() - stopping < 10_000, 'stopped within 10 s');
});

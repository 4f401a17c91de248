/**
 * The `kube-job-alerts` command from a checkout: there right after `npm ci` (no build), executable, what `npm start`
 * runs, and on a Node.js that is too old it names the version needed before anything else can fail.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const REPO = new URL('../..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** Node.js as if it were 20.20.2: process.versions.node is replaced before the entry point loads. */
const AS_NODE_20 = ['--import', 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"})'];
const TOO_OLD = 'kube-job-alerts needs Node.js >= 22.19 (found 20.20.2): see README\n';

async function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

describe('the kube-job-alerts command', () => {
  it('is package.json\'s bin, a committed file (not dist/), executable, and what npm start execs', () => {
    assert.deepEqual(manifest.bin, { 'kube-job-alerts': 'bin/kube-job-alerts.js' });
    assert.ok((statSync(join(REPO, manifest.bin['kube-job-alerts']!)).mode & 0o111) !== 0, 'executable');
    assert.equal(manifest.scripts.start, 'exec node bin/kube-job-alerts.js');
    assert.match(readFileSync(join(REPO, 'bin/kube-job-alerts.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('runs as a program, from the sources (no build step)', async () => {
    assert.deepEqual(await run(join(REPO, 'bin/kube-job-alerts.js'), ['--version']), { code: 0, stdout: `kube-job-alerts ${manifest.version}\n`, stderr: '' });
  });

  it('on Node.js 20 it says which version it needs, and nothing else', async () => {
    assert.deepEqual(await run(process.execPath, [...AS_NODE_20, 'bin/kube-job-alerts.js', 'check']), { code: 1, stdout: '', stderr: TOO_OLD });
  });

  it('npm test checks the version first (node --test on Node.js 20 finds no .ts tests and says only that)', async () => {
    assert.match(manifest.scripts.test!, /^node bin\/require-node\.js && node --test /);
    assert.deepEqual(await run(process.execPath, [...AS_NODE_20, 'bin/require-node.js']), { code: 1, stdout: '', stderr: TOO_OLD });
    assert.deepEqual(await run(process.execPath, ['bin/require-node.js']), { code: 0, stdout: '', stderr: '' });
  });

  it('the version it asks for is package.json\'s engines.node, which .npmrc enforces at npm ci', () => {
    assert.equal(manifest.engines.node, '>=22.19');
    assert.match(readFileSync(join(REPO, '.npmrc'), 'utf8'), /^engine-strict=true$/m);
  });
});

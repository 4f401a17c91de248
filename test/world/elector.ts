/**
 * A LeaderElector (src/kube/lease.ts) in a process of its own, as a replica runs it, so a test can SIGKILL it the
 * way a node failure or the OOM killer does: no onStoppedLeading, no release, the Lease left held. It prints one JSON
 * line per callback on stdout; SIGTERM stops it cleanly (stop(): release).
 *
 * By hand: node test/world/elector.ts <kubeconfig> <namespace> <lease> <identity> '<timings JSON>'
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector, type LeaderElectionTimings } from '../../src/kube/lease.ts';

export interface ElectorEvent {
  event: 'started' | 'stopped' | 'leader';
  reason?: string;
  leader?: string;
  /** Date.now() in the child when it happened. */
  at: number;
}

export class ElectorProcess {
  readonly child: ChildProcess;
  readonly events: ElectorEvent[] = [];
  readonly exited: Promise<void>;
  #waiters: { predicate: (event: ElectorEvent) => boolean; resolve: (event: ElectorEvent) => void }[] = [];
  #stderr = '';

  constructor(options: { kubeconfigPath: string; namespace: string; name: string; identity: string; timings: LeaderElectionTimings }) {
    const { kubeconfigPath, namespace, name, identity, timings } = options;
    this.child = spawn(process.execPath, [fileURLToPath(import.meta.url), kubeconfigPath, namespace, name, identity, JSON.stringify(timings)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.stderr!.on('data', (chunk) => (this.#stderr += String(chunk)));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as ElectorEvent;
      this.events.push(event);
      this.#waiters = this.#waiters.filter((waiter) => !(waiter.predicate(event) && (waiter.resolve(event), true)));
    });
  }

  /** The first event (past or future) that matches; rejects after `timeoutMs` with what the child printed. */
  waitFor(predicate: (event: ElectorEvent) => boolean, timeoutMs = 15_000): Promise<ElectorEvent> {
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`elector printed no such event within ${timeoutMs} ms: ${JSON.stringify(this.events)} ${this.#stderr}`)), timeoutMs);
      this.#waiters.push({ predicate, resolve: (event) => (clearTimeout(timer), resolve(event)) });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.child.kill(signal);
    return this.exited;
  }
}

async function main(): Promise<void> {
  const [kubeconfigPath, namespace, name, identity, timings] = process.argv.slice(2);
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath!);
  const elector = new LeaderElector({ clients: { config }, namespace: namespace!, name: name!, identity: identity!, timings: JSON.parse(timings!) as LeaderElectionTimings });
  const print = (event: Omit<ElectorEvent, 'at'>): void => void process.stdout.write(`${JSON.stringify({ ...event, at: Date.now() })}\n`);
  process.once('SIGTERM', () => void elector.stop().then(() => process.exit(0)));
  await elector.run({
    onStartedLeading: () => print({ event: 'started' }),
    onStoppedLeading: (reason) => print({ event: 'stopped', reason }),
    onNewLeader: (leader) => print({ event: 'leader', leader }),
  });
}

if (import.meta.main) await main();

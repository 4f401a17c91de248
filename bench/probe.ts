/**
 * An external event-loop probe, in a process of its own (the benchmark's own process is busy serving the API): asks
 * `url` (a /healthz) every 10 ms, one request at a time, and keeps the longest gap between two answers. A process
 * whose event loop is blocked (parsing a large list, say) answers late, so the gap is the stall a kubelet probe or a
 * Prometheus scrape would meet. Driven over IPC: `{ cmd: 'report' }` answers `{ maxGapMs, answers, failures }` for
 * the time since the last report, and starts a new window.
 *
 *   fork('bench/probe.ts', [url])
 */
import { Agent, get } from 'node:http';

const url = process.argv[2]!;
const INTERVAL_MS = 10;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

let lastAnswer = performance.now();
let maxGapMs = 0;
let answers = 0;
let failures = 0;

function ask(): void {
  const request = get(url, { agent, timeout: 30_000 }, (response) => {
    response.resume();
    response.on('end', () => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - lastAnswer);
      lastAnswer = now;
      answers += 1;
      setTimeout(ask, INTERVAL_MS);
    });
  });
  request.on('error', () => {
    failures += 1;
    setTimeout(ask, INTERVAL_MS);
  });
  request.on('timeout', () => request.destroy());
}

process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'report') {
    process.send!({ maxGapMs: Math.round(maxGapMs), answers, failures });
    maxGapMs = 0;
    answers = 0;
    failures = 0;
  }
});
process.on('disconnect', () => process.exit(0));
ask();

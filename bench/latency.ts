/**
 * `npm run bench`: the time from a Job failure written to the API server to the message arriving at Slack, over the
 * real daemon process (`npm start`), the API-server emulator (HTTPS, watch) and the Slack emulator (HTTP).
 * Failures are spaced 1.2 s apart so Slack's 1-per-second pacing does not count as latency.
 *
 *   npm run bench -- [runs=15]
 */
import { startApiServer } from '../test/world/apiserver.ts';
import { failJob, startJob } from '../test/world/cluster.ts';
import { startDaemon } from '../test/world/daemon.ts';
import { startSlack } from '../test/world/slack.ts';

const runs = Number(process.argv[2] ?? 15);
const api = await startApiServer();
const slack = await startSlack();
const daemon = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0', LOG_LEVEL: 'info' });
try {
  await daemon.ready();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const job = startJob(api, { name: `bench-${i}` });
    const written = Date.now();
    failJob(api, job, { log: `run ${i} failed\n` });
    const posts = await slack.waitFor(i + 1, 10_000);
    samples.push(posts[i]!.at - written);
    await new Promise((resolve) => setTimeout(resolve, 1200));
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  console.log(`failure written -> Slack message received, ${runs} runs (ms): ${samples.join(', ')}`);
  console.log(`median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms`);
} finally {
  await daemon.stop('SIGTERM');
  await slack.close();
  await api.close();
}

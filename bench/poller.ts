/**
 * The polling approach, as the simple notifiers do it: list every Job every 30 s (one unpaginated request through the
 * typed client), diff against the last list, and post one Slack message per Job newly failed. The benchmark runs it
 * beside the daemon to compare latency and API load. Prints a JSON line per poll and per post.
 *
 *   KUBECONFIG=… SLACK_WEBHOOK_URL=… POLL_INTERVAL_MS=30000 node bench/poller.ts
 */
import { BatchV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';

const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const intervalMs = Number(process.env.POLL_INTERVAL_MS ?? 30_000);
const webhook = process.env.SLACK_WEBHOOK_URL!;

const kubeconfig = new KubeConfig();
kubeconfig.loadFromDefault();
const batch = kubeconfig.makeApiClient(BatchV1Api);
const isFailed = (job: V1Job): boolean => (job.status?.conditions ?? []).some((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True');

let known: Set<string> | undefined;
async function poll(): Promise<void> {
  const started = Date.now();
  const { items } = await batch.listJobForAllNamespaces();
  const failed = new Set(items.filter(isFailed).map((job) => job.metadata?.uid ?? ''));
  say({ event: 'poll', ms: Date.now() - started, objects: items.length, failed: failed.size });
  if (known) {
    for (const job of items) {
      if (!isFailed(job) || known.has(job.metadata?.uid ?? '')) continue;
      const name = `${job.metadata?.namespace}/${job.metadata?.name}`;
      await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `Job failed: ${name}` }) });
      say({ event: 'posted', job: name });
    }
  }
  known = failed;
}

process.on('SIGTERM', () => process.exit(0));
for (;;) {
  const started = Date.now();
  await poll().catch((error: unknown) => say({ event: 'error', message: String(error) }));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))));
}

/**
 * `node bench/slack-recovery.ts [outage seconds=60] [webhooks=20]`: after Slack answers 503 for a while, how long
 * until the first message gets through, with the daemon's capped backoff (settings.slack.retryBackoff) and, for
 * comparison, the former 60 s cap. Real SlackDeliverers, real timers, one Slack emulator per webhook, all failing
 * together; the figure is the time from Slack's recovery to each webhook's first accepted post.
 */
import { SlackDeliverer } from '../src/slack/deliver.ts';
import { DEFAULT_SETTINGS } from '../src/settings.ts';
import { startSlack } from '../test/world/slack.ts';

const outageMs = Number(process.argv[2] ?? 60) * 1000;
const webhooks = Number(process.argv[3] ?? 20);
const policies = { capped: DEFAULT_SETTINGS.slack.retryBackoff, 'former 60 s cap': { baseMs: 1000, maxMs: 60_000, jitter: 'full' as const } };

const runs = await Promise.all(
  Object.entries(policies).flatMap(([name, retryBackoff]) =>
    Array.from({ length: webhooks }, async () => {
      const slack = await startSlack();
      slack.script(...Array<number>(1000).fill(503));
      return { name, slack, deliverer: new SlackDeliverer({ url: slack.url, retryBackoff }) };
    }),
  ),
);
const started = Date.now();
const deliveries = runs.map(({ deliverer }) => deliverer.deliver({ text: 'bench', blocks: [] }));
await new Promise((resolve) => setTimeout(resolve, outageMs));
const back = Date.now();
for (const { slack } of runs) slack.clearScript();
await Promise.all(deliveries);
for (const name of Object.keys(policies)) {
  const mine = runs.filter((run) => run.name === name);
  const waits = mine.map(({ slack }) => (slack.accepted[0]!.at - back) / 1000).sort((a, b) => a - b);
  const attempts = mine.reduce((sum, { slack }) => sum + slack.received.length, 0) / mine.length;
  const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))]!.toFixed(1);
  console.log(
    `${name}: Slack back after ${((back - started) / 1000).toFixed(0)} s of 503s -> first delivery after median ${at(0.5)} s, ` +
      `p90 ${at(0.9)} s, max ${waits.at(-1)!.toFixed(1)} s (${webhooks} webhooks; ${attempts.toFixed(1)} attempts each)`,
  );
}
await Promise.all(runs.map(({ slack }) => slack.close()));

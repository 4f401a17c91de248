/**
 * Slack misbehaving: 429 bursts with Retry-After, 5xx, hung requests and 200s whose body never ends, webhooks that
 * refuse for good (a redirect, an untrusted certificate), and a long outage. Nothing may be lost or posted twice;
 * what a webhook refuses for good must be counted, not silently dropped.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlackAnswer } from '../../world/slack.ts';
import { metric, portOf, sleep, until } from '../harness.ts';
import { resultOf, type Context, type Scenario } from '../scenario.ts';

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

/** Gaps between consecutive requests Slack received (ms). */
function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}

export const slackRateLimits: Scenario = {
  id: 'slack-429',
  light: true,
  title: 'Slack rate-limits in bursts (429 with Retry-After 1 to 3 s)',
  budgetMs: () => 90_000,
  async run({ world: make }: Context) {
    const world = await make();
    const daemon = world.daemon({ GROUP_THRESHOLD: '0' });
    await daemon.ready();
    const retryAfter = [1, 1, 1, 0, 0, 2, 2, 3, 0, 0, 1, 1, 1, 1, 0];
    world.slack.script(...retryAfter.map((seconds): SlackAnswer => (seconds === 0 ? 'ok' : { status: 429, retryAfter: seconds })));
    const expected = world.failNew(names('limited', 10));
    const injectedAt = Date.now();
    await world.waitNamed(expected, 60_000);
    await world.sentinel();
    // Each 429 said when to come back: the next request must not come sooner.
    const early = world.slack.received.slice(0, retryAfter.length).flatMap((post, i) => {
      const next = world.slack.received[i + 1];
      const wait = retryAfter[i]! * 1000;
      return post.status === 429 && next && next.at - post.at < wait - 50 ? [`${next.at - post.at} ms after a Retry-After of ${wait / 1000} s`] : [];
    });
    return resultOf(world, expected, {
      faults: `${retryAfter.filter(Boolean).length} answers 429 in 3 bursts`,
      from: ['the failures', injectedAt],
      checks: [{ what: `every Retry-After honoured${early.length ? `: ${early.join('; ')}` : ''}`, ok: early.length === 0 }],
    });
  },
};

export const slackServerErrors: Scenario = {
  id: 'slack-5xx',
  light: true,
  title: 'Slack answers 500, 502 and 503, once for over a minute',
  budgetMs: () => 150_000,
  async run({ world: make }: Context) {
    const world = await make();
    const daemon = world.daemon({ GROUP_THRESHOLD: '0' });
    await daemon.ready();
    const answers: SlackAnswer[] = [500, 502, 'ok', 503, 'ok', 500, 503, 503, 502, 503, 503, 500, 503, 'ok'];
    world.slack.script(...answers);
    const expected = world.failNew(names('unavailable', 6));
    const injectedAt = Date.now();
    await world.waitNamed(expected, 120_000);
    await world.sentinel();
    const attempts = world.slack.received.map((post) => post.at);
    const longest = Math.max(...gaps(attempts.slice(0, answers.length + 1)));
    return resultOf(world, expected, {
      faults: `${answers.filter((a) => a !== 'ok').length} answers 5xx, 8 in a row`,
      from: ['the failures', injectedAt],
      checks: [{ what: `retries at most 15 s apart, the backoff cap (longest gap ${(longest / 1000).toFixed(1)} s)`, ok: longest <= 16_000 }],
    });
  },
};

export const slackHangs: Scenario = {
  id: 'slack-hangs',
  light: true,
  title: 'Slack leaves requests hanging, and answers 200s whose body never ends',
  budgetMs: () => 120_000,
  async run({ world: make }: Context) {
    const world = await make();
    const daemon = world.daemon({ GROUP_THRESHOLD: '0' });
    await daemon.ready();
    world.slack.script('hang', 'ok-unfinished', 'hang', 'ok-unfinished', 'ok', 'ok-unfinished');
    const expected = world.failNew(names('hanging', 5));
    const injectedAt = Date.now();
    await world.waitNamed(expected, 90_000);
    await world.sentinel();
    // A hung request gets an answer never; the daemon must give up on it (10 s) and post again, once.
    const received = world.slack.received;
    const afterHang = received.flatMap((post, i) => (post.status === 0 && received[i + 1] ? [received[i + 1]!.at - post.at] : []));
    return resultOf(world, expected, {
      faults: "2 requests hung, 3 answered 200 with a body that never ends",
      from: ['the failures', injectedAt],
      checks: [{ what: `a hung request is abandoned and sent again (after ${afterHang.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')})`, ok: afterHang.length === 2 && afterHang.every((ms) => ms >= 9000 && ms < 30_000) }],
    });
  },
};

export const slackRefusals: Scenario = {
  id: 'slack-refusals',
  light: true,
  title: 'webhooks that refuse for good: one redirects, one has an untrusted certificate',
  budgetMs: () => 60_000,
  async run({ world: make }: Context) {
    const world = await make();
    const moved = await world.anotherSlack();
    const untrusted = await world.anotherSlack({ tls: 'untrusted' });
    // Redirected to the working webhook: following it would post there, which the tally would show as unexpected.
    moved.script(...Array.from({ length: 50 }, (): SlackAnswer => ({ redirect: world.slack.url, status: 302 })));
    const daemon = world.daemon({
      WATCH_NAMESPACES: '*',
      SLACK_ROUTE_MOVED: moved.url,
      SLACK_ROUTE_UNTRUSTED: untrusted.url,
      NAMESPACE_ROUTES: 'moved=moved,untrusted=untrusted',
    });
    const port = await portOf(daemon);
    await daemon.ready();
    const expected = world.failNew(names('fine', 3));
    const refusedJobs = [...world.failNew(names('redirected', 2), 'moved'), ...world.failNew(names('untrusted', 2), 'untrusted')];
    const injectedAt = Date.now();
    const counted = async () => (await metric(port, 'kube_job_alerts_alerts_failed_total', { slack_error: 'http_302' })) + (await metric(port, 'kube_job_alerts_alerts_failed_total', { slack_error: 'tls_unable_to_verify_leaf_signature' }));
    await world.waitNamed(expected, 30_000);
    let refused = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && refused < refusedJobs.length; await sleep(250)) refused = await counted();
    await world.sentinel();
    const base = resultOf(world, expected, {
      faults: 'route `moved` answers 302, route `untrusted` has a certificate no CA signed',
      from: ['the failures', injectedAt],
      checks: [
        { what: `each refused alert tried once, never retried nor redirected (${moved.received.length} requests to moved)`, ok: moved.received.length === 2 && moved.accepted.length === 0 },
        { what: 'each refusal logged as an error with its cause', ok: daemon.logs.filter((line) => line.level === 'error' && /failed for good/.test(line.msg)).length === refusedJobs.length },
      ],
      figures: [`refusals logged: ${[...new Set(daemon.logs.filter((line) => /failed for good/.test(line.msg)).map((line) => `${line.slackError}`))].join(', ')}`],
    });
    return { ...base, injected: expected.length + refusedJobs.length, expected: expected.length + refusedJobs.length, refused, lost: base.lost + (refusedJobs.length - refused) };
  },
};

/**
 * Slack answering 503 for `outageMs` while a failure arrives every `everyMs` and a storm comes a third of the way in:
 * everything must be named once Slack is back, the first message within the backoff cap.
 */
async function slackOutage(
  { world: make, say }: Context,
  shape: { outageMs: number; everyMs: number; storm: number; bound?: number; groupWindow?: string; heartbeat: boolean },
) {
  const world = await make();
  const pings: number[] = [];
  const monitor = createServer((request, response) => {
    pings.push(Date.now());
    response.writeHead(200).end('OK');
  });
  await new Promise<void>((resolve) => monitor.listen(0, '127.0.0.1', resolve));
  try {
    const daemon = world.daemon({
      ...(shape.bound === undefined ? {} : { OUTBOX_MAX_PENDING: String(shape.bound) }),
      ...(shape.groupWindow === undefined ? {} : { GROUP_WINDOW: shape.groupWindow }),
      HEARTBEAT_URL: `http://127.0.0.1:${(monitor.address() as AddressInfo).port}/ping/b4c6f0e2`,
      HEARTBEAT_INTERVAL: '10s',
    });
    const port = await portOf(daemon);
    await daemon.ready();
    world.slack.script(...Array.from({ length: 10_000 }, (): SlackAnswer => 503));
    const downAt = Date.now();
    const expected: string[] = [];
    for (let i = 0; Date.now() - downAt < shape.outageMs; i++) {
      expected.push(...world.failNew([`while-down-${String(i).padStart(3, '0')}`]));
      if (i === Math.round(shape.outageMs / shape.everyMs / 3)) expected.push(...world.failNew(names('storm-while-down', shape.storm)));
      if (i % 15 === 14) say(`${Math.round((Date.now() - downAt) / 1000)} s down, ${expected.length} failures, ${world.slack.received.length} attempts`);
      await sleep(Math.min(shape.everyMs, Math.max(0, shape.outageMs - (Date.now() - downAt))));
    }
    const attemptsDuringOutage = world.slack.received.length;
    world.slack.clearScript();
    const backAt = Date.now();
    say(`Slack back after ${Math.round((backAt - downAt) / 1000)} s (${attemptsDuringOutage} attempts meanwhile); ${expected.length} Jobs to be named`);
    // Messages go out in order: once a failure made after Slack's return is named, everything before it was sent or dropped.
    await world.sentinel(150_000);
    const firstAfter = (world.slack.accepted[0]?.at ?? NaN) - backAt;
    const resumed = await until(() => pings.some((at) => at > world.slack.accepted.at(-1)!.at), 30_000);
    const dropped = await metric(port, 'kube_job_alerts_alerts_failed_total', { slack_error: 'outbox_full' });
    const folded = daemon.logs.filter((line) => /outbox full: the oldest waiting failures/.test(line.msg)).length;
    const lastPingDown = Math.max(...pings.filter((at) => at < backAt)) - downAt;
    const checks = [
      { what: `first delivery within the 15 s backoff cap of Slack's return (${(firstAfter / 1000).toFixed(1)} s)`, ok: firstAfter <= 16_000 },
      { what: `nothing dropped from the outbox (${dropped} dropped, ${folded} folds of the oldest failures into a digest)`, ok: dropped === 0 },
      ...(shape.heartbeat
        ? [{ what: `the heartbeat stopped once a message had waited 5 minutes (last ping ${Math.round(lastPingDown / 1000)} s into the outage) and resumed after`, ok: lastPingDown >= 280_000 && lastPingDown <= 320_000 && resumed }]
        : []),
      { what: 'the heartbeat URL in no output', ok: !daemon.output.includes('b4c6f0e2') },
    ];
    const drops = daemon.logs.filter((line) => /nothing left to fold/.test(line.msg)).map((line) => `${line.kind} of ${line.subject}`);
    return {
      world,
      expected,
      backAt,
      checks,
      figures: [
        `${world.slack.accepted.length} posts after the outage; ${attemptsDuringOutage} attempts during it; ${folded} folds`,
        ...(drops.length ? [`dropped (outbox full, nothing left to fold): ${drops.join(', ')}`] : []),
      ],
    };
  } finally {
    monitor.closeAllConnections();
    monitor.close();
  }
}

export const slackDown: Scenario = {
  id: 'slack-down',
  light: true,
  title: 'Slack down (503) for 6 minutes (10 shortened), failures arriving all along and a storm in the middle',
  budgetMs: (quick) => (quick ? 90_000 : 600_000),
  async run(context: Context) {
    // Shortened from 10 minutes to 6: past the backoff's 15 s cap (reached within the first minute) and past the
    // 5 minutes after which a waiting message withholds the heartbeat; from then on, the daemon does what it would
    // for the rest of the ten. Production outbox bound (1,000 per webhook).
    const outageMs = context.quick ? 20_000 : 360_000;
    const outcome = await slackOutage(context, { outageMs, everyMs: context.quick ? 2000 : 4000, storm: context.quick ? 20 : 50, heartbeat: !context.quick });
    return resultOf(outcome.world, outcome.expected, {
      faults: `every answer 503 for ${outageMs / 1000} s`,
      from: ['Slack came back', outcome.backAt],
      checks: outcome.checks,
      figures: outcome.figures,
    });
  },
};

export const slackDownOutboxFull: Scenario = {
  id: 'slack-down-outbox-full',
  light: true,
  title: "Slack down (503) for 3 minutes with the outbox bound at its minimum, 10 (a backlog of hours in minutes)",
  budgetMs: (quick) => (quick ? 150_000 : 420_000),
  async run(context: Context) {
    // OUTBOX_MAX_PENDING=10 stands for the default 1,000 reached in an outage of hours (a storm's trickle makes one
    // digest per GROUP_WINDOW: 1,000 in under 3 hours): the outbox must fold its oldest waiting failures, and drop nothing.
    const outageMs = context.quick ? 30_000 : 180_000;
    const outcome = await slackOutage(context, {
      outageMs,
      everyMs: context.quick ? 1000 : 4000,
      storm: context.quick ? 20 : 50,
      bound: 10,
      heartbeat: false,
      ...(context.quick ? { groupWindow: '2s' } : {}),
    });
    return resultOf(outcome.world, outcome.expected, {
      faults: `every answer 503 for ${outageMs / 1000} s; OUTBOX_MAX_PENDING=10${context.quick ? ', GROUP_WINDOW=2s' : ''}`,
      from: ['Slack came back', outcome.backAt],
      checks: outcome.checks,
      figures: outcome.figures,
    });
  },
};

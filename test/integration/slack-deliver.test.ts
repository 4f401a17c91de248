/**
 * SlackDeliverer over real HTTP against the Slack-webhook emulator (test/world/slack.ts). Time is injected: sleeps
 * advance a fake clock and return at once, so backoffs and Retry-After pauses are asserted, not waited for. The
 * only real waits are a 150 ms per-attempt timeout and one 2 x 60 ms spacing check.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type { FetchFunction } from '@slack/webhook';
import type { Alert } from '../../src/alert.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { DryRunDeliverer, SlackDeliverer, webhookFingerprint, type SlackDelivererOptions } from '../../src/slack/deliver.ts';
import { buildAlert, type SlackPayload } from '../../src/slack/format.ts';
import { startSlack, type SlackEmulator, type SlackOptions } from '../world/slack.ts';
import { untrustedTls } from '../world/tls.ts';

const alert = (name: string): Alert => ({
  cluster: 'test',
  failure: {
    uid: `uid-${name}`, namespace: 'batch', name, condition: 'Failed', reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit <!channel>', failedAt: new Date('2024-06-20T20:52:19Z'),
    startedAt: new Date('2024-06-20T20:50:00Z'), failedPods: 7, succeededPods: 0, backoffLimit: 6,
    failedIndexes: undefined, cronJob: 'nightly', scheduledAt: undefined,
  },
  evidence: { pod: `${name}-abcde`, container: 'main', exitCode: 137, reason: 'OOMKilled', logTail: ['a', 'b', '```', 'Killed'], notes: [] },
});
const payload = (name = 'job-a'): SlackPayload => buildAlert(alert(name));

/** A fake clock whose sleep records the wait, advances time and returns at once. */
function fakeTime() {
  let t = 1_700_000_000_000;
  const sleeps: number[] = [];
  const fetchTimes: number[] = [];
  return {
    sleeps,
    fetchTimes,
    now: (): number => t,
    sleep: async (ms: number): Promise<void> => { sleeps.push(ms); t += ms; },
    /** The global fetch, noting the fake time each attempt started. */
    fetch: ((url: string | URL, init?: RequestInit) => { fetchTimes.push(t); return fetch(url, init); }) as SlackDelivererOptions['fetch'],
  };
}

function captureLogs() {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', { write: (line: string) => { lines.push(line); } }) };
}

async function emulator(t: TestContext): Promise<SlackEmulator> {
  const slack = await startSlack();
  t.after(() => slack.close());
  return slack;
}

async function counter(metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

describe('SlackDeliverer against the emulator', { timeout: 10_000 }, () => {
  it('ok: one message, accepted as sent, metrics updated', async (t) => {
    const slack = await emulator(t);
    const time = fakeTime();
    const metrics = new Metrics();
    const deliverer = new SlackDeliverer({ url: slack.url, ...time, metrics });
    const result = await deliverer.deliver(payload());
    assert.deepEqual(result, { ok: true, attempts: 1 });
    assert.equal(slack.accepted.length, 1);
    assert.deepEqual(slack.accepted[0]?.body, JSON.parse(JSON.stringify(payload())));
    assert.deepEqual(slack.violations, []);
    assert.equal(await counter(metrics.alertsSent), 1);
    assert.equal(await counter(metrics.slackAttempts, { outcome: 'ok' }), 1);
    assert.equal(await counter(metrics.lastDeliverySeconds), time.now() / 1000);
    const latency = await metrics.slackLatency.get();
    assert.ok(latency.values.some((v) => v.metricName?.endsWith('_count') && v.labels.outcome === 'ok' && v.value === 1));
  });

  it('429 with Retry-After pauses the whole queue, then retries the same message: each message once', async (t) => {
    const slack = await emulator(t);
    slack.script({ status: 429, retryAfter: 2 });
    const time = fakeTime();
    const metrics = new Metrics();
    const deliverer = new SlackDeliverer({ url: slack.url, ...time, metrics });
    const [first, second] = await Promise.all([deliverer.deliver(payload('job-a')), deliverer.deliver(payload('job-b'))]);
    assert.deepEqual(first, { ok: true, attempts: 2 });
    assert.deepEqual(second, { ok: true, attempts: 1 });
    assert.deepEqual(slack.received.map((r) => r.status), [429, 200, 200]);
    assert.deepEqual(slack.accepted.map((r) => r.body.text.includes('job-a')), [true, false]);
    assert.deepEqual(time.sleeps, [2000, 1000]);
    const [t0 = 0, t1 = 0, t2 = 0] = time.fetchTimes;
    assert.equal(t1 - t0, 2000);
    assert.equal(t2 - t1, 1000);
    assert.equal(await counter(metrics.slackAttempts, { outcome: 'rate_limited' }), 1);
    assert.equal(await counter(metrics.alertsSent), 2);
  });

  const retryAfters: Array<[string, number | string | undefined, number]> = [
    ['absent: 30 s', undefined, 30_000],
    ['garbled: 30 s', 'soon', 30_000],
    ['huge: capped at 5 min', 86_400, 300_000],
    ['zero: only the 1 s spacing', 0, 1000],
  ];
  for (const [name, retryAfter, expected] of retryAfters) {
    it(`429 Retry-After ${name}`, async (t) => {
      const slack = await emulator(t);
      slack.script(retryAfter === undefined ? { status: 429 } : { status: 429, retryAfter });
      const time = fakeTime();
      const result = await new SlackDeliverer({ url: slack.url, ...time }).deliver(payload());
      assert.deepEqual(result, { ok: true, attempts: 2 });
      assert.deepEqual(time.sleeps, [expected]);
      assert.equal(slack.accepted.length, 1);
    });
  }

  it('500, 500, ok: retried with backoff, one message', async (t) => {
    const slack = await emulator(t);
    slack.script(500, 503);
    const time = fakeTime();
    const metrics = new Metrics();
    const deliverer = new SlackDeliverer({ url: slack.url, ...time, minIntervalMs: 0, random: () => 0.5, metrics });
    assert.deepEqual(await deliverer.deliver(payload()), { ok: true, attempts: 3 });
    assert.deepEqual(slack.received.map((r) => r.status), [500, 503, 200]);
    assert.deepEqual(time.sleeps, [500, 1000]); // full jitter at 0.5 of 1 s, then of 2 s
    assert.equal(await counter(metrics.slackAttempts, { outcome: 'server_error' }), 2);
    assert.equal(await counter(metrics.alertsFailed), 0);
  });

  it('5xx forever: keeps retrying, backoff capped at 15 s (a channel that is back hears within ~15 s), until the signal aborts', async (t) => {
    const slack = await emulator(t);
    slack.script(...Array<number>(12).fill(500));
    const time = fakeTime();
    const controller = new AbortController();
    const sleep = async (ms: number): Promise<void> => {
      await time.sleep(ms);
      if (time.sleeps.length === 12) controller.abort();
    };
    const deliverer = new SlackDeliverer({ url: slack.url, now: time.now, sleep, minIntervalMs: 0, random: () => 0.999 });
    const result = await deliverer.deliver(payload(), controller.signal);
    assert.deepEqual(result, { ok: false, permanent: false, error: 'aborted', attempts: 12, lastFailure: 'HTTP 500 internal_error' });
    assert.equal(slack.received.length, 12);
    assert.deepEqual(time.sleeps.slice(0, 4), [1000, 2000, 4000, 8000].map((ms) => Math.floor(0.999 * ms)));
    assert.ok(time.sleeps.slice(4).every((ms) => ms === Math.floor(0.999 * 15_000)), time.sleeps.join(', '));
  });

  it('network error (nothing listening), then the server comes up', async (t) => {
    const probe = await startSlack();
    const { port, url } = probe;
    await probe.close();
    const time = fakeTime();
    let slack: SlackEmulator | undefined;
    t.after(() => slack?.close());
    const sleep = async (ms: number): Promise<void> => {
      await time.sleep(ms);
      slack ??= await startSlack({ port });
    };
    const metrics = new Metrics();
    const deliverer = new SlackDeliverer({ url, now: time.now, sleep, metrics, random: () => 0 });
    assert.deepEqual(await deliverer.deliver(payload()), { ok: true, attempts: 2 });
    assert.equal(slack?.accepted.length, 1);
    assert.equal(await counter(metrics.slackAttempts, { outcome: 'network' }), 1);
  });

  const permanent: Array<[number, string]> = [[404, 'no_service'], [410, 'channel_is_archived'], [400, 'invalid_payload'], [403, 'action_prohibited']];
  for (const [status, error] of permanent) {
    it(`${status} ${error}: permanent, not retried, counted, logged at error level`, async (t) => {
      const slack = await emulator(t);
      slack.script(status);
      const time = fakeTime();
      const metrics = new Metrics();
      const { lines, logger } = captureLogs();
      const deliverer = new SlackDeliverer({ url: slack.url, ...time, metrics, logger });
      assert.deepEqual(await deliverer.deliver(payload()), {
        ok: false, permanent: true, reason: 'rejected', status, error, cause: `HTTP ${status} ${error}`, attempts: 1,
      });
      assert.equal(slack.received.length, 1);
      assert.deepEqual(time.sleeps, []);
      assert.equal(await counter(metrics.alertsFailed, { slack_error: error }), 1);
      assert.equal(await counter(metrics.slackAttempts, { outcome: 'rejected' }), 1);
      assert.equal(await counter(metrics.alertsSent), 0);
      const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'error');
      assert.equal(errors.length, 1);
      assert.equal(errors[0].slackError, error);
      assert.equal(errors[0].status, status);
      // The next message is not held back by the refused one.
      assert.deepEqual(await deliverer.deliver(payload('job-b')), { ok: true, attempts: 1 });
    });
  }

  it('an HTML error page is reported as http_<status>', async (t) => {
    const slack = await emulator(t);
    slack.script({ status: 401, body: '<html>Unauthorized</html>' });
    const result = await new SlackDeliverer({ url: slack.url, ...fakeTime() }).deliver(payload());
    assert.deepEqual(result, { ok: false, permanent: true, reason: 'rejected', status: 401, error: 'http_401', cause: 'HTTP 401 http_401', attempts: 1 });
  });

  it('the emulator refuses a body over Block Kit limits with invalid_blocks, and the deliverer does not retry it', async (t) => {
    const slack = await emulator(t);
    const tooBig: SlackPayload = { text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] };
    const result = await new SlackDeliverer({ url: slack.url, ...fakeTime() }).deliver(tooBig);
    assert.deepEqual(result, { ok: false, permanent: true, reason: 'rejected', status: 400, error: 'invalid_blocks', cause: 'HTTP 400 invalid_blocks', attempts: 1 });
    assert.deepEqual(slack.violations, ['blocks[0]: header text is 151 chars (> 150)']);
  });

  for (const status of [301, 302, 307, 308] as const) {
    it(`a ${status} redirect is never followed nor retried: counted as http_${status}, logged with where it points (its origin only)`, async (t) => {
      const slack = await emulator(t);
      // Pointing back at the emulator: a followed redirect would show up as a second request.
      slack.script({ status, redirect: `${slack.url}/moved?token=elsewhere` });
      const time = fakeTime();
      const metrics = new Metrics();
      const { lines, logger } = captureLogs();
      const result = await new SlackDeliverer({ url: slack.url, ...time, metrics, logger }).deliver(payload());
      const origin = new URL(slack.url).origin;
      assert.deepEqual(result, {
        ok: false, permanent: true, reason: 'redirect', status, error: `http_${status}`,
        cause: `HTTP ${status}: the webhook URL redirects to ${origin}; redirects are not followed`, attempts: 1,
      });
      assert.equal(slack.received.length, 1);
      assert.deepEqual(time.sleeps, []);
      assert.equal(await counter(metrics.alertsFailed, { slack_error: `http_${status}` }), 1);
      const [entry] = lines.map((line) => JSON.parse(line)).filter((e) => e.level === 'error');
      assert.equal(entry.refusal, 'redirect');
      assert.match(entry.msg, /redirects/);
      assert.ok(lines.every((line) => !line.includes('elsewhere') && !line.includes('/services/')), lines.join('\n'));
    });
  }

  it('a 200 whose body never ends is delivered at its status line: one post, never a second one', async (t) => {
    const slack = await emulator(t);
    slack.script('ok-unfinished');
    const time = fakeTime();
    const metrics = new Metrics();
    // A short attempt timeout: waiting for the body would time out and post the same message again.
    const deliverer = new SlackDeliverer({ url: slack.url, ...time, timeoutMs: 150, random: () => 0, metrics });
    assert.deepEqual(await deliverer.deliver(payload('job-a')), { ok: true, attempts: 1 });
    assert.deepEqual(await deliverer.deliver(payload('job-b')), { ok: true, attempts: 1 });
    assert.deepEqual(slack.received.map((post) => /job-[ab]/.exec(post.rawBody)?.[0]), ['job-a', 'job-b']);
    assert.equal(await counter(metrics.alertsSent), 2);
    assert.equal(await counter(metrics.slackAttempts, { outcome: 'network' }), 0);
  });

  it('a slow 200 within the attempt timeout is one post; one slower than it is abandoned unposted and sent again', async (t) => {
    const slack = await emulator(t);
    slack.script({ slowMs: 50 }, { slowMs: 400 });
    const time = fakeTime();
    const deliverer = new SlackDeliverer({ url: slack.url, ...time, timeoutMs: 200, random: () => 0 });
    assert.deepEqual(await deliverer.deliver(payload('job-a')), { ok: true, attempts: 1 });
    assert.deepEqual(await deliverer.deliver(payload('job-b')), { ok: true, attempts: 2 });
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the abandoned answer's time: it must not post
    assert.deepEqual(slack.received.map((post) => `${/job-[ab]/.exec(post.rawBody)?.[0]} ${post.status}`), ['job-a 200', 'job-b 0', 'job-b 200']);
  });

  const certificates: Array<[SlackOptions['tls'], string, RegExp]> = [
    ['untrusted', 'tls_unable_to_verify_leaf_signature', /unable to verify the first certificate.*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/],
    ['self-signed', 'tls_depth_zero_self_signed_cert', /self-signed certificate.*\(DEPTH_ZERO_SELF_SIGNED_CERT\)/],
  ];
  for (const [variant, error, cause] of certificates) {
    it(`HTTPS with a ${variant} certificate: permanent, not retried, ${error} counted, the cause logged as an error object`, async (t) => {
      const slack = await startSlack({ tls: variant });
      t.after(() => slack.close());
      assert.match(slack.url, /^https:/);
      const time = fakeTime();
      const metrics = new Metrics();
      const { lines, logger } = captureLogs();
      const result = await new SlackDeliverer({ url: slack.url, ...time, metrics, logger }).deliver(payload());
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.permanent);
      assert.equal(result.reason, 'tls');
      assert.equal(result.status, undefined);
      assert.equal(result.error, error);
      assert.match(result.cause, cause);
      assert.equal(result.attempts, 1);
      assert.deepEqual(time.sleeps, []);
      assert.equal(slack.received.length, 0, 'the handshake failed: nothing was posted');
      assert.equal(await counter(metrics.alertsFailed, { slack_error: error }), 1);
      assert.equal(await counter(metrics.slackAttempts, { outcome: 'rejected' }), 1);
      const [entry] = lines.map((line) => JSON.parse(line)).filter((e) => e.level === 'error');
      assert.equal(entry.err.type, 'TypeError');
      assert.match(entry.err.message, /^fetch failed: /);
      assert.match(entry.err.stack, /caused by/);
      assert.match(entry.cause, cause);
      assert.match(entry.msg, /TLS certificate is not trusted/);
    });
  }

  it('HTTPS whose certificate is trusted but issued for another host name: permanent (hostname mismatch)', async (t) => {
    const slack = await startSlack({ tls: 'untrusted' });
    t.after(() => slack.close());
    // Trust the emulator's CA for this test only, as a cluster with a TLS-intercepting proxy would (NODE_EXTRA_CA_CERTS).
    const defaults = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...defaults, untrustedTls.ca]);
    t.after(() => tls.setDefaultCACertificates(defaults));
    const result = await new SlackDeliverer({ url: slack.url, ...fakeTime() }).deliver(payload());
    assert.ok(!result.ok && result.permanent);
    assert.equal(result.error, 'tls_err_tls_cert_altname_invalid');
    assert.match(result.cause, /does not match certificate's altnames.*\(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    assert.equal(slack.received.length, 0);
  });

  it('hang: the attempt times out, then the retry succeeds', async (t) => {
    const slack = await emulator(t);
    slack.script('hang');
    const time = fakeTime();
    const metrics = new Metrics();
    const deliverer = new SlackDeliverer({ url: slack.url, ...time, timeoutMs: 150, random: () => 0, metrics });
    const started = Date.now();
    assert.deepEqual(await deliverer.deliver(payload()), { ok: true, attempts: 2 });
    assert.ok(Date.now() - started >= 140, 'the first attempt waited for its timeout');
    assert.equal(slack.received.length, 2);
    assert.equal(slack.accepted.length, 1);
    assert.equal(await counter(metrics.slackAttempts, { outcome: 'network' }), 1);
  });

  it('spacing: 3 queued messages go out in order, 1 s apart (fake clock)', async (t) => {
    const slack = await emulator(t);
    const time = fakeTime();
    const deliverer = new SlackDeliverer({ url: slack.url, ...time });
    const results = await Promise.all(['job-1', 'job-2', 'job-3'].map((name) => deliverer.deliver(payload(name))));
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual(slack.accepted.map((r) => /job-\d/.exec(r.body.text)?.[0]), ['job-1', 'job-2', 'job-3']);
    assert.deepEqual(time.sleeps, [1000, 1000]);
    const [a = 0, b = 0, c = 0] = time.fetchTimes;
    assert.deepEqual([b - a, c - b], [1000, 1000]);
  });

  it('spacing: requests start at least minIntervalMs apart (real clock, 60 ms)', async (t) => {
    const slack = await emulator(t);
    // Measured where the deliverer sends, not where the emulator receives: arrival gaps shrink and grow with load.
    const starts: number[] = [];
    const recordingFetch: FetchFunction = (url, init) => {
      starts.push(performance.now());
      return fetch(url, init) as ReturnType<FetchFunction>;
    };
    const deliverer = new SlackDeliverer({ url: slack.url, minIntervalMs: 60, fetch: recordingFetch });
    await Promise.all([1, 2, 3].map((i) => deliverer.deliver(payload(`job-${i}`))));
    assert.equal(slack.accepted.length, 3);
    assert.equal(starts.length, 3);
    // Node's timers may fire up to a millisecond early; never more.
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 59, `gap ${starts[i]! - starts[i - 1]!} ms`);
  });

  it('abort while queued behind a hanging request, and while in flight: aborted, never throws', async (t) => {
    const slack = await emulator(t);
    slack.script('hang');
    const deliverer = new SlackDeliverer({ url: slack.url, ...fakeTime(), timeoutMs: 10_000 });
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = deliverer.deliver(payload('job-a'), inFlight.signal);
    const second = deliverer.deliver(payload('job-b'), queued.signal);
    while (slack.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    queued.abort();
    assert.deepEqual(await second, { ok: false, permanent: false, error: 'aborted', attempts: 0 });
    inFlight.abort();
    assert.deepEqual(await first, { ok: false, permanent: false, error: 'aborted', attempts: 1 });
    assert.equal(slack.accepted.length, 0);
    // The queue still works afterwards.
    assert.deepEqual(await deliverer.deliver(payload('job-c')), { ok: true, attempts: 1 });
  });

  it('an already aborted signal posts nothing', async (t) => {
    const slack = await emulator(t);
    const result = await new SlackDeliverer({ url: slack.url, ...fakeTime() }).deliver(payload(), AbortSignal.abort());
    assert.deepEqual(result, { ok: false, permanent: false, error: 'aborted', attempts: 0 });
    assert.equal(slack.received.length, 0);
  });

  it('dry run posts nothing and logs the payload', async (t) => {
    const slack = await emulator(t);
    const { lines, logger } = captureLogs();
    const result = await new DryRunDeliverer({ logger }).deliver(payload());
    assert.deepEqual(result, { ok: true, attempts: 0 });
    assert.equal(slack.received.length, 0);
    const entry = JSON.parse(lines[0] ?? '{}');
    assert.equal(entry.level, 'info');
    assert.deepEqual(JSON.parse(entry.payload), JSON.parse(JSON.stringify(payload())));
  });

  it('the webhook URL never appears in any log line, only its fingerprint', async (t) => {
    const slack = await emulator(t);
    const token = slack.url.split('/').at(-1) ?? '';
    // A redirect back to the webhook's own URL: its Location holds the whole secret.
    slack.script({ status: 429, retryAfter: 1 }, 500, 'hang', 'ok', 404, { status: 302, redirect: `${slack.url}?moved=1` });
    const { lines, logger } = captureLogs();
    const deliverer = new SlackDeliverer({ url: slack.url, ...fakeTime(), timeoutMs: 100, logger });
    assert.equal((await deliverer.deliver(payload('job-a'))).ok, true);
    assert.equal((await deliverer.deliver(payload('job-b'))).ok, false);
    const redirected = await deliverer.deliver(payload('job-r'));
    assert.ok(!redirected.ok && redirected.permanent && !redirected.cause.includes(token));
    // And a network error, whose message is the one most likely to quote the URL.
    await slack.close();
    const controller = new AbortController();
    const offline = new SlackDeliverer({
      url: slack.url, logger, now: Date.now, sleep: async () => { controller.abort(); }, timeoutMs: 100,
    });
    assert.equal((await offline.deliver(payload('job-c'), controller.signal)).ok, false);
    assert.ok(lines.length >= 5, `${lines.length} lines`);
    for (const line of lines) {
      assert.ok(!line.includes(slack.url), line);
      assert.ok(!line.includes(token), line);
      assert.ok(!line.includes('/services/'), line);
    }
    assert.ok(lines.every((line) => JSON.parse(line).webhook === webhookFingerprint(slack.url)));
    assert.equal(webhookFingerprint(slack.url), `127.0.0.1:${slack.port}…${token.slice(-4)}`);
  });
});

/**
 * Properties of the Slack formatter (buildAlert) over thousands of alerts: from mutated real Jobs and Pods run through
 * detect, and from failures and evidence with every string hostile (arbitraries.ts). Whatever the cluster says:
 * buildAlert never throws; the message is within Slack's Block Kit limits (the Slack emulator's own validator) and
 * MESSAGE_BUDGET; no `<!channel>`, `<!here>`, `<@...>`, `<!subteam^...>` or link from cluster text survives; and a
 * log line cannot close the code fence.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Alert } from '../../../src/alert.ts';
import { evidenceFromPods } from '../../../src/detect/container.ts';
import { failureOf } from '../../../src/detect/failure.ts';
import { buildAlert, MESSAGE_BUDGET, SLACK_LIMITS, textLength, type SlackPayload } from '../../../src/slack/format.ts';
import { validate } from '../../world/slack.ts';
import { anyAlert, anyText, hostileText, mutated, seedJobs, seedPods } from './arbitraries.ts';

const RUNS = 1000;

/** Alerts as the daemon builds them: failureOf a mutated Job, evidence from mutated Pods, a hostile log and notes. */
const detectedAlert: fc.Arbitrary<Alert> = fc
  .record({
    job: mutated(seedJobs),
    pods: fc.array(mutated(seedPods), { maxLength: 3 }),
    cluster: fc.option(anyText, { nil: undefined }),
    logTail: fc.array(anyText, { maxLength: 40 }),
    notes: fc.array(hostileText, { maxLength: 12 }),
  })
  .map(({ job, pods, cluster, logTail, notes }) => {
    const failure = failureOf(job) ?? failureOf(seedJobs[0]);
    if (failure === undefined) throw new Error('the first seed must be a failed Job');
    const { previous: _previous, ...container } = evidenceFromPods(pods);
    return { cluster, failure, evidence: { ...container, logTail, notes } };
  });

/** Every way cluster text could ping, link or mention once it is in a message: none may be in the payload. */
const FORBIDDEN = [/<!/, /<@/, /<#/, /<https?:/i, /<mailto:/i];

function checkPayload(payload: SlackPayload): void {
  assert.deepEqual(validate(JSON.parse(JSON.stringify(payload))), [], 'within Block Kit limits');
  assert.ok(payload.blocks.length <= SLACK_LIMITS.blocks);
  assert.ok(textLength(payload) <= MESSAGE_BUDGET, `text ${textLength(payload)} > ${MESSAGE_BUDGET}`);
  assert.ok(payload.text.trim() !== '', 'a notification text');
  const json = JSON.stringify(payload);
  for (const pattern of FORBIDDEN) assert.doesNotMatch(json, pattern);
  for (const block of payload.blocks) {
    if (block.type !== 'section' || !block.text?.text.startsWith('*Log tail*')) continue;
    const body = /^[^\n]*\n```\n([\s\S]*)\n```$/.exec(block.text.text);
    assert.ok(body, 'the log tail is one fenced code block');
    assert.doesNotMatch(body[1]!, /``/, 'no two adjacent backticks inside the fence');
  }
}

describe('buildAlert, over hostile alerts', () => {
  it('from mutated real Jobs and Pods through detect: never throws, within limits, nothing pings', () => {
    fc.assert(fc.property(detectedAlert, (alert) => checkPayload(buildAlert(alert))), { numRuns: RUNS });
  });

  it('from failures and evidence with every string hostile: never throws, within limits, nothing pings', () => {
    fc.assert(fc.property(anyAlert, (alert) => checkPayload(buildAlert(alert))), { numRuns: RUNS });
  });

  it('the checks catch what they look for', () => {
    const pings: SlackPayload = { text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi <!here>' } }] };
    assert.throws(() => checkPayload(pings), /expected to not match the regular expression \/<!\//);
    const fence: SlackPayload = { text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Log tail*\n```\na```b\n```' } }] };
    assert.throws(() => checkPayload(fence), /adjacent backticks/);
    const long: SlackPayload = { text: 'x', blocks: Array.from({ length: 4 }, () => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'y'.repeat(2900) } })) };
    assert.throws(() => checkPayload(long), /text 11601 > 10000/);
  });
});

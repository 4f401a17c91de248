import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../../src/alert.ts';
import { createLogger } from '../../../src/log.ts';
import { DryRunDeliverer } from '../../../src/slack/deliver.ts';
import { BLOCK_KIT_BUILDER, blockKitBuilderUrl, buildAlert, type SlackPayload } from '../../../src/slack/format.ts';
import { oomKilledAlert } from '../../fixtures/alerts.ts';

// Characters that URL encoding must carry through: &, <, %, #, ?.
const oomKilled: Alert = {
  ...oomKilledAlert,
  evidence: { ...oomKilledAlert.evidence, logTail: ['loading 1,204,332 rows', 'a & b <!channel> 100% #frag ?q=1', 'Killed'] },
};

/** What the Builder reads: everything after the first `#`, percent-decoded, as JSON. */
function fragmentOf(url: string): unknown {
  return JSON.parse(decodeURIComponent(url.slice(url.indexOf('#') + 1)));
}

describe('blockKitBuilderUrl', () => {
  const payloads: Array<[string, SlackPayload]> = [
    ['a full OOMKilled alert', buildAlert(oomKilled)],
    ['an alert with no evidence', buildAlert({ ...oomKilled, evidence: { notes: [] } })],
    ['a 10,000-line log', buildAlert({ ...oomKilled, evidence: { ...oomKilled.evidence, logTail: Array.from({ length: 10_000 }, (_, i) => `line ${i} 😀 ünï`) } })],
  ];
  for (const [name, payload] of payloads) {
    it(`${name}: round-trips to the same blocks`, () => assert.deepEqual(fragmentOf(blockKitBuilderUrl(payload)), { blocks: payload.blocks }));
  }

  it('starts with the Builder address, as Slack docs link their examples', () => {
    assert.ok(blockKitBuilderUrl(buildAlert(oomKilled)).startsWith('https://app.slack.com/block-kit-builder/#%7B%22blocks%22'));
    assert.equal(BLOCK_KIT_BUILDER, 'https://app.slack.com/block-kit-builder/#');
  });

  it('has one fragment: no raw `#`, `?`, `%`, space or newline after it', () => {
    const fragment = blockKitBuilderUrl(buildAlert(oomKilled)).slice(BLOCK_KIT_BUILDER.length);
    assert.doesNotMatch(fragment, /[#?\s"<>]|%(?![0-9A-F]{2})/);
  });

  it('leaves the notification text and unfurl flags out (not part of a Builder surface)', () => {
    assert.deepEqual(Object.keys(fragmentOf(blockKitBuilderUrl(buildAlert(oomKilled))) as object), ['blocks']);
  });

  it('is pure: the same payload gives the same URL', () => {
    assert.equal(blockKitBuilderUrl(buildAlert(oomKilled)), blockKitBuilderUrl(buildAlert(oomKilled)));
  });
});

describe('DryRunDeliverer logs the Builder link beside the payload', () => {
  it('builderUrl opens the logged payload\'s blocks', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const payload = buildAlert(oomKilled);
    assert.deepEqual(await new DryRunDeliverer({ logger }).deliver(payload), { ok: true, attempts: 0 });
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0] ?? '{}') as { payload: string; builderUrl: string; dryRun: boolean };
    assert.equal(entry.dryRun, true);
    assert.equal(entry.builderUrl, blockKitBuilderUrl(payload));
    assert.deepEqual(fragmentOf(entry.builderUrl), { blocks: (JSON.parse(entry.payload) as SlackPayload).blocks });
  });
});

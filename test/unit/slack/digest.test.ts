import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureNotification } from '../../../src/notify/notification.ts';
import { digestsOf } from '../../../src/notify/storm.ts';
import { DEFAULT_SETTINGS } from '../../../src/settings.ts';
import { buildDigest, commonCause, DIGEST_SIZE } from '../../../src/slack/digest.ts';
import { MESSAGE_BUDGET, SLACK_LIMITS, textLength } from '../../../src/slack/format.ts';
import { validate } from '../../world/slack.ts';
import { oomKilledAlert } from '../../fixtures/alerts.ts';

function failure(i: number, extra: { node?: string; reason?: string; namespace?: string; name?: string; cronJob?: string } = {}): FailureNotification {
  return {
    ...oomKilledAlert,
    kind: 'failure',
    at: new Date('2026-11-29T12:00:00Z'),
    failure: { ...oomKilledAlert.failure, uid: `u${i}`, name: extra.name ?? `job-${i}`, namespace: extra.namespace ?? 'batch', reason: extra.reason ?? 'BackoffLimitExceeded', cronJob: extra.cronJob },
    evidence: { ...oomKilledAlert.evidence, node: extra.node ?? 'worker-3' },
  };
}

describe('buildDigest', () => {
  it('names every Job, with counts and the common cause', () => {
    const [digest] = digestsOf([failure(1), failure(2, { namespace: 'etl', cronJob: 'nightly' }), failure(3)], 'storm', 40, 4000);
    const payload = buildDigest(digest!);
    const text = JSON.stringify(payload.blocks);
    const [head] = payload.blocks;
    assert.match(head?.type === 'header' ? head.text.text : '', /^:rotating_light: 3 Jobs failed within 4s$/);
    for (const name of ['batch/job-1', 'etl/job-2', 'batch/job-3']) assert.match(text, new RegExp(name));
    assert.match(text, /\*By namespace:\* batch 2, etl 1/);
    assert.match(text, /\*By CronJob:\* etl\/nightly 1/);
    assert.match(text, /\*Common cause:\* all on node `worker-3`; all exit 137 \(OOMKilled\)/);
    assert.match(payload.text, /3 Jobs failed within 4s: all on node/);
  });

  it('says no common cause when there is none', () => {
    assert.equal(commonCause([failure(1, { node: 'a', reason: 'X' }), { ...failure(2, { node: 'b', reason: 'Y' }), evidence: { notes: [] } }]), undefined);
  });

  it(`stays within Slack's limits at ${DIGEST_SIZE} Jobs with the longest names and reasons (and settings fold as many)`, () => {
    assert.equal(DEFAULT_SETTINGS.outbox.perDigest, DIGEST_SIZE);
    const long = (i: number) => failure(i, { name: `x${i}-${'n'.repeat(250)}`, namespace: `ns${i}-${'a'.repeat(58)}`, reason: `R${i}${'r'.repeat(200)}`, cronJob: `c${i}${'c'.repeat(50)}`, node: `node-${i}-${'z'.repeat(200)}` });
    const [digest] = digestsOf(Array.from({ length: DIGEST_SIZE }, (_, i) => long(i)), 'backlog', DIGEST_SIZE, 0);
    const payload = buildDigest(digest!);
    assert.ok(textLength(payload) <= MESSAGE_BUDGET, `${textLength(payload)} characters`);
    assert.ok(payload.blocks.length <= SLACK_LIMITS.blocks);
    assert.deepEqual(validate(JSON.parse(JSON.stringify(payload))), []);
    for (let i = 0; i < DIGEST_SIZE; i++) assert.match(JSON.stringify(payload), new RegExp(`x${i}-n`), `job ${i} is named`);
  });

  it('escapes cluster text: no mention survives', () => {
    const [digest] = digestsOf([failure(1, { name: '<!channel>', reason: '<@U1>' }), failure(2, { node: '<!here>' })], 'storm', 40, 1000);
    assert.doesNotMatch(JSON.stringify(buildDigest(digest!)), /<!channel>|<!here>|<@U1>/);
  });

  it('a part of a split digest says which', () => {
    const parts = digestsOf(Array.from({ length: 81 }, (_, i) => failure(i)), 'storm', 40, 10_000);
    assert.deepEqual(parts.map((p) => p.failures.length), [40, 40, 1]);
    assert.match(buildDigest(parts[2]!).text, /1 Job failed within 10s \(part 3 of 3\)/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MENTIONS, mentionsFor, parseMentions, RENDERED_MENTION, renderMention } from '../../../src/route/mentions.ts';
import type { Annotated } from '../../../src/route/owners.ts';

const strict = { allowBroadcast: false };
const broadcast = { allowBroadcast: true };

describe('renderMention', () => {
  // written, rendered without broadcasts allowed (or refused), rendered with them allowed
  const table: [string, string | null, string | null][] = [
    ['U0123ABC', '<@U0123ABC>', '<@U0123ABC>'],
    ['W0123ABCDEF', '<@W0123ABCDEF>', '<@W0123ABCDEF>'],
    ['<@U0123ABC>', '<@U0123ABC>', '<@U0123ABC>'],
    ['<@U0123ABC|alice>', '<@U0123ABC>', '<@U0123ABC>'],
    [' U0123ABC ', '<@U0123ABC>', '<@U0123ABC>'],
    ['S0456DEF', '<!subteam^S0456DEF>', '<!subteam^S0456DEF>'],
    ['<!subteam^S0456DEF>', '<!subteam^S0456DEF>', '<!subteam^S0456DEF>'],
    ['<!subteam^S0456DEF|@team>', '<!subteam^S0456DEF>', '<!subteam^S0456DEF>'],
    ['@here', null, '<!here>'],
    ['@channel', null, '<!channel>'],
    ['<!here>', null, '<!here>'],
    ['<!channel>', null, '<!channel>'],
    ['<!channel|channel>', null, '<!channel>'],
    ['<!everyone>', null, null],
    ['@everyone', null, null],
    ['@alice', null, null],
    ['alice', null, null],
    ['u0123abc', null, null],
    ['U01', null, null],
    ['C0123ABCD', null, null],
    ['<#C0123ABCD>', null, null],
    ['<@U0123ABC', null, null],
    ['<@U0123ABC>>', null, null],
    ['<@U0123ABC><!channel>', null, null],
    ['<!subteam^S0456DEF|<!channel>>', null, null],
    ['<https://evil.example|click>', null, null],
    ['U0123ABC U0456DEF', null, null],
    ['<@S0456DEF>', null, null],
    ['<!subteam^U0123ABC>', null, null],
    ['', null, null],
  ];
  for (const [written, plain, allowed] of table) {
    it(`${JSON.stringify(written)} -> ${plain ?? 'refused'}; with broadcasts ${allowed ?? 'refused'}`, () => {
      const a = renderMention(written, strict);
      const b = renderMention(written, broadcast);
      assert.equal('mention' in a ? a.mention : null, plain);
      assert.equal('mention' in b ? b.mention : null, allowed);
      for (const result of [a, b]) if ('mention' in result) assert.match(result.mention, RENDERED_MENTION);
    });
  }

  it('says why a broadcast is refused', () => {
    assert.deepEqual(renderMention('@here', strict), { refused: 'broadcast mentions need ALLOW_BROADCAST_MENTIONS=true' });
  });
});

describe('parseMentions', () => {
  it('a comma list, deduplicated, in the order written; refused values warned, naming the object and the value', () => {
    const result = parseMentions('U0123ABC, <!subteam^S0456DEF|@team>,,<@U0123ABC>, @alice, @here', 'Job batch/nightly-1', strict);
    assert.deepEqual(result.mentions, ['<@U0123ABC>', '<!subteam^S0456DEF>']);
    assert.deepEqual(result.warnings, [
      'Job batch/nightly-1: kube-job-alerts.io/mention: "@alice" refused: not a Slack user ID (U…, W…), user-group ID (S…), @here or @channel',
      'Job batch/nightly-1: kube-job-alerts.io/mention: "@here" refused: broadcast mentions need ALLOW_BROADCAST_MENTIONS=true',
    ]);
  });

  it(`keeps at most ${MAX_MENTIONS}, and says so`, () => {
    const ids = Array.from({ length: MAX_MENTIONS + 3 }, (_, i) => `U${String(i).padStart(8, '0')}`);
    const result = parseMentions(ids.join(','), 'Namespace batch', strict);
    assert.equal(result.mentions.length, MAX_MENTIONS);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /more than 10 mentions: "U00000010" and any after it left out/);
  });

  it('cuts a huge refused value in its warning', () => {
    const result = parseMentions(`@${'x'.repeat(10_000)}`, 'Job a/b', strict);
    assert.ok(result.warnings[0]!.length < 250);
  });
});

describe('mentionsFor: Job, then CronJob, then Namespace', () => {
  const mention = (value: string): Annotated['metadata'] => ({ annotations: { 'kube-job-alerts.io/mention': value } });
  const job: Annotated = { metadata: { name: 'nightly-1', namespace: 'batch' } };

  it('nobody when no object says', () => assert.deepEqual(mentionsFor({ job }, strict), { mentions: [], warnings: [] }));
  it('the Job first', () => {
    const result = mentionsFor({ job: { metadata: { ...job.metadata, ...mention('U0000000A') } }, cronJob: { metadata: { name: 'nightly', namespace: 'batch', ...mention('U0000000B') } } }, strict);
    assert.deepEqual(result.mentions, ['<@U0000000A>']);
    assert.equal(result.from, 'Job batch/nightly-1');
  });
  it('then the CronJob', () => {
    const result = mentionsFor({ job, cronJob: { metadata: { name: 'nightly', namespace: 'batch', ...mention('S0000000B') } }, namespace: { metadata: { name: 'batch', ...mention('U0000000C') } } }, strict);
    assert.deepEqual(result.mentions, ['<!subteam^S0000000B>']);
  });
  it('then the Namespace', () => {
    const result = mentionsFor({ job, namespace: { metadata: { name: 'batch', ...mention('U0000000C, nope') } } }, strict);
    assert.deepEqual(result.mentions, ['<@U0000000C>']);
    assert.deepEqual(result.warnings, ['Namespace batch: kube-job-alerts.io/mention: "nope" refused: not a Slack user ID (U…, W…), user-group ID (S…), @here or @channel']);
  });
  it('an empty value on the Job mentions nobody, even when the Namespace would', () => {
    const result = mentionsFor({ job: { metadata: { ...job.metadata, ...mention('') } }, namespace: { metadata: { name: 'batch', ...mention('U0000000C') } } }, strict);
    assert.deepEqual(result.mentions, []);
    assert.deepEqual(result.warnings, []);
  });
});

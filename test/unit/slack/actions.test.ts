/**
 * Mentions and link buttons on a rendered alert, and the proof that the only `<` reaching Slack unescaped is a
 * validated mention: cluster text that looks like a mention (in a Job name, a message, a log line, a note, a
 * runbook URL or a link value) is still escaped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert } from '../../../src/alert.ts';
import { linksFor, linkValuesOf, parseLinkTemplates, type Link } from '../../../src/route/links.ts';
import { mentionsFor, type Mention } from '../../../src/route/mentions.ts';
import { ACTION_LIMITS, LINKS_BLOCK_ID, safeMentions, withLinks, withMentions, withRouting } from '../../../src/slack/actions.ts';
import { buildAlert, MESSAGE_BUDGET, textLength, type SlackPayload } from '../../../src/slack/format.ts';
import { oomKilledAlert } from '../../fixtures/alerts.ts';
import { validate } from '../../world/slack.ts';

const base = buildAlert(oomKilledAlert);
const mentions = mentionsFor(
  { job: { metadata: { name: 'j', namespace: 'batch', annotations: { 'kube-job-alerts.io/mention': 'U0123ABC, <!subteam^S0456DEF|@data>' } } } },
  { allowBroadcast: false },
).mentions;
const links: Link[] = [
  { label: 'Logs', url: 'https://grafana.example/explore?x=1' },
  { label: 'Runbook', url: 'https://wiki.example/nightly' },
];

describe('withMentions', () => {
  it('puts the mentions at the front of text (phones notify from it) and in a section after the header', () => {
    const payload = withMentions(base, mentions);
    assert.equal(payload.text, `<@U0123ABC> <!subteam^S0456DEF> ${base.text}`);
    assert.equal(payload.blocks[0]!.type, 'header');
    assert.deepEqual(payload.blocks[1], { type: 'section', text: { type: 'mrkdwn', text: '<@U0123ABC> <!subteam^S0456DEF>' } });
    assert.deepEqual(payload.blocks.slice(2), base.blocks.slice(1));
    assert.deepEqual(validate(payload), []);
  });

  it('no mentions: the message unchanged', () => assert.equal(withMentions(base, []), base));

  it('drops anything that is not exactly a mention, whatever the type says', () => {
    const forged = ['<!everyone>', '<https://evil.example|click>', '<@U0123ABC> <!channel>', '&lt;', '<@U0123ABC>'] as Mention[];
    assert.deepEqual(safeMentions(forged), ['<@U0123ABC>']);
    assert.equal(withMentions(base, forged.slice(0, 4)), base);
  });
});

describe('withLinks', () => {
  it('one url button per link, in an actions block at the end, that Slack accepts', () => {
    const payload = withLinks(base, links);
    const last = payload.blocks.at(-1)!;
    assert.deepEqual(last, {
      type: 'actions',
      block_id: LINKS_BLOCK_ID,
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Logs', emoji: true }, url: 'https://grafana.example/explore?x=1', action_id: 'link-0' },
        { type: 'button', text: { type: 'plain_text', text: 'Runbook', emoji: true }, url: 'https://wiki.example/nightly', action_id: 'link-1' },
      ],
    });
    assert.deepEqual(payload.blocks.slice(0, -1), base.blocks);
    assert.equal(payload.text, base.text);
    assert.deepEqual(validate(payload), []);
  });

  it('keeps within Slack\'s limits: label cut to 75, non-http(s) and over-long URLs left out', () => {
    const payload = withLinks(base, [
      { label: 'L'.repeat(200), url: 'https://x.example/' },
      { label: 'js', url: 'javascript:alert(1)' },
      { label: 'long', url: `https://x.example/${'a'.repeat(3000)}` },
      { label: '  ', url: 'https://x.example/blank' },
    ]);
    const actions = payload.blocks.at(-1)!;
    assert.equal(actions.type, 'actions');
    if (actions.type !== 'actions') return;
    assert.equal(actions.elements.length, 1);
    assert.equal(actions.elements[0]!.text.text.length, ACTION_LIMITS.buttonText);
    assert.deepEqual(validate(payload), []);
  });

  it('no links: the message unchanged', () => {
    assert.equal(withLinks(base, []), base);
    assert.equal(withLinks(base, [{ label: 'x', url: 'ftp://x' }]), base);
  });

  it('the emulator refuses what Slack would: a 76-character label, a duplicate action_id', () => {
    const payload = withLinks(base, links);
    const actions = structuredClone(payload.blocks.at(-1)!) as { elements: { text: { text: string }; action_id: string }[] };
    actions.elements[0]!.text.text = 'x'.repeat(76);
    actions.elements[1]!.action_id = actions.elements[0]!.action_id;
    const problems = validate({ ...payload, blocks: [...payload.blocks.slice(0, -1), actions] });
    assert.equal(problems.length, 2, problems.join('\n'));
  });
});

describe('the only < that reaches Slack unescaped is a validated mention', () => {
  const bait = '<!channel> <!here> <@U0999ZZZ> <!subteam^S0999ZZZ> <https://evil.example|click>';
  const hostile: Alert = {
    cluster: `prod ${bait}`,
    failure: {
      ...oomKilledAlert.failure,
      namespace: `batch${bait}`,
      name: `nightly-${bait}`,
      reason: `Reason${bait}`,
      message: `Job failed: ${bait}`,
      cronJob: `cron${bait}`,
    },
    evidence: {
      ...oomKilledAlert.evidence,
      pod: `pod${bait}`,
      container: `c${bait}`,
      node: `node${bait}`,
      reason: `OOMKilled${bait}`,
      message: `terminated ${bait}`,
      logTail: [`line ${bait}`, '```', `<!channel> after a fence ${bait}`],
      notes: [`note ${bait}`],
    },
  };
  const owners = {
    job: {
      metadata: {
        name: 'nightly',
        namespace: 'batch',
        annotations: {
          // Valid IDs in the annotation are mentions by design; everything else in it must be refused.
          'kube-job-alerts.io/mention': 'U0123ABC, <!channel>, <!here>, @everyone, <https://evil.example|click>, <@U0123ABC><!channel>',
          'kube-job-alerts.io/runbook': `https://wiki.example/${bait}`,
        },
      },
    },
  };
  const { templates } = parseLinkTemplates('View_logs=https://logs.example/?q={namespace}&job={job}&c={cluster}');
  const routed = mentionsFor(owners, { allowBroadcast: false });
  const linked = linksFor(templates, linkValuesOf(hostile), owners);
  const payload: SlackPayload = withRouting(buildAlert(hostile), { mentions: routed.mentions, links: linked.links });

  /** Every string in the payload, with where it is. */
  const strings = (value: unknown, path = ''): [string, string][] => {
    if (typeof value === 'string') return [[path, value]];
    if (Array.isArray(value)) return value.flatMap((item, i) => strings(item, `${path}[${i}]`));
    if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => strings(item, `${path}.${key}`));
    return [];
  };

  it('the bait in the annotation is refused, the valid mention kept, and every link URL-encoded', () => {
    assert.deepEqual(routed.mentions, ['<@U0123ABC>']);
    assert.equal(routed.warnings.length, 5, routed.warnings.join('\n'));
    assert.equal(linked.links.length, 2);
    for (const link of linked.links) assert.doesNotMatch(link.url, /[<>]/);
  });

  it('Slack accepts the message', () => assert.deepEqual(validate(payload), []));

  it('<@U0123ABC> is the only unescaped < anywhere: once in text, once in the mention section', () => {
    const found = strings(payload).filter(([, text]) => text.includes('<'));
    assert.deepEqual(
      found.map(([path, text]) => [path, text.match(/<[^>]*>/g)]),
      [['.text', ['<@U0123ABC>']], ['.blocks[1].text.text', ['<@U0123ABC>']]],
    );
    assert.equal(payload.text.split('<').length - 1, 1);
  });

  it('the bait is still there, escaped, in the cluster text', () => {
    const json = JSON.stringify(payload);
    assert.ok(json.includes('&lt;!channel&gt;'));
    assert.ok(json.includes('&lt;@U0999ZZZ&gt;'));
    assert.ok(json.includes('&lt;!subteam^S0999ZZZ&gt;'));
  });

  it('with ten mentions and five links the message stays under Slack\'s ~12,000 characters', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `<@U${String(i).padStart(10, '0')}>`) as Mention[];
    const five = Array.from({ length: 5 }, (_, i) => ({ label: 'L'.repeat(75), url: `https://x.example/${i}` }));
    const many: Alert = { ...oomKilledAlert, evidence: { ...oomKilledAlert.evidence, logTail: Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`) } };
    const full = buildAlert(many);
    assert.ok(textLength(full) <= MESSAGE_BUDGET);
    const decorated = withRouting(full, { mentions: ten, links: five });
    assert.ok(textLength(decorated) < 12_000, String(textLength(decorated)));
    assert.deepEqual(validate(decorated), []);
  });
});

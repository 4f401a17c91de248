import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../../src/alert.ts';
import {
  buildAlert, describeSignal, formatDuration, formatTime, MESSAGE_BUDGET, SLACK_LIMITS, textLength,
  type Block, type SlackPayload,
} from '../../../src/slack/format.ts';
import { escapeCode, escapeMrkdwn, truncateEscaped } from '../../../src/slack/escape.ts';
import { oomKilledAlert, oomKilledEvidence, oomKilledFailure, oomKilledFullAlert } from '../../fixtures/alerts.ts';

const failure = oomKilledFailure;
const evidence = oomKilledEvidence;
const full = oomKilledAlert;
const bare: Alert = {
  cluster: undefined,
  failure: { ...failure, message: '', startedAt: undefined, failedAt: undefined, cronJob: undefined, backoffLimit: undefined, failedPods: 0, scheduledAt: undefined },
  evidence: { notes: [] },
};

const hostileLog = [
  'starting <!channel> <!here> <@U123> <!subteam^S1> <https://evil.example|click here>',
  '```',
  'now *outside* the code block? <!channel>',
  '``````',
  'end & done',
];
const hostile: Alert = {
  cluster: '<!everyone>',
  failure: {
    ...failure,
    name: '<!channel>-job',
    namespace: 'ns<@U999>',
    message: `<!channel> ${'x'.repeat(5000)}`,
    reason: '<https://evil|BackoffLimitExceeded>',
    cronJob: '<!here>',
  },
  evidence: {
    ...evidence,
    pod: '<@U123>',
    message: '<!subteam^S1> oom',
    logTail: hostileLog,
    notes: ['logs unavailable: <!channel>', ...Array.from({ length: 20 }, (_, i) => `note ${i} ${'n'.repeat(400)}`)],
    image: '<!here>`image',
    memoryLimit: '<@U1>',
    attempts: { total: 30, groups: Array.from({ length: 8 }, (_, i) => ({ reason: `<!channel>${'r'.repeat(100)}`, exitCode: i, count: 3 })) },
    indexes: Array.from({ length: 100 }, (_, index) => ({ index: index * 2, exitCode: index % 7, reason: `<!here>${index % 3}`, failures: 1 })),
    events: Array.from({ length: 5 }, (_, i) => ({
      kind: 'Pod', name: `<!channel>-${i}`, reason: '<!subteam^S1>', message: `\u202e<!channel> \u001b[31mquota\u001b[0m ${'q'.repeat(500)}`, count: 2,
      lastSeen: new Date('2024-06-20T20:51:58Z'),
    })),
    previous: true,
  },
};
const hugeLine: Alert = { ...full, evidence: { ...evidence, logTail: [`${'a'.repeat(49_990)}THE-END<!channel>`] } };
const manyLines: Alert = {
  ...full,
  evidence: { ...evidence, logTail: Array.from({ length: 10_000 }, (_, i) => `line ${i} 😀 ünïcödé ${'z'.repeat(i % 50)}`) },
};
const unicode: Alert = {
  ...full,
  failure: { ...failure, name: 'job-😀'.repeat(60), message: '失败 ' + '😀'.repeat(3000) },
  evidence: { ...evidence, logTail: ['😀'.repeat(5000)] },
};

const allTexts = (payload: SlackPayload): string[] => [
  payload.text,
  ...payload.blocks.flatMap((block: Block) =>
    block.type === 'header' ? [block.text.text]
      : block.type === 'section' ? [...(block.text ? [block.text.text] : []), ...(block.fields ?? []).map((f) => f.text)]
        : block.type === 'context' ? block.elements.map((e) => e.text)
          : block.elements.map((e) => e.text.text)),
];

function assertWithinSlackLimits(payload: SlackPayload): void {
  assert.ok(payload.blocks.length <= SLACK_LIMITS.blocks);
  for (const block of payload.blocks) {
    if (block.type === 'header') {
      assert.equal(block.text.type, 'plain_text');
      assert.ok(block.text.text.length <= SLACK_LIMITS.headerText, `header ${block.text.text.length}`);
    } else if (block.type === 'section') {
      assert.ok(block.text !== undefined || (block.fields?.length ?? 0) > 0, 'empty section');
      assert.ok((block.text?.text.length ?? 0) <= SLACK_LIMITS.sectionText, `section ${block.text?.text.length}`);
      assert.ok((block.fields?.length ?? 0) <= SLACK_LIMITS.fields);
      for (const field of block.fields ?? []) assert.ok(field.text.length <= SLACK_LIMITS.fieldText);
    } else {
      assert.ok(block.elements.length > 0 && block.elements.length <= SLACK_LIMITS.contextElements);
    }
  }
  assert.ok(textLength(payload) <= MESSAGE_BUDGET, `total ${textLength(payload)}`);
  for (const text of allTexts(payload)) assert.ok(text.length > 0, 'empty text object');
}

function assertNothingUnescaped(payload: SlackPayload): void {
  const json = JSON.stringify(payload);
  // The formatter never emits a link, mention or date token itself, so no `<` or `>` may exist at all.
  assert.doesNotMatch(json, /</);
  assert.doesNotMatch(json, />/);
  assert.doesNotMatch(json, /undefined|NaN|null/);
  const log = payload.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Log tail*'));
  if (log?.type === 'section') assert.equal(log.text?.text.split('```').length, 3, 'exactly one code fence pair');
}

const logSection = (payload: SlackPayload): string | undefined => {
  const block = payload.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Log tail*'));
  return block?.type === 'section' ? block.text?.text : undefined;
};

describe('buildAlert: every alert stays within Slack limits and escapes cluster text', () => {
  const cases: Array<[string, Alert]> = [
    ['full alert', full],
    ['full alert with every evidence part', oomKilledFullAlert],
    ['no evidence', bare],
    ['hostile alert', hostile],
    ['50,000-char log line', hugeLine],
    ['10,000 log lines', manyLines],
    ['unicode everywhere', unicode],
  ];
  for (const [name, alert] of cases) {
    it(name, () => {
      const payload = buildAlert(alert);
      assertWithinSlackLimits(payload);
      assertNothingUnescaped(payload);
    });
  }
});

describe('buildAlert: the fallback text names namespace/job, reason and CronJob', () => {
  const cases: Array<[string, Alert, RegExp[]]> = [
    ['full', full, [/batch\/nightly-report-28641600/, /BackoffLimitExceeded/, /CronJob nightly-report/, /prod-eu/]],
    ['bare', bare, [/batch\/nightly-report-28641600/, /BackoffLimitExceeded/]],
    ['hostile', hostile, [/ns&lt;@U999&gt;\/&lt;!channel&gt;-job/, /CronJob &lt;!here&gt;/]],
  ];
  for (const [name, alert, patterns] of cases) {
    it(name, () => {
      const { text } = buildAlert(alert);
      for (const pattern of patterns) assert.match(text, pattern);
    });
  }
  it('has no CronJob part when there is none', () => assert.doesNotMatch(buildAlert(bare).text, /CronJob/));
});

describe('buildAlert: the full alert says everything it knows', () => {
  const payload = buildAlert(full);
  const json = JSON.stringify(payload);
  const expected: Array<[string, string]> = [
    ['header', ':rotating_light: Job failed: batch/nightly-report-28641600'],
    ['cluster', '*Cluster*\\nprod-eu'],
    ['namespace', '*Namespace*\\nbatch'],
    ['cronjob', '*CronJob*\\nnightly-report'],
    ['reason', '*Reason*\\nBackoffLimitExceeded'],
    ['attempts', '*Attempts*\\n7/7'],
    ['started', '*Started*\\n2024-06-20 20:50:00 UTC'],
    ['failed at', '*Failed at*\\n2024-06-20 20:52:19 UTC'],
    ['duration', '*Duration*\\n2m 19s'],
    ['message', 'Job has reached the specified backoff limit'],
    ['pod', '*Pod:* nightly-report-28641600-x7k2p'],
    ['container', '*Container:* report'],
    ['node', '*Node:* ip-10-0-1-23.ec2.internal'],
    ['exit code and signal', '*Exit code:* 137, signal 9 (SIGKILL)'],
    ['reason', '*Reason:* OOMKilled'],
    ['log', '```\\nloading 1,000,000 rows\\nallocating buffers\\nKilled\\n```'],
    ['notes', 'previous pods were deleted by the Job controller'],
  ];
  for (const [what, fragment] of expected) it(what, () => assert.ok(json.includes(fragment), `${fragment} in ${json}`));
  it('starts with the header and ends with the notes context', () => {
    assert.equal(payload.blocks[0]?.type, 'header');
    assert.equal(payload.blocks.at(-1)?.type, 'context');
  });
  it('does not unfurl links', () => assert.equal(payload.unfurl_links, false));
});

describe('buildAlert: an alert with no evidence leaves the missing parts out', () => {
  const payload = buildAlert(bare);
  it('has only the header, the facts it has, and how to look further', () => {
    assert.deepEqual(payload.blocks.map((b) => b.type), ['header', 'section', 'section']);
    assert.equal(payload.blocks[2]?.type === 'section' && payload.blocks[2].text?.text, '*Next steps*\n`kubectl -n batch describe job/nightly-report-28641600`');
    const fields = payload.blocks[1]?.type === 'section' ? payload.blocks[1].fields?.map((f) => f.text) : [];
    assert.deepEqual(fields, ['*Namespace*\nbatch', '*Reason*\nBackoffLimitExceeded']);
  });
  it('has failed pods instead of attempts when the backoff limit is unknown', () => {
    const payload = buildAlert({ ...bare, failure: { ...bare.failure, failedPods: 3 } });
    assert.ok(JSON.stringify(payload).includes('*Failed pods*\\n3'));
  });
  it('shows failed indexes when there are some', () => {
    const payload = buildAlert({ ...bare, failure: { ...bare.failure, failedIndexes: '0,2-3' } });
    assert.ok(JSON.stringify(payload).includes('*Failed indexes*\\n0,2-3'));
  });
});

describe('buildAlert: the evidence parts (slack/evidence-blocks.ts) appear in reading order', () => {
  const payload = buildAlert(oomKilledFullAlert);
  const sections = payload.blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
  const index = (start: string) => sections.findIndex((text) => text.startsWith(start));
  it('attempts, image and memory limit', () => assert.ok(sections.includes(
    '*7 failed attempts:* 6x OOMKilled (exit 137), 1x Error (exit 1)\n*Image:* `registry.example.com/reports:2.14.0`   *Memory limit:* `100Mi`')));
  it('the Warning events', () => assert.ok(sections.includes(
    '*Warning events* (newest first, UTC)\n• 20:52:19 *BackoffLimitExceeded* (Job): Job has reached the specified backoff limit')));
  it('the next steps', () => assert.ok(sections.includes([
    '*Next steps*',
    '`kubectl -n batch describe job/nightly-report-28641600`',
    '`kubectl -n batch logs nightly-report-28641600-x7k2p -c report`',
    '`kubectl -n batch create job --from=cronjob/nightly-report nightly-report-retry`',
  ].join('\n'))));
  it('container, attempts, events, log tail, next steps, in that order; notes last', () => {
    const order = ['*Pod:*', '*7 failed attempts:*', '*Warning events*', '*Log tail*', '*Next steps*'].map(index);
    assert.ok(order.every((at) => at >= 0), JSON.stringify(order));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
  });
  it('the log keeps its room: the hostile alert, every part at its maximum, still shows the last log line', () => {
    assert.match(logSection(buildAlert(hostile)) ?? '', /end &amp; done\n```$/);
  });
});

describe('buildAlert: hostile text', () => {
  const payload = buildAlert(hostile);
  const json = JSON.stringify(payload);
  it('escapes mentions and links in the log', () => {
    assert.ok(json.includes('&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;!subteam^S1&gt; &lt;https://evil.example|click here&gt;'));
  });
  it('keeps the log inside one code block', () => {
    const log = logSection(payload) ?? '';
    assert.equal(log.split('```').length, 3);
    assert.ok(log.includes('`\u200b`\u200b`'));
  });
  it('escapes & in the log', () => assert.ok(json.includes('end &amp; done')));
  it('escapes mentions in event messages and names, and shows bidi overrides, without ANSI codes', () => {
    const events = payload.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Warning events*'));
    assert.ok(events?.type === 'section');
    assert.match(events.text!.text, /\*&lt;!subteam\^S1&gt;\* \(pod &lt;!channel&gt;-0, 2x\): \[U\+202E\]&lt;!channel&gt; quota q+…/);
    for (const raw of ['\u001b', '\\u001b', '\u202e', '\\u202e', '[31m']) assert.ok(!json.includes(raw), raw);
  });
  it('offers no command with a name that is not a plain Kubernetes name', () => {
    const steps = payload.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Next steps*'));
    assert.equal(steps, undefined);
  });
  it('uses lookalikes for angle brackets in the plain_text header', () => {
    assert.equal(payload.blocks[0]?.type === 'header' && payload.blocks[0].text.text, ':rotating_light: Job failed: ns‹@U999›/‹!channel›-job');
  });
  it('cuts the 5,000-char message with an ellipsis', () => {
    const message = payload.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Message*'));
    assert.ok(message?.type === 'section' && message.text?.text.endsWith('…') && message.text.text.length <= 2100);
  });
  it('keeps at most 10 notes, the last saying how many more', () => {
    const context = payload.blocks.at(-1);
    assert.ok(context?.type === 'context');
    assert.ok(context.elements.length <= 10);
    assert.match(context.elements.at(-1)?.text ?? '', /^… and \d+ more$/);
    assert.equal(context.elements[0]?.text, 'logs unavailable: &lt;!channel&gt;');
  });
});

describe('buildAlert: a long log keeps its end and says it was cut', () => {
  it('10,000 lines: the last line is there, the first is not', () => {
    const log = logSection(buildAlert(manyLines)) ?? '';
    assert.match(log, /^\*Log tail\* \(last \d+ of 10000 lines, cut to fit\)/);
    assert.ok(log.includes('line 9999 '));
    assert.ok(!log.includes('line 0 '));
    assert.ok(log.endsWith(`${'z'.repeat(9999 % 50)}\n\`\`\``));
  });
  it('one 50,000-char line: its end is there, behind an ellipsis', () => {
    const log = logSection(buildAlert(hugeLine)) ?? '';
    assert.match(log, /^\*Log tail\* \(last 1 of 1 lines, cut to fit\)\n```\n…a+THE-END&lt;!channel&gt;\n```$/);
    assert.ok(log.length <= SLACK_LIMITS.sectionText);
  });
  it('a short log is not marked as cut', () => {
    assert.match(logSection(buildAlert(full)) ?? '', /^\*Log tail\* \(last 3 lines\)\n/);
  });
  it('never splits a surrogate pair', () => {
    for (const text of allTexts(buildAlert(unicode))) assert.doesNotMatch(text, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });
});

describe('helpers', () => {
  const signals: Array<[number | undefined, number | undefined, string | undefined]> = [
    [137, undefined, 'signal 9 (SIGKILL)'],
    [143, undefined, 'signal 15 (SIGTERM)'],
    [139, undefined, 'signal 11 (SIGSEGV)'],
    [1, undefined, undefined],
    [0, undefined, undefined],
    [128, undefined, undefined],
    [undefined, 9, 'signal 9 (SIGKILL)'],
    [200, undefined, undefined], // 72 is not a signal: some program's exit(200)
    [192, undefined, 'signal 64'],
    [255, undefined, undefined],
  ];
  for (const [code, signal, expected] of signals) {
    it(`describeSignal(${code}, ${signal}) = ${expected}`, () => assert.equal(describeSignal(code, signal), expected));
  }
  const durations: Array<[number, string]> = [[0, '0s'], [45_000, '45s'], [139_000, '2m 19s'], [3_723_000, '1h 2m 3s'], [183_600_000, '2d 3h']];
  for (const [ms, expected] of durations) it(`formatDuration(${ms}) = ${expected}`, () => assert.equal(formatDuration(ms), expected));
  it('formatTime of an invalid date is undefined', () => assert.equal(formatTime(new Date('nope')), undefined));
  it('escapeMrkdwn', () => assert.equal(escapeMrkdwn('a & <!b> c'), 'a &amp; &lt;!b&gt; c'));
  it('escapeCode breaks every backtick run', () => assert.equal(escapeCode('```'), '`\u200b`\u200b`'));
  it('truncateEscaped never leaves half an entity', () => assert.equal(truncateEscaped('ab&amp;cdef', 6), 'ab…'));
  it('truncateEscaped leaves short text alone', () => assert.equal(truncateEscaped('abc', 3), 'abc'));
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter, SlackDeliverer, webhookFingerprint, type SlackDelivererOptions } from '../../../src/slack/deliver.ts';
import { validate } from '../../world/slack.ts';

const NOW = Date.parse('2024-06-20T20:00:00Z');

describe('parseRetryAfter', () => {
  const cases: Array<[string | null, number | undefined]> = [
    ['2', 2000],
    [' 30 ', 30_000],
    ['1.5', 1500],
    ['0', 0],
    ['Thu, 20 Jun 2024 20:00:10 GMT', 10_000],
    ['Thu, 20 Jun 2024 19:00:00 GMT', 0],
    [null, undefined],
    ['', undefined],
    ['soon', undefined],
    ['-5', undefined],
  ];
  for (const [header, expected] of cases) it(`${JSON.stringify(header)} -> ${expected}`, () => assert.equal(parseRetryAfter(header, NOW), expected));
});

describe('webhookFingerprint', () => {
  const cases: Array<[string, string]> = [
    ['https://hooks.slack.com/services/T000/B000/XXXXabcd', 'hooks.slack.com…abcd'],
    ['http://127.0.0.1:8080/services/T/B/secretWXYZ', '127.0.0.1:8080…WXYZ'],
    ['not a url at all 1234', '…1234'],
  ];
  for (const [url, expected] of cases) it(expected, () => assert.equal(webhookFingerprint(url), expected));
});

describe('SlackDeliverer never throws', () => {
  const base = (fetch: SlackDelivererOptions['fetch'], sleep: SlackDelivererOptions['sleep']) =>
    new SlackDeliverer({ url: 'https://hooks.slack.com/services/T/B/secret', fetch, sleep, now: () => 0, minIntervalMs: 0 });
  const ok = { ok: true, status: 200, statusText: 'OK', url: '', headers: new Headers(), text: async () => 'ok', json: async () => ({}), arrayBuffer: async () => new ArrayBuffer(0) };

  it('a fetch that throws a non-Error is a network error, retried', async () => {
    let calls = 0;
    const fetch = (async () => {
      calls += 1;
      if (calls === 1) throw 'boom';
      return ok;
    }) as unknown as SlackDelivererOptions['fetch'];
    assert.deepEqual(await base(fetch, async () => {}).deliver({ text: 'x', blocks: [] }), { ok: true, attempts: 2 });
  });

  it('a sleep that rejects without an abort only ends the wait early', async () => {
    let calls = 0;
    const fetch = (async () => (++calls === 1 ? { ...ok, ok: false, status: 503, text: async () => 'down' } : ok)) as unknown as SlackDelivererOptions['fetch'];
    const result = await base(fetch, async () => { throw new Error('timer broke'); }).deliver({ text: 'x', blocks: [] });
    assert.deepEqual(result, { ok: true, attempts: 2 });
  });

  it('an exception inside the deliverer resolves as not delivered', async () => {
    const deliverer = new SlackDeliverer({
      url: 'https://hooks.slack.com/services/T/B/secret', now: () => { throw new Error('clock broke'); },
    });
    assert.deepEqual(await deliverer.deliver({ text: 'x', blocks: [] }), { ok: false, permanent: false, error: 'aborted', attempts: 0 });
  });
});

describe('the emulator validates bodies as Slack does', () => {
  const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
  const cases: Array<[string, unknown, string[]]> = [
    ['text only', { text: 'hi' }, []],
    ['nothing', {}, ['no_text']],
    ['not an object', [1], ['body is not a JSON object']],
    ['51 blocks', { blocks: Array(51).fill(section('x')) }, ['blocks: 51 blocks (> 50)']],
    ['mrkdwn header', { blocks: [{ type: 'header', text: mrkdwn('x') }] }, ['blocks[0]: header text must be plain_text']],
    ['long header', { blocks: [header('h'.repeat(151))] }, ['blocks[0]: header text is 151 chars (> 150)']],
    ['long section', { blocks: [section('s'.repeat(3001))] }, ['blocks[0]: section text is 3001 chars (> 3000)']],
    ['11 fields', { blocks: [{ type: 'section', fields: Array(11).fill(mrkdwn('f')) }] }, ['blocks[0]: 11 fields (> 10)']],
    ['long field', { blocks: [{ type: 'section', fields: [mrkdwn('f'.repeat(2001))] }] }, ['blocks[0].fields[0] is 2001 chars (> 2000)']],
    ['11 context elements', { blocks: [{ type: 'context', elements: Array(11).fill(mrkdwn('c')) }] }, ['blocks[0]: 11 context elements (> 10)']],
    ['attachment blocks', { attachments: [{ blocks: [header('h'.repeat(151))] }] }, ['attachments[0].blocks[0]: header text is 151 chars (> 150)']],
  ];
  for (const [name, body, expected] of cases) it(name, () => assert.deepEqual(validate(body), expected));
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutByLimit, fewerLines, keepEnd, logLines } from '../../../src/detect/log-tail.ts';

describe('logLines', () => {
  const cases: readonly [string, string[]][] = [
    ['', []],
    ['one\n', ['one']],
    ['one\ntwo', ['one', 'two']],
    ['one\n\ntwo\n', ['one', '', 'two']],
    ['\n', ['']],
  ];
  for (const [text, lines] of cases) it(JSON.stringify(text), () => assert.deepEqual(logLines(text), lines));
});

describe('cutByLimit', () => {
  it('shorter than the limit: whole', () => assert.equal(cutByLimit('abc\n', 5), false));
  it('exactly the limit: maybe cut', () => assert.equal(cutByLimit('abcd\n', 5), true));
  it('counts UTF-8 bytes', () => assert.equal(cutByLimit('ééé', 6), true));
  it('a character cut in half became U+FFFD: still counts as full', () => {
    const cut = Buffer.from('aé').subarray(0, 2).toString();
    assert.equal(cutByLimit(cut, 2), true);
  });
});

describe('fewerLines', () => {
  const cases: readonly [string, number, number][] = [
    ['a\nb\nc\nd\nee', 30, 4], // four complete lines fitted
    ['a\nb\nc\nd\nee', 6, 3], // at most half
    ['no newline at all', 30, 1], // not even one line fitted
    ['x\n', 2, 1],
  ];
  for (const [text, asked, expected] of cases) it(`${JSON.stringify(text)} of ${asked} -> ${expected}`, () => assert.equal(fewerLines(text, asked), expected));
});

describe('keepEnd', () => {
  it('keeps the last maxLines', () => assert.deepEqual(keepEnd(['1', '2', '3', '4'], 2, 100), { lines: ['3', '4'], cut: false }));
  it('then as many as fit in maxBytes, from the end', () => {
    assert.deepEqual(keepEnd(['aaaa', 'bbbb', 'FATAL'], 10, 12), { lines: ['bbbb', 'FATAL'], cut: true });
  });
  it('the end of a last line longer than maxBytes, behind an ellipsis', () => {
    const { lines, cut } = keepEnd([`${'a'.repeat(100)}FATAL: out of memory`], 10, 24);
    assert.deepEqual(lines, ['…FATAL: out of memory']);
    assert.equal(cut, true);
  });
  it('never half a surrogate pair or beyond maxBytes in UTF-8', () => {
    const { lines } = keepEnd(['😀'.repeat(50)], 10, 24);
    assert.ok(Buffer.byteLength(lines[0]!) <= 24);
    assert.doesNotMatch(lines[0]!, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    assert.equal(lines[0], `…${'😀'.repeat(5)}`);
  });
  it('nothing to keep', () => assert.deepEqual(keepEnd([], 10, 100), { lines: [], cut: false }));
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeCode, escapeMrkdwn, plainText, sanitize } from '../../../src/slack/escape.ts';

const ESC = '\u001b';

describe('sanitize: control characters and bidi overrides never reach Slack as they are', () => {
  const cases: readonly [string, string, string][] = [
    ['plain text is untouched', 'exit code 1: connection refused', 'exit code 1: connection refused'],
    ['tabs and newlines stay', 'a\tb\nc', 'a\tb\nc'],
    ['ANSI colours are removed whole', `${ESC}[31mERROR${ESC}[0m disk full`, 'ERROR disk full'],
    ['bold, 256 and true colour', `${ESC}[1;38;5;196mred${ESC}[38;2;255;0;0m!${ESC}[m`, 'red!'],
    ['cursor moves and erase line', `${ESC}[2K${ESC}[1Gprogress 100%`, 'progress 100%'],
    ['OSC 8 hyperlink ended by ESC \\', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'],
    ['OSC window title ended by BEL', `${ESC}]0;title\u0007text`, 'text'],
    ['8-bit CSI', '\u009b31mred', 'red'],
    ['charset switch (two-character escape)', `${ESC}(Btext`, 'text'],
    ['an unterminated OSC hides nothing after it', `${ESC}]0;hidden? no`, '0;hidden? no'],
    ['a lone ESC is made visible', `a${ESC}`, 'a␛'],
    ['NUL and BEL are made visible', 'a\u0000b\u0007c', 'a␀b␇c'],
    ['DEL is made visible', 'a\u007fb', 'a␡b'],
    ['C1 controls are made visible', 'a\u0085b', 'a[U+0085]b'],
    ['CRLF line ends lose the CR', 'one\r\ntwo\r\n', 'one\ntwo\n'],
    ['a lone CR (progress bar) is made visible', '10%\r20%', '10%␍20%'],
    ['right-to-left override (U+202E) is made visible', 'invoice_\u202Efdp.exe', 'invoice_[U+202E]fdp.exe'],
    ['every embedding and override U+202A-U+202E', '\u202a\u202b\u202c\u202d\u202e', '[U+202A][U+202B][U+202C][U+202D][U+202E]'],
    ['every isolate U+2066-U+2069', '\u2066\u2067\u2068\u2069', '[U+2066][U+2067][U+2068][U+2069]'],
    ['emoji, accents and CJK stay', '😀 ünïcödé 失败', '😀 ünïcödé 失败'],
  ];
  for (const [name, input, expected] of cases) it(name, () => assert.equal(sanitize(input), expected));
  it('without newlines: a newline is shown as ␤', () => assert.equal(sanitize('a\nb\r\nc', { newlines: false }), 'a␤b␤c'));
});

describe('every escaper sanitizes', () => {
  it('escapeMrkdwn', () => assert.equal(escapeMrkdwn(`${ESC}[31m<!channel>${ESC}[0m \u202Eevil`), '&lt;!channel&gt; [U+202E]evil'));
  it('escapeCode (log lines)', () => assert.equal(escapeCode(`${ESC}[1m\`\`\`${ESC}[0m\u0000`), '`\u200b`\u200b`␀'));
  it('plainText (the header): one line', () => assert.equal(plainText('job\n\u202Eevil<x>'), 'job␤[U+202E]evil‹x›'));
});

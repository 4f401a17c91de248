import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeCauses, rootCause } from '../../src/errors.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });

describe('describeCauses', () => {
  const table: Array<[string, unknown, string]> = [
    ['a plain error', new Error('boom'), 'boom'],
    ['a string', 'boom', 'boom'],
    ['nothing', undefined, 'unknown error'],
    ['fetch failed, connection refused', fetchFailed(withCode('connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED')), 'fetch failed: connect ECONNREFUSED 10.0.0.1:443'],
    ['fetch failed, unknown host', fetchFailed(withCode('getaddrinfo ENOTFOUND api.example', 'ENOTFOUND')), 'fetch failed: getaddrinfo ENOTFOUND api.example'],
    ['fetch failed, expired certificate', fetchFailed(withCode('certificate has expired', 'CERT_HAS_EXPIRED')), 'fetch failed: certificate has expired (CERT_HAS_EXPIRED)'],
    ['a wrapper repeating its cause', new Error('A request error occurred: fetch failed', { cause: fetchFailed(withCode('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')) }), 'A request error occurred: fetch failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    ['localhost refused on both addresses', fetchFailed(Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:6443', 'ECONNREFUSED')], ''), { code: 'ECONNREFUSED' })), 'fetch failed: connect ECONNREFUSED ::1:6443'],
    ['only the first line of each message', new Error('HTTP-Code: 500\nBody: {...}'), 'HTTP-Code: 500'],
  ];
  for (const [name, error, expected] of table) it(name, () => assert.equal(describeCauses(error), expected));

  it('is cut at maxLength', () => assert.equal(describeCauses(new Error('x'.repeat(50)), 10), `${'x'.repeat(9)}…`));
  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(describeCauses(a), 'a: b');
  });
});

describe('rootCause', () => {
  it('the innermost message and code', () =>
    assert.deepEqual(rootCause(fetchFailed(withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'))), {
      message: 'unable to verify the first certificate',
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    }));
  it('no code', () => assert.deepEqual(rootCause(new Error('plain')), { message: 'plain', code: undefined }));
  it('a numeric code (an HTTP status) is not a cause code', () => assert.equal(rootCause(Object.assign(new Error('x'), { code: 500 })).code, undefined));
});

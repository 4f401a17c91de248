import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { describeError, errorForLog } from '../../../src/kube/client.ts';

const status = (code: number, message: string, reason: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('describeError', () => {
  const table: Array<[string, unknown, string]> = [
    ['an API error with a Status body', new ApiException(403, 'Forbidden', status(403, 'jobs.batch is forbidden: User "x" cannot list', 'Forbidden'), {}), 'HTTP 403: jobs.batch is forbidden: User "x" cannot list'],
    ['an API error with a parsed body', new ApiException(500, 'Unknown', { message: 'etcdserver: leader changed' }, {}), 'HTTP 500: etcdserver: leader changed'],
    ['an API error without a Status', new ApiException(502, 'Bad Gateway', '<html>', {}), 'HTTP 502: HTTP-Code: 502'],
    ['a watch error (status, no body)', Object.assign(new Error('Gateway Timeout'), { statusCode: 504 }), 'HTTP 504: Gateway Timeout'],
    ['connection refused', new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED 10.0.0.1:6443', 'ECONNREFUSED') }), 'fetch failed: connect ECONNREFUSED 10.0.0.1:6443'],
    ['unknown host', new TypeError('fetch failed', { cause: withCode('getaddrinfo ENOTFOUND api.example', 'ENOTFOUND') }), 'fetch failed: getaddrinfo ENOTFOUND api.example'],
    ['an untrusted API server certificate', new TypeError('fetch failed', { cause: withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN') }), 'fetch failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)'],
    ['a timeout of ours', new Error('no answer within 10 s'), 'no answer within 10 s'],
  ];
  for (const [name, error, expected] of table) it(name, () => assert.equal(describeError(error), expected));
});

describe('errorForLog', () => {
  it('keeps the type and frames, with the one-line description as message and the status', () => {
    const error = new ApiException(500, 'Unknown', status(500, 'etcdserver: request timed out', 'InternalError'), { 'audit-id': 'x' });
    const logged: Error & { status?: number } = errorForLog(error);
    assert.equal(Object.getPrototypeOf(logged), ApiException.prototype);
    assert.equal(logged.message, 'HTTP 500: etcdserver: request timed out');
    assert.equal(logged.status, 500);
    assert.match(logged.stack ?? '', /^Error: HTTP 500: etcdserver: request timed out\n\s+at /);
    assert.ok(!(logged.stack ?? '').includes('audit-id'));
  });
  it('keeps a network error\'s code', () => {
    const logged = errorForLog(withCode('connect ECONNREFUSED 10.0.0.1:6443', 'ECONNREFUSED')) as Error & { code?: string };
    assert.equal(logged.code, 'ECONNREFUSED');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { unusableResourceVersion, WatchErrorEvent } from '../../../src/kube/informer.ts';

/** The Status the real server sends for a resourceVersion ahead of its history (apiserver storage/errors.go). */
const tooLarge = {
  kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Timeout', code: 504,
  message: 'Timeout: Too large resource version: 5399771, current: 5399139',
  details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
};
/** Kubernetes 1.17.0-1.18.5: the same, without the cause's reason (client-go matches the message). */
const tooLargeOld = { ...tooLarge, details: { causes: [{ message: 'Too large resource version' }], retryAfterSeconds: 1 } };
const expired = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 1000 (1200)' };
const gone = { ...expired, reason: 'Gone' };
const status = (code: number, reason: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message: reason });
const watchHttpError = (statusCode: number, text: string) => Object.assign(new Error(text), { statusCode });

describe('unusableResourceVersion', () => {
  const table: Array<[string, unknown, 'expired' | 'too_large' | undefined]> = [
    ['watch ERROR event 504 ResourceVersionTooLarge', new WatchErrorEvent(tooLarge), 'too_large'],
    ['watch ERROR event, 1.17-style cause', new WatchErrorEvent(tooLargeOld), 'too_large'],
    ['list 504 ResourceVersionTooLarge', new ApiException(504, 'Gateway Timeout', JSON.stringify(tooLarge), {}), 'too_large'],
    ['watch answered 504 (the client drops the body)', watchHttpError(504, 'Gateway Timeout'), 'too_large'],
    ['watch ERROR event 410 Expired', new WatchErrorEvent(expired), 'expired'],
    ['watch ERROR event 410 Gone (1.17)', new WatchErrorEvent(gone), 'expired'],
    ['list 410', new ApiException(410, 'Gone', JSON.stringify(expired), {}), 'expired'],
    ['a 504 Timeout of another kind', new ApiException(504, 'Gateway Timeout', JSON.stringify(status(504, 'Timeout')), {}), undefined],
    ['watch ERROR event 500', new WatchErrorEvent(status(500, 'InternalError')), undefined],
    ['list 500', new ApiException(500, 'Internal', JSON.stringify(status(500, 'InternalError')), {}), undefined],
    ['401', watchHttpError(401, 'Unauthorized'), undefined],
    ['connection refused', new TypeError('fetch failed'), undefined],
  ];
  for (const [name, error, expected] of table) it(`${name} -> ${expected}`, () => assert.equal(unusableResourceVersion(error), expected));
});

describe('WatchErrorEvent', () => {
  it('carries the Status as body and its code as status', () => {
    const error = new WatchErrorEvent(tooLarge);
    assert.equal(error.statusCode, 504);
    assert.equal(error.message, tooLarge.message);
    assert.equal(error.body, tooLarge);
  });
  it('survives an ERROR event that is not a Status', () => assert.equal(new WatchErrorEvent('garbage').message, 'the watch sent an ERROR event'));
});

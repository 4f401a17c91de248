import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InformerHealth } from '../../../src/kube/informer.ts';
import { notReadyReasons } from '../../../src/kube/watching.ts';

const NOW = 1_700_000_000_000;
const AFTER = 120_000;
const health = (fields: Partial<InformerHealth>): InformerHealth => ({
  resource: 'jobs/batch', synced: true, unableSince: undefined, lastError: undefined, listing: false, ...fields,
});

describe('notReadyReasons', () => {
  const table: Array<[string, InformerHealth[], string[]]> = [
    ['working', [health({})], []],
    ['no informers', [], []],
    ['before the first list', [health({ synced: false, listing: true, unableSince: NOW - 5_000 })], ['jobs/batch: waiting for the first list']],
    ['before the first list, which failed', [health({ synced: false, unableSince: NOW - 5_000, lastError: 'HTTP 403: forbidden' })], ['jobs/batch: waiting for the first list: HTTP 403: forbidden']],
    ['failing, but not for long', [health({ unableSince: NOW - AFTER + 1, lastError: 'HTTP 500: boom' })], []],
    ['failing for NOT_READY_AFTER', [health({ unableSince: NOW - AFTER, lastError: 'HTTP 500: boom' })], ['jobs/batch: unable to list or watch for 120 s: HTTP 500: boom']],
    ['a relist that has not answered for long', [health({ unableSince: NOW - 130_400, listing: true })], ['jobs/batch: unable to list or watch for 130 s: a list has not answered yet']],
    ['a short threshold (tests): tenths of a second', [health({ unableSince: NOW - 450, lastError: 'HTTP 500: boom' })], []],
    ['one of two', [health({ resource: 'cronjobs/batch' }), health({ unableSince: NOW - 200_000, lastError: 'HTTP 401: Unauthorized' })], ['jobs/batch: unable to list or watch for 200 s: HTTP 401: Unauthorized']],
  ];
  for (const [name, healths, expected] of table) it(name, () => assert.deepEqual(notReadyReasons(healths, NOW, AFTER), expected));
  it('under 10 s: with tenths', () =>
    assert.deepEqual(notReadyReasons([health({ unableSince: NOW - 450, lastError: 'HTTP 500: boom' })], NOW, 400), ['jobs/batch: unable to list or watch for 0.5 s: HTTP 500: boom']));
});

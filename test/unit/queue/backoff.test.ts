import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../../src/queue/backoff.ts';

describe('backoffDelay: full jitter (the default), base 1 s, max 60 s', () => {
  const cases: Array<[number, number, number]> = [
    [0, 0.5, 500], [1, 0.5, 1000], [2, 0.5, 2000], [5, 0.999, 31_968], [6, 0.999, 59_940], [40, 0.999, 59_940], [3, 0, 0], [-1, 0.5, 500],
  ];
  for (const [retry, random, expected] of cases) {
    it(`retry ${retry} at ${random} -> ${expected}`, () => assert.equal(backoffDelay({ baseMs: 1000, maxMs: 60_000 }, retry, () => random), expected));
  }
});

describe('backoffDelay: equal jitter, base 1 s, max 30 s (informer restarts)', () => {
  const cases: Array<[number, number, number]> = [[0, 0, 500], [0, 0.999, 1000], [3, 0.5, 6000], [10, 0, 15_000], [10, 0.999, 29_985]];
  for (const [retry, random, expected] of cases) {
    it(`retry ${retry} at ${random} -> ${expected}`, () => assert.equal(backoffDelay({ baseMs: 1000, maxMs: 30_000, jitter: 'equal' }, retry, () => random), expected));
  }
});

describe('backoffDelay: no jitter', () => {
  for (const [retry, expected] of [[0, 1000], [1, 2000], [2, 4000], [3, 8000], [4, 8000]] as const) {
    it(`retry ${retry} -> ${expected}`, () => assert.equal(backoffDelay({ baseMs: 1000, maxMs: 8000, jitter: 'none' }, retry), expected));
  }
});

/**
 * ListSplitter (src/kube/list-stream.ts) reads a LIST body in pieces exactly as JSON.parse reads it whole: the same
 * items in the same order, the same top level (kind, metadata, continue), however the body is cut, including inside
 * strings, escapes and multi-byte characters.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListSplitter } from '../../../src/kube/list-stream.ts';
import { failedJob } from '../../fixtures/index.ts';
import { mutated, seedJobs } from '../properties/arbitraries.ts';

/** Splits `body` at the given byte offsets and feeds the pieces through a streaming TextDecoder, as the informer does. */
function readInPieces(body: string, cuts: readonly number[]): { items: unknown[]; rest: Record<string, unknown> } {
  const bytes = new TextEncoder().encode(body);
  const decoder = new TextDecoder();
  const items: unknown[] = [];
  const splitter = new ListSplitter((item) => items.push(item));
  let from = 0;
  for (const cut of [...cuts].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    splitter.push(decoder.decode(bytes.subarray(from, cut), { stream: true }));
    from = cut;
  }
  splitter.push(decoder.decode(bytes.subarray(from)));
  return { items, rest: { ...splitter.end() } };
}

function expected(body: string): { items: unknown[]; rest: Record<string, unknown> } {
  const whole = JSON.parse(body) as Record<string, unknown>;
  const items = Array.isArray(whole['items']) ? (whole['items'] as unknown[]) : [];
  return { items, rest: { ...whole, ...(Array.isArray(whole['items']) ? { items: [] } : {}) } };
}

const tricky = { metadata: { name: 'tricky', namespace: 'a', annotations: { 'x/items': '["items"]', quote: 'say "}]" and \\"{[\\\\', unicode: 'déjà vu — 🚨 ✓', items: '[' } }, items: [{ nested: true }], status: {} };
const bodies: [string, string][] = [
  ['as the emulator writes it', JSON.stringify({ kind: 'JobList', apiVersion: 'batch/v1', metadata: { resourceVersion: '1234', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ', remainingItemCount: 7 }, items: [failedJob({ name: 'a' }), failedJob({ name: 'b' })] })],
  ['metadata after the items', JSON.stringify({ kind: 'JobList', items: [failedJob({ name: 'a' })], metadata: { resourceVersion: '9' } })],
  ['pretty-printed', JSON.stringify({ kind: 'JobList', metadata: { resourceVersion: '5' }, items: [failedJob(), tricky] }, null, 2)],
  ['strings full of brackets, quotes, escapes and unicode', JSON.stringify({ kind: 'JobList', metadata: {}, items: [tricky, tricky] })],
  ['no items', JSON.stringify({ kind: 'JobList', metadata: { resourceVersion: '1' }, items: [] })],
  ['items null', JSON.stringify({ kind: 'JobList', metadata: { resourceVersion: '1' }, items: null })],
  ['a top-level string "items" before another array', JSON.stringify({ kind: 'items', other: [{ not: 'an item' }], items: [{ metadata: { name: 'x' } }] })],
];

describe('ListSplitter', () => {
  for (const [name, body] of bodies) {
    it(`${name}: whole, and cut at every byte in two`, () => {
      const want = expected(body);
      assert.deepEqual(readInPieces(body, []), want);
      const length = new TextEncoder().encode(body).length;
      const step = Math.max(1, Math.floor(length / 400));
      for (let cut = 1; cut < length; cut += step) assert.deepEqual(readInPieces(body, [cut]), want, `cut at ${cut}`);
    });
    it(`${name}: one byte at a time`, () => {
      const length = new TextEncoder().encode(body).length;
      assert.deepEqual(readInPieces(body, Array.from({ length }, (_, i) => i)), expected(body));
    });
  }

  it('reads lists of mutated real Jobs cut anywhere as JSON.parse does (500 generated)', () => {
    fc.assert(
      // Items are objects (an API server sends nothing else; what a mutation turned into a non-object is left out).
      fc.property(fc.array(mutated(seedJobs).filter((item) => typeof item === 'object' && item !== null && !Array.isArray(item)), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (items, cuts) => {
        const body = JSON.stringify({ kind: 'JobList', apiVersion: 'batch/v1', metadata: { resourceVersion: '42', continue: 'x' }, items });
        const length = new TextEncoder().encode(body).length;
        assert.deepEqual(readInPieces(body, cuts.map((cut) => cut % length)), expected(body));
      }),
      { numRuns: 500 },
    );
  });

  it('skips items that are not objects (an API server sends none)', () => {
    assert.deepEqual(readInPieces('{"items":[1,"two",{"a":[3]},null,[4]],"metadata":{}}', [7, 19]).items, [{ a: [3] }]);
  });

  it('fails on a body cut short, and on a broken item', () => {
    const body = bodies[0]![1];
    assert.throws(() => readInPieces(body.slice(0, body.length - 3), []), SyntaxError);
    assert.throws(() => readInPieces(body.slice(0, 200), []), SyntaxError);
    assert.throws(() => readInPieces('{"items":[{"a":}]}', []), SyntaxError);
    assert.throws(() => readInPieces('[1,2]', []), SyntaxError);
  });
});

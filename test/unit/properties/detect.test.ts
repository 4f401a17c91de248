/**
 * Properties of detect (failureOf, evidenceFromPods) over thousands of Jobs and Pods derived from the real fixtures
 * and broken the ways the field breaks them (arbitraries.ts): they never throw, and what they return is well typed,
 * whatever the object. fast-check picks a new seed each run and prints it (with the shrunk counterexample) on failure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evidenceFromPods } from '../../../src/detect/container.ts';
import { failureOf } from '../../../src/detect/failure.ts';
import { mutated, seedJobs, seedPods } from './arbitraries.ts';

const RUNS = 3000;

const isDateOrUndefined = (value: unknown) => value === undefined || value instanceof Date;
const isStringOrUndefined = (value: unknown) => value === undefined || typeof value === 'string';
const isNumberOrUndefined = (value: unknown) => value === undefined || (typeof value === 'number' && Number.isFinite(value));

describe('failureOf, over mutated real Jobs', () => {
  it('never throws, and returns undefined or a well-typed JobFailure with a uid', () => {
    let failures = 0;
    fc.assert(
      fc.property(mutated(seedJobs), (job) => {
        const failure = failureOf(job);
        if (failure === undefined) return;
        failures += 1;
        assert.equal(typeof failure.uid, 'string');
        assert.notEqual(failure.uid, '');
        for (const key of ['namespace', 'name', 'reason', 'message'] as const) assert.equal(typeof failure[key], 'string', key);
        assert.ok(failure.condition === 'Failed' || failure.condition === 'FailureTarget');
        assert.notEqual(failure.reason.trim(), '', 'a reason, Unknown at worst');
        for (const key of ['failedAt', 'startedAt', 'scheduledAt'] as const) assert.ok(isDateOrUndefined(failure[key]), key);
        // Finite, though not necessarily >= 0: detect passes a negative status.failed through as it is.
        for (const key of ['failedPods', 'succeededPods'] as const) assert.ok(Number.isFinite(failure[key]), key);
        assert.ok(isNumberOrUndefined(failure.backoffLimit));
        for (const key of ['failedIndexes', 'cronJob'] as const) assert.ok(isStringOrUndefined(failure[key]), key);
      }),
      { numRuns: RUNS },
    );
    // Most mutations leave a failed Job failed: the checks above ran on many failures, not a handful.
    assert.ok(failures > RUNS / 3, `only ${failures} of ${RUNS} were failures`);
  });

  it('the unbroken seeds that failed are still read as failed', () => {
    const failed = seedJobs.filter((job) => failureOf(job) !== undefined);
    assert.ok(failed.length >= 8, `${failed.length} of ${seedJobs.length} seeds failed`);
  });
});

describe('evidenceFromPods, over mutated real Pods', () => {
  it('never throws, and returns well-typed evidence', () => {
    let found = 0;
    fc.assert(
      fc.property(fc.array(mutated(seedPods), { maxLength: 6 }), (pods) => {
        const evidence = evidenceFromPods(pods);
        if (evidence.container !== undefined || evidence.reason !== undefined) found += 1;
        for (const key of ['pod', 'node', 'container', 'reason', 'message'] as const) assert.ok(isStringOrUndefined(evidence[key]), key);
        assert.ok(isNumberOrUndefined(evidence.exitCode), 'exitCode');
        assert.ok(isNumberOrUndefined(evidence.signal), 'signal');
        assert.ok(evidence.previous === undefined || typeof evidence.previous === 'boolean');
      }),
      { numRuns: RUNS },
    );
    assert.ok(found > RUNS / 3, `evidence found in only ${found} of ${RUNS} runs`);
  });

  it('never throws on what is not a list of pods at all', () => {
    fc.assert(fc.property(fc.anything(), (value) => void evidenceFromPods(value as unknown[])), { numRuns: 500 });
  });
});

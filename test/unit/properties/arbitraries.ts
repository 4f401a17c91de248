/**
 * fast-check arbitraries for the property tests: real Job and Pod objects (test/fixtures) and the ways the field
 * breaks them (a field dropped, a value of the wrong type, a huge string, unicode, Slack mentions and backticks
 * written by whoever controls a Job's name, a condition message or a log line).
 */
import fc from 'fast-check';
import type { Alert, Evidence, JobFailure } from '../../../src/alert.ts';
import { failedJob, failedPod, fixtureJob, loadFixture } from '../../fixtures/index.ts';

type Json = unknown;
type Path = readonly (string | number)[];

/** Every fixture file that holds a Job (or a Job's status), as one Job each. */
const JOB_FIXTURES = [
  'derived_cronjob-controller_Job-failed-BackoffLimitExceeded.yaml',
  'derived_pod-failure-policy_FailJob-failed.yaml',
  'int128-cronjob-runner-readme_Job-ownedBy-CronJob.yaml',
  'kube-cleanup-operator-pr48_BackoffLimitExceeded_status.yaml',
  'kube-cleanup-operator-pr48_DeadlineExceeded_status.yaml',
  'kubernetes-issue-92245_BackoffLimitExceeded.yaml',
  'kubernetes-issue-93559_BackoffLimitExceeded_final-status.yaml',
  'kubernetes-website_job-md_backoffLimitPerIndex_FailedIndexes.yaml',
  'kubernetes-website_pod-failure-policy_FailJob-manifest-and-messages.yaml',
];

const job = failedJob({ startedAt: '2024-05-01T02:00:00Z' });

/** Real Jobs: the fixtures, and the builders' failed Jobs (plain and a CronJob's). */
export const seedJobs: readonly Json[] = [
  ...JOB_FIXTURES.map((file) => fixtureJob(file)),
  job,
  failedJob({ conditions: ['Failed'], reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }),
  failedJob({ cronJob: { name: 'nightly-report', scheduledAt: '2024-06-20T20:50:00Z' } }),
  failedJob({ failedIndexes: '0,2-5', reason: 'FailedIndexes', message: 'Job has failed indexes' }),
];

// The docs' memory-demo-2 container status (OOMKilled in lastState), inside a whole Pod.
const [oomStatus] = loadFixture('kubernetes-website_assign-memory-resource_OOMKilled-lastState.yaml') as [Record<string, unknown>];

/** Real Pods of failed Jobs: the builder's (exit 1, 137, 143, OOMKilled, evicted-like) and the docs' OOMKilled one. */
export const seedPods: readonly Json[] = [
  failedPod(job, { attempt: 0, finishedAt: '2024-05-01T02:00:03Z' }),
  failedPod(job, { attempt: 1, exitCode: 137, reason: 'OOMKilled' }),
  failedPod(job, { attempt: 2, exitCode: 143 }),
  failedPod(job, { attempt: 3, exitCode: 0, reason: 'OOMKilled' }),
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'memory-demo-2', namespace: 'mem-example', creationTimestamp: '2017-06-20T20:52:07Z' },
    spec: { containers: [{ name: 'memory-demo-2-ctr', image: 'polinux/stress' }] },
    status: {
      phase: 'Failed',
      containerStatuses: [{ name: 'memory-demo-2-ctr', ...oomStatus, ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'evicted', namespace: 'default', creationTimestamp: '2024-05-01T02:00:00Z' },
    status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' },
  },
];

/** What Slack would turn into a ping, a link or formatting, if it reached a message unescaped. */
export const SLACK_SPECIALS = [
  '<!channel>', '<!here>', '<!everyone>', '<!channel|channel>', '<@U024BE7LH>', '<@W123|bob>', '<!subteam^SAZ94GDB8>',
  '<!subteam^SAZ94GDB8|@ops>', '<#C024BE7LR>', '<https://evil.example|click here>', '<!date^1392734382^{date}|x>',
  '```', '``', '`', '*', '_', '~', '>', '<', '&', '&lt;!channel&gt;', '&amp;', ':rotating_light:',
];

const ODD_CHARACTERS = ['\n', '\r\n', '\t', '\u0000', '\u200b', '\u202e', '\ufeff', '🚨', '👨‍👩‍👧‍👦', 'é', 'e\u0301', '中文', '\ud800', '\udfff', '＜!channel＞'];

/** Text as hostile as a log line or a condition message can be. */
export const hostileText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...SLACK_SPECIALS) },
      { weight: 2, arbitrary: fc.constantFrom(...ODD_CHARACTERS) },
      { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

/** Built once: generating 100k-character strings per run would spend the time budget on generation. */
const HUGE = [
  'x'.repeat(100_000),
  '<!channel>'.repeat(10_000),
  '`'.repeat(30_000),
  '&'.repeat(30_000),
  '🚨'.repeat(20_000),
  `${'a'.repeat(4_999)}\ud83d`,
  Array.from({ length: 5_000 }, (_, i) => `line ${i} <!here>`).join('\n'),
];
export const hugeText: fc.Arbitrary<string> = fc.constantFrom(...HUGE);

/** Any text: mostly short and hostile, sometimes huge. */
export const anyText: fc.Arbitrary<string> = fc.oneof({ weight: 9, arbitrary: hostileText }, { weight: 1, arbitrary: hugeText });

/** A value of any type a JSON field could hold, and a few it could not. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  anyText,
  fc.constantFrom(null, undefined, true, false, 0, -1, 1e308, Number.NaN, Number.POSITIVE_INFINITY, '', ' ', 'True', 'False', 'Unknown'),
  fc.integer(),
  fc.double(),
  fc.date({ noInvalidDate: false }).map((date) => (Number.isNaN(date.getTime()) ? 'not-a-date' : date.toISOString())),
  fc.constantFrom('2024-13-45T99:99:99Z', '0000-00-00T00:00:00Z', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.constantFrom(['FailureTarget'], [{ type: 'Failed', status: 'True' }], [{}], [null], { type: 'Failed' }),
);

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
export function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) value.forEach((item, i) => { out.push([...prefix, i]); pathsOf(item, [...prefix, i], out); });
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) { out.push([...prefix, key]); pathsOf(item, [...prefix, key], out); }
  }
  return out;
}

type Mutation = { readonly at: number; readonly drop: boolean; readonly value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), drop: fc.boolean(), value: anyValue });

/** `value` with each mutation applied in turn: a field (picked among all) dropped or replaced. */
function mutate(value: Json, mutations: readonly Mutation[]): Json {
  const copy = structuredClone(value) as Json;
  for (const { at, drop, value: replacement } of mutations) {
    const paths = pathsOf(copy);
    if (paths.length === 0) break;
    const path = paths[at % paths.length]!;
    const parent = path.slice(0, -1).reduce<Json>((node, key) => (node as Record<string | number, Json>)[key], copy) as Record<string | number, Json>;
    const key = path.at(-1)!;
    if (drop && !Array.isArray(parent)) delete parent[key];
    else parent[key] = structuredClone(replacement);
  }
  return copy;
}

/** One of `seeds`, with 0-6 fields dropped or replaced; now and then not an object at all. */
export function mutated(seeds: readonly Json[]): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 6 })).map(([seed, mutations]) => mutate(seed, mutations)) },
    { weight: 1, arbitrary: anyValue },
  );
}

const optionalDate = fc.option(fc.date({ noInvalidDate: false }), { nil: undefined });

/** A JobFailure as failureOf could return it, but with every string hostile. */
export const anyFailure: fc.Arbitrary<JobFailure> = fc.record({
  uid: fc.string({ minLength: 1 }),
  namespace: anyText,
  name: anyText,
  condition: fc.constantFrom('Failed' as const, 'FailureTarget' as const),
  reason: anyText,
  message: anyText,
  failedAt: optionalDate,
  startedAt: optionalDate,
  failedPods: fc.integer(),
  succeededPods: fc.integer(),
  backoffLimit: fc.option(fc.integer(), { nil: undefined }),
  failedIndexes: fc.option(anyText, { nil: undefined }),
  cronJob: fc.option(anyText, { nil: undefined }),
  scheduledAt: optionalDate,
});

/** Evidence as kube/evidence.ts assembles it, with hostile text everywhere and log tails up to thousands of lines. */
export const anyEvidence: fc.Arbitrary<Evidence> = fc.record(
  {
    pod: anyText,
    node: anyText,
    container: anyText,
    exitCode: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    reason: anyText,
    signal: fc.integer({ min: -5, max: 200 }),
    message: anyText,
    logTail: fc.oneof(
      { weight: 4, arbitrary: fc.array(hostileText, { maxLength: 50 }) },
      { weight: 1, arbitrary: fc.array(anyText, { maxLength: 5 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `${i} <!channel> \`\`\` ${'y'.repeat(i % 97)}`)) },
    ),
    notes: fc.array(anyText, { maxLength: 15 }),
  },
  { requiredKeys: ['notes'] },
);

export const anyAlert: fc.Arbitrary<Alert> = fc.record({ cluster: fc.option(anyText, { nil: undefined }), failure: anyFailure, evidence: anyEvidence });

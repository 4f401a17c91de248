import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeJobs,
  describeNamespaces,
  isJobWatched,
  isNamespaceWatched,
  jobListOptions,
  LabelSelectorError,
  matchesLabels,
  mostSpecific,
  parseLabelSelector,
  parseNamespacePattern,
  watchScope,
  type NamespacePattern,
} from '../../../src/route/watched.ts';

const pattern = (text: string): NamespacePattern => {
  const parsed = parseNamespacePattern(text);
  assert.ok(typeof parsed !== 'string', parsed as string);
  return parsed;
};

describe('parseNamespacePattern', () => {
  const good: [string, boolean, string][] = [
    ['batch', false, 'batch'],
    [' batch ', false, 'batch'],
    ['team-a-*', true, 'team-a-'],
    ['team*', true, 'team'],
    ['a', false, 'a'],
  ];
  for (const [text, prefix, value] of good) {
    it(`${JSON.stringify(text)} -> ${prefix ? 'prefix' : 'name'} ${value}`, () => assert.deepEqual({ ...pattern(text) }, { text: text.trim(), prefix, value }));
  }
  for (const text of ['*', 'Team-A', 'team_a', '-team*', 'a*b', 'team-', 'x'.repeat(64), '']) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(typeof parseNamespacePattern(text), 'string'));
  }
});

describe('mostSpecific', () => {
  const entries = ['team-*', 'team-a-*', 'team-a-batch', 'other*', 'other'].map((text) => ({ pattern: pattern(text), name: text }));
  const table: [string, string | undefined][] = [
    ['team-a-batch', 'team-a-batch'],
    ['team-a-etl', 'team-a-*'],
    ['team-b', 'team-*'],
    ['other', 'other'],
    ['others', 'other*'],
    ['oth', undefined],
    ['tea', undefined],
  ];
  for (const [namespace, expected] of table) it(`${namespace} -> ${expected}`, () => assert.equal(mostSpecific(entries, namespace)?.name, expected));
});

describe('parseLabelSelector: what the API server accepts', () => {
  const table: [string, [string, string, string[]][]][] = [
    ['', []],
    ['   ', []],
    ['app=etl', [['app', '=', ['etl']]]],
    ['app == etl', [['app', '==', ['etl']]]],
    ['tier!=test', [['tier', '!=', ['test']]]],
    ['app=', [['app', '=', ['']]]],
    ['env in (prod, staging)', [['env', 'in', ['prod', 'staging']]]],
    ['env notin (dev)', [['env', 'notin', ['dev']]]],
    ['env in (a,,b)', [['env', 'in', ['a', '', 'b']]]],
    ['env in ()', [['env', 'in', ['']]]],
    ['x in (in, notin)', [['x', 'in', ['in', 'notin']]]],
    ['alerts', [['alerts', 'exists', []]]],
    ['!skip-alerts', [['skip-alerts', '!', []]]],
    ['! skip', [['skip', '!', []]]],
    ['priority>5', [['priority', '>', ['5']]]],
    ['priority<10', [['priority', '<', ['10']]]],
    ['example.com/team=a,!example.com/ignored,env in (prod)', [['example.com/team', '=', ['a']], ['example.com/ignored', '!', []], ['env', 'in', ['prod']]]],
    ['app.kubernetes.io/part-of=batch_jobs.v2', [['app.kubernetes.io/part-of', '=', ['batch_jobs.v2']]]],
  ];
  for (const [text, expected] of table) {
    it(JSON.stringify(text), () => {
      const selector = parseLabelSelector(text);
      assert.equal(selector.text, text.trim());
      assert.deepEqual(selector.requirements.map(({ key, operator, values }) => [key, operator, [...values]]), expected);
    });
  }
});

describe('parseLabelSelector: what the API server refuses', () => {
  const table: [string, RegExp][] = [
    ['app=etl,', /after ","/],
    [',app', /expected: a label key/],
    ['app etl', /found "etl" after app/],
    ['app=a=b', /found "=", expected: "," or end/],
    ['env in prod', /expected: "\("/],
    ['env in (a b)', /found "b" in the values of env/],
    ['env in (a', /found "end of string" in the values of env/],
    ['!app=x', /after !app/],
    ['App_Name/x=1', /prefix must be a DNS subdomain/],
    ['-app=1', /the name must be/],
    ['a/b/c', /more than one/],
    [`${'k'.repeat(64)}=1`, /the name must be/],
    ['app=-etl', /label value "-etl"/],
    [`app=${'v'.repeat(64)}`, /label value/],
    ['priority>high', /need a whole number/],
    // The server checks a > or < value as a label value too, so no negative numbers.
    ['priority<-1', /label value "-1"/],
    ['app=(x)', /found "\(" after app=/],
    ['app in (x),', /after ","/],
  ];
  for (const [text, expected] of table) {
    it(JSON.stringify(text), () => assert.throws(() => parseLabelSelector(text), (error: unknown) => error instanceof LabelSelectorError && expected.test(error.message)));
  }
});

describe('matchesLabels', () => {
  const labels = { app: 'etl', env: 'prod', priority: '7', empty: '' };
  const table: [string, boolean][] = [
    ['', true],
    ['app=etl', true],
    ['app==other', false],
    ['app!=other', true],
    ['missing!=x', true],
    ['env in (prod,staging)', true],
    ['env notin (prod)', false],
    ['missing notin (prod)', true],
    ['missing in (x)', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['priority>5', true],
    ['priority<5', false],
    ['app>5', false],
    ['missing<5', false],
    ['empty=', true],
    ['empty', true],
    ['app=etl,env=dev', false],
  ];
  for (const [text, expected] of table) it(`${JSON.stringify(text)} -> ${expected}`, () => assert.equal(matchesLabels(parseLabelSelector(text), labels), expected));
  it('no selector and no labels', () => {
    assert.equal(matchesLabels(undefined, undefined), true);
    assert.equal(matchesLabels(parseLabelSelector('!a'), undefined), true);
    assert.equal(matchesLabels(parseLabelSelector('a'), undefined), false);
  });
  it('a label named like an Object method is not "present"', () => assert.equal(matchesLabels(parseLabelSelector('constructor'), {}), false));
});

describe('the scope', () => {
  const config = { excludeNamespaces: [pattern('kube-system'), pattern('team-x-*')], jobLabelSelector: parseLabelSelector('alerts!=off') };
  const all = watchScope(config, 'all');
  const listed = watchScope(config, ['kube-system', 'batch']);

  const table: [string, boolean, boolean][] = [
    // namespace, watched cluster-wide, watched with the list
    ['batch', true, true],
    ['kube-system', false, true],
    ['team-x-etl', false, false],
    ['team-x', true, false],
    ['kube-public', true, false],
  ];
  for (const [namespace, inAll, inList] of table) {
    it(`${namespace}: cluster-wide ${inAll}, listed ${inList}`, () => {
      assert.equal(isNamespaceWatched(namespace, all), inAll);
      assert.equal(isNamespaceWatched(namespace, listed), inList);
    });
  }

  it('isJobWatched: namespace and labels', () => {
    assert.equal(isJobWatched({ metadata: { namespace: 'batch', labels: {} } }, all), true);
    assert.equal(isJobWatched({ metadata: { namespace: 'batch', labels: { alerts: 'off' } } }, all), false);
    assert.equal(isJobWatched({ metadata: { namespace: 'team-x-a' } }, all), false);
    assert.equal(isJobWatched({}, all), true, 'no namespace: nothing to exclude it by');
  });

  it('jobListOptions: exact exclusions as a field selector, prefixes at the edge, the label selector as given', () => {
    assert.deepEqual(jobListOptions(all), { labelSelector: 'alerts!=off', fieldSelector: 'metadata.namespace!=kube-system', needsEdgeFilter: true });
    assert.deepEqual(jobListOptions(listed), { labelSelector: 'alerts!=off', needsEdgeFilter: false });
    assert.deepEqual(jobListOptions(watchScope({ excludeNamespaces: [], jobLabelSelector: undefined }, 'all')), { needsEdgeFilter: false });
    const two = watchScope({ excludeNamespaces: [pattern('a'), pattern('b')], jobLabelSelector: parseLabelSelector('') }, 'all');
    assert.deepEqual(jobListOptions(two), { fieldSelector: 'metadata.namespace!=a,metadata.namespace!=b', needsEdgeFilter: false });
  });

  it('describes itself in one line each', () => {
    assert.equal(describeNamespaces(all), 'all namespaces except kube-system, team-x-*');
    assert.equal(describeNamespaces(listed), 'kube-system, batch');
    assert.equal(describeNamespaces(watchScope({ excludeNamespaces: [], jobLabelSelector: undefined }, 'all')), 'all namespaces');
    assert.equal(describeJobs(all), 'Jobs whose labels match alerts!=off');
    assert.equal(describeJobs({ jobSelector: undefined }), 'all Jobs');
  });
});

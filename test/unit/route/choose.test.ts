import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { alsoSendTo, chooseRoute, destinations, normaliseRouteName, routeNameProblem } from '../../../src/route/choose.ts';
import type { Annotated, Owners } from '../../../src/route/owners.ts';

const config = loadConfig({
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/default',
  SLACK_ROUTE_TEAM_A: 'https://hooks.slack.com/services/T0/B1/a',
  SLACK_ROUTE_TEAM_B: 'https://hooks.slack.com/services/T0/B2/b',
  SLACK_ROUTE_PLATFORM: 'https://hooks.slack.com/services/T0/B3/p',
  NAMESPACE_ROUTES: 'team-a-*=team-a, team-*=team-b, team-a-shared=team-b, payments=team_b',
  ALSO_SEND_TO: 'platform',
});

const route = (value: string): Readonly<Record<string, string>> => ({ 'kube-job-alerts.io/route': value });
const job = (namespace: string, annotations?: Record<string, string>): Annotated => ({ metadata: { name: 'nightly-1', namespace, ...(annotations ? { annotations } : {}) } });
const cronJob = (namespace: string, annotations?: Record<string, string>): Annotated => ({ metadata: { name: 'nightly', namespace, ...(annotations ? { annotations } : {}) } });
const ns = (name: string, annotations?: Record<string, string>): Annotated => ({ metadata: { name, ...(annotations ? { annotations } : {}) } });

describe('chooseRoute', () => {
  const table: [string, Owners, string, string][] = [
    // name, owners, route, why
    ['nothing said: the default', { job: job('batch') }, 'default', 'default'],
    ['the Job\'s annotation', { job: job('batch', route('team-a')) }, 'team-a', 'annotation on Job batch/nightly-1'],
    ['the CronJob\'s annotation', { job: job('batch'), cronJob: cronJob('batch', route('team-b')) }, 'team-b', 'annotation on CronJob batch/nightly'],
    ['the Namespace\'s annotation', { job: job('batch'), cronJob: cronJob('batch'), namespace: ns('batch', route('team-a')) }, 'team-a', 'annotation on Namespace batch'],
    ['the Job over its CronJob', { job: job('batch', route('team-a')), cronJob: cronJob('batch', route('team-b')) }, 'team-a', 'annotation on Job batch/nightly-1'],
    ['the CronJob over the Namespace', { job: job('batch'), cronJob: cronJob('batch', route('team-b')), namespace: ns('batch', route('team-a')) }, 'team-b', 'annotation on CronJob batch/nightly'],
    ['the Namespace over NAMESPACE_ROUTES', { job: job('team-a-etl'), namespace: ns('team-a-etl', route('team-b')) }, 'team-b', 'annotation on Namespace team-a-etl'],
    ['an annotation over NAMESPACE_ROUTES', { job: job('team-a-etl', route('platform')) }, 'platform', 'annotation on Job team-a-etl/nightly-1'],
    ['`default` by name overrides NAMESPACE_ROUTES', { job: job('team-a-etl', route('default')) }, 'default', 'annotation on Job team-a-etl/nightly-1'],
    ['names compare without case, _ as -', { job: job('batch', route(' Team_A ')) }, 'team-a', 'annotation on Job batch/nightly-1'],
    ['a blank annotation is not set', { job: job('batch', route('  ')), cronJob: cronJob('batch', route('team-b')) }, 'team-b', 'annotation on CronJob batch/nightly'],
    ['NAMESPACE_ROUTES: a prefix', { job: job('team-a-etl') }, 'team-a', 'NAMESPACE_ROUTES team-a-*'],
    ['NAMESPACE_ROUTES: the longest prefix', { job: job('team-b-etl') }, 'team-b', 'NAMESPACE_ROUTES team-*'],
    ['NAMESPACE_ROUTES: an exact name over a prefix', { job: job('team-a-shared') }, 'team-b', 'NAMESPACE_ROUTES team-a-shared'],
    ['NAMESPACE_ROUTES: an exact name', { job: job('payments') }, 'team-b', 'NAMESPACE_ROUTES payments'],
    ['NAMESPACE_ROUTES: exact means exact', { job: job('payments-dev') }, 'default', 'default'],
    ['a Job without a namespace', { job: { metadata: { name: 'x' } } }, 'default', 'default'],
  ];
  for (const [name, owners, expected, why] of table) {
    it(name, () => {
      const choice = chooseRoute(owners, config);
      assert.deepEqual(choice, { route: expected, why });
    });
  }

  it('an unknown route: the default, and a warning naming the object, the name and the routes', () => {
    const choice = chooseRoute({ job: job('team-a-etl'), cronJob: cronJob('team-a-etl', route('team-c')) }, config);
    assert.equal(choice.route, 'default');
    assert.equal(
      choice.warning,
      'CronJob team-a-etl/nightly: kube-job-alerts.io/route names the route "team-c", which is not configured (routes: default, platform, team-a, team-b): sent to the default route',
    );
  });

  it('an unknown route on the Job is not overruled by a valid one below it: the typo must show', () => {
    const choice = chooseRoute({ job: job('batch', route('tema-a')), cronJob: cronJob('batch', route('team-a')) }, config);
    assert.equal(choice.route, 'default');
    assert.match(choice.warning!, /^Job batch\/nightly-1: .* "tema-a"/);
  });

  it('a huge or odd value is cut and quoted in the warning', () => {
    const choice = chooseRoute({ job: job('batch', route(`<!channel>${'x'.repeat(500)}`)) }, config);
    assert.equal(choice.route, 'default');
    assert.ok(choice.warning!.length < 300, choice.warning);
    assert.match(choice.warning!, /"<!channel>x+…"/);
  });
});

describe('alsoSendTo and destinations', () => {
  it('adds the copy route, once', () => {
    assert.equal(alsoSendTo('team-a', config), 'platform');
    assert.equal(alsoSendTo('platform', config), undefined);
    assert.deepEqual(destinations({ route: 'team-a' }, config), ['team-a', 'platform']);
    assert.deepEqual(destinations({ route: 'platform' }, config), ['platform']);
    assert.deepEqual(destinations({ route: 'default' }, { alsoSendTo: undefined }), ['default']);
  });
});

describe('route names', () => {
  const table: [string, string, boolean][] = [
    ['TEAM_A', 'team-a', true],
    ['team-a', 'team-a', true],
    [' Payments ', 'payments', true],
    ['a', 'a', true],
    ['_A', '-a', false],
    ['TEAM_', 'team-', false],
    ['team.a', 'team.a', false],
    ['', '', false],
    ['x'.repeat(64), 'x'.repeat(64), false],
  ];
  for (const [written, normalised, valid] of table) {
    it(`${JSON.stringify(written)} -> ${normalised} (${valid ? 'valid' : 'invalid'})`, () => {
      assert.equal(normaliseRouteName(written), normalised);
      assert.equal(routeNameProblem(normalised) === undefined, valid);
    });
  }
});

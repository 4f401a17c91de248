import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseDuration } from '../../src/config.ts';

const SECRET = 'https://hooks.slack.com/services/T0001/B0001/s3cr3tT0k3n';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

describe('parseDuration', () => {
  const table: [string, number | undefined][] = [
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    [' 5m ', 300_000],
    ['5', undefined],
    ['1.5h', undefined],
    ['-1h', undefined],
    ['h', undefined],
    ['', undefined],
    ['1w', undefined],
  ];
  for (const [input, expected] of table) it(`${JSON.stringify(input)} -> ${expected}`, () => assert.equal(parseDuration(input), expected));
});

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({ SLACK_WEBHOOK_URL: SECRET });
    assert.deepEqual({ ...config }, {
      slackWebhookUrl: SECRET,
      watchNamespaces: undefined,
      clusterName: undefined,
      httpPort: 8080,
      alertMaxAgeMs: 3_600_000,
      stateStore: 'annotation',
      logTailLines: 20,
      logLevel: 'info',
      dryRun: false,
      leaderElection: false,
      podName: undefined,
      podNamespace: undefined,
      leaseName: 'kube-job-alerts',
      alertAfter: 1,
      repeat: { mode: 'every-failure' },
      notifyRecovery: true,
      groupThreshold: 5,
      groupWindowMs: 10_000,
    });
    assert.ok(Object.isFrozen(config));
  });

  it('reads every variable', () => {
    const config = loadConfig({
      SLACK_WEBHOOK_URL: SECRET,
      WATCH_NAMESPACES: 'batch, etl ,batch',
      CLUSTER_NAME: 'prod-eu',
      HTTP_PORT: '9090',
      ALERT_MAX_AGE: '2d',
      STATE_STORE: 'memory',
      LOG_TAIL_LINES: '50',
      LOG_LEVEL: 'debug',
      DRY_RUN: 'false',
      POD_NAME: 'kja-0',
      POD_NAMESPACE: 'ops',
      LEASE_NAME: 'my-lease',
      ALERT_AFTER: '3',
      REPEAT: '2h',
      NOTIFY_RECOVERY: 'false',
    });
    assert.equal(config.alertAfter, 3);
    assert.deepEqual(config.repeat, { mode: 'interval', everyMs: 7_200_000 });
    assert.equal(config.notifyRecovery, false);
    assert.deepEqual(config.watchNamespaces, ['batch', 'etl']);
    assert.equal(config.clusterName, 'prod-eu');
    assert.equal(config.httpPort, 9090);
    assert.equal(config.alertMaxAgeMs, 172_800_000);
    assert.equal(config.stateStore, 'memory');
    assert.equal(config.logTailLines, 50);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.podName, 'kja-0');
    assert.equal(config.podNamespace, 'ops');
    assert.equal(config.leaseName, 'my-lease');
  });

  it('takes * for all namespaces', () => assert.equal(loadConfig({ DRY_RUN: 'true', WATCH_NAMESPACES: '*' }).watchNamespaces, 'all'));
  it('needs no webhook for check (requireWebhook: false), but still refuses a malformed one', () => {
    assert.equal(loadConfig({}, { requireWebhook: false }).slackWebhookUrl, undefined);
    assert.throws(() => loadConfig({ SLACK_WEBHOOK_URL: 'nope' }, { requireWebhook: false }), ConfigError);
  });
  it('needs no webhook in dry run', () => assert.equal(loadConfig({ DRY_RUN: 'true' }).slackWebhookUrl, undefined));
  it('treats an empty variable as unset', () => assert.equal(loadConfig({ DRY_RUN: 'true', HTTP_PORT: '' }).httpPort, 8080));

  const bad: [string, Record<string, string>, RegExp][] = [
    ['missing webhook', {}, /^SLACK_WEBHOOK_URL: is required/],
    ['webhook not a URL', { SLACK_WEBHOOK_URL: 'hooks.slack.com/s3cr3tT0k3n' }, /^SLACK_WEBHOOK_URL: is not a valid URL/],
    ['webhook over plain http', { SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/s3cr3tT0k3n' }, /^SLACK_WEBHOOK_URL: must be an https/],
    ['namespace list and *', { DRY_RUN: 'true', WATCH_NAMESPACES: 'a,*' }, /^WATCH_NAMESPACES: use either \*/],
    ['bad namespace', { DRY_RUN: 'true', WATCH_NAMESPACES: 'ok,Not_OK' }, /^WATCH_NAMESPACES: not valid namespace names: Not_OK$/],
    ['port out of range', { DRY_RUN: 'true', HTTP_PORT: '70000' }, /^HTTP_PORT: must be a whole number/],
    ['duration without unit', { DRY_RUN: 'true', ALERT_MAX_AGE: '60' }, /^ALERT_MAX_AGE: must be a duration/],
    ['unknown store', { DRY_RUN: 'true', STATE_STORE: 'redis' }, /^STATE_STORE: /],
    ['tail lines not a number', { DRY_RUN: 'true', LOG_TAIL_LINES: 'lots' }, /^LOG_TAIL_LINES: must be a whole number/],
    ['unknown log level', { DRY_RUN: 'true', LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    ['dry run not a boolean', { DRY_RUN: 'maybe' }, /^DRY_RUN: /],
    ['bad pod namespace', { DRY_RUN: 'true', POD_NAMESPACE: 'Ops!' }, /^POD_NAMESPACE: not a valid namespace name/],
    ['leader election before it exists', { DRY_RUN: 'true', LEADER_ELECTION: 'true' }, /^LEADER_ELECTION: /],
    ['alert-after of 0', { DRY_RUN: 'true', ALERT_AFTER: '0' }, /^ALERT_AFTER: must be a whole number from 1 to 1000 \(got "0"\)/],
    ['repeat weekly', { DRY_RUN: 'true', REPEAT: 'weekly' }, /^REPEAT: must be every-failure, first, or a duration of at least 1m such as 1h \(got "weekly"\)/],
    ['repeat every 30 s', { DRY_RUN: 'true', REPEAT: '30s' }, /^REPEAT: must be every-failure/],
    ['recovery not a boolean', { DRY_RUN: 'true', NOTIFY_RECOVERY: 'sometimes' }, /^NOTIFY_RECOVERY: /],
  ];
  for (const [name, env, expected] of bad) {
    it(`rejects ${name}, naming the variable`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, expected);
    });
  }

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ SLACK_WEBHOOK_URL: 'x', HTTP_PORT: 'x', ALERT_MAX_AGE: 'x', LOG_LEVEL: 'x' });
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['ALERT_MAX_AGE', 'HTTP_PORT', 'LOG_LEVEL', 'SLACK_WEBHOOK_URL']);
  });

  it('never repeats the webhook URL in a problem', () => {
    for (const value of ['s3cr3tT0k3n', 'http://hooks.slack.com/services/s3cr3tT0k3n', 'ftp://x/s3cr3tT0k3n']) {
      for (const problem of problemsOf({ SLACK_WEBHOOK_URL: value })) assert.doesNotMatch(problem, /s3cr3tT0k3n/);
    }
  });
});

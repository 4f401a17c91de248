import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseDuration, routeFingerprints } from '../../src/config.ts';
import { settingsFrom } from '../../src/settings.ts';

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
      heartbeatUrl: undefined,
      heartbeatIntervalMs: 60_000,
      routes: new Map(),
      namespaceRoutes: [],
      alsoSendTo: undefined,
      allowBroadcastMentions: false,
      linkTemplates: [],
      excludeNamespaces: [{ text: 'kube-system', value: 'kube-system', prefix: false }],
      jobLabelSelector: undefined,
      namespaceAnnotations: false,
      missedScheduleGraceMs: 300_000,
      skippedRunsAlert: 2,
      neverSucceededAfter: 3,
      slowRuns: false,
      stuckAfterMs: undefined,
      pendingAlertAfterMs: 600_000,
      scheduleTimeZone: 'UTC',
      notReadyAfterMs: 120_000,
      outboxMaxPending: 1000,
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
      MISSED_SCHEDULE_GRACE: '2m',
      SKIPPED_RUNS_ALERT: '5',
      STUCK_AFTER: '1h30m',
      PENDING_ALERT_AFTER: '15m',
      SCHEDULE_TIME_ZONE: ' Europe/Berlin ',
      NOT_READY_AFTER: '5m',
      OUTBOX_MAX_PENDING: '200',
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
    assert.equal(config.missedScheduleGraceMs, 120_000);
    assert.equal(config.skippedRunsAlert, 5);
    assert.equal(config.stuckAfterMs, 5_400_000);
    assert.equal(config.pendingAlertAfterMs, 900_000);
    assert.equal(config.scheduleTimeZone, 'Europe/Berlin');
    assert.equal(config.notReadyAfterMs, 300_000);
    assert.equal(config.outboxMaxPending, 200);
    assert.equal(settingsFrom(config).outbox.maxPending, 200);
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
    ['readiness delay without unit', { DRY_RUN: 'true', NOT_READY_AFTER: '120' }, /^NOT_READY_AFTER: must be a duration/],
    ['outbox bound too small', { DRY_RUN: 'true', OUTBOX_MAX_PENDING: '1' }, /^OUTBOX_MAX_PENDING: must be a whole number from 10 to 100000 \(got "1"\)$/],
    ['unknown store', { DRY_RUN: 'true', STATE_STORE: 'redis' }, /^STATE_STORE: /],
    ['tail lines not a number', { DRY_RUN: 'true', LOG_TAIL_LINES: 'lots' }, /^LOG_TAIL_LINES: must be a whole number/],
    ['unknown log level', { DRY_RUN: 'true', LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    ['dry run not a boolean', { DRY_RUN: 'maybe' }, /^DRY_RUN: /],
    ['bad pod namespace', { DRY_RUN: 'true', POD_NAMESPACE: 'Ops!' }, /^POD_NAMESPACE: not a valid namespace name/],
    ['grace without unit', { DRY_RUN: 'true', MISSED_SCHEDULE_GRACE: '300' }, /^MISSED_SCHEDULE_GRACE: must be a duration such as 90s, 30m, 1h or 2d \(got "300"\)$/],
    ['skipped runs zero', { DRY_RUN: 'true', SKIPPED_RUNS_ALERT: '0' }, /^SKIPPED_RUNS_ALERT: must be a whole number from 1 to 1000 \(got "0"\)$/],
    ['stuck after not a duration', { DRY_RUN: 'true', STUCK_AFTER: 'never' }, /^STUCK_AFTER: must be a duration/],
    ['pending after zero', { DRY_RUN: 'true', PENDING_ALERT_AFTER: '0m' }, /^PENDING_ALERT_AFTER: must be a duration/],
    ['unknown time zone', { DRY_RUN: 'true', SCHEDULE_TIME_ZONE: 'Mars/Olympus' }, /^SCHEDULE_TIME_ZONE: must be an IANA time zone such as UTC or Europe\/Berlin \(got "Mars\/Olympus"\)$/],
    ['time zone in the wrong case', { DRY_RUN: 'true', SCHEDULE_TIME_ZONE: 'europe/berlin' }, /^SCHEDULE_TIME_ZONE: must be an IANA time zone/],
    ['time zone as an offset', { DRY_RUN: 'true', SCHEDULE_TIME_ZONE: '+01:00' }, /^SCHEDULE_TIME_ZONE: must be an IANA time zone/],
    ['alert-after of 0', { DRY_RUN: 'true', ALERT_AFTER: '0' }, /^ALERT_AFTER: must be a whole number from 1 to 1000 \(got "0"\)/],
    ['repeat weekly', { DRY_RUN: 'true', REPEAT: 'weekly' }, /^REPEAT: must be every-failure, first, or a duration of at least 1m such as 1h \(got "weekly"\)/],
    ['repeat every 30 s', { DRY_RUN: 'true', REPEAT: '30s' }, /^REPEAT: must be every-failure/],
    ['recovery not a boolean', { DRY_RUN: 'true', NOTIFY_RECOVERY: 'sometimes' }, /^NOTIFY_RECOVERY: /],
    ['leader election without POD_NAME', { DRY_RUN: 'true', LEADER_ELECTION: 'true', POD_NAMESPACE: 'ops' }, /^POD_NAME: is required with LEADER_ELECTION=true/],
    ['leader election without POD_NAMESPACE', { DRY_RUN: 'true', LEADER_ELECTION: 'true', POD_NAME: 'kja-0' }, /^POD_NAMESPACE: is required with LEADER_ELECTION=true/],
    ['leader election with a bad POD_NAMESPACE (said once)', { DRY_RUN: 'true', LEADER_ELECTION: 'true', POD_NAME: 'kja-0', POD_NAMESPACE: 'Ops!' }, /^POD_NAMESPACE: not a valid namespace name/],
    ['leader election not a boolean', { DRY_RUN: 'true', LEADER_ELECTION: 'on please' }, /^LEADER_ELECTION: /],
    ['a lease name with capitals', { DRY_RUN: 'true', LEASE_NAME: 'My_Lease' }, /^LEASE_NAME: not a valid object name .*: My_Lease$/],
    ['a lease name too long', { DRY_RUN: 'true', LEASE_NAME: 'a'.repeat(254) }, /^LEASE_NAME: not a valid object name/],
  ];
  for (const [name, env, expected] of bad) {
    it(`rejects ${name}, naming the variable`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, expected);
    });
  }

  it('LEADER_ELECTION=true with POD_NAME and POD_NAMESPACE: the Lease kube-job-alerts in the pod\'s namespace', () => {
    const config = loadConfig({ DRY_RUN: 'true', LEADER_ELECTION: 'true', POD_NAME: 'kube-job-alerts-5d8f7c9b6-x7k2p', POD_NAMESPACE: 'ops' });
    assert.deepEqual([config.leaderElection, config.podName, config.podNamespace, config.leaseName], [true, 'kube-job-alerts-5d8f7c9b6-x7k2p', 'ops', 'kube-job-alerts']);
  });
  it('a lease name may be any DNS subdomain', () => assert.equal(loadConfig({ DRY_RUN: 'true', LEASE_NAME: 'kja.leader-1' }).leaseName, 'kja.leader-1'));
  it('LEADER_ELECTION=true alone names both missing variables', () => {
    assert.deepEqual(problemsOf({ DRY_RUN: 'true', LEADER_ELECTION: 'true' }).map((p) => p.split(':')[0]), ['POD_NAME', 'POD_NAMESPACE']);
  });

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

describe('loadConfig: routes, mentions, links, what is watched', () => {
  const ROUTE_SECRET = 'r0ut3S3cr3tT0k3n';
  const base = { SLACK_WEBHOOK_URL: SECRET };

  it('reads SLACK_ROUTE_<NAME>: lower case, _ as -; the Map prints as {} so no log shows a URL', () => {
    const config = loadConfig({ ...base, SLACK_ROUTE_TEAM_A: `https://hooks.slack.com/services/T1/B1/${ROUTE_SECRET}`, 'SLACK_ROUTE_payments-eu': 'https://hooks.slack.com/services/T1/B2/p', SLACK_ROUTE_EMPTY: '' });
    assert.deepEqual([...config.routes.keys()], ['team-a', 'payments-eu']);
    assert.equal(config.routes.get('team-a'), `https://hooks.slack.com/services/T1/B1/${ROUTE_SECRET}`);
    assert.equal(JSON.stringify({ ...config }).includes(ROUTE_SECRET), false);
    assert.deepEqual(routeFingerprints(config, (url) => `…${url.slice(-4)}`), { 'team-a': '…0k3n', 'payments-eu': '…B2/p' });
  });

  it('reads every routing variable', () => {
    const config = loadConfig({
      ...base,
      WATCH_NAMESPACES: '*',
      SLACK_ROUTE_TEAM_A: 'https://hooks.slack.com/services/T1/B1/a',
      SLACK_ROUTE_PLATFORM: 'https://hooks.slack.com/services/T1/B3/p',
      NAMESPACE_ROUTES: 'team-a-*=Team_A, billing=default',
      ALSO_SEND_TO: 'PLATFORM',
      ALLOW_BROADCAST_MENTIONS: 'true',
      LINK_TEMPLATES: 'logs=https://logs.example/?q={namespace}',
      EXCLUDE_NAMESPACES: 'kube-system, kube-public, sandbox-*',
      JOB_LABEL_SELECTOR: 'alerts notin (off)',
      NAMESPACE_ANNOTATIONS: 'true',
    });
    assert.deepEqual(config.namespaceRoutes.map(({ pattern, route }) => [pattern.text, route]), [['team-a-*', 'team-a'], ['billing', 'default']]);
    assert.equal(config.alsoSendTo, 'platform');
    assert.equal(config.allowBroadcastMentions, true);
    assert.deepEqual(config.linkTemplates.map((t) => t.name), ['logs']);
    assert.deepEqual(config.excludeNamespaces.map((p) => p.text), ['kube-system', 'kube-public', 'sandbox-*']);
    assert.equal(config.jobLabelSelector?.text, 'alerts notin (off)');
    assert.equal(config.namespaceAnnotations, true);
    assert.ok(Object.isFrozen(config.namespaceRoutes) && Object.isFrozen(config.excludeNamespaces) && Object.isFrozen(config.linkTemplates));
  });

  const annotations: [string, Record<string, string>, boolean][] = [
    ['cluster-wide, asked for', { WATCH_NAMESPACES: '*', NAMESPACE_ANNOTATIONS: 'true' }, true],
    ['cluster-wide with routes, not asked for (it needs RBAC the install may lack)', { WATCH_NAMESPACES: '*', SLACK_ROUTE_A: 'https://h.example/a' }, false],
    ['cluster-wide, declined', { WATCH_NAMESPACES: '*', NAMESPACE_ANNOTATIONS: 'false' }, false],
    ['a namespace list', { WATCH_NAMESPACES: 'a,b', NAMESPACE_ANNOTATIONS: 'false' }, false],
  ];
  for (const [name, env, expected] of annotations) {
    it(`NAMESPACE_ANNOTATIONS: ${name} -> ${expected}`, () => assert.equal(loadConfig({ ...base, ...env }).namespaceAnnotations, expected));
  }

  it('EXCLUDE_NAMESPACES=- excludes nothing', () => assert.deepEqual(loadConfig({ ...base, EXCLUDE_NAMESPACES: '-' }).excludeNamespaces, []));

  const bad: [string, Record<string, string>, RegExp][] = [
    ['a route URL that is not a URL', { SLACK_ROUTE_TEAM_A: ROUTE_SECRET }, /^SLACK_ROUTE_TEAM_A: is not a valid URL \(value not shown: it is a secret\)$/],
    ['a route URL over plain http', { SLACK_ROUTE_TEAM_A: `http://hooks.slack.com/${ROUTE_SECRET}` }, /^SLACK_ROUTE_TEAM_A: must be an https:\/\/ URL/],
    ['a route without a name', { SLACK_ROUTE_: 'https://h.example/x' }, /^SLACK_ROUTE_: "" is not a route name/],
    ['a route name with a dot', { 'SLACK_ROUTE_TEAM.A': 'https://h.example/x' }, /^SLACK_ROUTE_TEAM\.A: "team\.a" is not a route name/],
    ['the route default', { SLACK_ROUTE_DEFAULT: 'https://h.example/x' }, /^SLACK_ROUTE_DEFAULT: "default" is SLACK_WEBHOOK_URL's route/],
    ['one route twice', { SLACK_ROUTE_TEAM_A: 'https://h.example/x', 'SLACK_ROUTE_team-a': 'https://h.example/y' }, /^SLACK_ROUTE_team-a: the route team-a is also set by SLACK_ROUTE_TEAM_A/],
    ['NAMESPACE_ROUTES naming unknown routes', { SLACK_ROUTE_A: 'https://h.example/a', NAMESPACE_ROUTES: 'x=a,y=team-b,z-*=team-c' }, /^NAMESPACE_ROUTES: unknown routes team-b, team-c \(configured: default, a; add SLACK_ROUTE_<NAME>\)$/],
    ['NAMESPACE_ROUTES without =', { NAMESPACE_ROUTES: 'batch' }, /^NAMESPACE_ROUTES: "batch" is not namespace=route/],
    ['NAMESPACE_ROUTES with a bad namespace', { NAMESPACE_ROUTES: 'Batch=default' }, /^NAMESPACE_ROUTES: "Batch" is not a valid namespace name$/],
    ['NAMESPACE_ROUTES matching everything', { NAMESPACE_ROUTES: '*=default' }, /^NAMESPACE_ROUTES: "\*" is not a namespace name or a prefix/],
    ['NAMESPACE_ROUTES with a namespace twice', { NAMESPACE_ROUTES: 'a=default,a=default' }, /^NAMESPACE_ROUTES: a is given twice$/],
    ['ALSO_SEND_TO an unknown route', { ALSO_SEND_TO: 'platform' }, /^ALSO_SEND_TO: unknown route platform \(configured: default;/],
    ['ALLOW_BROADCAST_MENTIONS not a boolean', { ALLOW_BROADCAST_MENTIONS: 'sometimes' }, /^ALLOW_BROADCAST_MENTIONS: /],
    ['a link template with an unknown placeholder', { LINK_TEMPLATES: 'logs=https://logs.example/{pods}' }, /^LINK_TEMPLATES: "logs": unknown placeholder \{pods\}/],
    ['a link template that is not http(s)', { LINK_TEMPLATES: 'logs=ftp://logs.example/{pod}' }, /^LINK_TEMPLATES: "logs": must be an http/],
    ['a bad excluded namespace', { EXCLUDE_NAMESPACES: 'kube-system,Kube_Public' }, /^EXCLUDE_NAMESPACES: "Kube_Public" is not a valid namespace name \(use - to exclude nothing\)$/],
    ['a label selector the server refuses', { JOB_LABEL_SELECTOR: 'app=etl,,tier' }, /^JOB_LABEL_SELECTOR: not a label selector the API server accepts: found "," after ","/],
    ['a label selector with a bad key', { JOB_LABEL_SELECTOR: 'Example.com/team=a' }, /^JOB_LABEL_SELECTOR: .*prefix must be a DNS subdomain/],
    ['NAMESPACE_ANNOTATIONS without cluster-wide', { NAMESPACE_ANNOTATIONS: 'true' }, /^NAMESPACE_ANNOTATIONS: true needs WATCH_NAMESPACES=\*/],
  ];
  for (const [name, env, expected] of bad) {
    it(`rejects ${name}, naming the variable`, () => {
      const problems = problemsOf({ ...base, ...env });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, expected);
    });
  }

  it('never repeats a route URL in a problem', () => {
    for (const value of [ROUTE_SECRET, `http://hooks.slack.com/${ROUTE_SECRET}`, `ftp://x/${ROUTE_SECRET}`]) {
      const problems = problemsOf({ ...base, SLACK_ROUTE_TEAM_A: value, NAMESPACE_ROUTES: 'a=team-a' });
      assert.ok(problems.length >= 1);
      for (const problem of problems) assert.doesNotMatch(problem, new RegExp(ROUTE_SECRET));
    }
  });

  it('reports routing problems with the others, at once', () => {
    const problems = problemsOf({ HTTP_PORT: 'x', SLACK_ROUTE_A: 'nope', ALSO_SEND_TO: 'b', JOB_LABEL_SELECTOR: '=' });
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['ALSO_SEND_TO', 'HTTP_PORT', 'JOB_LABEL_SELECTOR', 'SLACK_ROUTE_A']);
  });
});

describe('the start log line, as main.ts writes it', () => {
  it('shows route fingerprints and never a route URL, even if config.routes is logged by mistake', async () => {
    const { createLogger } = await import('../../src/log.ts');
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const config = loadConfig({ SLACK_WEBHOOK_URL: SECRET, SLACK_ROUTE_TEAM_A: 'https://hooks.slack.com/services/T1/B1/r0ut3T0k3n' });
    const fingerprint = (url: string) => `${new URL(url).host}…${url.slice(-4)}`;
    logger.info({ config: { ...config, slackWebhookUrl: undefined, routes: undefined }, routes: routeFingerprints(config, fingerprint) }, 'starting');
    logger.info({ config }, 'the mistake: the whole config');
    logger.info({ routes: config.routes }, 'the map alone');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.doesNotMatch(line, /r0ut3T0k3n|s3cr3tT0k3n/);
    assert.deepEqual(JSON.parse(lines[0]!).routes, { 'team-a': 'hooks.slack.com…0k3n' });
  });
});

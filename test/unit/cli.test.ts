/**
 * The command line's pure parts: argument parsing, the usage text (kept in step with README's Configuration
 * table), the permission table, and the sample alert (valid for Slack). Nothing here reaches a server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { main, parseCommandLine, permissionTable, routingLines, sampleAlert, usage, type Output } from '../../src/cli.ts';
import { loadConfig } from '../../src/config.ts';
import type { Permission, PermissionCheck } from '../../src/kube/permissions.ts';
import { buildAlert } from '../../src/slack/format.ts';
import { validate } from '../world/slack.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function captured(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => void stdout.push(line), err: (line) => void stderr.push(line) };
}

describe('parseCommandLine', () => {
  const cases: [string[], ReturnType<typeof parseCommandLine>['kind'], string?][] = [
    [[], 'command', 'run'],
    [['run'], 'command', 'run'],
    [['check'], 'command', 'check'],
    [['test-alert'], 'command', 'test-alert'],
    [['test-alert', '--dry-run'], 'command', 'test-alert'],
    [['--dry-run'], 'command', 'run'],
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['help'], 'help'],
    [['check', '--help'], 'help'],
    [['--version'], 'version'],
    [['frobnicate'], 'usage-error'],
    [['--frobnicate'], 'usage-error'],
    [['check', 'test-alert'], 'usage-error'],
    [['--dry-run=yes'], 'usage-error'],
    [['test-alert', '--route', 'team-a'], 'command', 'test-alert'],
    [['test-alert', '--route=team-a', '--dry-run'], 'command', 'test-alert'],
    [['check', '--route', 'team-a'], 'usage-error'],
    [['--route', 'team-a'], 'usage-error'],
    [['test-alert', '--route'], 'usage-error'],
    [['test-alert', '--route', ' '], 'usage-error'],
  ];
  for (const [argv, kind, command] of cases) {
    it(`${JSON.stringify(argv)} -> ${kind}${command ? ` ${command}` : ''}`, () => {
      const invocation = parseCommandLine(argv);
      assert.equal(invocation.kind, kind);
      if (invocation.kind === 'command') assert.equal(invocation.command, command);
    });
  }

  it('--dry-run is a flag of any command', () => {
    assert.deepEqual(parseCommandLine(['check', '--dry-run']), { kind: 'command', command: 'check', dryRun: true });
    assert.deepEqual(parseCommandLine(['check']), { kind: 'command', command: 'check', dryRun: false });
  });

  it('--route NAME is an option of test-alert', () => {
    assert.deepEqual(parseCommandLine(['test-alert', '--route', 'Team_A']), { kind: 'command', command: 'test-alert', dryRun: false, route: 'Team_A' });
    assert.deepEqual(parseCommandLine(['check', '--route', 'a']), { kind: 'usage-error', problem: '--route is an option of test-alert' });
  });
});

describe('usage', () => {
  it('has one line for every variable of README\'s Configuration table', () => {
    const table = README.slice(README.indexOf('## Configuration'), README.indexOf('## Annotations'));
    const variables = [...table.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|/gm)].flatMap((match) => match[1]!.split(', ').map((name) => name.slice(1, -1)));
    assert.ok(variables.length >= 12, `read ${variables.length} variables from README`);
    const text = usage();
    for (const variable of variables) assert.match(text, new RegExp(`^  ${variable} +\\S`, 'm'), variable);
  });

  it('names every command', () => {
    for (const command of ['run', 'check', 'test-alert']) assert.match(usage(), new RegExp(`^  ${command} +\\S`, 'm'));
  });
});

describe('main, before any server is reached', () => {
  it('refuses bad configuration with the daemon\'s messages, exit 1', async () => {
    const output = captured();
    assert.equal(await main(['check'], { HTTP_PORT: 'x', LOG_TAIL_LINES: '5000' }, output), 1);
    assert.deepEqual(output.stderr.sort(), [
      'kube-job-alerts: HTTP_PORT: must be a whole number from 0 to 65535 (got "x")',
      'kube-job-alerts: LOG_TAIL_LINES: must be a whole number from 0 to 1000 (got "5000")',
    ]);
  });

  it('test-alert needs a webhook unless --dry-run, which prints the payload', async () => {
    const refused = captured();
    assert.equal(await main(['test-alert'], {}, refused), 1);
    assert.match(refused.stderr.join('\n'), /SLACK_WEBHOOK_URL: is required/);
    const dry = captured();
    assert.equal(await main(['test-alert', '--dry-run'], { CLUSTER_NAME: 'unit' }, dry), 0);
    const payload = JSON.parse(dry.stdout.join('\n'));
    assert.deepEqual(validate(payload), []);
    assert.match(JSON.stringify(payload), /unit/);
  });

  it('usage errors go to stderr with exit 2; help to stdout with exit 0', async () => {
    const wrong = captured();
    assert.equal(await main(['nope'], {}, wrong), 2);
    assert.deepEqual(wrong.stdout, []);
    assert.match(wrong.stderr.join('\n'), /unknown command "nope"[\s\S]*Usage:/);
    const help = captured();
    assert.equal(await main(['--help'], {}, help), 0);
    assert.deepEqual(help.stderr, []);
  });
});

describe('permissionTable', () => {
  const permission = (verb: Permission['verb'], resource: string, namespace: string, group: Permission['group'] = ''): Permission =>
    ({ verb, group, resource, namespace, why: `why ${verb} ${resource}`, without: 'something breaks' });
  const rows: PermissionCheck[] = [
    { permission: permission('list', 'jobs', 'default', 'batch'), allowed: true },
    { permission: permission('patch', 'jobs', '', 'batch'), allowed: false },
    { permission: permission('get', 'pods/log', 'a-long-namespace'), allowed: 'unknown', error: 'HTTP 500' },
  ];

  it('aligns the columns, shows the group, * for all namespaces, and yes / NO / unknown', () => {
    assert.equal(
      permissionTable(rows),
      [
        'VERB   RESOURCE    NAMESPACE         ALLOWED  WHY NEEDED',
        'list   jobs.batch  default           yes      why list jobs',
        'patch  jobs.batch  *                 NO       why patch jobs',
        'get    pods/log    a-long-namespace  unknown  why get pods/log',
      ].join('\n'),
    );
  });
});

describe('sampleAlert', () => {
  it('is a realistic failure that builds into a message Slack accepts, and says it is a test', () => {
    const now = new Date('2026-11-25T02:04:53Z');
    const payload = buildAlert(sampleAlert('prod-eu', now));
    assert.deepEqual(validate(payload), []);
    assert.match(payload.text, /Job failed: example\/nightly-report-29414040 \(BackoffLimitExceeded\)/);
    const shown = JSON.stringify(payload);
    for (const part of ['prod-eu', '137', 'OOMKilled', 'SIGKILL', 'building index', 'no Job failed']) assert.ok(shown.includes(part), part);
  });
});

describe('test-alert --route, before any server is reached', () => {
  const routes = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/d3f4ult', SLACK_ROUTE_TEAM_A: 'https://hooks.slack.com/services/T0/B1/t34mA' };

  it('an unknown route is a usage error (2) naming it and the configured routes; nothing is sent', async () => {
    const output = captured();
    assert.equal(await main(['test-alert', '--route', 'team-b'], routes, output), 2);
    assert.deepEqual(output.stdout, []);
    assert.deepEqual(output.stderr, ['kube-job-alerts: unknown route "team-b": the configured routes are default, team-a (SLACK_ROUTE_<NAME> adds one)']);
  });

  it('a named route needs no default webhook; with --dry-run the sample is printed with its link buttons', async () => {
    const output = captured();
    const env = { SLACK_ROUTE_TEAM_A: routes.SLACK_ROUTE_TEAM_A, CLUSTER_NAME: 'unit', LINK_TEMPLATES: 'Logs=https://logs.example/?q={namespace}/{pod} Cluster=https://k8s.example/{cluster}' };
    assert.equal(await main(['test-alert', '--route', 'TEAM_A', '--dry-run'], env, output), 0);
    const payload = JSON.parse(output.stdout.join('\n'));
    assert.deepEqual(validate(payload), []);
    const actions = payload.blocks.at(-1);
    assert.equal(actions.type, 'actions');
    assert.deepEqual(actions.elements.map((button: { url: string }) => button.url), ['https://logs.example/?q=example/nightly-report-29414040-x7k2p', 'https://k8s.example/unit']);
  });

  it('the route default without SLACK_WEBHOOK_URL: exit 1 naming the variable', async () => {
    const output = captured();
    assert.equal(await main(['test-alert', '--route', 'default'], { SLACK_ROUTE_TEAM_A: routes.SLACK_ROUTE_TEAM_A }, output), 1);
    assert.match(output.stderr.join('\n'), /SLACK_WEBHOOK_URL: is required for the route default/);
  });
});

describe('routingLines (check)', () => {
  it('nothing for a single webhook', () => assert.deepEqual(routingLines(loadConfig({ DRY_RUN: 'true' }), () => 'fp'), []));

  it('each route with its fingerprint, never its URL; NAMESPACE_ROUTES, the copy, mentions and links', () => {
    const config = loadConfig({
      DRY_RUN: 'true',
      SLACK_ROUTE_TEAM_A: 'https://hooks.slack.com/services/T0/B1/s3cr3tA',
      SLACK_ROUTE_PLATFORM: 'https://hooks.slack.com/services/T0/B2/s3cr3tP',
      NAMESPACE_ROUTES: 'team-a-*=team-a',
      ALSO_SEND_TO: 'platform',
      LINK_TEMPLATES: 'View_logs=https://logs.example/{pod}',
    });
    const lines = routingLines(config, (url) => `…${url.slice(-4)}`);
    assert.deepEqual(lines, [
      'Routes:         platform (…r3tP), team-a (…r3tA)',
      'By namespace:   team-a-* -> team-a, else default',
      'Copy of all to: platform (ALSO_SEND_TO)',
      'Mentions:       user and group IDs; @here and @channel refused (ALLOW_BROADCAST_MENTIONS=false)',
      'Links:          View logs',
    ]);
    assert.doesNotMatch(lines.join('\n'), /s3cr3t/);
  });
});

/**
 * The command line's pure parts: argument parsing, the usage text (kept in step with README's Configuration
 * table), the permission table, and the sample alert (valid for Slack). Nothing here reaches a server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { main, parseCommandLine, permissionTable, sampleAlert, usage, type Output } from '../../src/cli.ts';
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

#!/usr/bin/env node
/**
 * The command line: `kube-job-alerts [run | check | test-alert] [--dry-run]`, plus `--help` and `--version`.
 *
 * - run (the default): the daemon, main.ts.
 * - check: what an operator wants to know before (or instead of) reading logs: is the configuration valid, is the
 *   API server reachable, and may this identity do every call the daemon makes? Exit 0 only when all are granted.
 * - test-alert: one sample alert through the real formatter and the real Slack delivery, to prove the webhook works.
 *
 * process.env is read in exactly one place, runCommandLine() below (the entry points, this file and main.ts, both
 * go through it); everything else gets `env` as a value and hands it to config.ts, which validates it.
 */
import { parseArgs } from 'node:util';
import type { Alert } from './alert.ts';
import { ConfigError, loadConfig, routeFingerprints, type Config, type LoadOptions } from './config.ts';
import { describeCauses } from './errors.ts';
import type { PermissionCheck } from './kube/permissions.ts';
import { DEFAULT_ROUTE, isKnownRoute, normaliseRouteName } from './route/choose.ts';
import { linksFor, linkValuesOf } from './route/links.ts';
import { describeJobs, describeNamespaces, watchScope } from './route/watched.ts';
import { withLinks } from './slack/actions.ts';
import { buildAlert } from './slack/format.ts';
import { packageVersion } from './version.ts';

// The Kubernetes client alone takes about a second to load: commands import what they use when they run, so
// --help, --version and a usage error answer at once.
const loadDaemon = () => import('./main.ts');
const loadKube = async () => ({ ...(await import('./kube/client.ts')), ...(await import('./kube/permissions.ts')) });
const loadDelivery = () => import('./slack/deliver.ts');

type Env = Readonly<Record<string, string | undefined>>;

export const COMMANDS = ['run', 'check', 'test-alert'] as const;
export type Command = (typeof COMMANDS)[number];

export type Invocation =
  | { readonly kind: 'command'; readonly command: Command; readonly dryRun: boolean; readonly route?: string }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly problem: string };

/** Where output goes; the entry point passes stdout and stderr, tests pass arrays. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes: 0 all good, 1 a check or delivery failed (or bad configuration), 2 the command line itself was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** test-alert gives up after this long, retries of 429 and 5xx included. */
const TEST_ALERT_DEADLINE_MS = 30_000;

/** One line per variable of README's Configuration table (a unit test keeps the two in step). */
export const ENVIRONMENT: readonly (readonly [name: string, meaning: string])[] = [
  ['SLACK_WEBHOOK_URL', 'the incoming webhook; a secret (required unless DRY_RUN=true; not needed by check)'],
  ['WATCH_NAMESPACES', 'comma list of namespaces, or * for all (default: own namespace, else the context\'s)'],
  ['CLUSTER_NAME', 'shown in every message (default: none)'],
  ['HTTP_PORT', 'serves /healthz, /readyz, /metrics (default 8080; 0 = any free port)'],
  ['ALERT_MAX_AGE', 'failures older than this when first seen are not alerted (default 1h; 90s, 30m, 2d, 1h30m)'],
  ['STATE_STORE', 'annotation (default: survives restarts, needs patch on jobs and cronjobs) or memory'],
  ['ALERT_AFTER', 'say nothing until a CronJob\'s Nth consecutive failure (default 1)'],
  ['REPEAT', 'every-failure (default), first (one message per streak), or a reminder interval such as 1h'],
  ['NOTIFY_RECOVERY', 'one message when a reported CronJob succeeds again (default true)'],
  ['GROUP_THRESHOLD', 'more failures than this within GROUP_WINDOW become one digest (default 5; 0: never group)'],
  ['GROUP_WINDOW', 'the storm window (default 10s)'],
  ['NEVER_SUCCEEDED_AFTER', 'one alert when a CronJob has run this many times and never succeeded (default 3; 0: never)'],
  ['SLOW_RUNS', 'true: also alert on a run over 3x the median of its CronJob\'s last successful runs (default false)'],
  ['HEARTBEAT_URL', 'a dead man\'s switch, pinged (GET) while watching and delivering; a secret (default: none)'],
  ['HEARTBEAT_INTERVAL', 'how often HEARTBEAT_URL is pinged (default 1m)'],
  ['LOG_TAIL_LINES', 'log lines of the failed container in a message, 0 to 1000 (default 20)'],
  ['LOG_LEVEL', 'fatal, error, warn, info (default), debug, trace or silent; logs are JSON lines'],
  ['DRY_RUN', 'true: log each Slack payload instead of posting it, and write nothing to the cluster (default false)'],
  ['LEADER_ELECTION', 'true: run several replicas, only the Lease holder delivers (default false; needs POD_NAME, POD_NAMESPACE)'],
  ['POD_NAMESPACE', 'the pod\'s namespace (downward API): watched when WATCH_NAMESPACES is unset'],
  ['POD_NAME', 'this replica\'s identity in the Lease (downward API); required with LEADER_ELECTION=true'],
  ['LEASE_NAME', 'the Lease in POD_NAMESPACE that replicas hold in turn (default kube-job-alerts)'],
  ['MISSED_SCHEDULE_GRACE', 'a CronJob run is missed this long after its time, unless startingDeadlineSeconds is set (default 5m)'],
  ['SKIPPED_RUNS_ALERT', 'alert when a Forbid CronJob skips this many runs because the last is still active (default 2)'],
  ['STUCK_AFTER', 'a Job running longer is stuck, unless kube-job-alerts.io/max-duration says otherwise (default: none)'],
  ['PENDING_ALERT_AFTER', 'alert when a Job\'s pods cannot be scheduled or started for this long (default 10m)'],
  ['SCHEDULE_TIME_ZONE', 'IANA zone of CronJob schedules without spec.timeZone (default UTC)'],
  ['NOT_READY_AFTER', '/readyz answers 503 once a watch has been unable to list or watch this long (default 2m)'],
  ['OUTBOX_MAX_PENDING', 'messages waiting per webhook while Slack is unreachable before the oldest fold into a digest (default 1000)'],
  ['KUBECONFIG', 'the cluster to talk to (else ~/.kube/config, else the in-cluster service account)'],
  ['SLACK_ROUTE_<NAME>', 'a named webhook (route <name>: lower case, _ as -); a secret. Chosen by annotation or NAMESPACE_ROUTES'],
  ['NAMESPACE_ROUTES', 'namespace=route list; a * suffix matches a prefix: team-a-*=team-a,billing=payments'],
  ['ALSO_SEND_TO', 'a route that gets a copy of every alert (default: none)'],
  ['ALLOW_BROADCAST_MENTIONS', 'true: a mention annotation may say @here or @channel (default false)'],
  ['LINK_TEMPLATES', 'link buttons: name=URL entries, space or newline separated, with {namespace}, {job}, {pod}, ...'],
  ['EXCLUDE_NAMESPACES', 'with WATCH_NAMESPACES=*: namespaces left out, * suffix for a prefix (default kube-system; - for none)'],
  ['JOB_LABEL_SELECTOR', 'only Jobs whose labels match this selector (app=etl, tier notin (test), !skip)'],
  ['NAMESPACE_ANNOTATIONS', 'true: read route, mention and runbook annotations of Namespaces; needs WATCH_NAMESPACES=* (default false)'],
];

export function usage(): string {
  const width = Math.max(...ENVIRONMENT.map(([name]) => name.length)) + 2;
  return [
    'Usage: kube-job-alerts [command] [--dry-run] [--route NAME]',
    '',
    'Posts to Slack, exactly once, when a Kubernetes Job fails.',
    '',
    'Commands:',
    '  run          watch Jobs and alert (the default)',
    '  check        validate the configuration, reach the API server, check every RBAC permission needed;',
    '               exit 0 when all are granted, 1 otherwise',
    '  test-alert   send one sample alert through the configured webhook (prints it instead with --dry-run)',
    '',
    'Options:',
    '  --dry-run    same as DRY_RUN=true',
    '  --route NAME test-alert: post to the route NAME (SLACK_ROUTE_<NAME>, or default)',
    '  -h, --help   this text',
    '  --version    the version',
    '',
    'Environment:',
    ...ENVIRONMENT.map(([name, meaning]) => `  ${name.padEnd(width)}${meaning}`),
  ].join('\n');
}

export function parseCommandLine(argv: readonly string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, route: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return { kind: 'usage-error', problem: error instanceof Error ? error.message : String(error) };
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals.length > 1) return { kind: 'usage-error', problem: `one command at a time (got: ${positionals.join(' ')})` };
  const command = positionals[0] ?? 'run';
  if (!(COMMANDS as readonly string[]).includes(command)) return { kind: 'usage-error', problem: `unknown command "${command}"` };
  const route = values.route;
  if (route !== undefined && command !== 'test-alert') return { kind: 'usage-error', problem: '--route is an option of test-alert' };
  if (route !== undefined && route.trim() === '') return { kind: 'usage-error', problem: '--route needs a route name' };
  return { kind: 'command', command: command as Command, dryRun: values['dry-run'] === true, ...(route !== undefined ? { route } : {}) };
}

export function version(): string {
  return packageVersion();
}

/** Runs one invocation. 'running' means the daemon started and the process must be left to it. */
export async function main(argv: readonly string[], env: Env, output: Output): Promise<number | 'running'> {
  const invocation = parseCommandLine(argv);
  switch (invocation.kind) {
    case 'usage-error':
      output.err(`kube-job-alerts: ${invocation.problem}\n`);
      output.err(usage());
      return EXIT.usage;
    case 'help':
      output.out(usage());
      return EXIT.ok;
    case 'version':
      output.out(`kube-job-alerts ${version()}`);
      return EXIT.ok;
  }
  const effective: Env = invocation.dryRun ? { ...env, DRY_RUN: 'true' } : env;
  switch (invocation.command) {
    case 'run':
      // Bad configuration is told before the Kubernetes client is loaded: in a tenth of a second, not a second.
      if (configOrProblems(effective, output) === undefined) return EXIT.failed;
      await (await loadDaemon()).runDaemon(effective);
      return 'running';
    case 'check':
      return check(effective, output);
    case 'test-alert':
      return testAlert(effective, output, invocation.route);
  }
}

/** The daemon's own messages, one line per problem; undefined when the configuration is not valid. */
function configOrProblems(env: Env, output: Output, options?: LoadOptions): Config | undefined {
  try {
    return loadConfig(env, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) output.err(`kube-job-alerts: ${problem}`);
    return undefined;
  }
}

async function check(env: Env, output: Output): Promise<number> {
  // check needs no webhook: a missing one is reported (webhookLine), not refused; a malformed one still is.
  const config = configOrProblems(env, output, { requireWebhook: false });
  if (!config) return EXIT.failed;
  const { connect, describeError, namespacesToWatch, checkPermissions, requiredPermissions, serverVersion, whereOf } = await loadKube();
  const { webhookFingerprint } = await loadDelivery();
  output.out('Configuration:  valid');
  output.out(`Slack webhook:  ${webhookLine(config, webhookFingerprint)}`);
  for (const line of routingLines(config, webhookFingerprint)) output.out(line);
  let clients;
  try {
    clients = connect();
  } catch (error) {
    output.err(`API server:     ${describeError(error)}`);
    return EXIT.failed;
  }
  try {
    output.out(`API server:     ${clients.server} (${await serverVersion(clients)})`);
  } catch (error) {
    output.err(`API server:     ${clients.server}: not reachable: ${describeError(error)}`);
    return EXIT.failed;
  }
  const namespaces = namespacesToWatch(config.watchNamespaces, config.podNamespace, clients.config);
  const scope = watchScope(config, namespaces);
  output.out(`Watching:       ${describeNamespaces(scope)} (STATE_STORE=${config.stateStore}, LOG_TAIL_LINES=${config.logTailLines})`);
  output.out(`Jobs:           ${describeJobs(scope)}`);
  if (config.namespaceAnnotations) output.out('Namespaces:     their route, mention and runbook annotations are read (NAMESPACE_ANNOTATIONS=true)');
  else if (namespaces === 'all') output.out('Namespaces:     their annotations are not read (NAMESPACE_ANNOTATIONS=true, with deploy/components/namespace-annotations, reads them)');
  const rows = await checkPermissions(clients, requiredPermissions(config, namespaces));
  output.out('');
  output.out(permissionTable(rows));
  output.out('');
  const missing = rows.filter((row) => row.allowed !== true);
  for (const { permission, allowed, error } of missing) {
    const what = `${permission.verb} ${permission.resource} ${whereOf(permission)}`;
    output.out(allowed === 'unknown' ? `Could not check ${what}: ${error ?? 'no answer'}` : `Cannot ${what}: ${permission.without}`);
  }
  if (missing.length === 0) {
    output.out(`All ${rows.length} permissions granted.`);
    return EXIT.ok;
  }
  const denied = missing.filter((row) => row.allowed === false).length;
  const unchecked = missing.length - denied;
  output.out(
    `${denied} of ${rows.length} permissions missing${unchecked > 0 ? `, ${unchecked} could not be checked` : ''}: ` +
      'deploy/role.yaml grants them all (deploy/overlays/cluster-wide for WATCH_NAMESPACES=*, deploy/overlays/ha for LEADER_ELECTION=true).',
  );
  return EXIT.failed;
}

function webhookLine(config: Config, webhookFingerprint: (url: string) => string): string {
  if (config.slackWebhookUrl !== undefined) return `set (${webhookFingerprint(config.slackWebhookUrl)})${config.dryRun ? ', but DRY_RUN=true: alerts are logged, not posted' : ''}`;
  return config.dryRun ? 'not set (DRY_RUN=true: alerts are logged, not posted)' : 'not set: `run` needs it (or DRY_RUN=true)';
}

/**
 * Where alerts go, for `check`: each route with its fingerprint (the URL's shape was validated with the config;
 * nothing is posted), NAMESPACE_ROUTES, ALSO_SEND_TO, mentions and links. Nothing for a single-webhook setup.
 */
export function routingLines(config: Config, webhookFingerprint: (url: string) => string): string[] {
  const lines: string[] = [];
  const fingerprints = Object.entries(routeFingerprints(config, webhookFingerprint));
  if (fingerprints.length > 0) lines.push(`Routes:         ${fingerprints.map(([name, fingerprint]) => `${name} (${fingerprint})`).join(', ')}`);
  if (config.namespaceRoutes.length > 0) {
    lines.push(`By namespace:   ${config.namespaceRoutes.map(({ pattern, route }) => `${pattern.text} -> ${route}`).join(', ')}, else ${DEFAULT_ROUTE}`);
  }
  if (config.alsoSendTo !== undefined) lines.push(`Copy of all to: ${config.alsoSendTo} (ALSO_SEND_TO)`);
  if (fingerprints.length > 0 || config.allowBroadcastMentions) {
    lines.push(`Mentions:       user and group IDs${config.allowBroadcastMentions ? ', @here and @channel' : '; @here and @channel refused (ALLOW_BROADCAST_MENTIONS=false)'}`);
  }
  if (config.linkTemplates.length > 0) lines.push(`Links:          ${config.linkTemplates.map((template) => template.label).join(', ')}`);
  return lines;
}

/** VERB  RESOURCE  NAMESPACE  ALLOWED  WHY NEEDED, columns padded to the widest cell; `*` is all namespaces. */
export function permissionTable(rows: readonly PermissionCheck[]): string {
  const cells = [
    ['VERB', 'RESOURCE', 'NAMESPACE', 'ALLOWED', 'WHY NEEDED'],
    ...rows.map(({ permission, allowed }) => [
      permission.verb,
      permission.group === '' ? permission.resource : `${permission.resource}.${permission.group}`,
      permission.namespace === '' ? '*' : permission.namespace,
      allowed === 'unknown' ? 'unknown' : allowed ? 'yes' : 'NO',
      permission.why,
    ]),
  ];
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 2))).join('').trimEnd()).join('\n');
}

/** A realistic failure (a CronJob's Job OOM-killed), marked as a test in its notes so nobody goes looking for it. */
export function sampleAlert(cluster: string | undefined, now: Date): Alert {
  const startedAt = new Date(now.getTime() - 293_000);
  return {
    cluster,
    failure: {
      uid: '00000000-0000-4000-8000-000000000000',
      namespace: 'example',
      name: 'nightly-report-29414040',
      condition: 'Failed',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      failedAt: now,
      startedAt,
      failedPods: 7,
      succeededPods: 0,
      backoffLimit: 6,
      failedIndexes: undefined,
      cronJob: 'nightly-report',
      scheduledAt: startedAt,
    },
    evidence: {
      pod: 'nightly-report-29414040-x7k2p',
      node: 'worker-3',
      container: 'report',
      exitCode: 137,
      reason: 'OOMKilled',
      signal: 9,
      logTail: ['loading 1,204,332 rows', 'building index'],
      notes: ['This is a test message from `kube-job-alerts test-alert`: no Job failed. Real alerts look like this.'],
    },
  };
}

async function testAlert(env: Env, output: Output, routeName?: string): Promise<number> {
  // A named route needs only its own webhook; the default route needs SLACK_WEBHOOK_URL, as before.
  const config = configOrProblems(env, output, routeName === undefined ? undefined : { requireWebhook: false });
  if (!config) return EXIT.failed;
  const route = routeName === undefined ? DEFAULT_ROUTE : normaliseRouteName(routeName);
  if (!isKnownRoute(route, config)) {
    const known = [DEFAULT_ROUTE, ...config.routes.keys()].join(', ');
    output.err(`kube-job-alerts: unknown route "${routeName}": the configured routes are ${known} (SLACK_ROUTE_<NAME> adds one)`);
    return EXIT.usage;
  }
  const url = route === DEFAULT_ROUTE ? config.slackWebhookUrl : config.routes.get(route);
  const alert = sampleAlert(config.clusterName, new Date());
  const links = linksFor(config.linkTemplates, linkValuesOf(alert));
  const payload = withLinks(buildAlert(alert), links.links);
  if (config.dryRun || (url === undefined && routeName === undefined)) {
    output.out(JSON.stringify(payload, null, 2));
    return EXIT.ok;
  }
  if (url === undefined) {
    output.err('kube-job-alerts: SLACK_WEBHOOK_URL: is required for the route default (or set DRY_RUN=true to print the alert)');
    return EXIT.failed;
  }
  const { SlackDeliverer, webhookFingerprint } = await loadDelivery();
  const fingerprint = webhookFingerprint(url);
  const where = routeName === undefined ? fingerprint : `route ${route} (${fingerprint})`;
  output.out(`Sending a sample alert to ${where} (429 and 5xx are retried for up to ${TEST_ALERT_DEADLINE_MS / 1000} s)`);
  for (const { name, reason } of links.omitted) output.out(`Link ${name} left out of the sample: ${reason}`);
  const result = await new SlackDeliverer({ url }).deliver(payload, AbortSignal.timeout(TEST_ALERT_DEADLINE_MS));
  const attempts = `${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`;
  if (result.ok) {
    output.out(`Slack answered: ok (${attempts})`);
    return EXIT.ok;
  }
  if (result.permanent) {
    output.err(
      result.reason === 'rejected'
        ? `Slack refused the message: ${result.error} (HTTP ${result.status}, ${attempts})`
        : `Could not deliver the message, and retrying will not help: ${result.cause} (${result.error}, ${attempts})`,
    );
    return EXIT.failed;
  }
  output.err(`Slack did not accept the message within ${TEST_ALERT_DEADLINE_MS / 1000} s (${attempts}): ${result.lastFailure ?? 'rate-limited, 5xx or unreachable'}`);
  return EXIT.failed;
}

/** The entry point: the one place that reads process.env. Exits with main's code, unless the daemon is running. */
export function runCommandLine(argv: readonly string[]): void {
  const output: Output = {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
  };
  main(argv, process.env, output).then(
    (code) => {
      if (code !== 'running') exitAfterFlush(code);
    },
    (error: unknown) => {
      output.err(`kube-job-alerts: cannot start: ${describeCauses(error)}`);
      exitAfterFlush(EXIT.failed);
    },
  );
}

/** process.exit can cut off output still queued for a pipe on some platforms; an empty write's callback comes after it. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (import.meta.main) runCommandLine(process.argv.slice(2));

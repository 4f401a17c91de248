/**
 * The only reader of process.env. Validates every variable once, at start, and returns one frozen, typed config.
 * Bad config is a ConfigError with one line per problem, each naming its variable; main prints them and exits 1.
 * SLACK_WEBHOOK_URL is a secret: no message here ever echoes its value (envalid's own url() would).
 */
import { bool, cleanEnv, makeValidator, str, EnvError, EnvMissingError } from 'envalid';
import { ALERT_AFTER_MAX, parseRepeat, type Repeat } from './decide/policy.ts';
import { parseDuration } from './time.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** Undefined only in dry run. */
  readonly slackWebhookUrl: string | undefined;
  /** 'all' for `*`; undefined: the pod's own namespace in cluster, else the kubeconfig context's. */
  readonly watchNamespaces: readonly string[] | 'all' | undefined;
  readonly clusterName: string | undefined;
  /** 0 picks a free port (tests). */
  readonly httpPort: number;
  readonly alertMaxAgeMs: number;
  readonly stateStore: 'annotation' | 'memory';
  readonly logTailLines: number;
  readonly logLevel: LogLevel;
  readonly dryRun: boolean;
  readonly leaderElection: boolean;
  readonly podName: string | undefined;
  /** The pod's namespace (downward API): the default namespace to watch, before the kubeconfig context's. */
  readonly podNamespace: string | undefined;
  readonly leaseName: string;
  /** Say nothing until a CronJob's Nth consecutive failure (the annotation alert-after overrides it). */
  readonly alertAfter: number;
  /** every-failure, first, or a reminder interval (the annotation repeat overrides it). */
  readonly repeat: Repeat;
  /** One message when a CronJob whose failures were reported succeeds again. */
  readonly notifyRecovery: boolean;
  /** More failures than GROUP_THRESHOLD within GROUP_WINDOW (per destination) become digests; 0 turns it off. */
  readonly groupThreshold: number;
  readonly groupWindowMs: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export { parseDuration };

const duration = makeValidator<number>((input) => {
  const ms = parseDuration(input);
  if (ms === undefined || ms <= 0) throw new EnvError(`must be a duration such as 90s, 30m, 1h or 2d (got "${input}")`);
  return ms;
});

const integer = (min: number, max: number) =>
  makeValidator<number>((input) => {
    const n = Number(input.trim());
    if (!/^\d+$/.test(input.trim()) || n < min || n > max) throw new EnvError(`must be a whole number from ${min} to ${max} (got "${input}")`);
    return n;
  });

/** Never repeats the value: it holds the webhook's secret token. */
const webhookUrl = makeValidator<string>((input) => {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new EnvError('is not a valid URL (value not shown: it is a secret)');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new EnvError('must be an https:// URL (value not shown: it is a secret)');
  }
  return url.toString();
});

const repeat = makeValidator<Repeat>((input) => {
  const parsed = parseRepeat(input);
  if (!parsed) throw new EnvError(`must be every-failure, first, or a duration of at least 1m such as 1h (got "${input}")`);
  return parsed;
});

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const namespaces = makeValidator<readonly string[] | 'all'>((input) => {
  const names = input.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.includes('*')) {
    if (names.length > 1) throw new EnvError('use either * (all namespaces) or a list of names, not both');
    return 'all';
  }
  const bad = names.filter((n) => !DNS_LABEL.test(n));
  if (bad.length > 0) throw new EnvError(`not valid namespace names: ${bad.join(', ')}`);
  if (names.length === 0) throw new EnvError('is empty: unset it, or give namespaces or *');
  return Object.freeze([...new Set(names)]);
});

const namespace = makeValidator<string>((input) => {
  const name = input.trim();
  if (!DNS_LABEL.test(name)) throw new EnvError(`not a valid namespace name: ${name}`);
  return name;
});

export interface LoadOptions {
  /** `check` reports a missing webhook instead of refusing it (a malformed one is still refused). Default true. */
  readonly requireWebhook?: boolean;
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>, options: LoadOptions = {}): Config {
  const problems: string[] = [];
  const clean = cleanEnv(
    // An empty variable counts as unset, as it does for most daemons' users (`FOO=` in a manifest).
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
    {
      SLACK_WEBHOOK_URL: webhookUrl({ default: undefined }),
      WATCH_NAMESPACES: namespaces({ default: undefined }),
      CLUSTER_NAME: str({ default: undefined }),
      HTTP_PORT: integer(0, 65535)({ default: 8080 }),
      ALERT_MAX_AGE: duration({ default: 3_600_000 }),
      STATE_STORE: str({ choices: ['annotation', 'memory'] as const, default: 'annotation' }),
      LOG_TAIL_LINES: integer(0, 1000)({ default: 20 }),
      LOG_LEVEL: str({ choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, default: 'info' }),
      DRY_RUN: bool({ default: false }),
      LEADER_ELECTION: bool({ default: false }),
      POD_NAME: str({ default: undefined }),
      POD_NAMESPACE: namespace({ default: undefined }),
      LEASE_NAME: str({ default: 'kube-job-alerts' }),
      ALERT_AFTER: integer(1, ALERT_AFTER_MAX)({ default: 1 }),
      REPEAT: repeat({ default: { mode: 'every-failure' } }),
      NOTIFY_RECOVERY: bool({ default: true }),
      GROUP_THRESHOLD: integer(0, 10_000)({ default: 5 }),
      GROUP_WINDOW: duration({ default: 10_000 }),
    },
    {
      reporter: ({ errors }) => {
        for (const [name, error] of Object.entries(errors)) {
          if (!error) continue;
          const what = error instanceof EnvMissingError ? 'is required' : error.message.replace(/^Invalid \w+ input: /, 'not valid: ');
          problems.push(`${name}: ${what}`);
        }
      },
    },
  );
  if (problems.length === 0 && !clean.DRY_RUN && clean.SLACK_WEBHOOK_URL === undefined && options.requireWebhook !== false) {
    problems.push('SLACK_WEBHOOK_URL: is required (or set DRY_RUN=true to log alerts instead of posting them)');
  }
  if (problems.length === 0 && clean.LEADER_ELECTION) {
    problems.push('LEADER_ELECTION: true is not supported yet: run a single replica (strategy Recreate) and unset it');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    slackWebhookUrl: clean.SLACK_WEBHOOK_URL,
    watchNamespaces: clean.WATCH_NAMESPACES,
    clusterName: clean.CLUSTER_NAME,
    httpPort: clean.HTTP_PORT,
    alertMaxAgeMs: clean.ALERT_MAX_AGE,
    stateStore: clean.STATE_STORE,
    logTailLines: clean.LOG_TAIL_LINES,
    logLevel: clean.LOG_LEVEL,
    dryRun: clean.DRY_RUN,
    leaderElection: clean.LEADER_ELECTION,
    podName: clean.POD_NAME,
    podNamespace: clean.POD_NAMESPACE,
    leaseName: clean.LEASE_NAME,
    alertAfter: clean.ALERT_AFTER,
    repeat: clean.REPEAT,
    notifyRecovery: clean.NOTIFY_RECOVERY,
    groupThreshold: clean.GROUP_THRESHOLD,
    groupWindowMs: clean.GROUP_WINDOW,
  });
}

/**
 * The only reader of process.env. Validates every variable once, at start, and returns one frozen, typed config.
 * Bad config is a ConfigError with one line per problem, each naming its variable; main prints them and exits 1.
 * SLACK_WEBHOOK_URL is a secret: no message here ever echoes its value (envalid's own url() would).
 */
import { bool, cleanEnv, makeValidator, str, EnvError, EnvMissingError } from 'envalid';
import { ALERT_AFTER_MAX, parseRepeat, type Repeat } from './decide/policy.ts';
import { parseDuration } from './time.ts';
import { DEFAULT_ROUTE, normaliseRouteName, routeNameProblem, type NamespaceRoute } from './route/choose.ts';
import { parseLinkTemplates, type LinkTemplate } from './route/links.ts';
import { LabelSelectorError, parseLabelSelector, parseNamespacePattern, type LabelSelector, type NamespacePattern } from './route/watched.ts';
import { zoneProblem } from './detect/zone.ts';

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
  /** A dead man's switch: pinged (GET) every heartbeatIntervalMs while watching and delivering. A secret. */
  readonly heartbeatUrl: string | undefined;
  readonly heartbeatIntervalMs: number;
  /**
   * Named webhooks (SLACK_ROUTE_<NAME>) by route name (lower case, `_` as `-`); SLACK_WEBHOOK_URL is the route
   * `default` and is not in here. Secrets: a Map, so JSON and pino print it as {}; log routeFingerprints() instead.
   */
  readonly routes: ReadonlyMap<string, string>;
  /** NAMESPACE_ROUTES, in the order written (chooseRoute picks an exact name over a prefix, then the longest). */
  readonly namespaceRoutes: readonly NamespaceRoute[];
  /** ALSO_SEND_TO: a route that gets a copy of every alert. */
  readonly alsoSendTo: string | undefined;
  readonly allowBroadcastMentions: boolean;
  readonly linkTemplates: readonly LinkTemplate[];
  /** EXCLUDE_NAMESPACES (default kube-system), applied when watching all namespaces. */
  readonly excludeNamespaces: readonly NamespacePattern[];
  /** JOB_LABEL_SELECTOR, parsed as the API server parses it. */
  readonly jobLabelSelector: LabelSelector | undefined;
  /** Read Namespace objects for their route, mention and runbook annotations (cluster-wide only; needs RBAC). */
  readonly namespaceAnnotations: boolean;
  /** A CronJob run is missed this long after its time (when spec.startingDeadlineSeconds is unset). */
  readonly missedScheduleGraceMs: number;
  /** Alert on runs skipped by concurrencyPolicy Forbid (JobAlreadyActive) once they repeat this many times. */
  readonly skippedRunsAlert: number;
  /** One alert when a CronJob has run this many times without ever succeeding (0: never). */
  readonly neverSucceededAfter: number;
  /** Also alert on a run longer than 3x the median of its CronJob's recent successful runs (at least 5). */
  readonly slowRuns: boolean;
  /** Running longer than this is stuck, for Jobs without kube-job-alerts.io/max-duration; undefined: no default. */
  readonly stuckAfterMs: number | undefined;
  /** A Job whose pods cannot be scheduled or started for this long gets an alert. */
  readonly pendingAlertAfterMs: number;
  /** The IANA zone of CronJob schedules without spec.timeZone (the controller's own zone, which we cannot see). */
  readonly scheduleTimeZone: string;
  /** /readyz answers 503 once an informer has been unable to list or watch for this long. */
  readonly notReadyAfterMs: number;
  /** Messages waiting per webhook (Slack unreachable) before the oldest failures are folded into one digest. */
  readonly outboxMaxPending: number;
}

/** The environment variables that name routes: SLACK_ROUTE_TEAM_A is the route team-a. */
export const ROUTE_VARIABLE_PREFIX = 'SLACK_ROUTE_';
/** EXCLUDE_NAMESPACES's value for "exclude nothing" (an empty variable counts as unset, so it cannot say so). */
export const EXCLUDE_NOTHING = '-';

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

const timeZone = makeValidator<string>((input) => {
  const zone = input.trim();
  if (zoneProblem(zone) !== undefined) throw new EnvError(`must be an IANA time zone such as UTC or Europe/Berlin (got "${input}")`);
  return zone;
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

/** A Lease is named like most objects: a DNS subdomain (lowercase, digits, '-', '.'; at most 253 characters). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsSubdomain = makeValidator<string>((input) => {
  const name = input.trim();
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) throw new EnvError(`not a valid object name (lowercase letters, digits, '-' and '.'): ${name}`);
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
      LEASE_NAME: dnsSubdomain({ default: 'kube-job-alerts' }),
      ALERT_AFTER: integer(1, ALERT_AFTER_MAX)({ default: 1 }),
      REPEAT: repeat({ default: { mode: 'every-failure' } }),
      NOTIFY_RECOVERY: bool({ default: true }),
      GROUP_THRESHOLD: integer(0, 10_000)({ default: 5 }),
      GROUP_WINDOW: duration({ default: 10_000 }),
      HEARTBEAT_URL: webhookUrl({ default: undefined }),
      HEARTBEAT_INTERVAL: duration({ default: 60_000 }),
      NEVER_SUCCEEDED_AFTER: integer(0, 1000)({ default: 3 }),
      SLOW_RUNS: bool({ default: false }),
      NAMESPACE_ROUTES: str({ default: undefined }),
      ALSO_SEND_TO: str({ default: undefined }),
      ALLOW_BROADCAST_MENTIONS: bool({ default: false }),
      LINK_TEMPLATES: str({ default: undefined }),
      EXCLUDE_NAMESPACES: str({ default: undefined }),
      JOB_LABEL_SELECTOR: str({ default: undefined }),
      NAMESPACE_ANNOTATIONS: bool({ default: false }),
      MISSED_SCHEDULE_GRACE: duration({ default: 300_000 }),
      SKIPPED_RUNS_ALERT: integer(1, 1000)({ default: 2 }),
      STUCK_AFTER: duration({ default: undefined }),
      PENDING_ALERT_AFTER: duration({ default: 600_000 }),
      SCHEDULE_TIME_ZONE: timeZone({ default: 'UTC' }),
      NOT_READY_AFTER: duration({ default: 120_000 }),
      OUTBOX_MAX_PENDING: integer(10, 100_000)({ default: 1000 }),
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
  // envalid throws on reading a variable that failed validation: read only those that passed.
  const invalid = new Set(problems.map((problem) => problem.slice(0, problem.indexOf(':'))));
  if (!invalid.has('LEADER_ELECTION') && clean.LEADER_ELECTION) {
    // The Lease's holder and namespace; in a pod both come from the downward API (deploy/ sets them).
    if (clean.POD_NAME === undefined) {
      problems.push("POD_NAME: is required with LEADER_ELECTION=true: each replica's identity in the Lease (set it from the downward API, fieldPath metadata.name)");
    }
    if (!invalid.has('POD_NAMESPACE') && clean.POD_NAMESPACE === undefined) {
      problems.push('POD_NAMESPACE: is required with LEADER_ELECTION=true: the namespace of the Lease (set it from the downward API, fieldPath metadata.namespace)');
    }
  }
  // envalid throws on reading a variable it refused, so routing reads only the valid ones (the rest are reported).
  const refused = new Set(problems.map((problem) => problem.split(':')[0]));
  const variables = Object.fromEntries(ROUTING_VARIABLES.map((name) => [name, refused.has(name) ? undefined : clean[name]])) as RoutingVariables;
  const routing = routingOf(env, variables, problems);
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
    heartbeatUrl: clean.HEARTBEAT_URL,
    heartbeatIntervalMs: clean.HEARTBEAT_INTERVAL,
    ...routing,
    missedScheduleGraceMs: clean.MISSED_SCHEDULE_GRACE,
    skippedRunsAlert: clean.SKIPPED_RUNS_ALERT,
    neverSucceededAfter: clean.NEVER_SUCCEEDED_AFTER,
    slowRuns: clean.SLOW_RUNS,
    stuckAfterMs: clean.STUCK_AFTER,
    pendingAlertAfterMs: clean.PENDING_ALERT_AFTER,
    scheduleTimeZone: clean.SCHEDULE_TIME_ZONE,
    notReadyAfterMs: clean.NOT_READY_AFTER,
    outboxMaxPending: clean.OUTBOX_MAX_PENDING,
  });
}

type Routing = Pick<
  Config,
  'routes' | 'namespaceRoutes' | 'alsoSendTo' | 'allowBroadcastMentions' | 'linkTemplates' | 'excludeNamespaces' | 'jobLabelSelector' | 'namespaceAnnotations'
>;

const ROUTING_VARIABLES = [
  'WATCH_NAMESPACES', 'NAMESPACE_ROUTES', 'ALSO_SEND_TO', 'ALLOW_BROADCAST_MENTIONS', 'LINK_TEMPLATES', 'EXCLUDE_NAMESPACES',
  'JOB_LABEL_SELECTOR', 'NAMESPACE_ANNOTATIONS',
] as const;

/** The cleaned variables routing reads; undefined when unset or refused (then already reported). */
interface RoutingVariables {
  readonly WATCH_NAMESPACES?: readonly string[] | 'all';
  readonly NAMESPACE_ROUTES?: string;
  readonly ALSO_SEND_TO?: string;
  readonly ALLOW_BROADCAST_MENTIONS?: boolean;
  readonly LINK_TEMPLATES?: string;
  readonly EXCLUDE_NAMESPACES?: string;
  readonly JOB_LABEL_SELECTOR?: string;
  readonly NAMESPACE_ANNOTATIONS?: boolean;
}

/** Routes, mentions, links and what is watched: each problem is pushed as one line naming its variable. */
function routingOf(env: Readonly<Record<string, string | undefined>>, clean: RoutingVariables, problems: string[]): Routing {
  const routes = routesOf(env, problems);
  const known = (name: string) => name === DEFAULT_ROUTE || routes.has(name);
  const knownList = () => [DEFAULT_ROUTE, ...routes.keys()].join(', ');

  const namespaceRoutes: NamespaceRoute[] = [];
  const unknownRoutes: string[] = [];
  for (const entry of (clean.NAMESPACE_ROUTES ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [patternText = '', routeText, ...rest] = entry.split('=');
    if (routeText === undefined || rest.length > 0) {
      problems.push(`NAMESPACE_ROUTES: "${entry}" is not namespace=route (namespace may end in * for a prefix: team-a-*=team-a)`);
      continue;
    }
    const pattern = parseNamespacePattern(patternText);
    const route = normaliseRouteName(routeText);
    if (typeof pattern === 'string') problems.push(`NAMESPACE_ROUTES: ${pattern}`);
    else if (namespaceRoutes.some((other) => other.pattern.text === pattern.text)) problems.push(`NAMESPACE_ROUTES: ${pattern.text} is given twice`);
    else if (!known(route)) unknownRoutes.push(route);
    else namespaceRoutes.push(Object.freeze({ pattern, route }));
  }
  if (unknownRoutes.length > 0) {
    problems.push(`NAMESPACE_ROUTES: unknown route${unknownRoutes.length > 1 ? 's' : ''} ${unknownRoutes.join(', ')} (configured: ${knownList()}; add SLACK_ROUTE_<NAME>)`);
  }

  let alsoSendTo: string | undefined;
  if (clean.ALSO_SEND_TO !== undefined) {
    alsoSendTo = normaliseRouteName(clean.ALSO_SEND_TO);
    if (!known(alsoSendTo)) problems.push(`ALSO_SEND_TO: unknown route ${alsoSendTo} (configured: ${knownList()}; add SLACK_ROUTE_<NAME>)`);
  }

  const links = parseLinkTemplates(clean.LINK_TEMPLATES ?? '');
  problems.push(...links.problems.map((problem) => `LINK_TEMPLATES: ${problem}`));

  const excludeNamespaces: NamespacePattern[] = [];
  const excludeText = clean.EXCLUDE_NAMESPACES ?? 'kube-system';
  if (excludeText.trim() !== EXCLUDE_NOTHING) {
    for (const part of excludeText.split(',').map((text) => text.trim()).filter((text) => text !== '')) {
      const pattern = parseNamespacePattern(part);
      if (typeof pattern === 'string') problems.push(`EXCLUDE_NAMESPACES: ${pattern} (use ${EXCLUDE_NOTHING} to exclude nothing)`);
      else excludeNamespaces.push(pattern);
    }
  }

  let jobLabelSelector: LabelSelector | undefined;
  if (clean.JOB_LABEL_SELECTOR !== undefined) {
    try {
      jobLabelSelector = parseLabelSelector(clean.JOB_LABEL_SELECTOR);
    } catch (error) {
      if (!(error instanceof LabelSelectorError)) throw error;
      problems.push(`JOB_LABEL_SELECTOR: not a label selector the API server accepts: ${error.message}`);
    }
  }

  const clusterWide = clean.WATCH_NAMESPACES === 'all';
  if (clean.NAMESPACE_ANNOTATIONS === true && !clusterWide) {
    problems.push('NAMESPACE_ANNOTATIONS: true needs WATCH_NAMESPACES=* (reading Namespace objects takes a ClusterRole, which only the cluster-wide install has)');
  }
  return {
    routes,
    namespaceRoutes: Object.freeze(namespaceRoutes),
    alsoSendTo,
    allowBroadcastMentions: clean.ALLOW_BROADCAST_MENTIONS === true,
    linkTemplates: links.templates,
    excludeNamespaces: Object.freeze(excludeNamespaces),
    jobLabelSelector,
    // Opt-in, with its RBAC (deploy/components/namespace-annotations sets both): never a permission the install lacks.
    namespaceAnnotations: clusterWide && clean.NAMESPACE_ANNOTATIONS === true,
  };
}

/** SLACK_ROUTE_<NAME> variables, each validated like SLACK_WEBHOOK_URL (no message ever shows a value). */
function routesOf(env: Readonly<Record<string, string | undefined>>, problems: string[]): ReadonlyMap<string, string> {
  const variables = Object.keys(env)
    .filter((name) => name.startsWith(ROUTE_VARIABLE_PREFIX) && env[name] !== undefined && env[name] !== '')
    .sort();
  const routes = new Map<string, string>();
  const from = new Map<string, string>();
  for (const variable of variables) {
    const name = normaliseRouteName(variable.slice(ROUTE_VARIABLE_PREFIX.length));
    const nameProblem = routeNameProblem(name);
    if (nameProblem) {
      problems.push(`${variable}: ${nameProblem}`);
      continue;
    }
    if (name === DEFAULT_ROUTE) {
      problems.push(`${variable}: "default" is SLACK_WEBHOOK_URL's route: set that instead`);
      continue;
    }
    if (from.has(name)) {
      problems.push(`${variable}: the route ${name} is also set by ${from.get(name)} (names are compared without case, _ as -)`);
      continue;
    }
    let refused = false;
    const clean = cleanEnv({ [variable]: env[variable] }, { [variable]: webhookUrl() }, {
      reporter: ({ errors }) => {
        for (const error of Object.values(errors)) {
          if (!error) continue;
          refused = true;
          problems.push(`${variable}: ${error.message}`);
        }
      },
    });
    if (refused) continue;
    const url = clean[variable];
    if (typeof url !== 'string') continue;
    routes.set(name, url);
    from.set(name, variable);
  }
  return routes;
}

/** Every route's fingerprint, for the start log and `check` (the URLs themselves are secrets). */
export function routeFingerprints(config: Pick<Config, 'routes'>, fingerprint: (url: string) => string): Readonly<Record<string, string>> {
  return Object.freeze(Object.fromEntries([...config.routes].map(([name, url]) => [name, fingerprint(url)])));
}

/**
 * chooseRoute: which webhook (route) an alert goes to. Pure: no I/O (enforced by eslint), so its tests are tables.
 *
 * A route is a named incoming webhook (SLACK_ROUTE_<NAME>); `default` is SLACK_WEBHOOK_URL. The first that says
 * something wins:
 *   1. the annotation `kube-job-alerts.io/route` on the Job, 2. on its CronJob, 3. on its Namespace,
 *   4. NAMESPACE_ROUTES (an exact namespace over a `prefix-*`, then the longest prefix), 5. the default.
 * A route named in an annotation that is not configured sends to the default with a warning naming the object and
 * the name: an alert is never dropped for a typo, and the typo is visible. (NAMESPACE_ROUTES and ALSO_SEND_TO are
 * checked at start: an unknown name there is a config error.)
 *
 * Route names: letters, digits and `-`, compared case-insensitively; `_` counts as `-`, because an environment
 * variable cannot hold a `-` in most shells: SLACK_ROUTE_TEAM_A is the route `team-a`, and an annotation may say
 * `team-a`, `Team-A` or `team_a`.
 */
import type { Config } from '../config.ts';
import { annotationOf, quoted, type Owners } from './owners.ts';
import { mostSpecific, type NamespacePattern } from './watched.ts';

export const ANNOTATION_ROUTE = 'kube-job-alerts.io/route';
/** SLACK_WEBHOOK_URL's route. An annotation may name it to override NAMESPACE_ROUTES for one Job or CronJob. */
export const DEFAULT_ROUTE = 'default';

/** A NAMESPACE_ROUTES entry: `team-a-*=team-a`. */
export interface NamespaceRoute {
  readonly pattern: NamespacePattern;
  readonly route: string;
}

export interface RouteChoice {
  /** A configured route name, or `default`. */
  readonly route: string;
  /** Why this route, for debug logs: `annotation on CronJob batch/nightly`, `NAMESPACE_ROUTES team-a-*`, `default`. */
  readonly why: string;
  /** Set when an annotation named a route that is not configured (the alert then goes to the default). */
  readonly warning?: string;
}

type RouteConfig = Pick<Config, 'routes' | 'namespaceRoutes'>;

const ROUTE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Lower case, `_` as `-`, trimmed: the one spelling a route name is compared in. */
export function normaliseRouteName(text: string): string {
  return text.trim().toLowerCase().replace(/_/g, '-');
}

/** Why a (normalised) name cannot be a route name, or undefined when it can. */
export function routeNameProblem(name: string): string | undefined {
  if (!ROUTE_NAME.test(name)) return `"${name}" is not a route name (letters, digits and -, at most 63, not starting or ending with -)`;
  return undefined;
}

export function isKnownRoute(name: string, config: Pick<Config, 'routes'>): boolean {
  return name === DEFAULT_ROUTE || config.routes.has(name);
}

export function chooseRoute(owners: Owners, config: RouteConfig): RouteChoice {
  const annotated = annotationOf(owners, ANNOTATION_ROUTE, { skipBlank: true });
  if (annotated) {
    const name = normaliseRouteName(annotated.value);
    if (isKnownRoute(name, config)) return { route: name, why: `annotation on ${annotated.where}` };
    const known = [DEFAULT_ROUTE, ...config.routes.keys()].join(', ');
    return {
      route: DEFAULT_ROUTE,
      why: 'default (unknown route in an annotation)',
      warning: `${annotated.where}: ${ANNOTATION_ROUTE} names the route ${quoted(annotated.value, 63)}, which is not configured (routes: ${known}): sent to the default route`,
    };
  }
  const namespace = owners.job.metadata?.namespace;
  const byNamespace = namespace === undefined ? undefined : mostSpecific(config.namespaceRoutes, namespace);
  if (byNamespace) return { route: byNamespace.route, why: `NAMESPACE_ROUTES ${byNamespace.pattern.text}` };
  return { route: DEFAULT_ROUTE, why: 'default' };
}

/** The copy route (ALSO_SEND_TO) for an alert sent to `route`; undefined when there is none or it is that route. */
export function alsoSendTo(route: string, config: Pick<Config, 'alsoSendTo'>): string | undefined {
  return config.alsoSendTo === undefined || config.alsoSendTo === route ? undefined : config.alsoSendTo;
}

/** Every route one alert is posted to: the chosen one, then the copy. */
export function destinations(choice: Pick<RouteChoice, 'route'>, config: Pick<Config, 'alsoSendTo'>): readonly string[] {
  const copy = alsoSendTo(choice.route, config);
  return copy === undefined ? [choice.route] : [choice.route, copy];
}

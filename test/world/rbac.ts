// RBAC as the real API server applies it: a request is allowed when one rule of the subject's roles matches its
// verb, API group, resource (with subresource, `pods/log`) and name; otherwise 403 Forbidden with the real Status.
// Also SelfSubjectAccessReview, which every authenticated user may create (the `system:basic-user` ClusterRole).
// Discovery, /version and /openapi are never resource requests, so they stay open, as `system:discovery` allows.
import type { RecordedRequest } from './types.ts';
import { StatusError } from './status.ts';

/**
 * One rule of a Role or ClusterRole, as in `rules:` of the manifest. `namespaces` is the emulator's stand-in for
 * the binding: absent, the rule is bound cluster-wide (a ClusterRoleBinding: every namespace and the cluster scope);
 * present, it holds only in those namespaces (a RoleBinding in each), as a Role does.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  namespaces?: string[];
}

/** The user the emulator's token authenticates as: a service account, as the daemon runs in a cluster. */
export const defaultUser = 'system:serviceaccount:kube-job-alerts:kube-job-alerts';

/** What an authorizer is asked: the fields of a SubjectAccessReview's resourceAttributes. */
export interface ResourceAttributes {
  verb: string;
  group: string;
  /** Without the subresource: `pods`, not `pods/log`. */
  resource: string;
  subresource: string;
  /** '' for a cluster-scoped request, or a review of "all namespaces". */
  namespace: string;
  name: string;
}

export interface Decision {
  allowed: boolean;
  reason?: string;
}

/** Undefined rules: no authorization (every request is allowed, as before RBAC was switched on). */
export function authorize(rules: readonly PolicyRule[] | undefined, attributes: ResourceAttributes): Decision {
  if (rules === undefined) return { allowed: true, reason: 'emulator: RBAC is off' };
  const index = rules.findIndex((rule) => ruleAllows(rule, attributes));
  if (index === -1) return { allowed: false };
  const rule = rules[index]!;
  const binding = rule.namespaces === undefined ? 'ClusterRoleBinding' : `RoleBinding in ${attributes.namespace}`;
  return { allowed: true, reason: `RBAC: allowed by ${binding} (emulator rule #${index})` };
}

function ruleAllows(rule: PolicyRule, request: ResourceAttributes): boolean {
  // A RoleBinding never grants at the cluster scope; a ClusterRoleBinding grants in every namespace too.
  if (rule.namespaces !== undefined && !rule.namespaces.includes(request.namespace)) return false;
  if (!matchesOrStar(rule.verbs, request.verb)) return false;
  if (!matchesOrStar(rule.apiGroups, request.group)) return false;
  if (!resourceMatches(rule.resources, request.resource, request.subresource)) return false;
  // Names restrict only requests that carry a name: list, watch and create on a collection do not match them.
  return rule.resourceNames === undefined || rule.resourceNames.length === 0 || rule.resourceNames.includes(request.name);
}

function matchesOrStar(values: readonly string[], wanted: string): boolean {
  return values.includes('*') || values.includes(wanted);
}

// As rbac/validation's ResourceMatches: `*`, the exact `resource/subresource`, or a star with the same subresource.
function resourceMatches(ruleResources: readonly string[], resource: string, subresource: string): boolean {
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  return ruleResources.some((candidate) => candidate === '*' || candidate === combined || (subresource !== '' && candidate === `*/${subresource}`));
}

/** The attributes of a resource request, from what the handler recorded. */
export function attributesOf(request: RecordedRequest): ResourceAttributes {
  const [resource = '', subresource = ''] = request.resource.split('/');
  return { verb: request.verb, group: request.group, resource, subresource, namespace: request.namespace, name: request.name };
}

/** The 403 the real API server sends (apiserver's responsewriters.forbiddenMessage and errors.NewForbidden). */
export function forbidden(user: string, attributes: ResourceAttributes): StatusError {
  const { verb, group, resource, subresource, namespace, name } = attributes;
  const shown = subresource === '' ? resource : `${resource}/${subresource}`;
  const scope = namespace === '' ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  const why = `User "${user}" cannot ${verb} resource "${shown}" in API group "${group}" ${scope}`;
  const qualified = group === '' ? resource : `${resource}.${group}`;
  const subject = name === '' ? qualified : `${qualified} "${name}"`;
  return new StatusError(403, `${subject} is forbidden: ${why}`, 'Forbidden', { ...(name === '' ? {} : { name }), group, kind: resource });
}

/** Paths `system:discovery` opens to everyone; a nonResourceAttributes review of them is allowed. */
export function isDiscoveryPath(path: string): boolean {
  return ['/api', '/apis', '/version', '/openapi', '/healthz', '/livez', '/readyz'].some((open) => path === open || path.startsWith(`${open}/`));
}

/**
 * The SelfSubjectAccessReview answer for a request body: the same object back with `status`. Reviews of resource
 * attributes are evaluated against the rules; non-resource ones allow only the discovery paths.
 */
export function selfSubjectAccessReview(rules: readonly PolicyRule[] | undefined, body: unknown): object {
  const review = (typeof body === 'object' && body !== null ? body : {}) as { spec?: Record<string, unknown> };
  const spec = review.spec ?? {};
  const resourceAttributes = spec.resourceAttributes as Partial<Record<keyof ResourceAttributes, unknown>> | undefined;
  const nonResourceAttributes = spec.nonResourceAttributes as { path?: unknown; verb?: unknown } | undefined;
  let decision: Decision;
  if (resourceAttributes !== undefined) {
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    decision = authorize(rules, {
      verb: text(resourceAttributes.verb),
      group: text(resourceAttributes.group),
      resource: text(resourceAttributes.resource),
      subresource: text(resourceAttributes.subresource),
      namespace: text(resourceAttributes.namespace),
      name: text(resourceAttributes.name),
    });
  } else if (nonResourceAttributes !== undefined) {
    const path = typeof nonResourceAttributes.path === 'string' ? nonResourceAttributes.path : '';
    decision = rules === undefined || isDiscoveryPath(path) ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery"' } : { allowed: false };
  } else {
    throw new StatusError(422, 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified', 'Invalid');
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: { allowed: decision.allowed, ...(decision.reason === undefined ? {} : { reason: decision.reason }) },
  };
}

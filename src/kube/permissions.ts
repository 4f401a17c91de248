/**
 * What the daemon needs from the API server, and whether it has it.
 *
 * Why check at all: a missing RBAC verb does not fail loudly. A forbidden list restarts an informer forever, a
 * forbidden patch only shows when an alert has already gone out, a forbidden log read quietly gives alerts without
 * logs. So the list below mirrors, call for call, what src/kube/ sends (watching.ts, annotate.ts, evidence.ts,
 * namespaces.ts, and lease.ts with LEADER_ELECTION=true), and each entry says what stops working without it. The API
 * server answers for itself through SelfSubjectAccessReview, which every authenticated user may create: no RBAC
 * knowledge (aggregated roles, wildcards) is duplicated here.
 */
import { AuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { apiClient, describeError, withTimeout, type KubeClients } from './client.ts';

export interface Permission {
  readonly verb: 'get' | 'list' | 'watch' | 'patch' | 'create' | 'update';
  /** '' for the core group. */
  readonly group: '' | 'batch' | 'coordination.k8s.io';
  /** As an RBAC rule names it: `jobs`, `pods/log`. */
  readonly resource: string;
  /** '' for all namespaces: a ClusterRole bound by a ClusterRoleBinding. */
  readonly namespace: string;
  /** What the daemon uses it for (the table's WHY NEEDED). */
  readonly why: string;
  /** What does not work without it (the start-up warning). */
  readonly without: string;
}

export interface PermissionCheck {
  readonly permission: Permission;
  /** 'unknown' when the review itself failed: see `error`. */
  readonly allowed: boolean | 'unknown';
  /** The authorizer's reason, when it gave one. */
  readonly reason?: string;
  readonly error?: string;
}

type Need = Omit<Permission, 'namespace'>;

const JOBS_LIST: Need = {
  verb: 'list', group: 'batch', resource: 'jobs',
  why: 'list Jobs (informer start and relists)',
  without: 'the Job cache never syncs, and alerting waits for every cache: no alerts at all',
};
const JOBS_WATCH: Need = {
  verb: 'watch', group: 'batch', resource: 'jobs',
  why: 'see Jobs fail as it happens',
  without: 'every watch fails and restarts the informer: failures are seen only at each relist, up to 30 s late, with a warning each time',
};
const JOBS_PATCH: Need = {
  verb: 'patch', group: 'batch', resource: 'jobs',
  why: 'mark alerted Jobs (kube-job-alerts.io/alerted-at)',
  without: 'alerts will be sent, but a restart may send them again; grant patch or set STATE_STORE=memory',
};
const CRONJOBS_PATCH: Need = {
  verb: 'patch', group: 'batch', resource: 'cronjobs',
  why: "keep each CronJob's failure streak (kube-job-alerts.io/story)",
  without: 'streak counts, reminders and recoveries restart from scratch after a restart; grant patch or set STATE_STORE=memory',
};
const CRONJOBS_LIST: Need = {
  verb: 'list', group: 'batch', resource: 'cronjobs',
  why: 'list CronJobs (names, opt-out annotation)',
  without: 'the CronJob cache never syncs, and alerting waits for every cache: no alerts at all',
};
const CRONJOBS_WATCH: Need = {
  verb: 'watch', group: 'batch', resource: 'cronjobs',
  why: 'keep the CronJob cache current',
  without: 'every watch fails and restarts the informer: CronJob changes are seen only at each relist, with a warning each time',
};
const CRONJOBS_GET: Need = {
  verb: 'get', group: 'batch', resource: 'cronjobs',
  why: 'read a CronJob not yet in the cache',
  without: 'a Job whose CronJob is not cached yet is alerted even when that CronJob opts out',
};
const PODS_LIST: Need = {
  verb: 'list', group: '', resource: 'pods',
  why: "find the failed Job's pods (exit code, reason, node)",
  without: 'alerts will be sent without exit code, reason, node or log lines',
};
const EVENTS_LIST: Need = {
  verb: 'list', group: '', resource: 'events',
  why: "show the Job's and its failed pod's Warning events (FailedCreate, quota, image pulls)",
  without: 'alerts will be sent without Warning events, each with a note saying they were forbidden',
};
const EVENTS_WATCH: Need = {
  verb: 'watch', group: '', resource: 'events',
  why: "see the CronJob controller's warnings (MissSchedule, FailedCreate, JobAlreadyActive)",
  without: "the CronJob controller's warnings are not alerted, and the events informer restarts with a warning each time",
};
const NAMESPACES_GET: Need = {
  verb: 'get', group: '', resource: 'namespaces',
  why: 'read a Namespace not yet in the cache',
  without: 'a Job in a Namespace not cached yet is routed without that Namespace\'s route, mention and runbook annotations',
};
const NAMESPACES_LIST: Need = {
  verb: 'list', group: '', resource: 'namespaces',
  why: 'list Namespaces (route, mention and runbook annotations)',
  without: 'the Namespace cache never syncs: route, mention and runbook annotations on Namespaces are not used',
};
const NAMESPACES_WATCH: Need = {
  verb: 'watch', group: '', resource: 'namespaces',
  why: 'keep the Namespace cache current',
  without: 'every watch fails and restarts the informer: Namespace annotation changes are seen only at each relist, with a warning each time',
};
const PODS_LOG_GET: Need = {
  verb: 'get', group: '', resource: 'pods/log',
  why: "read the failed container's last log lines",
  without: 'alerts will be sent without log lines; grant it or set LOG_TAIL_LINES=0',
};

// LEADER_ELECTION=true (lease.ts): the Lease in the pod's own namespace, read, created once, then written in turn.
const LEASES_GET: Need = {
  verb: 'get', group: 'coordination.k8s.io', resource: 'leases',
  why: 'read the Lease (LEASE_NAME) to see who leads',
  without: 'this replica never leads (it cannot tell whether the Lease is free): if no replica can, no alerts at all',
};
const LEASES_CREATE: Need = {
  verb: 'create', group: 'coordination.k8s.io', resource: 'leases',
  why: 'create the Lease when the first replica starts',
  without: 'while the Lease does not exist, no replica can create it: none leads, no alerts at all',
};
const LEASES_UPDATE: Need = {
  verb: 'update', group: 'coordination.k8s.io', resource: 'leases',
  why: 'take, renew and release the Lease',
  without: 'this replica never leads, and a leader cannot renew: if no replica can, no alerts at all',
};

/**
 * Exactly the calls the daemon makes with this configuration, per watched namespace; with `*`, each at the cluster
 * scope (the informers list and watch across namespaces, and pods and CronJobs are read in any Job's namespace).
 */
export function requiredPermissions(
  config: Pick<Config, 'stateStore' | 'logTailLines'> &
    Partial<Pick<Config, 'namespaceAnnotations' | 'leaderElection' | 'podNamespace'>> & { readonly dryRun?: boolean },
  namespaces: readonly string[] | 'all',
): Permission[] {
  // A dry run writes nothing to the cluster, whatever STATE_STORE says (marks.ts keeps them in memory).
  const writes = config.stateStore === 'annotation' && !config.dryRun;
  const needs: Need[] = [JOBS_LIST, JOBS_WATCH];
  if (writes) needs.push(JOBS_PATCH);
  needs.push(CRONJOBS_GET, CRONJOBS_LIST, CRONJOBS_WATCH);
  if (writes) needs.push(CRONJOBS_PATCH);
  needs.push(PODS_LIST, EVENTS_LIST, EVENTS_WATCH);
  // evidence.ts reads no log at all when LOG_TAIL_LINES is 0.
  if (config.logTailLines > 0) needs.push(PODS_LOG_GET);
  const scopes = namespaces === 'all' ? [''] : namespaces;
  const permissions = scopes.flatMap((namespace) => needs.map((need) => ({ ...need, namespace })));
  // namespaces.ts reads Namespace objects (cluster-scoped) only cluster-wide with NAMESPACE_ANNOTATIONS.
  if (config.namespaceAnnotations && namespaces === 'all') {
    permissions.push(...[NAMESPACES_GET, NAMESPACES_LIST, NAMESPACES_WATCH].map((need) => ({ ...need, namespace: '' })));
  }
  // The Lease lives in the pod's own namespace whatever is watched (config requires POD_NAMESPACE with it).
  // A dry run does not elect (it would write the Lease).
  if (config.leaderElection && !config.dryRun && config.podNamespace !== undefined) {
    for (const need of [LEASES_GET, LEASES_CREATE, LEASES_UPDATE]) permissions.push({ ...need, namespace: config.podNamespace });
  }
  return permissions;
}

/** `in default`, or `in all namespaces` for the cluster scope. */
export function whereOf(permission: Pick<Permission, 'namespace'>): string {
  return permission.namespace === '' ? 'in all namespaces' : `in ${permission.namespace}`;
}

export interface CheckOptions {
  /** Per review; a review that takes longer is reported as unknown. */
  readonly timeoutMs?: number;
}

/**
 * Asks the API server, with one SelfSubjectAccessReview per permission (in parallel), whether this identity may.
 * Never throws: a review that fails or times out gives a row with `allowed: 'unknown'` and the error.
 */
export async function checkPermissions(clients: KubeClients, permissions: readonly Permission[], options: CheckOptions = {}): Promise<PermissionCheck[]> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const api = apiClient(clients.config, AuthorizationV1Api);
  return Promise.all(
    permissions.map(async (permission): Promise<PermissionCheck> => {
      const [resource = '', subresource] = permission.resource.split('/');
      try {
        const review = await withTimeout(
          api.createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { namespace: permission.namespace, verb: permission.verb, group: permission.group, resource, subresource } },
            },
          }),
          timeoutMs,
        );
        const status = review.status;
        if (status === undefined) return { permission, allowed: 'unknown', error: 'the review came back without a status' };
        if (status.evaluationError && !status.allowed) {
          return { permission, allowed: 'unknown', error: `the authorizer could not decide: ${status.evaluationError}` };
        }
        return { permission, allowed: status.allowed === true, ...(status.reason ? { reason: status.reason } : {}) };
      } catch (error) {
        return { permission, allowed: 'unknown', error: describeError(error) };
      }
    }),
  );
}

/**
 * The start-up check: one warn line per missing permission naming verb, resource, namespace and what will not work;
 * one line when some could not be checked. Never throws and never waits longer than the reviews' timeout.
 */
export async function warnAboutMissingPermissions(options: {
  readonly clients: KubeClients;
  readonly permissions: readonly Permission[];
  readonly logger: Logger;
  readonly timeoutMs?: number;
}): Promise<readonly PermissionCheck[]> {
  const { logger } = options;
  const rows = await checkPermissions(options.clients, options.permissions, { timeoutMs: options.timeoutMs ?? 5_000 });
  const missing = rows.filter((row) => row.allowed === false);
  for (const { permission } of missing) {
    const { verb, resource, namespace } = permission;
    logger.warn(
      { verb, resource, group: permission.group, namespace: namespace || '*' },
      `missing permission: cannot ${verb} ${resource} ${whereOf(permission)}: ${permission.without}`,
    );
  }
  const unknown = rows.filter((row) => row.allowed === 'unknown');
  if (unknown.length > 0) {
    logger.warn(
      { unchecked: unknown.map(({ permission }) => `${permission.verb} ${permission.resource} ${whereOf(permission)}`), err: unknown[0]!.error },
      `could not check ${unknown.length} of ${rows.length} permissions (SelfSubjectAccessReview failed): running anyway; \`kube-job-alerts check\` lists them`,
    );
  }
  if (missing.length === 0 && unknown.length === 0) logger.info({ checked: rows.length }, 'permissions checked: all granted');
  return rows;
}

/** The API server's version (`/version`), for `check`: proves the server is reachable (not that the token is good). */
export async function serverVersion(clients: KubeClients, timeoutMs = 10_000): Promise<string> {
  const info = await withTimeout(apiClient(clients.config, VersionApi).getCode(), timeoutMs);
  return info.gitVersion;
}

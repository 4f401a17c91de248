// What the emulator knows about each resource type: enough for discovery, paths and object kinds.
import type { Resource } from './types.ts';

export interface ResourceInfo {
  resource: Resource;
  group: string;
  version: string;
  kind: string;
  singular: string;
  shortNames: string[];
  /** Writes to the main resource keep the stored status; only /status changes it, as on a real cluster. */
  hasStatus: boolean;
  /** Namespaces: served at /api/v1/namespaces[/{name}], objects without metadata.namespace. */
  clusterScoped?: true;
}

export const resourceInfo: Record<Resource, ResourceInfo> = {
  jobs: { resource: 'jobs', group: 'batch', version: 'v1', kind: 'Job', singular: 'job', shortNames: [], hasStatus: true },
  cronjobs: { resource: 'cronjobs', group: 'batch', version: 'v1', kind: 'CronJob', singular: 'cronjob', shortNames: ['cj'], hasStatus: true },
  pods: { resource: 'pods', group: '', version: 'v1', kind: 'Pod', singular: 'pod', shortNames: ['po'], hasStatus: true },
  events: { resource: 'events', group: '', version: 'v1', kind: 'Event', singular: 'event', shortNames: ['ev'], hasStatus: false },
  leases: { resource: 'leases', group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', singular: 'lease', shortNames: [], hasStatus: false },
  namespaces: { resource: 'namespaces', group: '', version: 'v1', kind: 'Namespace', singular: 'namespace', shortNames: ['ns'], hasStatus: true, clusterScoped: true },
};

export function apiVersionOf(info: ResourceInfo): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** `jobs.batch`, `pods`: how the real server names a resource in error messages. */
export function qualifiedName(info: ResourceInfo): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

export function findResource(group: string, version: string, name: string): ResourceInfo | undefined {
  return Object.values(resourceInfo).find((info) => info.group === group && info.version === version && info.resource === name);
}

// The discovery documents kubectl reads before it can map `get jobs` to a URL. Only the legacy (unaggregated)
// form: kubectl asks for aggregated discovery first and falls back when it gets plain application/json.
import type { ResourceInfo } from './resources.ts';
import { resourceInfo } from './resources.ts';

const objectVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-emulator',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface GroupVersion {
  group: string;
  version: string;
}

const groupVersions: GroupVersion[] = [
  { group: 'batch', version: 'v1' },
  { group: 'coordination.k8s.io', version: 'v1' },
  { group: 'authorization.k8s.io', version: 'v1' },
];

/** Served outside the store: "may I?" questions, answered by rbac.ts (kubectl auth can-i asks this). */
const reviewResources: object[] = [
  { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
];

/** The document for a discovery path, or undefined when the path is not one. */
export function discoveryDocument(path: string, serverAddress: string): object | undefined {
  if (path === '/version') return serverVersion;
  if (path === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    };
  }
  if (path === '/api/v1') return resourceList({ group: '', version: 'v1' });
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groupVersions.map(({ group, version }) => {
        const preferred = { groupVersion: `${group}/${version}`, version };
        return { name: group, versions: [preferred], preferredVersion: preferred };
      }),
    };
  }
  const match = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  const known = match && groupVersions.find(({ group, version }) => group === match[1] && version === match[2]);
  return known ? resourceList(known) : undefined;
}

function resourceList({ group, version }: GroupVersion): object {
  const infos = Object.values(resourceInfo).filter((info) => info.group === group && info.version === version);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: group === 'authorization.k8s.io' ? reviewResources : infos.flatMap(apiResources),
  };
}

function apiResources(info: ResourceInfo): object[] {
  const main = {
    name: info.resource,
    singularName: info.singular,
    namespaced: !info.clusterScoped,
    kind: info.kind,
    verbs: objectVerbs,
    ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
    ...(info.resource === 'jobs' || info.resource === 'cronjobs' || info.resource === 'pods' ? { categories: ['all'] } : {}),
  };
  const subresources: object[] = [];
  if (info.hasStatus) {
    subresources.push({ name: `${info.resource}/status`, singularName: '', namespaced: !info.clusterScoped, kind: info.kind, verbs: ['get', 'patch', 'update'] });
  }
  if (info.resource === 'pods') {
    subresources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  }
  return [main, ...subresources];
}

// From URL to resource: which group, resource, namespace, name and subresource a request is about.
import type { ResourceInfo } from './resources.ts';
import { findResource } from './resources.ts';

export interface ResourcePath {
  group: string;
  version: string;
  /** The resource segment as sent, even when the emulator does not know it. */
  resourceName: string;
  info: ResourceInfo | undefined;
  /** '' for the all-namespaces collection. */
  namespace: string;
  name: string;
  subresource: string;
}

/** The subresources of a Namespace: `/api/v1/namespaces/{name}/status` is not a collection called `status`. */
const namespaceSubresources = ['status', 'finalize'];

/**
 * `/api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]`, `/api/v1/{resource}`, and the same under
 * `/apis/{group}/{version}`; undefined for anything else (discovery, openapi, unknown paths).
 */
export function parseResourcePath(path: string): ResourcePath | undefined {
  const segments = path.split('/').filter((segment) => segment !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    [group, version, rest] = ['', segments[1] ?? '', segments.slice(2)];
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
  } else {
    return undefined;
  }
  let namespace = '';
  let resourceName: string;
  let name = '';
  let subresource = '';
  if (rest[0] === 'namespaces' && (rest.length <= 2 || (rest.length === 3 && namespaceSubresources.includes(rest[2] ?? '')))) {
    // A Namespace itself, cluster-scoped: /api/v1/namespaces, /api/v1/namespaces/{name}[/status].
    [resourceName, name, subresource] = ['namespaces', rest[1] ?? '', rest[2] ?? ''];
  } else if (rest[0] === 'namespaces' && rest.length >= 3 && rest.length <= 5) {
    [namespace, resourceName, name, subresource] = [rest[1] ?? '', rest[2] ?? '', rest[3] ?? '', rest[4] ?? ''];
  } else if (rest.length === 1 && rest[0] !== 'namespaces') {
    resourceName = rest[0] ?? '';
  } else {
    return undefined;
  }
  return { group, version, resourceName, info: findResource(group, version, resourceName), namespace, name, subresource };
}

// Just enough OpenAPI v3 for kubectl: before `create -f`/`apply -f` it checks that the server validates
// fields itself (the PATCH operation of the kind takes `fieldValidation`). With that, kubectl needs no
// schemas; without it, kubectl fails with "failed to download openapi" unless run with --validate=false.
import type { ResourceInfo } from './resources.ts';
import { apiVersionOf, resourceInfo } from './resources.ts';

function prefixOf(info: ResourceInfo): string {
  return info.group === '' ? `api/${info.version}` : `apis/${info.group}/${info.version}`;
}

/** The document for an /openapi/v3 path, or undefined. */
export function openApiDocument(path: string): object | undefined {
  const infos = Object.values(resourceInfo);
  if (path === '/openapi/v3') {
    const prefixes = [...new Set(infos.map(prefixOf))];
    return { paths: Object.fromEntries(prefixes.map((prefix) => [prefix, { serverRelativeURL: `/openapi/v3/${prefix}?hash=emulator` }])) };
  }
  const prefix = path.replace(/^\/openapi\/v3\//, '');
  const inGroup = infos.filter((info) => prefixOf(info) === prefix);
  if (!path.startsWith('/openapi/v3/') || inGroup.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-emulator' },
    paths: Object.fromEntries(inGroup.map((info) => [
      `/${prefix}/namespaces/{namespace}/${info.resource}/{name}`,
      {
        patch: {
          'x-kubernetes-group-version-kind': { group: info.group, version: info.version, kind: info.kind },
          parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
          responses: { 200: { description: `OK: ${apiVersionOf(info)} ${info.kind}` } },
        },
      },
    ])),
  };
}

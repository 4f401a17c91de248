// The three patch types the real server takes from clients like kubectl and @kubernetes/client-node.
import { StatusError } from './status.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const patchContentTypes = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

export type PatchContentType = (typeof patchContentTypes)[number];

export function applyPatch(contentType: PatchContentType, target: object, patch: unknown): object {
  if (contentType === 'application/json-patch+json') return jsonPatch(target as Json, patch);
  if (contentType === 'application/strategic-merge-patch+json') return strategicMerge(target as Json, patch as Json) as object;
  return mergePatch(target as Json, patch as Json) as object;
}

/**
 * A strategic merge patch without the schema: a merge patch, except that lists of objects that all have a
 * `name` (containers, env, volumes, whose real merge key is `name`) merge element by element. `$patch: delete`
 * removes an element; the other directives kubectl apply sends (`$setElementOrder`, `$retainKeys`) are dropped.
 */
export function strategicMerge(target: Json, patch: Json): Json {
  if (Array.isArray(patch)) {
    if (!Array.isArray(target) || !isNamedList(patch) || !isNamedList(target)) {
      return patch.filter((item) => !(isObject(item) && item.$patch === 'delete')).map((item) => strategicMerge(null, item));
    }
    const merged = [...target];
    for (const element of patch) {
      const index = merged.findIndex((candidate) => candidate.name === element.name);
      if (element.$patch === 'delete') {
        if (index !== -1) merged.splice(index, 1);
      } else {
        merged.splice(index === -1 ? merged.length : index, index === -1 ? 0 : 1, strategicMerge(merged[index] ?? null, element) as JsonObject);
      }
    }
    return merged;
  }
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else result[key] = strategicMerge(result[key] ?? null, value);
  }
  return result;
}

function isNamedList(list: Json[]): list is JsonObject[] {
  return list.every((item) => isObject(item) && typeof item.name === 'string');
}

/** RFC 7386: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

/** RFC 6902: add, remove, replace, test, move and copy, with `~1` and `~0` escapes in pointers. */
export function jsonPatch(target: Json, operations: unknown): object {
  if (!Array.isArray(operations)) throw invalid('json patch must be an array of operations');
  let document = structuredClone(target);
  for (const operation of operations as Operation[]) {
    document = applyOperation(document, operation);
  }
  return document as object;
}

function applyOperation(document: Json, operation: Operation): Json {
  switch (operation.op) {
    case 'add':
      return put(document, operation.path, requireValue(operation), 'add');
    case 'replace':
      get(document, operation.path);
      return put(document, operation.path, requireValue(operation), 'replace');
    case 'remove':
      return remove(document, operation.path);
    case 'test': {
      const actual = get(document, operation.path);
      if (JSON.stringify(actual) !== JSON.stringify(operation.value)) {
        throw invalid(`testing value ${operation.path} failed: test failed`);
      }
      return document;
    }
    case 'move': {
      const value = get(document, operation.from ?? '');
      return put(remove(document, operation.from ?? ''), operation.path, value, 'add');
    }
    case 'copy':
      return put(document, operation.path, structuredClone(get(document, operation.from ?? '')), 'add');
    default:
      throw invalid(`Unexpected kind: ${operation.op}`);
  }
}

function requireValue(operation: Operation): Json {
  if (!('value' in operation)) throw invalid(`missing value for ${operation.op} ${operation.path}`);
  return operation.value as Json;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw invalid(`invalid JSON pointer: ${pointer}`);
  return pointer.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function get(document: Json, pointer: string): Json {
  let node = document;
  for (const token of tokens(pointer)) {
    const child = childOf(node, token);
    if (child === undefined) throw invalid(`doc is missing path: "${pointer}": missing value`);
    node = child;
  }
  return node;
}

function put(document: Json, pointer: string, value: Json, op: 'add' | 'replace'): Json {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) return value;
  const parent = get(document, pointerOf(path));
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw invalid(`index out of range: ${pointer}`);
    if (op === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw invalid(`doc is missing path: "${pointer}": missing value`);
  }
  return document;
}

function remove(document: Json, pointer: string): Json {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) throw invalid('cannot remove the whole document');
  const parent = get(document, pointerOf(path));
  if (childOf(parent, last) === undefined) throw invalid(`Unable to remove nonexistent key: ${last}: missing value`);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return document;
}

function childOf(node: Json, token: string): Json | undefined {
  if (Array.isArray(node)) return /^\d+$/.test(token) ? node[Number(token)] : undefined;
  if (isObject(node)) return Object.hasOwn(node, token) ? node[token] : undefined;
  return undefined;
}

function pointerOf(path: string[]): string {
  return path.map((token) => '/' + escape(token)).join('');
}

function escape(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): StatusError {
  return new StatusError(422, message, 'Invalid');
}

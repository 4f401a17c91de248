// Label and field selectors with the real server's grammar, so list and watch filter the way the daemon expects.
import { StatusError } from './status.ts';
import type { K8sObject, Resource } from './types.ts';

export type ObjectPredicate = (object: K8sObject) => boolean;

type LabelTerm = (labels: Record<string, string>) => boolean;

/** `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`; commas (outside parentheses) are AND. */
export function parseLabelSelector(selector: string | undefined): ObjectPredicate {
  const terms = splitTerms(selector ?? '').map(parseLabelTerm);
  return (object) => {
    const labels = object.metadata?.labels ?? {};
    return terms.every((term) => term(labels));
  };
}

function parseLabelTerm(term: string): LabelTerm {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', operator, list = ''] = set;
    const values = new Set(list.split(',').map((value) => value.trim()));
    return operator === 'in'
      ? (labels) => key in labels && values.has(labels[key] ?? '')
      : (labels) => !(key in labels) || !values.has(labels[key] ?? '');
  }
  const comparison = /^([\w./-]+)\s*(==|!=|=)\s*([\w.-]*)$/.exec(term);
  if (comparison) {
    const [, key = '', operator, value = ''] = comparison;
    return operator === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const exists = /^(!?)([\w./-]+)$/.exec(term);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw new StatusError(400, `unable to parse requirement: found '${term}', expected: identifier`);
}

// The fields each resource's real server indexes; anything else is a 400, as there. Events: pkg/registry/core/event
// ToSelectableFields (involvedObject.*, reason, reportingComponent, source, type), the same in core/v1's conversions.
const fieldsByResource: Record<Resource, string[]> = {
  jobs: ['metadata.name', 'metadata.namespace', 'status.successful'],
  cronjobs: ['metadata.name', 'metadata.namespace'],
  pods: ['metadata.name', 'metadata.namespace', 'status.phase', 'spec.nodeName', 'spec.restartPolicy', 'status.podIP'],
  events: [
    'metadata.name', 'metadata.namespace', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name',
    'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
    'reason', 'reportingComponent', 'source', 'type',
  ],
  leases: ['metadata.name', 'metadata.namespace'],
  namespaces: ['metadata.name', 'status.phase'],
};

/** `field=value`, `field==value`, `field!=value`, comma = AND. */
export function parseFieldSelector(selector: string | undefined, resource: Resource): ObjectPredicate {
  const terms = splitTerms(selector ?? '').map((term): ObjectPredicate => {
    const match = /^([\w.]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
    if (!match) throw new StatusError(400, `invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field = '', operator, value = ''] = match;
    if (!fieldsByResource[resource].includes(field)) {
      throw new StatusError(400, `field label not supported: ${field}`);
    }
    return operator === '!=' ? (object) => fieldValue(object, field) !== value : (object) => fieldValue(object, field) === value;
  });
  return (object) => terms.every((term) => term(object));
}

function fieldValue(object: K8sObject, field: string): string {
  // An event's `source` is its source.component, or its reportingComponent when that is empty (as the server maps it).
  if (object.kind === 'Event' && field === 'source') return String(object.source?.component || object.reportingComponent || '');
  let value: unknown = object;
  for (const part of field.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value === undefined || value === null ? '' : String(value);
}

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current);
  return terms.map((term) => term.trim()).filter((term) => term !== '');
}

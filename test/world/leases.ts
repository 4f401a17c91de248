// What the real API server checks on a Lease write, before the store sees it (apimachinery's MicroTime decoding,
// pkg/apis/coordination/validation, and the lease strategy, which allows no unconditional update).
//
// Why the emulator is strict here: a MicroTime (spec.acquireTime, spec.renewTime) is parsed with the fixed layout
// 2006-01-02T15:04:05.000000Z07:00, exactly six fractional digits. JavaScript's toISOString() writes three, and a
// real server answers 400 to every such write: an elector tested against a lenient emulator would never lead in a
// real cluster. The server stores the parsed time and writes it back in UTC with six digits, as done here.
import { StatusError } from './status.ts';
import type { K8sObject } from './types.ts';

const LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const MICRO_TIME_FIELDS = ['acquireTime', 'renewTime'] as const;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The Lease as the server would store it (MicroTimes in their canonical form), or the error it would answer:
 * 400 when a MicroTime cannot be decoded, 422 when validation fails (or an update names no resourceVersion).
 */
export function admitLease(input: K8sObject, operation: 'create' | 'update' | 'patch'): K8sObject {
  const lease = structuredClone(input);
  const name = lease.metadata?.name ?? '';
  const spec = (lease.spec ?? {}) as Record<string, unknown>;
  for (const field of MICRO_TIME_FIELDS) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      const kind = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
      throw new StatusError(400, `Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal ${kind} into Go value of type string`, 'BadRequest');
    }
    spec[field] = canonicalMicroTime(value);
  }
  const problems: string[] = [];
  // A patch is applied to the current object, whose resourceVersion the server fills in itself.
  if (operation === 'update' && !lease.metadata?.resourceVersion) {
    problems.push('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
  }
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    problems.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
  }
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration !== null && (typeof duration !== 'number' || duration <= 0)) {
    problems.push(`spec.leaseDurationSeconds: Invalid value: ${JSON.stringify(duration)}: must be greater than 0`);
  }
  const transitions = spec.leaseTransitions;
  if (transitions !== undefined && transitions !== null && (typeof transitions !== 'number' || transitions < 0)) {
    problems.push(`spec.leaseTransitions: Invalid value: ${JSON.stringify(transitions)}: must be greater than or equal to 0`);
  }
  if (problems.length > 0) {
    // The update check names the resource (leases.coordination.k8s.io), validation the kind, as the real server does.
    const subject = operation === 'update' && problems[0]!.startsWith('metadata.resourceVersion') ? 'leases.coordination.k8s.io' : 'Lease.coordination.k8s.io';
    const listed = problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`;
    throw new StatusError(422, `${subject} "${name}" is invalid: ${listed}`, 'Invalid', { name, group: 'coordination.k8s.io', kind: 'Lease' });
  }
  if (lease.spec !== undefined) lease.spec = spec;
  return lease;
}

/** The stored form of a MicroTime: UTC, six fractional digits. Throws the server's 400 for any other layout. */
export function canonicalMicroTime(text: string): string {
  const fail = (rest: string, element: string): never => {
    throw new StatusError(
      400,
      `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(text)} as ${JSON.stringify(LAYOUT)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(element)}`,
      'BadRequest',
    );
  };
  const head = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.exec(text)?.[0];
  if (head === undefined) return fail(text, '2006-01-02T15:04:05');
  const rest = text.slice(head.length);
  const fraction = /^\.\d{6}/.exec(rest)?.[0];
  if (fraction === undefined) return fail(rest, '.000000');
  const zone = rest.slice(fraction.length);
  if (zone !== 'Z' && !/^[+-]\d{2}:\d{2}$/.test(zone)) return fail(zone, 'Z07:00');
  const ms = Date.parse(`${head}${zone}`);
  if (Number.isNaN(ms)) {
    throw new StatusError(400, `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(text)}: day out of range`, 'BadRequest');
  }
  return zone === 'Z' ? text : `${new Date(ms).toISOString().slice(0, 19)}${fraction}Z`;
}

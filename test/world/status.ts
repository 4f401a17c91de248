// Errors in the shape the real API server sends them: a v1 Status with a reason the clients branch on.
import type { ResourceInfo } from './resources.ts';
import { qualifiedName } from './resources.ts';

const reasonByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  /** ListMeta: a 410 on an expired continue token carries a token to continue inconsistently. */
  metadata: { continue?: string };
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}

export function failureStatus(code: number, message: string, reason = reasonByCode[code] ?? 'Unknown', details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) };
}

/** Thrown by the store and routes; the HTTP layer turns it into a Status response. */
export class StatusError extends Error {
  readonly status: Status;

  constructor(code: number, message: string, reason?: string, details?: Status['details']) {
    super(message);
    this.status = failureStatus(code, message, reason, details);
  }
}

export function notFound(info: ResourceInfo, name: string): StatusError {
  return new StatusError(404, `${qualifiedName(info)} "${name}" not found`, 'NotFound', { name, group: info.group, kind: info.resource });
}

export function alreadyExists(info: ResourceInfo, name: string): StatusError {
  return new StatusError(409, `${qualifiedName(info)} "${name}" already exists`, 'AlreadyExists', { name, group: info.group, kind: info.resource });
}

export function conflict(info: ResourceInfo, name: string): StatusError {
  return new StatusError(
    409,
    `Operation cannot be fulfilled on ${qualifiedName(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    'Conflict',
    { name, group: info.group, kind: info.resource },
  );
}

/**
 * What the real server answers to a list or watch from a resourceVersion it has not reached (its history went back:
 * etcd restored from a backup): apiserver's storage.NewTooLargeResourceVersionError, a 504 Timeout whose cause
 * ResourceVersionTooLarge is what client-go's reflector relists on.
 */
export function tooLargeResourceVersion(requested: number, current: number): Status {
  return failureStatus(504, `Timeout: Too large resource version: ${requested}, current: ${current}`, 'Timeout', {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

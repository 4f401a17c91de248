/**
 * The objects whose annotations say where an alert goes and whom it mentions: the Job, the CronJob that owns it,
 * and its Namespace, in that order of precedence (the most specific says it first). Pure: no I/O.
 *
 * Structural types on purpose: the client's V1Job, V1CronJob and V1Namespace fit them, tests can write plain
 * objects, and nothing outside src/kube/ imports the Kubernetes client.
 */

export interface Annotated {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

export interface Owners {
  readonly job: Annotated;
  /** Undefined for a Job no CronJob owns (or one not found). */
  readonly cronJob?: Annotated | undefined;
  /** The Job's Namespace object: only read cluster-wide with NAMESPACE_ANNOTATIONS (see config.ts). */
  readonly namespace?: Annotated | undefined;
}

/** An annotation's value and the object that carries it, named for a warning: `Job batch/nightly-1`. */
export interface FoundAnnotation {
  readonly value: string;
  readonly where: string;
}

export function describeObject(kind: 'Job' | 'CronJob' | 'Namespace', object: Annotated): string {
  const name = object.metadata?.name ?? '(no name)';
  if (kind === 'Namespace') return `Namespace ${name}`;
  const namespace = object.metadata?.namespace;
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/** Objects in precedence order, each with its description. */
export function inPrecedence(owners: Owners): { readonly object: Annotated; readonly where: string }[] {
  const ordered: { object: Annotated; where: string }[] = [{ object: owners.job, where: describeObject('Job', owners.job) }];
  if (owners.cronJob) ordered.push({ object: owners.cronJob, where: describeObject('CronJob', owners.cronJob) });
  if (owners.namespace) ordered.push({ object: owners.namespace, where: describeObject('Namespace', owners.namespace) });
  return ordered;
}

/**
 * The first object that has the annotation, with its value as written. With `skipBlank`, an empty or blank value
 * counts as not set (the next object is asked); without, it is returned (for mentions, "" means "nobody").
 */
export function annotationOf(owners: Owners, key: string, options: { readonly skipBlank?: boolean } = {}): FoundAnnotation | undefined {
  for (const { object, where } of inPrecedence(owners)) {
    const value = object.metadata?.annotations?.[key];
    if (typeof value !== 'string') continue;
    if (options.skipBlank && value.trim() === '') continue;
    return { value, where };
  }
  return undefined;
}

/** A value from the cluster, cut for a log line or warning (an annotation can be up to 256 KiB). */
export function quoted(value: string, max = 80): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}

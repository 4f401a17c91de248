/**
 * Defensive readers for Kubernetes objects of unknown shape.
 *
 * The same Job or Pod reaches detect/ in two shapes: from the informer's initial list as @kubernetes/client-node
 * class instances whose timestamps are `Date`s (an unparsable one becomes an Invalid Date), and from watch events
 * as plain JSON whose timestamps are ISO strings. Reading every field through these helpers makes both shapes,
 * and any malformed object, look alike: a field is either of the expected type or undefined. Nothing here throws.
 */

export type Fields = Readonly<Record<string, unknown>>;

/** The value as an object with fields, or undefined for null, arrays and primitives. */
export function fields(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

/** The object under `key`, or undefined. */
export function child(value: unknown, key: string): Fields | undefined {
  return fields(fields(value)?.[key]);
}

/** The array under `key`, or an empty one. */
export function list(value: unknown, key: string): readonly unknown[] {
  const found = fields(value)?.[key];
  return Array.isArray(found) ? found : [];
}

/** The string under `key`, or undefined. */
export function text(value: unknown, key: string): string | undefined {
  const found = fields(value)?.[key];
  return typeof found === 'string' ? found : undefined;
}

/** The finite number under `key`, or undefined. */
export function count(value: unknown, key: string): number | undefined {
  const found = fields(value)?.[key];
  return typeof found === 'number' && Number.isFinite(found) ? found : undefined;
}

/** RFC 3339, as the API server writes metav1.Time; V8's Date parser alone would also accept "1" or "May 5". */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A timestamp from either shape: a valid `Date`, or an RFC 3339 string; anything else is undefined. */
export function time(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : new Date(value.getTime());
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** The annotation `name` of a Kubernetes object, or undefined. */
export function annotation(object: unknown, name: string): string | undefined {
  return text(child(child(object, 'metadata'), 'annotations'), name);
}

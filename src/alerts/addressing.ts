/**
 * Where a notification goes and whom it names: the route (annotation on the Job, its CronJob or its Namespace, then
 * NAMESPACE_ROUTES, then the default), a copy for ALSO_SEND_TO, validated mentions and link buttons. The choices are
 * the pure functions of route/; this module gathers their inputs (the records, and the Namespace when its
 * annotations are read) and returns the notifications to send: the original, addressed, and its copy if any.
 */
import type { Config } from '../config.ts';
import type { CronJobRecord, JobRecord } from '../detect/records.ts';
import type { Notification } from '../notify/notification.ts';
import { chooseRoute, destinations } from '../route/choose.ts';
import { linksFor, linkValuesOf } from '../route/links.ts';
import { mentionsFor } from '../route/mentions.ts';
import type { Annotated, Owners } from '../route/owners.ts';
import { ANNOTATIONS } from '../state/annotations.ts';

export type RoutingConfig = Pick<Config, 'routes' | 'namespaceRoutes' | 'alsoSendTo' | 'allowBroadcastMentions' | 'linkTemplates'>;

export interface Addressed {
  readonly notifications: readonly Notification[];
  /** Annotations that could not be used, each naming the object and the value. */
  readonly warnings: readonly string[];
}

/** A record as the route functions read it: its name and its annotations under their full names. */
export function annotated(record: Pick<JobRecord | CronJobRecord, 'namespace' | 'name' | 'annotations'>): Annotated {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.annotations)) if (value !== undefined) annotations[ANNOTATIONS[key as keyof typeof ANNOTATIONS]] = value;
  return { metadata: { name: record.name, namespace: record.namespace, annotations } };
}

export function address(
  notification: Notification,
  objects: { readonly job?: JobRecord; readonly cronJob?: CronJobRecord; readonly namespace?: Annotated },
  config: RoutingConfig,
): Addressed {
  // A recovery is about the CronJob: its own annotations come first.
  const primary = objects.job ?? objects.cronJob;
  if (!primary) return { notifications: [notification], warnings: [] };
  const owners: Owners = {
    job: annotated(primary),
    cronJob: objects.job && objects.cronJob ? annotated(objects.cronJob) : undefined,
    namespace: objects.namespace,
  };
  const warnings: string[] = [];
  const choice = chooseRoute(owners, config);
  if (choice.warning) warnings.push(choice.warning);
  const mentions = mentionsFor(owners, { allowBroadcast: config.allowBroadcastMentions });
  warnings.push(...mentions.warnings);
  let links: Notification['links'];
  if (notification.kind === 'failure' || notification.kind === 'reminder') {
    const found = linksFor(config.linkTemplates, linkValuesOf(notification), owners);
    warnings.push(...found.warnings);
    links = found.links;
  }
  const [route = choice.route, ...copies] = destinations(choice, config);
  const addressed: Notification = {
    ...notification,
    route,
    ...(mentions.mentions.length > 0 ? { mentions: mentions.mentions } : {}),
    ...(links && links.length > 0 ? { links } : {}),
  };
  return { notifications: [addressed, ...copies.map((copy) => ({ ...addressed, route: copy, copy: true }))], warnings };
}

/**
 * The Warning events worth showing with a failure: what the controllers and the kubelet said about the Job and its
 * pod (FailedCreate for a quota or an admission webhook, BackoffLimitExceeded, image pull errors, FailedMount...).
 * Pure: kube/evidence.ts lists them (core/v1 events, field selector on involvedObject.uid and type=Warning).
 */
import type { Evidence } from '../alert.ts';
import { child, count, fields, text, time } from './fields.ts';

export type WarningEvent = NonNullable<Evidence['events']>[number];

/** Shown at most; the newest. */
export const MAX_EVENTS = 5;
/** An event message is kept up to this many characters (a webhook's denial can be long). */
export const MAX_EVENT_MESSAGE = 500;

/**
 * The newest `max` Warning events among `events` (core/v1 Event objects in either shape), newest first. An event's
 * time is the last time it happened: series.lastObservedTime (events.k8s.io recorders), else lastTimestamp (the
 * core/v1 recorder), else eventTime, else its creation. Normal events and malformed ones are left out.
 */
export function warningEventsOf(events: readonly unknown[], max = MAX_EVENTS): WarningEvent[] {
  const found: { event: WarningEvent; at: number }[] = [];
  for (const raw of events) {
    const event = fields(raw);
    if (event === undefined || text(event, 'type') !== 'Warning') continue;
    const involved = child(event, 'involvedObject');
    const series = child(event, 'series');
    const lastSeen = time(series?.['lastObservedTime']) ?? time(event['lastTimestamp']) ?? time(event['eventTime'])
      ?? time(child(event, 'metadata')?.['creationTimestamp']);
    const message = (text(event, 'message') ?? '').trim();
    found.push({
      event: {
        kind: text(involved, 'kind') ?? '',
        name: text(involved, 'name') ?? '',
        reason: text(event, 'reason') ?? '',
        message: message.length > MAX_EVENT_MESSAGE ? `${message.slice(0, MAX_EVENT_MESSAGE - 1).replace(/[\ud800-\udbff]$/, '')}…` : message,
        count: Math.max(1, count(series, 'count') ?? count(event, 'count') ?? 1),
        ...(lastSeen === undefined ? {} : { lastSeen }),
      },
      at: lastSeen?.getTime() ?? Number.NEGATIVE_INFINITY,
    });
  }
  return found
    .filter(({ event }) => event.reason !== '' || event.message !== '')
    .sort((a, b) => b.at - a.at)
    .slice(0, max)
    .map(({ event }) => event);
}

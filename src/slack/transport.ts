/**
 * Slack incoming webhooks as a transport (notify/transport.ts): post only, since a webhook cannot edit what it
 * posted. Each webhook gets its own deliverer, so its queue, pacing and retries are its own.
 */
import type { Transport } from '../notify/transport.ts';
import type { Deliverer } from './deliver.ts';
import type { SlackPayload } from './format.ts';

export function webhookTransport(name: string, deliverer: Deliverer): Transport<SlackPayload> {
  return { name, post: (payload, signal) => deliverer.deliver(payload, signal) };
}

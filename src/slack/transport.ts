/**
 * Slack incoming webhooks as a transport (notify/transport.ts): post only, since a webhook cannot edit what it
 * posted. Each webhook gets its own deliverer, so its queue, pacing and retries are its own.
 */
import type { SendResult, Transport } from '../notify/transport.ts';
import type { Deliverer } from './deliver.ts';
import type { SlackPayload } from './format.ts';

export function webhookTransport(name: string, deliverer: Deliverer, onResult?: (result: SendResult) => void): Transport<SlackPayload> {
  return {
    name,
    post: async (payload, signal) => {
      const result = await deliverer.deliver(payload, signal);
      onResult?.(result);
      return result;
    },
  };
}

/**
 * The seam between "this notification is decided and rendered" and "the channel has it".
 *
 * A transport owns one destination (a webhook today; a Slack app channel later) with its own queue, pacing,
 * Retry-After pauses and retries, so a slow or revoked destination never delays another. It can post a message
 * and, where the destination allows (a Slack app, not a webhook), update one it posted before: `ref` says which.
 */

/** A message a transport posted, for a later update (a channel and timestamp for a Slack app). */
export interface MessageRef {
  readonly transport: string;
  readonly id: string;
}

export type SendResult =
  | { readonly ok: true; readonly attempts: number; readonly ref?: MessageRef }
  /** Refused for good (revoked webhook, invalid payload): retrying cannot help. `error` is the destination's word. */
  | { readonly ok: false; readonly permanent: true; readonly error: string; readonly status?: number; readonly attempts: number }
  /** Not delivered, but not refused either (shutdown): leave it unmarked, so the next start sends it. */
  | { readonly ok: false; readonly permanent: false; readonly error: 'aborted'; readonly attempts: number };

export interface Transport<Message> {
  /** For logs and metrics: a route name or a webhook's fingerprint; never a secret. */
  readonly name: string;
  post(message: Message, signal?: AbortSignal): Promise<SendResult>;
  /** Absent where the destination cannot edit messages (incoming webhooks). */
  update?(ref: MessageRef, message: Message, signal?: AbortSignal): Promise<SendResult>;
}

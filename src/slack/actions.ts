/**
 * Mentions and link buttons added to a rendered message, whatever its kind. Pure: no I/O (enforced by eslint).
 *
 * This is the one place where `<` reaches Slack unescaped, and only as a mention that route/mentions.ts rendered
 * from a validated annotation: every mention is checked again here against the exact shapes Slack gives them
 * (`<@U…>`, `<!subteam^S…>`, `<!here>`, `<!channel>`), and anything else is dropped. Cluster text (names,
 * messages, logs) never comes through here; it is escaped by format.ts before it is placed, so `<!channel>` in a
 * log line stays `&lt;!channel&gt;`.
 *
 * Mentions go at the front of `text` (phones notify from it) and into a section right after the header (so they
 * show in the message). Links become an `actions` block of url buttons at the end, within Slack's limits (text 75,
 * url 3000); a url button opens the link and needs no app to answer it.
 */
import { RENDERED_MENTION, type Mention } from '../route/mentions.ts';
import type { Link } from '../route/links.ts';
import { truncatePlain } from './escape.ts';
import type { Block, PlainTextObject, SlackPayload } from './format.ts';

export interface ButtonElement {
  readonly type: 'button';
  readonly text: PlainTextObject;
  readonly url: string;
  /** Unique within the block, as Slack requires. */
  readonly action_id: string;
}

export interface ActionsBlock {
  readonly type: 'actions';
  readonly block_id?: string;
  readonly elements: ButtonElement[];
}

/** Slack's documented limits for what this module emits. */
export const ACTION_LIMITS = { buttonText: 75, url: 3000, actionId: 255, elements: 25 } as const;

/** The block_id of the links' actions block, so a message has at most one and tests can find it. */
export const LINKS_BLOCK_ID = 'kube-job-alerts-links';

/** Mentions that have the exact shape of one; anything else (which only a bug could bring here) is dropped. */
export function safeMentions(mentions: readonly Mention[]): string[] {
  return [...new Set(mentions.filter((mention) => RENDERED_MENTION.test(mention)))];
}

/** The message with its mentions at the front of `text` and in a section after the header. */
export function withMentions(payload: SlackPayload, mentions: readonly Mention[]): SlackPayload {
  const safe = safeMentions(mentions);
  if (safe.length === 0) return payload;
  const line = safe.join(' ');
  const section: Block = { type: 'section', text: { type: 'mrkdwn', text: line } };
  const headerAt = payload.blocks.findIndex((block) => block.type === 'header');
  const blocks = [...payload.blocks];
  blocks.splice(headerAt + 1, 0, section);
  return { ...payload, text: `${line} ${payload.text}`, blocks };
}

/** One url button per link (http(s) only, within Slack's limits), in an actions block at the end of the message. */
export function withLinks(payload: SlackPayload, links: readonly Link[]): SlackPayload {
  const elements: ButtonElement[] = links
    .filter((link) => /^https?:\/\//i.test(link.url) && link.url.length <= ACTION_LIMITS.url && link.label.trim() !== '')
    .slice(0, ACTION_LIMITS.elements)
    .map((link, i) => ({
      type: 'button',
      // plain_text is not parsed for mentions, but angle brackets become lookalikes anyway (see escape.ts plainText).
      text: { type: 'plain_text', text: truncatePlain(link.label.replace(/</g, '‹').replace(/>/g, '›'), ACTION_LIMITS.buttonText), emoji: true },
      url: link.url,
      action_id: `link-${i}`,
    }));
  if (elements.length === 0) return payload;
  const actions: ActionsBlock = { type: 'actions', block_id: LINKS_BLOCK_ID, elements };
  return { ...payload, blocks: [...payload.blocks, actions] };
}

/** Both, as a worker applies them after rendering any kind of notification. */
export function withRouting(payload: SlackPayload, routing: { readonly mentions?: readonly Mention[]; readonly links?: readonly Link[] }): SlackPayload {
  return withLinks(withMentions(payload, routing.mentions ?? []), routing.links ?? []);
}

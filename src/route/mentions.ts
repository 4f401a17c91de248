/**
 * mentionsFor: whom an alert mentions, from the annotation `kube-job-alerts.io/mention` on the Job, its CronJob or
 * its Namespace (the first that has it wins, as for routes). Pure: no I/O (enforced by eslint).
 *
 * Why so strict: a mention is the one piece of cluster-controlled text that reaches Slack unescaped (everything
 * else goes through slack/escape.ts), so it must be nothing but a mention. The value is a comma list of Slack IDs:
 *   users        U0123ABC, W0123ABC, or as Slack writes them <@U0123ABC> (a `|label` is dropped)   -> <@U0123ABC>
 *   user groups  S0456DEF, or <!subteam^S0456DEF> / <!subteam^S0456DEF|@team>                    -> <!subteam^S0456DEF>
 *   broadcasts   @here, @channel, <!here>, <!channel>   -> <!here>, <!channel>, only with ALLOW_BROADCAST_MENTIONS
 * Anything else (a name like @alice, <!everyone>, a link, text) is refused with a warning naming the object and the
 * value, and left out; the rest of the list still counts. An empty value means "mention nobody": a Job can silence
 * its Namespace's mentions that way.
 */
import { annotationOf, quoted, type Owners } from './owners.ts';

export const ANNOTATION_MENTION = 'kube-job-alerts.io/mention';
/** More than this many is a list nobody reads; the rest are left out with a warning. */
export const MAX_MENTIONS = 10;

declare const validated: unique symbol;
/** A rendered mention (`<@U…>`, `<!subteam^S…>`, `<!here>`, `<!channel>`); only this module makes them. */
export type Mention = string & { readonly [validated]: true };

export interface MentionResult {
  /** Rendered, deduplicated, in the order written. */
  readonly mentions: readonly Mention[];
  /** One line per refused value, naming the object and the value. */
  readonly warnings: readonly string[];
  /** The object the mentions came from (`Job batch/x`), when one had the annotation. */
  readonly from?: string;
}

export interface MentionOptions {
  readonly allowBroadcast: boolean;
}

const ID = '[A-Z0-9]{6,20}';
const USER = new RegExp(`^<@([UW]${ID})(?:\\|[^<>]*)?>$|^([UW]${ID})$`);
const GROUP = new RegExp(`^<!subteam\\^(S${ID})(?:\\|[^<>]*)?>$|^(S${ID})$`);
const BROADCAST = /^(?:@(here|channel)|<!(here|channel)(?:\|[^<>]*)?>)$/;

/** The exact shapes a rendered mention has; actions.ts checks again before it places one. */
export const RENDERED_MENTION = new RegExp(`^<(?:@[UW]${ID}|!subteam\\^S${ID}|!here|!channel)>$`);

/** One written mention, rendered; or the reason it is refused. */
export function renderMention(written: string, options: MentionOptions): { readonly mention: Mention } | { readonly refused: string } {
  const text = written.trim();
  const user = USER.exec(text);
  if (user) return { mention: `<@${user[1] ?? user[2]}>` as Mention };
  const group = GROUP.exec(text);
  if (group) return { mention: `<!subteam^${group[1] ?? group[2]}>` as Mention };
  const broadcast = BROADCAST.exec(text);
  if (broadcast) {
    if (!options.allowBroadcast) return { refused: 'broadcast mentions need ALLOW_BROADCAST_MENTIONS=true' };
    return { mention: `<!${broadcast[1] ?? broadcast[2]}>` as Mention };
  }
  return { refused: 'not a Slack user ID (U…, W…), user-group ID (S…), @here or @channel' };
}

/** A comma list from one object's annotation. `where` names the object in warnings. */
export function parseMentions(value: string, where: string, options: MentionOptions): MentionResult {
  const mentions: Mention[] = [];
  const warnings: string[] = [];
  const written = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  for (const part of written) {
    const rendered = renderMention(part, options);
    if ('refused' in rendered) {
      warnings.push(`${where}: ${ANNOTATION_MENTION}: ${quoted(part)} refused: ${rendered.refused}`);
      continue;
    }
    if (mentions.includes(rendered.mention)) continue;
    if (mentions.length === MAX_MENTIONS) {
      warnings.push(`${where}: ${ANNOTATION_MENTION}: more than ${MAX_MENTIONS} mentions: ${quoted(part)} and any after it left out`);
      break;
    }
    mentions.push(rendered.mention);
  }
  return { mentions, warnings, from: where };
}

/** The mentions for an alert: from the first of Job, CronJob, Namespace that has the annotation. */
export function mentionsFor(owners: Owners, options: MentionOptions): MentionResult {
  const found = annotationOf(owners, ANNOTATION_MENTION);
  if (!found) return { mentions: [], warnings: [] };
  return parseMentions(found.value, found.where, options);
}

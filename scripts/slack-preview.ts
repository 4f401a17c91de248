/**
 * How Slack would show one alert, approximately, for people without a Slack workspace at hand: as plain text for a
 * terminal (`npm run demo`) and as HTML for a screenshot (scripts/render-alert.ts). It knows only the Block Kit
 * subset that src/slack/format.ts and actions.ts emit (header, section text and fields, context, link buttons) and the mrkdwn in it: *bold*,
 * `code`, ``` fences ```, and the &amp; &lt; &gt; escapes. It is a preview, not a Slack client: anything else is
 * shown verbatim.
 */
import type { Block, SlackPayload } from '../src/slack/format.ts';

/** The few emoji shortcodes an alert uses; Slack renders these as the emoji. */
const EMOJI: Readonly<Record<string, string>> = { rotating_light: '🚨', warning: '⚠️', x: '❌' };

export interface TextStyle {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
}

const PLAIN: TextStyle = { bold: (text) => text, dim: (text) => text };

/** One piece of mrkdwn: prose (with *bold* and `code` spans) or a fenced code block. */
type Piece = { readonly kind: 'prose'; readonly text: string } | { readonly kind: 'code'; readonly lines: string[] };

function pieces(mrkdwn: string): Piece[] {
  const parts = mrkdwn.split('```');
  const result: Piece[] = [];
  parts.forEach((part, index) => {
    // Odd parts are inside a fence (the formatter always closes its fences); trim the newlines around the fence.
    if (index % 2 === 1) result.push({ kind: 'code', lines: part.replace(/^\n/, '').replace(/\n$/, '').split('\n') });
    else if (part.replace(/\n/g, '') !== '') result.push({ kind: 'prose', text: part.replace(/^\n/, '').replace(/\n$/, '') });
  });
  return result;
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function emoji(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** A `*Label*\nvalue` field or section as `Label: value`, the way a reader says it. */
function labelled(prose: string, style: TextStyle): string {
  const match = /^\*([^*\n]+)\*\n([^\n]*)$/.exec(prose);
  if (match) return `${style.bold(`${unescape(match[1] ?? '')}:`)} ${inlineText(match[2] ?? '', style)}`;
  return inlineText(prose, style);
}

/** Applies `format` to the text outside `code` spans only: as in Slack, `*` inside backticks is not bold. */
function outsideCode(text: string, format: (prose: string) => string, code: (span: string) => string = (span) => span): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, index) => (index % 2 === 1 ? code(part) : format(part)))
    .join('');
}

function inlineText(prose: string, style: TextStyle): string {
  return unescape(outsideCode(emoji(prose), (part) => part.replace(/\*([^*\n]+)\*/g, (_whole, bold: string) => style.bold(bold))));
}

/** One mrkdwn string (the notification text, say) as plain text. */
export function mrkdwnAsText(text: string, style: TextStyle = PLAIN): string {
  return inlineText(text, style);
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- ANSI escapes take no room on screen.
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/**
 * The message as plain text: the header, the fields in two columns, then each section (code blocks indented with
 * a bar), then the context notes. Lines are indented by `indent`.
 */
export function blocksAsText(payload: Pick<SlackPayload, 'blocks'>, options: { style?: TextStyle; indent?: string; columnWidth?: number } = {}): string {
  const style = options.style ?? PLAIN;
  const indent = options.indent ?? '';
  const width = options.columnWidth ?? 40;
  const lines: string[] = [];
  for (const block of payload.blocks) lines.push(...blockAsText(block, style, width));
  return lines.map((line) => (line === '' ? '' : indent + line)).join('\n');
}

function blockAsText(block: Block, style: TextStyle, width: number): string[] {
  if (block.type === 'header') return [style.bold(emoji(block.text.text))];
  if (block.type === 'context') return [style.dim(block.elements.map((element) => inlineText(element.text, PLAIN)).join('  ·  '))];
  if (block.type === 'actions') return [block.elements.map((button) => `[ ${style.bold(button.text.text)} ] ${style.dim(button.url)}`).join('   ')];
  const lines: string[] = [];
  const fields = (block.fields ?? []).map((field) => labelled(field.text, style));
  for (let i = 0; i < fields.length; i += 2) {
    const left = fields[i] ?? '';
    const right = fields[i + 1];
    lines.push(right === undefined ? left : left + ' '.repeat(Math.max(2, width - visibleLength(left))) + right);
  }
  for (const piece of pieces(block.text?.text ?? '')) {
    if (piece.kind === 'code') lines.push(...piece.lines.map((line) => style.dim('│ ') + unescape(line)));
    else if (/^\*[^*\n]+\*\n[^\n]*$/.test(piece.text)) lines.push(labelled(piece.text, style));
    else lines.push(...piece.text.split('\n').map((line) => inlineText(line, style)));
  }
  return lines;
}

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** mrkdwn to HTML: the text is already Slack-escaped (&amp; &lt; &gt;), which is also valid HTML. */
function mrkdwnHtml(mrkdwn: string): string {
  return pieces(mrkdwn)
    .map((piece) => {
      if (piece.kind === 'code') return `<pre>${piece.lines.join('\n')}</pre>`;
      const inline = outsideCode(
        emoji(piece.text).replace(/"/g, '&quot;'),
        (part) => part.replace(/\*([^*\n]+)\*/g, '<b>$1</b>'),
        (span) => `<code>${span.slice(1, -1)}</code>`,
      ).replace(/\n/g, '<br>');
      return `<div>${inline}</div>`;
    })
    .join('');
}

function blockHtml(block: Block): string {
  if (block.type === 'header') return `<div class="header">${html(emoji(block.text.text))}</div>`;
  if (block.type === 'context') return `<div class="context">${block.elements.map((element) => `<span>${mrkdwnHtml(element.text)}</span>`).join('')}</div>`;
  if (block.type === 'actions') return `<div class="actions">${block.elements.map((button) => `<a class="button" href="${html(button.url)}">${html(button.text.text)}</a>`).join('')}</div>`;
  const fields = block.fields?.length ? `<div class="fields">${block.fields.map((field) => `<div>${mrkdwnHtml(field.text)}</div>`).join('')}</div>` : '';
  const text = block.text ? `<div class="text">${mrkdwnHtml(block.text.text)}</div>` : '';
  return `<div class="section">${text}${fields}</div>`;
}

export interface HtmlOptions {
  /** Shown as the sender, as Slack shows an incoming webhook's app name. */
  readonly appName?: string;
  /** Shown beside the sender, e.g. `2:04 AM`. */
  readonly time?: string;
  /** Page width in CSS pixels. */
  readonly width?: number;
}

/** A whole HTML page that looks like one Slack message in a channel (light theme). */
export function alertHtml(payload: Pick<SlackPayload, 'blocks'>, options: HtmlOptions = {}): string {
  const appName = options.appName ?? 'kube-job-alerts';
  const width = options.width ?? 760;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(appName)} alert</title>
<style>
  html, body { margin: 0; background: #fff; }
  body { width: ${width}px; font: 15px/1.46668 Lato, "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif, "Noto Color Emoji"; color: #1d1c1d; }
  .message { display: flex; gap: 8px; padding: 16px 20px 18px; }
  .avatar { flex: 0 0 36px; height: 36px; border-radius: 6px; background: #326ce5; color: #fff; font-weight: 900; font-size: 15px; display: flex; align-items: center; justify-content: center; margin-top: 3px; }
  .body { min-width: 0; flex: 1; }
  .sender b { font-weight: 900; }
  .app { font-size: 10px; font-weight: 700; color: #616061; background: rgba(29,28,29,.13); border-radius: 2px; padding: 1px 3px; margin: 0 4px; vertical-align: 1px; }
  .time { font-size: 12px; color: #616061; }
  .header { font-size: 18px; font-weight: 900; line-height: 1.33; margin: 6px 0 4px; }
  .section { margin: 8px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; }
  .text + .fields { margin-top: 8px; }
  b { font-weight: 700; }
  code { font: 12px Monaco, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace; color: #e01e5a; background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 3px; padding: 2px 3px 1px; }
  pre { font: 12px/1.5 Monaco, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace; background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 4px; padding: 8px; margin: 4px 0 0; white-space: pre-wrap; word-break: break-word; }
  .context { font-size: 12px; color: #616061; display: flex; gap: 8px; flex-wrap: wrap; margin-top: 6px; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 8px; }
  .button { font-size: 13px; font-weight: 700; color: #1d1c1d; text-decoration: none; border: 1px solid #c6c6c6; border-radius: 4px; padding: 3px 12px; }
</style></head>
<body><div class="message">
  <div class="avatar">K</div>
  <div class="body">
    <div class="sender"><b>${html(appName)}</b><span class="app">APP</span><span class="time">${html(options.time ?? '')}</span></div>
    ${payload.blocks.map(blockHtml).join('\n    ')}
  </div>
</div></body></html>
`;
}

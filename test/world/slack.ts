/**
 * A Slack incoming-webhook emulator on 127.0.0.1, for integration tests that go over real HTTP (or HTTPS).
 *
 * It answers the way Slack's webhooks do: 200 `ok`; 429 `rate_limited` with Retry-After; 4xx with an error string
 * as a text/plain body (no_service, channel_is_archived, invalid_payload, ...); and it validates every body (JSON,
 * `text` or `blocks`, the Block Kit limits, link buttons), answering 400 `invalid_blocks` on a violation, which it also records:
 * a formatter bug shows up as a failed test rather than as an alert Slack silently refused.
 *
 * And the ways a webhook goes wrong in the field: a request left hanging (`'hang'`), a 200 whose body never ends
 * (`'ok-unfinished'`: the message IS posted, as Slack posts before it answers), a slow 200 (`{ slowMs }`), a redirect
 * (`{ redirect }`, as a captive portal or a moved URL answers), and, with `tls`, HTTPS with a certificate the client refuses
 * (`'untrusted'`: signed by a CA nobody trusts, issued for another host name; `'self-signed'`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedTls, untrustedTls } from './tls.ts';

/**
 * One scripted answer: `'ok'`, a status code (with Slack's usual body), a 429 with Retry-After, `'hang'` (no answer
 * at all), `'ok-unfinished'` (posted, status line 200 and the first byte of `ok`, then nothing), `{ slowMs }` (a valid
 * body is posted and answered 200 `ok` after that long; a client that gives up first leaves it unposted, status 0),
 * or a redirect (default 302, Location as given, an HTML body like a portal's).
 */
export type SlackAnswer =
  | 'ok'
  | 'hang'
  | 'ok-unfinished'
  | number
  | { status: 429; retryAfter?: number | string }
  | { slowMs: number }
  | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 }
  | { status: number; body?: string; headers?: Record<string, string> };

export interface ReceivedPost {
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary payload fields
  rawBody: string;
  /** Date.now() when the request body had arrived. */
  at: number;
  /** The status answered; 0 for a request left hanging. */
  status: number;
  path: string;
}

export interface SlackEmulator {
  /** The webhook URL, with a secret-looking path like a real one. */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order, whatever was answered. */
  readonly received: ReceivedPost[];
  /** Requests answered 200: the messages Slack would have posted. */
  readonly accepted: ReceivedPost[];
  /** Block Kit / payload violations found in bodies, one line each. */
  readonly violations: string[];
  /** Queues answers, used in order; after them every valid request gets `ok`. */
  script(...answers: SlackAnswer[]): void;
  /** Drops the answers not used yet: Slack is back from now on. */
  clearScript(): void;
  /** Resolves when `count` messages have been accepted; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedPost[]>;
  close(): Promise<void>;
}

const SECRET_PATH = '/services/T0000TEST/B0000TEST/s3cr3tW3bh00kT0k3nXYZ';

const DEFAULT_BODIES: Readonly<Record<number, string>> = {
  400: 'invalid_payload',
  403: 'action_prohibited',
  404: 'no_service',
  410: 'channel_is_archived',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

export interface SlackOptions {
  port?: number;
  path?: string;
  /** Serve HTTPS with a certificate Node's fetch refuses (see tls/make-untrusted-certs.sh). Default: plain HTTP. */
  tls?: 'untrusted' | 'self-signed';
}

export async function startSlack(options: SlackOptions = {}): Promise<SlackEmulator> {
  const path = options.path ?? SECRET_PATH;
  const received: ReceivedPost[] = [];
  const violations: string[] = [];
  const answers: SlackAnswer[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();

  const accepted = (): ReceivedPost[] => received.filter((post) => post.status === 200);
  const notify = (): void => { for (const waiter of waiters) waiter(); };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const post: ReceivedPost = { body: undefined, rawBody, at: Date.now(), status: 0, path: request.url ?? '' };
      received.push(post);
      const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
        post.status = status;
        response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
        response.end(body);
        notify();
      };

      if (request.method !== 'POST') return reply(405, 'invalid_method');
      if (request.url !== path) return reply(404, 'no_service');
      const answer = answers.shift() ?? 'ok';
      if (answer === 'hang' || answer === 'ok-unfinished') {
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
        if (answer === 'hang') return;
        // Slack has posted the message; the answer's body starts and never ends (a proxy stalls, a link drops).
        post.body = parseOrUndefined(rawBody);
        post.status = 200;
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '2' });
        response.write('o');
        notify();
        return;
      }
      if (typeof answer === 'object' && 'redirect' in answer) {
        return reply(answer.status ?? 302, '<html><body>Moved</body></html>', { location: answer.redirect, 'content-type': 'text/html' });
      }
      const slowMs = typeof answer === 'object' && 'slowMs' in answer ? answer.slowMs : undefined;
      if (answer !== 'ok' && slowMs === undefined) {
        const { status, body, headers } = normalize(answer as Exclude<SlackAnswer, 'ok' | 'hang' | 'ok-unfinished' | { redirect: string } | { slowMs: number }>);
        return reply(status, body, headers);
      }
      try {
        post.body = JSON.parse(rawBody);
      } catch {
        violations.push('body is not JSON');
        return reply(400, 'invalid_payload');
      }
      const problems = validate(post.body);
      if (problems.length > 0) {
        violations.push(...problems);
        return reply(400, problems[0] === 'no_text' ? 'no_text' : 'invalid_blocks');
      }
      if (slowMs !== undefined) {
        hanging.add(response);
        const timer = setTimeout(() => reply(200, 'ok'), slowMs);
        response.on('close', () => {
          hanging.delete(response);
          clearTimeout(timer);
        });
        return;
      }
      reply(200, 'ok');
    });
  };
  const certificate = options.tls === 'untrusted' ? untrustedTls : options.tls === 'self-signed' ? selfSignedTls : undefined;
  const server: Server = certificate ? createHttpsServer({ cert: certificate.cert, key: certificate.key }, handle) : createServer(handle);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `${certificate ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    port,
    received,
    get accepted() { return accepted(); },
    violations,
    script(...more) { answers.push(...more); },
    clearScript() { answers.length = 0; },
    waitFor(count, timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (accepted().length < count) return;
          cleanup();
          resolve(accepted());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`waitFor(${count}): only ${accepted().length} accepted after ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function normalize(
  answer: Exclude<SlackAnswer, 'ok' | 'hang' | 'ok-unfinished' | { redirect: string } | { slowMs: number }>,
): { status: number; body: string; headers: Record<string, string> } {
  if (typeof answer === 'number') return { status: answer, body: DEFAULT_BODIES[answer] ?? `http_${answer}`, headers: {} };
  const headers: Record<string, string> = 'headers' in answer && answer.headers ? { ...answer.headers } : {};
  if ('retryAfter' in answer && answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
  const body = 'body' in answer && answer.body !== undefined ? answer.body : DEFAULT_BODIES[answer.status] ?? `http_${answer.status}`;
  return { status: answer.status, body, headers };
}

/** Slack's checks on an incoming-webhook body, as far as this project's messages go. Returns one line per problem. */
export function validate(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['body is not a JSON object'];
  const message = body as Record<string, unknown>;
  const hasText = typeof message.text === 'string' && message.text.trim() !== '';
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  const hasAttachments = Array.isArray(message.attachments) && message.attachments.length > 0;
  if (!hasText && !hasBlocks && !hasAttachments) return ['no_text'];
  const problems: string[] = [];
  if (typeof message.text === 'string' && message.text.length > 40_000) problems.push(`text is ${message.text.length} chars (> 40000)`);
  if (message.blocks !== undefined) problems.push(...validateBlocks(message.blocks, 'blocks'));
  if (Array.isArray(message.attachments)) {
    message.attachments.forEach((attachment: unknown, i: number) => {
      const blocks = (attachment as Record<string, unknown> | null)?.blocks;
      if (blocks !== undefined) problems.push(...validateBlocks(blocks, `attachments[${i}].blocks`));
    });
  }
  return problems;
}

function validateBlocks(blocks: unknown, where: string): string[] {
  if (!Array.isArray(blocks)) return [`${where} is not an array`];
  const problems: string[] = [];
  if (blocks.length > 50) problems.push(`${where}: ${blocks.length} blocks (> 50)`);
  const blockIds = new Set<string>();
  blocks.forEach((raw: unknown, i: number) => {
    const at = `${where}[${i}]`;
    const block = raw as Record<string, unknown> | null;
    if (typeof block !== 'object' || block === null) return problems.push(`${at} is not an object`);
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length === 0 || block.block_id.length > 255) problems.push(`${at}: block_id must be 1 to 255 chars`);
      else if (blockIds.has(block.block_id)) problems.push(`${at}: block_id ${block.block_id} is not unique in the message`);
      else blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'header': {
        const text = textObject(block.text);
        if (!text || text.type !== 'plain_text') problems.push(`${at}: header text must be plain_text`);
        else if (text.text.length > 150) problems.push(`${at}: header text is ${text.text.length} chars (> 150)`);
        else if (text.text.length === 0) problems.push(`${at}: header text is empty`);
        break;
      }
      case 'section': {
        const text = block.text === undefined ? undefined : textObject(block.text);
        if (block.text !== undefined && !text) problems.push(`${at}: section text is not a text object`);
        if (text && text.text.length > 3000) problems.push(`${at}: section text is ${text.text.length} chars (> 3000)`);
        if (text && text.text.length === 0) problems.push(`${at}: section text is empty`);
        const fields = block.fields;
        if (fields !== undefined) {
          if (!Array.isArray(fields)) problems.push(`${at}: fields is not an array`);
          else {
            if (fields.length > 10) problems.push(`${at}: ${fields.length} fields (> 10)`);
            fields.forEach((field: unknown, j: number) => {
              const f = textObject(field);
              if (!f) problems.push(`${at}.fields[${j}] is not a text object`);
              else if (f.text.length > 2000) problems.push(`${at}.fields[${j}] is ${f.text.length} chars (> 2000)`);
            });
          }
        }
        if (!text && (!Array.isArray(fields) || fields.length === 0)) problems.push(`${at}: section needs text or fields`);
        break;
      }
      case 'context': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) problems.push(`${at}: context needs elements`);
        else if (elements.length > 10) problems.push(`${at}: ${elements.length} context elements (> 10)`);
        break;
      }
      case 'actions':
        problems.push(...validateActions(block.elements, at));
        break;
      case 'divider':
        break;
      default:
        problems.push(`${at}: unsupported block type ${String(block.type)}`);
    }
  });
  return problems;
}

/** An actions block's elements: 1 to 25, here only buttons (the one element this project sends). */
function validateActions(elements: unknown, at: string): string[] {
  if (!Array.isArray(elements) || elements.length === 0) return [`${at}: actions needs elements`];
  const problems: string[] = [];
  if (elements.length > 25) problems.push(`${at}: ${elements.length} actions elements (> 25)`);
  const actionIds = new Set<string>();
  elements.forEach((raw: unknown, j: number) => {
    const where = `${at}.elements[${j}]`;
    const element = raw as Record<string, unknown> | null;
    if (typeof element !== 'object' || element === null) return problems.push(`${where} is not an object`);
    if (element.type !== 'button') return problems.push(`${where}: unsupported element type ${String(element.type)}`);
    const text = textObject(element.text);
    if (!text || text.type !== 'plain_text') problems.push(`${where}: button text must be plain_text`);
    else if (text.text.length === 0 || text.text.length > 75) problems.push(`${where}: button text is ${text.text.length} chars (1 to 75)`);
    if (element.url !== undefined && (typeof element.url !== 'string' || element.url.length === 0 || element.url.length > 3000)) {
      problems.push(`${where}: button url must be 1 to 3000 chars`);
    }
    if (element.value !== undefined && (typeof element.value !== 'string' || element.value.length > 2000)) problems.push(`${where}: button value must be at most 2000 chars`);
    if (element.action_id !== undefined) {
      if (typeof element.action_id !== 'string' || element.action_id.length === 0 || element.action_id.length > 255) problems.push(`${where}: action_id must be 1 to 255 chars`);
      else if (actionIds.has(element.action_id)) problems.push(`${where}: action_id ${element.action_id} is not unique in the block`);
      else actionIds.add(element.action_id);
    }
  });
  return problems;
}

function textObject(raw: unknown): { type: string; text: string } | undefined {
  const object = raw as Record<string, unknown> | null;
  if (typeof object !== 'object' || object === null) return undefined;
  if ((object.type !== 'plain_text' && object.type !== 'mrkdwn') || typeof object.text !== 'string') return undefined;
  return { type: object.type, text: object.text };
}

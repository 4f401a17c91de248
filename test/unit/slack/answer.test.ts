import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAnswer, slackError, type Attempt, type Verdict } from '../../../src/slack/answer.ts';

const NOW = Date.parse('2024-06-20T20:00:00Z');

/** What Node's fetch throws when the connection fails: `fetch failed`, the reason one cause down. */
function fetchFailed(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

const answer = (status: number, body = '', headers: { retryAfter?: string; location?: string } = {}): Attempt => ({ response: { status, body, ...headers } });
const thrown = (error: unknown): Attempt => ({ error });

/** The verdict's kind, reason and token, as one string: `never_retry tls tls_cert_has_expired`. */
function summary(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'delivered':
      return 'delivered';
    case 'retry_later':
      return `retry_later ${verdict.reason}${verdict.retryAfterMs === undefined ? '' : ` ${verdict.retryAfterMs}`}`;
    case 'never_retry':
      return `never_retry ${verdict.reason} ${verdict.error}`;
  }
}

describe('classifyAnswer: every answer, once', () => {
  const table: Array<[string, Attempt, string]> = [
    ['200 ok', answer(200, 'ok'), 'delivered'],
    ['200 with no body read yet', answer(200), 'delivered'],
    ['204', answer(204), 'delivered'],
    ['429 with Retry-After', answer(429, 'rate_limited', { retryAfter: '7' }), 'retry_later rate_limited 7000'],
    ['429 without Retry-After', answer(429, 'rate_limited'), 'retry_later rate_limited'],
    ['500', answer(500, 'internal_error'), 'retry_later server_error'],
    ['502 HTML page', answer(502, '<html>Bad Gateway</html>'), 'retry_later server_error'],
    ['503', answer(503, 'service_unavailable'), 'retry_later server_error'],
    ['408 (a proxy gave up waiting)', answer(408), 'retry_later server_error'],
    ['301', answer(301, '', { location: 'https://slack.com/' }), 'never_retry redirect http_301'],
    ['302 to a login page', answer(302, '<html>', { location: 'https://portal.example/login?next=/services/T/B/x' }), 'never_retry redirect http_302'],
    ['307', answer(307), 'never_retry redirect http_307'],
    ['308', answer(308), 'never_retry redirect http_308'],
    ['400 invalid_payload', answer(400, 'invalid_payload'), 'never_retry rejected invalid_payload'],
    ['401 HTML page', answer(401, '<html>Unauthorized</html>'), 'never_retry rejected http_401'],
    ['403 action_prohibited', answer(403, 'action_prohibited'), 'never_retry rejected action_prohibited'],
    ['404 no_service', answer(404, 'no_service'), 'never_retry rejected no_service'],
    ['410 channel_is_archived', answer(410, 'channel_is_archived'), 'never_retry rejected channel_is_archived'],
    ['413 too large', answer(413), 'never_retry rejected http_413'],
    ['timeout', { error: new DOMException('The operation was aborted due to timeout', 'TimeoutError'), timedOut: true, timeoutMs: 10_000 }, 'retry_later network'],
    ['connection refused', thrown(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443')), 'retry_later network'],
    ['connection reset', thrown(fetchFailed('ECONNRESET', 'read ECONNRESET')), 'retry_later network'],
    ['socket closed by the other side', thrown(fetchFailed('UND_ERR_SOCKET', 'other side closed')), 'retry_later network'],
    ['DNS could not answer now (EAI_AGAIN)', thrown(fetchFailed('EAI_AGAIN', 'getaddrinfo EAI_AGAIN hooks.slack.com')), 'retry_later network'],
    ['a non-Error thrown', thrown('boom'), 'retry_later network'],
    ['host not found (ENOTFOUND)', thrown(fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND hooks.slak.com')), 'never_retry dns dns_enotfound'],
    ['unknown CA', thrown(fetchFailed('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate')), 'never_retry tls tls_unable_to_verify_leaf_signature'],
    ['self-signed', thrown(fetchFailed('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), 'never_retry tls tls_depth_zero_self_signed_cert'],
    ['self-signed CA in the chain', thrown(fetchFailed('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain')), 'never_retry tls tls_self_signed_cert_in_chain'],
    ['expired', thrown(fetchFailed('CERT_HAS_EXPIRED', 'certificate has expired')), 'never_retry tls tls_cert_has_expired'],
    ['wrong host name', thrown(fetchFailed('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames")), 'never_retry tls tls_err_tls_cert_altname_invalid'],
    ['redirect with redirect: error', thrown(new TypeError('fetch failed', { cause: new Error('unexpected redirect') })), 'never_retry redirect redirect'],
  ];
  for (const [name, attempt, expected] of table) it(`${name} -> ${expected}`, () => assert.equal(summary(classifyAnswer(attempt, NOW)), expected));
});

describe('classifyAnswer: causes', () => {
  const cause = (attempt: Attempt) => {
    const verdict = classifyAnswer(attempt, NOW);
    return verdict.kind === 'delivered' ? '' : verdict.cause;
  };
  it('unwraps fetch failed to the reason and its code', () =>
    assert.equal(cause(thrown(fetchFailed('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'))), 'fetch failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)'));
  it('does not repeat a code the message says', () =>
    assert.equal(cause(thrown(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443'))), 'fetch failed: connect ECONNREFUSED 127.0.0.1:443'));
  it('names a timeout with its limit', () => assert.equal(cause({ error: new Error('x'), timedOut: true, timeoutMs: 150 }), 'no answer within 150 ms'));
  it('says where a redirect points: its origin, never its path', () =>
    assert.equal(cause(answer(302, '', { location: 'https://portal.example/login?next=/services/T/B/secret' })), 'HTTP 302: the webhook URL redirects to https://portal.example; redirects are not followed'));
  it('a relative redirect: no target', () => assert.equal(cause(answer(301, '', { location: '/elsewhere' })), 'HTTP 301: the webhook URL redirects; redirects are not followed'));
  it('an HTTP answer: status and Slack\'s error', () => assert.equal(cause(answer(404, 'no_service')), 'HTTP 404 no_service'));
});

describe('slackError', () => {
  const table: Array<[string, number, string]> = [
    ['no_service', 404, 'no_service'],
    [' invalid_payload\n', 400, 'invalid_payload'],
    ['<html>Bad</html>', 502, 'http_502'],
    ['', 403, 'http_403'],
    ['Not Found', 404, 'http_404'],
  ];
  for (const [body, status, expected] of table) it(`${JSON.stringify(body)} ${status} -> ${expected}`, () => assert.equal(slackError(body, status), expected));
});

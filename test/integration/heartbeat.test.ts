import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Heartbeat } from '../../src/heartbeat.ts';
import { silentLogger } from '../../src/log.ts';

let url = '';
let answer = 200;
const pings: string[] = [];
const server = createServer((request, response) => {
  pings.push(`${request.method} ${request.url}`);
  response.writeHead(answer).end('ok');
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/8f1c-secret-uuid`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('Heartbeat (over real HTTP)', () => {
  it('pings with a GET while healthy, withholds the ping while not, and resumes', async () => {
    let why: string | undefined;
    const heartbeat = new Heartbeat({ url, intervalMs: 60_000, unhealthy: () => why, logger: silentLogger, fingerprint: 'x' });
    pings.length = 0;
    assert.equal(await heartbeat.beat(), 'sent');
    why = 'not watching: jobs';
    assert.equal(await heartbeat.beat(), 'skipped');
    why = undefined;
    assert.equal(await heartbeat.beat(), 'sent');
    assert.deepEqual(pings, ['GET /ping/8f1c-secret-uuid', 'GET /ping/8f1c-secret-uuid']);
  });

  it('counts an error answer or an unreachable monitor as failed, without throwing', async () => {
    answer = 500;
    const heartbeat = new Heartbeat({ url, intervalMs: 60_000, unhealthy: () => undefined, logger: silentLogger, fingerprint: 'x' });
    assert.equal(await heartbeat.beat(), 'failed');
    answer = 200;
    const nowhere = new Heartbeat({ url: 'http://127.0.0.1:1/ping', intervalMs: 60_000, unhealthy: () => undefined, logger: silentLogger, fingerprint: 'x' });
    assert.equal(await nowhere.beat(), 'failed');
  });
});

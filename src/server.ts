/**
 * /healthz: the process serves HTTP (the event loop is alive). /readyz: the daemon can see the cluster now: every
 * informer has listed, and none has been unable to list or watch for longer than NOT_READY_AFTER; a 503 names each
 * informer in trouble and why. /metrics: Prometheus text. Probes are cheap: they read state, never call the API server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Probes {
  /** Why the daemon is not ready, one line each (e.g. `jobs/batch: unable to list or watch for 130 s: HTTP 500: ...`); empty when ready. */
  notReady(): readonly string[];
}

export async function startServer(port: number, probes: Probes, registry: Registry): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      const reasons = probes.notReady();
      return reasons.length === 0 ? send(200, 'ok\n') : send(503, `not ready:\n${reasons.map((reason) => `- ${reason}\n`).join('')}`);
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (error: unknown) => send(500, `${String(error)}\n`),
      );
      return;
    }
    send(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * /healthz: the process serves HTTP (the event loop is alive). /readyz: every informer has listed at least once.
 * /metrics: Prometheus text. Probes are cheap: they read flags, never call the API server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Probes {
  /** Names of the informers that have not listed yet; empty when ready. */
  notSynced(): readonly string[];
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
      const waiting = probes.notSynced();
      return waiting.length === 0 ? send(200, 'ok\n') : send(503, `waiting for the first list of: ${waiting.join(', ')}\n`);
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

/**
 * The benchmark's peer: a plain @kubernetes/client-node informer on every Job of the cluster, as its README shows one
 * (`makeInformer` over the typed list), with nothing else. It serves /healthz (so the same probe measures its event
 * loop) and prints one JSON line per milestone: `{"event":"listening","port":…}`, `{"event":"synced","objects":…}`,
 * then `{"event":"relisted"}` after each list that follows.
 *
 *   KUBECONFIG=… node bench/plain-informer.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchV1Api, KubeConfig, makeInformer, type V1Job } from '@kubernetes/client-node';

const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const server = createServer((_request, response) => response.end('ok\n'));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
say({ event: 'listening', port: (server.address() as AddressInfo).port });

const kubeconfig = new KubeConfig();
kubeconfig.loadFromDefault();
const batch = kubeconfig.makeApiClient(BatchV1Api);
let lists = 0;
const informer = makeInformer<V1Job>(kubeconfig, '/apis/batch/v1/jobs', async () => {
  const list = await batch.listJobForAllNamespaces();
  // The informer applies the list after this returns; say so on the next turn, once it has.
  setImmediate(() => say({ event: lists++ === 0 ? 'synced' : 'relisted', objects: informer.list().length }));
  return list;
});
informer.on('error', (error) => {
  say({ event: 'error', message: String(error) });
  setTimeout(() => void informer.start(), 1000);
});
process.on('SIGTERM', () => {
  void informer.stop();
  server.close();
  process.exit(0);
});
await informer.start();

// The emulator's TLS material: committed, 100-year PEM files made by tls/make-certs.sh. Committed rather than
// generated per start so that tests pay no openssl run and every kubeconfig ever written stays valid.
import { readFileSync } from 'node:fs';

const folder = new URL('./tls/', import.meta.url);

export const tls = {
  ca: readFileSync(new URL('ca.pem', folder), 'utf8'),
  cert: readFileSync(new URL('server.pem', folder), 'utf8'),
  key: readFileSync(new URL('server-key.pem', folder), 'utf8'),
};

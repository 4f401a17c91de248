// The emulator's TLS material: committed, 100-year PEM files made by tls/make-certs.sh. Committed rather than
// generated per start so that tests pay no openssl run and every kubeconfig ever written stays valid.
import { readFileSync } from 'node:fs';

const folder = new URL('./tls/', import.meta.url);

export const tls = {
  ca: readFileSync(new URL('ca.pem', folder), 'utf8'),
  cert: readFileSync(new URL('server.pem', folder), 'utf8'),
  key: readFileSync(new URL('server-key.pem', folder), 'utf8'),
};

/**
 * Certificates Node's fetch refuses (tls/make-untrusted-certs.sh), for the Slack emulator's HTTPS variants:
 * `untrusted` is for the name hooks.example.invalid, signed by `untrusted.ca`, which nothing trusts by default;
 * `selfSigned` is a self-signed certificate for 127.0.0.1.
 */
export const untrustedTls = {
  ca: readFileSync(new URL('untrusted-ca.pem', folder), 'utf8'),
  cert: readFileSync(new URL('untrusted-server.pem', folder), 'utf8'),
  key: readFileSync(new URL('untrusted-server-key.pem', folder), 'utf8'),
};

export const selfSignedTls = {
  cert: readFileSync(new URL('self-signed.pem', folder), 'utf8'),
  key: readFileSync(new URL('self-signed-key.pem', folder), 'utf8'),
};

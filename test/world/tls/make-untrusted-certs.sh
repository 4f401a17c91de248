#!/bin/sh
# Makes certificates that Node's fetch must refuse, for the Slack emulator's HTTPS variants (test/world/slack.ts):
# - untrusted-ca.pem, untrusted-server.pem/-key.pem: a server certificate for the name hooks.example.invalid only,
#   signed by a CA that no client trusts by default. Without that CA: UNABLE_TO_VERIFY_LEAF_SIGNATURE; with it
#   trusted (tls.setDefaultCACertificates) but reached as 127.0.0.1: ERR_TLS_CERT_ALTNAME_INVALID (wrong host).
# - self-signed.pem/-key.pem: a self-signed certificate for 127.0.0.1: DEPTH_ZERO_SELF_SIGNED_CERT.
# Valid for 100 years, committed like make-certs.sh's files; the CA key is dropped after signing.
set -eu
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
  -keyout untrusted-ca-key.pem -out untrusted-ca.pem -subj '/CN=kube-job-alerts untrusted test CA' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout untrusted-server-key.pem -out untrusted-server.csr -subj '/CN=hooks.example.invalid'
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:hooks.example.invalid' > untrusted-server.ext
openssl x509 -req -in untrusted-server.csr -CA untrusted-ca.pem -CAkey untrusted-ca-key.pem -CAcreateserial \
  -days "$days" -extfile untrusted-server.ext -out untrusted-server.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
  -keyout self-signed-key.pem -out self-signed.pem -subj '/CN=127.0.0.1' \
  -addext 'subjectAltName=IP:127.0.0.1' -addext 'extendedKeyUsage=serverAuth'
rm -f untrusted-server.csr untrusted-server.ext untrusted-ca.srl untrusted-ca-key.pem

#!/bin/sh
# Makes the emulator's TLS material: a self-signed CA and a server certificate for 127.0.0.1 and localhost,
# both valid for 100 years so that the committed files never expire under a test. Run from this folder;
# only needed again if the files are lost or must change (kubectl and Node both verify the chain and the SAN).
set -eu
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
  -keyout ca-key.pem -out ca.pem -subj '/CN=kube-job-alerts test CA' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server-key.pem -out server.csr -subj '/CN=kube-apiserver-emulator'
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
  -extfile server.ext -out server.pem
# The CA key is not needed after signing; dropping it means nobody can mint more certs from this CA.
rm -f server.csr server.ext ca.srl ca-key.pem

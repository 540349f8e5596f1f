#!/usr/bin/env bash
# Certificates for the test servers' TLS (scripts/postgres.sh, scripts/redis.sh, scripts/s3.sh): a test
# certificate authority, a server certificate it signs for 127.0.0.1 and localhost, and a second
# authority that signs nothing (what a client trusting the wrong authority holds).
#
# Usage: scripts/tls.sh   makes them in $CLOUDNEXUS_TLS_DIR (default target/tls) unless they are
#                         there, and prints the folder: ca.pem, server.pem, server.key, other-ca.pem
#
# Test material only: the keys are unencrypted and the folder is the work tree's. Needs openssl
# (installed from Debian's packages when missing, bounded in time).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOUDNEXUS_TLS_DIR:-$ROOT/target/tls}
INSTALL_TIMEOUT=${CLOUDNEXUS_TLS_INSTALL_TIMEOUT:-600}

die() { echo "tls.sh: $*" >&2; exit 1; }

if ! command -v openssl >/dev/null; then
  command -v apt-get >/dev/null || die "openssl is not installed and apt-get is not available"
  echo "tls.sh: installing openssl from Debian's packages" >&2
  timeout "$INSTALL_TIMEOUT" apt-get update -qq >&2 || die "apt-get update failed or timed out"
  DEBIAN_FRONTEND=noninteractive timeout "$INSTALL_TIMEOUT" apt-get install -y -qq openssl >&2 \
    || die "installing openssl failed or timed out"
fi

if [[ -f $DIR/ca.pem && -f $DIR/server.pem && -f $DIR/server.key && -f $DIR/other-ca.pem ]]; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
authority() { # NAME FILE_PREFIX
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$1" \
    -keyout "$work/$2.key" -out "$work/$2.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>"$work/openssl.log" || { cat "$work/openssl.log" >&2; die "making the $1 failed"; }
}
authority "CloudNexus test CA" ca
authority "CloudNexus other test CA" other-ca
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$work/server.key" -out "$work/server.csr" \
  2>"$work/openssl.log" || { cat "$work/openssl.log" >&2; die "making the server's key failed"; }
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
  >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 3650 -extfile "$work/server.ext" -out "$work/server.pem" \
  2>"$work/openssl.log" || { cat "$work/openssl.log" >&2; die "signing the server's certificate failed"; }
chmod 600 "$work/server.key"
mv "$work/server.key" "$work/server.pem" "$work/other-ca.pem" "$DIR/"
# The authority last: its presence says the set is whole.
mv "$work/ca.pem" "$DIR/"
echo "$DIR"

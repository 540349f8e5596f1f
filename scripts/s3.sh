#!/usr/bin/env bash
# A private S3-compatible server for the tests and the cluster test: moto's server (from PyPI),
# on 127.0.0.1, with its log in a folder of its own. Nobody here wrote it, so the S3 blob
# store is tested against somebody else's reading of the protocol.
#
# Usage: scripts/s3.sh start    installs moto[server] with pip when missing, starts it, and
#                               prints its endpoint: http://127.0.0.1:$PORT
#        scripts/s3.sh stop     stops it
#        scripts/s3.sh url      prints the endpoint
#        scripts/s3.sh tls-url  prints the endpoint of a second server (moto keeps its state per
#                               process) speaking TLS: https://127.0.0.1:$TLS_PORT (the test
#                               certificate of scripts/tls.sh; trust its ca.pem)
#
# moto accepts any credentials; the tests use AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test,
# AWS_REGION=us-east-1. Every wait is bounded; any failure exits non-zero with a message.
#
# Environment: CLOUDNEXUS_S3_DIR (target/s3), CLOUDNEXUS_S3_PORT (63800), CLOUDNEXUS_S3_TLS_PORT (63802),
# CLOUDNEXUS_S3_INSTALL_TIMEOUT (600), CLOUDNEXUS_S3_START_TIMEOUT (60).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOUDNEXUS_S3_DIR:-$ROOT/target/s3}
PORT=${CLOUDNEXUS_S3_PORT:-63800}
INSTALL_TIMEOUT=${CLOUDNEXUS_S3_INSTALL_TIMEOUT:-600}
START_TIMEOUT=${CLOUDNEXUS_S3_START_TIMEOUT:-60}
# The version CI tests against.
MOTO_VERSION=${CLOUDNEXUS_MOTO_VERSION:-5.2.1}
TLS_PORT=${CLOUDNEXUS_S3_TLS_PORT:-63802}
URL="http://127.0.0.1:$PORT"
TLS_URL="https://127.0.0.1:$TLS_PORT"

die() { echo "s3.sh: $*" >&2; exit 1; }

install() {
  command -v moto_server >/dev/null && return
  command -v python3 >/dev/null || die "python3 is needed to run moto's server"
  echo "s3.sh: installing moto[server]==$MOTO_VERSION from PyPI" >&2
  timeout "$INSTALL_TIMEOUT" python3 -m pip install --quiet "moto[server]==$MOTO_VERSION" \
    || die "installing moto[server] failed or timed out"
  command -v moto_server >/dev/null || die "no moto_server on PATH after installing moto[server]"
}

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# launch NAME PORT [moto_server options...]: starts one server unless its port answers.
launch() {
  local name=$1 port=$2
  shift 2
  answers "$port" && return
  nohup moto_server -H 127.0.0.1 -p "$port" "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
  timeout "$START_TIMEOUT" bash -c "until exec 3<>/dev/tcp/127.0.0.1/$port; do sleep 0.2; done" 2>/dev/null \
    || { tail -n 20 "$DIR/$name.log" >&2 || true; die "moto_server ($name) does not answer on 127.0.0.1:$port within ${START_TIMEOUT}s"; }
}

start() {
  install
  mkdir -p "$DIR"
  local tls
  tls=$("$ROOT/scripts/tls.sh")
  launch server "$PORT"
  launch tls-server "$TLS_PORT" --ssl-cert "$tls/server.pem" --ssl-key "$tls/server.key"
  # Whatever answers on the TLS port must speak TLS with the test certificate.
  timeout "$START_TIMEOUT" curl -sf --noproxy '*' --cacert "$tls/ca.pem" -o /dev/null "$TLS_URL/" \
    || die "no S3 server with the test certificate answers on $TLS_URL; stop what listens on 127.0.0.1:$TLS_PORT and start again"
  echo "$URL"
}

# halt NAME: stops one server this script started.
halt() {
  local pid_file=$DIR/$1.pid
  [[ -f $pid_file ]] || return 0
  local pid
  pid=$(cat "$pid_file")
  kill "$pid" 2>/dev/null || true
  timeout "$START_TIMEOUT" bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.2; done" || kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

stop() {
  halt server
  halt tls-server
  # An older start's name for the first one.
  halt moto
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  tls-url) echo "$TLS_URL" ;;
  *) die "usage: scripts/s3.sh start|stop|url|tls-url" ;;
esac

#!/usr/bin/env bash
# A private Redis server for the tests, the benchmark and the cluster test, on 127.0.0.1, in a
# folder of its own (never the machine's own Redis service).
#
# Usage: scripts/redis.sh start   installs Redis from Debian's packages when missing, starts a
#                                 server with its files in $CLOUDNEXUS_REDIS_DIR (default
#                                 target/redis), and prints its URL: redis://127.0.0.1:$PORT
#        scripts/redis.sh stop    stops it
#        scripts/redis.sh url     prints the URL
#        scripts/redis.sh tls-url prints the URL of its TLS port: rediss://127.0.0.1:$TLS_PORT
#                                 (the test certificate of scripts/tls.sh; trust its ca.pem)
#
# The server holds test data only: no password, no persistence. Every wait is bounded; any
# failure exits non-zero with a message.
#
# Environment: CLOUDNEXUS_REDIS_DIR, CLOUDNEXUS_REDIS_PORT (63799), CLOUDNEXUS_REDIS_TLS_PORT (63801),
# CLOUDNEXUS_REDIS_INSTALL_TIMEOUT (600), CLOUDNEXUS_REDIS_START_TIMEOUT (30).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOUDNEXUS_REDIS_DIR:-$ROOT/target/redis}
PORT=${CLOUDNEXUS_REDIS_PORT:-63799}
INSTALL_TIMEOUT=${CLOUDNEXUS_REDIS_INSTALL_TIMEOUT:-600}
START_TIMEOUT=${CLOUDNEXUS_REDIS_START_TIMEOUT:-30}
TLS_PORT=${CLOUDNEXUS_REDIS_TLS_PORT:-63801}
URL="redis://127.0.0.1:$PORT"
TLS_URL="rediss://127.0.0.1:$TLS_PORT"

die() { echo "redis.sh: $*" >&2; exit 1; }

install() {
  command -v redis-server >/dev/null && return
  command -v apt-get >/dev/null || die "Redis is not installed and apt-get is not available; install Redis 6 or newer"
  echo "redis.sh: installing Redis from Debian's packages" >&2
  timeout "$INSTALL_TIMEOUT" apt-get update -qq || die "apt-get update failed or timed out"
  DEBIAN_FRONTEND=noninteractive timeout "$INSTALL_TIMEOUT" apt-get install -y -qq redis-server >/dev/null \
    || die "installing redis-server failed or timed out"
  command -v redis-server >/dev/null || die "no redis-server after installing it"
}

answers() { timeout 2 redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; }

start() {
  install
  mkdir -p "$DIR"
  local tls
  tls=$("$ROOT/scripts/tls.sh")
  if answers; then
    # Already running: it must be one that speaks TLS too (an older start may not).
    timeout 5 redis-cli --tls --cacert "$tls/ca.pem" -p "$TLS_PORT" ping 2>/dev/null | grep -q PONG \
      || die "a Redis without TLS on 127.0.0.1:$TLS_PORT runs on 127.0.0.1:$PORT; stop it (scripts/redis.sh stop) and start again"
    echo "$URL"
    return
  fi
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --tls-port "$TLS_PORT" --tls-cert-file "$tls/server.pem" --tls-key-file "$tls/server.key" \
    --tls-ca-cert-file "$tls/ca.pem" --tls-auth-clients no \
    --dir "$DIR" --pidfile "$DIR/redis.pid" --logfile "$DIR/server.log" \
    || die "redis-server did not start (see $DIR/server.log)"
  timeout "$START_TIMEOUT" bash -c "until redis-cli -p $PORT ping 2>/dev/null | grep -q PONG; do sleep 0.2; done" \
    || { tail -n 20 "$DIR/server.log" >&2 || true; die "the server does not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s"; }
  timeout "$START_TIMEOUT" redis-cli --tls --cacert "$tls/ca.pem" -p "$TLS_PORT" ping 2>/dev/null | grep -q PONG \
    || { tail -n 20 "$DIR/server.log" >&2 || true; die "the server does not answer TLS on 127.0.0.1:$TLS_PORT"; }
  echo "$URL"
}

stop() {
  [[ -f $DIR/redis.pid ]] || return 0
  local pid
  pid=$(cat "$DIR/redis.pid")
  kill "$pid" 2>/dev/null || true
  timeout "$START_TIMEOUT" bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.2; done" || kill -9 "$pid" 2>/dev/null || true
  rm -f "$DIR/redis.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  tls-url) echo "$TLS_URL" ;;
  *) die "usage: scripts/redis.sh start|stop|url|tls-url" ;;
esac

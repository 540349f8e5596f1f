#!/usr/bin/env bash
# A private PostgreSQL server for the tests and the benchmark, on 127.0.0.1, in a folder of its
# own (never the machine's own clusters).
#
# Usage: scripts/postgres.sh start   installs PostgreSQL from Debian's packages when missing,
#                                    creates a cluster in $CLOUDNEXUS_PG_DIR (default
#                                    target/postgres) if there is none, starts it, and prints
#                                    its URL: postgres://cloudnexus@127.0.0.1:$PORT/postgres
#        scripts/postgres.sh stop    stops it
#        scripts/postgres.sh url     prints the URL
#
# The cluster trusts local connections (it listens on 127.0.0.1 only and holds test data). It
# also speaks TLS, with the test certificate of scripts/tls.sh (a client may ask for it with
# sslmode=verify-full&sslrootcert=<that folder>/ca.pem; the printed URL leaves the choice to the
# client's default). As root, the server runs as the `postgres` user, which PostgreSQL requires.
# Every wait is bounded; any failure exits non-zero with a message.
#
# Environment: CLOUDNEXUS_PG_DIR, CLOUDNEXUS_PG_PORT (54329), CLOUDNEXUS_PG_INSTALL_TIMEOUT (600),
# CLOUDNEXUS_PG_START_TIMEOUT (60).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOUDNEXUS_PG_DIR:-$ROOT/target/postgres}
PORT=${CLOUDNEXUS_PG_PORT:-54329}
INSTALL_TIMEOUT=${CLOUDNEXUS_PG_INSTALL_TIMEOUT:-600}
START_TIMEOUT=${CLOUDNEXUS_PG_START_TIMEOUT:-60}
URL="postgres://cloudnexus@127.0.0.1:$PORT/postgres"

die() { echo "postgres.sh: $*" >&2; exit 1; }

# The newest server binaries on the machine, installing them when there are none.
find_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z $bin || ! -x $bin/pg_ctl ]]; then
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is not available; install PostgreSQL 15 or newer"
    echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
    timeout "$INSTALL_TIMEOUT" apt-get update -qq || die "apt-get update failed or timed out"
    DEBIAN_FRONTEND=noninteractive timeout "$INSTALL_TIMEOUT" apt-get install -y -qq postgresql >/dev/null \
      || die "installing postgresql failed or timed out"
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n $bin && -x $bin/pg_ctl ]] || die "no pg_ctl after installing postgresql"
  fi
  echo "$bin"
}

# Runs a server command as the user that owns the cluster.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local bin
  bin=$(find_bin)
  mkdir -p "$DIR"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (the postgresql package creates it)"
    chown -R postgres: "$DIR"
    # The server must be able to reach its folder.
    local parent=$DIR
    while [[ $parent != / ]]; do
      parent=$(dirname "$parent")
      chmod o+x "$parent" 2>/dev/null || true
    done
  fi
  # The server's certificate and key, readable by the server alone (PostgreSQL checks).
  local tls
  tls=$("$ROOT/scripts/tls.sh")
  mkdir -p "$DIR/tls"
  cp "$tls/server.pem" "$tls/server.key" "$DIR/tls/"
  chmod 600 "$DIR/tls/server.key"
  [[ $(id -u) -ne 0 ]] || chown -R postgres: "$DIR/tls"
  if [[ ! -f $DIR/data/PG_VERSION ]]; then
    as_owner "$bin/initdb" -D "$DIR/data" -U cloudnexus --auth=trust --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    # Already running: it must be one that speaks TLS (an older start may not).
    [[ $(timeout 10 "$bin/psql" "$URL" -tAc 'SHOW ssl' 2>/dev/null) == on ]] \
      || die "the cluster in $DIR runs without TLS; stop it (scripts/postgres.sh stop) and start again"
    echo "$URL"
    return
  fi
  as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t "$START_TIMEOUT" \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB \
        -c ssl=on -c ssl_cert_file=$DIR/tls/server.pem -c ssl_key_file=$DIR/tls/server.key" start >/dev/null \
    || { tail -n 20 "$DIR/server.log" >&2 || true; die "the server did not start within ${START_TIMEOUT}s"; }
  timeout "$START_TIMEOUT" bash -c "until $bin/pg_isready -q -h 127.0.0.1 -p $PORT; do sleep 0.2; done" \
    || die "the server does not answer on 127.0.0.1:$PORT"
  echo "$URL"
}

stop() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n $bin && -f $DIR/data/PG_VERSION ]] || return 0
  as_owner "$bin/pg_ctl" -D "$DIR/data" -w -t "$START_TIMEOUT" -m fast stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) die "usage: scripts/postgres.sh start|stop|url" ;;
esac

#!/usr/bin/env bash
# Feeds the served OpenAPI document to schemathesis (pinned, from PyPI): every check, every
# phase including the stateful one (restore kept out of that one, below), against a real
# server with a fresh store.
# Fails on any failure or server error.
#
# Usage: scripts/schemathesis.sh [path/to/cloudnexus]   (default: target/debug/cloudnexus)
#   With CLOUDNEXUS_TEST_POSTGRES_URL set, it runs again with the metadata on a fresh database
#   of that PostgreSQL server.
#
# Per-operation allowances (a 400 where validity depends on what a schema cannot state: signed
# cursors, cursor/offset exclusion, Content-MD5 of the body) are in scripts/schemathesis.toml.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=${1:-$ROOT/target/debug/cloudnexus}
VERSION=4.32.5

if ! command -v st >/dev/null || [[ $(st --version 2>/dev/null) != *"$VERSION"* ]]; then
  timeout 600 python3 -m pip install --quiet "schemathesis==$VERSION"
fi
st --version

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Quotas high enough for a fuzzer (the limits have their own tests), failed sign-ins included.
cat > "$WORK/cloudnexus.toml" <<'TOML'
[rate_limits.list-buckets]
requests = 1000000
window_seconds = 60
[rate_limits.read]
requests = 1000000
window_seconds = 60
[rate_limits.write]
requests = 1000000
window_seconds = 60
[rate_limits.tokens]
requests = 1000000
window_seconds = 60
[rate_limits.failed-auth]
requests = 1000000
window_seconds = 60
TOML

# run NAME [DATABASE_URL]: one server, one schemathesis run.
run() {
  local name=$1 database=${2:-}
  local data="$WORK/$name"
  mkdir -p "$data"
  env -u CLOUDNEXUS_DATABASE_URL CLOUDNEXUS_CONFIG="$WORK/cloudnexus.toml" ${database:+CLOUDNEXUS_DATABASE_URL=$database} \
    "$BINARY" serve --listen 127.0.0.1:0 --data-dir "$data" > "$data/serve.log" 2>&1 &
  SERVER_PID=$!
  local base=
  for _ in $(seq 1 300); do
    base=$(grep -oE 'listening on http://[0-9.:]+' "$data/serve.log" | head -n 1 | sed 's/listening on //') || true
    [[ -n $base ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$data/serve.log" >&2; echo "schemathesis: the server did not start" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $base ]] || { echo "schemathesis: the server did not start within 30 s" >&2; exit 1; }
  local key
  key=$(grep -m1 -oE 'cnx_[A-Za-z0-9_]+' "$data/serve.log")
  echo "== schemathesis on $name ($base)"
  timeout 900 st --config-file "$ROOT/scripts/schemathesis.toml" run "$base/v1/openapi.json" \
    --checks all --max-examples 50 --no-color \
    -H "Authorization: Bearer $key"
  kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

run sqlite
if [[ -n ${CLOUDNEXUS_TEST_POSTGRES_URL:-} ]]; then
  database=cloudnexus_schemathesis
  psql "$CLOUDNEXUS_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
  run postgres "${CLOUDNEXUS_TEST_POSTGRES_URL%/*}/$database"
fi

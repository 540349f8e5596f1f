#!/usr/bin/env bash
# Paired rounds: two builds of `cloudnexus` measured against each other on the same data, at the
# same time, for changes smaller than this machine's drift (docs/benchmarks.md, "Comparing two
# builds").
#
# Usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY
#
# Seeds one project of AB_N buckets (target/release/seed), starts both servers on the server CPU
# at once (each on its own copy of the data folder, or both on AB_DATABASE_URL), checks that they
# answer AB_PATH with the same bytes, and then, with wrk on the load-generator CPU, runs AB_PAIRS
# pairs of AB_ROUND_SECONDS throughput rounds (AB_CONNECTIONS connections), old and new back to
# back, the order swapped every pair, and AB_LATENCY_PAIRS pairs of one-connection rounds. Both
# servers see the same machine within seconds, so each pair's ratio cancels the drift that moves
# separate runs by 10-30 %. Prints each pair, then the median of each side and the median and
# quartiles of the per-pair ratios (new/old); everything goes to target/bench-ab/<UTC time>/.
#
# To measure a revision against the checkout, build it into a binary of its own first, e.g.
#   git worktree add /tmp/old <rev> && (cd /tmp/old && CARGO_TARGET_DIR="$PWD/../main/target" \
#     cargo build --release -p cloudnexus) && cp target/release/cloudnexus /tmp/cloudnexus-old
# (the shared target folder reuses the compiled dependencies), then rebuild the checkout.
#
# Tunables (environment):
#   AB_N (10000)               buckets seeded
#   AB_PATH (/v1/buckets)      the request measured (a path with its query string)
#   AB_CACHE_MIB (0)           the servers' list cache; 0 renders every page from the database
#   AB_PAIRS (20)              throughput pairs
#   AB_LATENCY_PAIRS (10)      one-connection pairs (p50); 0 skips them
#   AB_ROUND_SECONDS (2)       each round's length
#   AB_CONNECTIONS (32)        connections of a throughput round
#   AB_DATABASE_URL            an empty PostgreSQL database to seed and serve from (default: SQLite)
#   AB_SEED (42), AB_SERVER_CPU (0), AB_LOADGEN_CPU (1), AB_STARTUP_TIMEOUT (60) seconds,
#   AB_SEED_TIMEOUT (3600) seconds, AB_WORK_DIR (target/bench-ab)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '%s bench-ab: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

(($# == 2)) || die "usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY"
OLD=$(realpath "$1") NEW=$(realpath "$2")
for b in "$OLD" "$NEW"; do [[ -x $b ]] || die "$b is not an executable"; done

N=${AB_N:-10000}
REQUEST_PATH=${AB_PATH:-/v1/buckets}
CACHE_MIB=${AB_CACHE_MIB:-0}
PAIRS=${AB_PAIRS:-20}
LATENCY_PAIRS=${AB_LATENCY_PAIRS:-10}
ROUND_SECONDS=${AB_ROUND_SECONDS:-2}
CONNECTIONS=${AB_CONNECTIONS:-32}
DATABASE_URL=${AB_DATABASE_URL:-}
SEED=${AB_SEED:-42}
SERVER_CPU=${AB_SERVER_CPU:-0}
LOADGEN_CPU=${AB_LOADGEN_CPU:-1}
STARTUP_TIMEOUT=${AB_STARTUP_TIMEOUT:-60}
SEED_TIMEOUT=${AB_SEED_TIMEOUT:-3600}
for v in N CACHE_MIB PAIRS LATENCY_PAIRS ROUND_SECONDS CONNECTIONS SEED SERVER_CPU LOADGEN_CPU STARTUP_TIMEOUT SEED_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
((N >= 100 && PAIRS >= 1 && ROUND_SECONDS >= 1)) || die "AB_N must be at least 100, AB_PAIRS and AB_ROUND_SECONDS at least 1"
[[ $REQUEST_PATH == /* ]] || die "AB_PATH must start with / (got '$REQUEST_PATH')"
for tool in wrk curl taskset timeout cmp realpath; do
  command -v "$tool" >/dev/null || die "$tool is needed but not installed (wrk: apt-get install wrk)"
done
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
for b in seed report; do
  [[ -x $BIN/$b ]] || die "missing $BIN/$b; build it (cargo build --release -p cloudnexus-bench)"
done

WORK="${AB_WORK_DIR:-$ROOT/target/bench-ab}/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$WORK"
PIDS=()
cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"/data-*
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
unset CLOUDNEXUS_CONFIG CLOUDNEXUS_LISTEN CLOUDNEXUS_DATA_DIR CLOUDNEXUS_LOG CLOUDNEXUS_LOG_FORMAT
export NO_COLOR=1

# wrk's summary as JSON (latency in microseconds), as scripts/bench.sh writes it.
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local f = assert(io.open(os.getenv("WRK_JSON"), "w"))
  f:write(string.format('{"duration_us":%.0f,"requests":%.0f,"non_2xx":%.0f,"p50_us":%.0f}\n',
    summary.duration, summary.requests, summary.errors.status, latency:percentile(50)))
  f:close()
end
LUA

log "seeding $N buckets (seed $SEED)${DATABASE_URL:+ into $DATABASE_URL}..."
[[ -n $DATABASE_URL ]] && export CLOUDNEXUS_DATABASE_URL=$DATABASE_URL
timeout "$SEED_TIMEOUT" "$BIN/seed" "$WORK/data-old" "$N" "$SEED" \
  >"$WORK/seed.json" 2>"$WORK/seed.log" || die "seeding failed (see $WORK/seed.log)"
unset CLOUDNEXUS_DATABASE_URL
KEY=$("$BIN/report" field "$WORK/seed.json" api_key) || die "no API key in $WORK/seed.json"
# Each SQLite server needs a data folder of its own (one server per folder).
[[ -n $DATABASE_URL ]] || cp -a "$WORK/data-old" "$WORK/data-new"

declare -A URL
start() { # side (old or new), binary
  local side=$1 binary=$2 data="$WORK/data-$1" metadata=
  mkdir -p "$data"
  [[ -n $DATABASE_URL ]] && metadata=$'[metadata]\n'"url = \"$DATABASE_URL\""
  cat >"$WORK/$side.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$data"
[log]
level = "warn"
[buckets]
list_cache_mib = $CACHE_MIB
[rate_limits.list-buckets]
requests = 1000000000
window_seconds = 60
$metadata
TOML
  taskset -c "$SERVER_CPU" "$binary" serve --config "$WORK/$side.toml" >"$WORK/$side.out" 2>"$WORK/$side.log" &
  PIDS+=($!)
  local pid=$! line tick
  for ((tick = 0; tick < STARTUP_TIMEOUT * 10; tick++)); do
    if line=$(grep -m1 -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$WORK/$side.out" 2>/dev/null); then
      URL[$side]="http://127.0.0.1:${line##*:}$REQUEST_PATH"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "the $side server exited (see $WORK/$side.log)"
    sleep 0.1
  done
  die "the $side server did not start within $STARTUP_TIMEOUT s"
}
start old "$OLD"
start new "$NEW"
for side in old new; do
  status=$(curl -sS --noproxy '*' --max-time 60 -H "Authorization: Bearer $KEY" -o "$WORK/$side.body" \
    -w '%{http_code}' "${URL[$side]}") || die "GET ${URL[$side]} failed"
  [[ $status == 200 ]] || die "the $side server answered $status: $(head -c 300 "$WORK/$side.body")"
done
# The same answer, but for the next cursor's MAC: each data folder has a signing key of its own.
unsigned() { sed -E 's/"next_cursor":"[^"]*"/"next_cursor":"(signed)"/' "$1"; }
cmp -s <(unsigned "$WORK/old.body") <(unsigned "$WORK/new.body") ||
  die "the two servers answer $REQUEST_PATH differently (see $WORK/*.body)"

round() { # side, connections, output JSON: one wrk run
  local side=$1 connections=$2 out=$3
  WRK_JSON=$out timeout $((ROUND_SECONDS + 60)) taskset -c "$LOADGEN_CPU" wrk -t1 --timeout 30s -s "$WORK/report.lua" \
    -H "Authorization: Bearer $KEY" -c"$connections" -d"${ROUND_SECONDS}s" --latency "${URL[$side]}" \
    >"${out%.json}.txt" 2>&1 || die "wrk failed (see ${out%.json}.txt)"
  [[ $("$BIN/report" field "$out" non_2xx) == 0 ]] || die "the $side server answered errors (see ${out%.json}.txt)"
}

# Median and quartiles of the numbers on stdin (each the value at its rank, interpolated
# between the two nearest when the rank falls between them).
quartiles() {
  sort -g | awk 'function at(q,  r, i) { r = 1 + q * (NR - 1); i = int(r); return v[i] + (r - i) * (v[i + 1] - v[i]) }
    {v[NR] = $1} END {
    v[NR + 1] = v[NR]
    f = v[NR] >= 100 ? "%.0f" : "%.3g"
    printf f " (quartiles " f "-" f ")", at(0.5), at(0.25), at(0.75) }'
}

rate() { # wrk JSON: requests per second
  awk -v requests="$("$BIN/report" field "$1" requests)" -v us="$("$BIN/report" field "$1" duration_us)" \
    'BEGIN {printf "%.0f", requests * 1e6 / us}'
}

measure() { # kind (thr or lat), pairs, connections
  local kind=$1 pairs=$2 connections=$3 i side first second old_value new_value
  : >"$WORK/$kind.tsv"
  for ((i = 1; i <= pairs; i++)); do
    first=old second=new
    ((i % 2 == 0)) && first=new second=old
    for side in "$first" "$second"; do
      round "$side" "$connections" "$WORK/$kind-$i-$side.json"
    done
    if [[ $kind == thr ]]; then
      old_value=$(rate "$WORK/$kind-$i-old.json") new_value=$(rate "$WORK/$kind-$i-new.json")
    else
      old_value=$("$BIN/report" field "$WORK/$kind-$i-old.json" p50_us)
      new_value=$("$BIN/report" field "$WORK/$kind-$i-new.json" p50_us)
    fi
    printf '%s\t%s\t%s\n' "$old_value" "$new_value" "$(awk -v o="$old_value" -v n="$new_value" 'BEGIN {printf "%.3f", n / o}')" |
      tee -a "$WORK/$kind.tsv" | awk -v i="$i" -v k="$kind" '{printf "  %s pair %2d: old %s, new %s, new/old %s\n", k, i, $1, $2, $3}' >&2
  done
}

summary() { # kind, unit, label
  local kind=$1 unit=$2
  printf '%s: old %s %s, new %s %s; new/old %s over %s pairs\n' "$3" \
    "$(cut -f1 "$WORK/$kind.tsv" | quartiles)" "$unit" "$(cut -f2 "$WORK/$kind.tsv" | quartiles)" "$unit" \
    "$(cut -f3 "$WORK/$kind.tsv" | quartiles)" "$(wc -l <"$WORK/$kind.tsv")"
}

log "old $OLD, new $NEW; $REQUEST_PATH at N=$N, list cache $CACHE_MIB MiB; servers on CPU $SERVER_CPU, wrk on CPU $LOADGEN_CPU"
log "warming up both servers"
for side in old new; do round "$side" "$CONNECTIONS" "$WORK/warmup-$side.json"; done
log "$PAIRS throughput pairs of ${ROUND_SECONDS}s, $CONNECTIONS connections"
measure thr "$PAIRS" "$CONNECTIONS"
if ((LATENCY_PAIRS > 0)); then
  log "$LATENCY_PAIRS latency pairs of ${ROUND_SECONDS}s, 1 connection"
  measure lat "$LATENCY_PAIRS" 1
fi
{
  echo "$REQUEST_PATH at N=$N, list cache $CACHE_MIB MiB${DATABASE_URL:+, PostgreSQL}; old $OLD, new $NEW"
  summary thr "req/s" "throughput ($CONNECTIONS conn)"
  if ((LATENCY_PAIRS > 0)); then summary lat "us" "p50 (1 conn)"; fi
} | tee "$WORK/summary.txt"
log "rounds and summary in ${WORK#"$ROOT"/}"

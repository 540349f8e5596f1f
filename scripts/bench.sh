#!/usr/bin/env bash
# The list-endpoint benchmark (docs/benchmarks.md explains it and holds the latest results).
#
# Usage: scripts/bench.sh [N ...]        (default: 10000 1000000)
#        BENCH_BACKEND=postgres scripts/bench.sh [N ...]   the same with the metadata on PostgreSQL
#
# For each N: builds in release mode (once), seeds a new data folder with project "bench" and N
# buckets through the store's bulk path (target/release/seed), starts `cloudnexus serve` on
# 127.0.0.1 pinned to one CPU with the list-buckets rate limit raised by configuration, checks
# every query shape answers 200, and starts a bare hyper server (target/release/baseline) on the
# same CPU that answers shape (a)'s exact bytes: the HTTP ceiling of the machine. Then, with wrk
# pinned to another CPU:
#   1. the ratio: shape (a) and the baseline, many connections, in BENCH_RATIO_ROUNDS interleaved
#      rounds (so that both see the same machine; the report takes the median of each);
#   2. every shape in the default configuration (list cache on): latency with 1 connection,
#      throughput with many; and the baseline's latency;
#   3. the mixed workload, list cache on: every shape again with many connections while one
#      request in 21 (1 upload per 20 lists), then one in 3 (1 per 2), uploads a 1 KiB object to a
#      random live bucket of the project (BENCH_MIXED, "20 2");
#   4. every shape again on a server restarted with the list cache off (every request renders
#      its page from the database: the cost of a first request, or of one after a change).
# The server's peak RSS (VmHWM) is read before each stop. Results go to
# bench/results/<UTC time>-N<n>.json, and the table in docs/benchmarks.md is regenerated.
#
# wrk is installed with apt-get when missing. All traffic goes to 127.0.0.1. Every wait and
# run is bounded, and the servers are stopped on exit, whatever happens.
#
# With BENCH_BACKEND=postgres, a private PostgreSQL (scripts/postgres.sh, in the work folder, on
# the server's CPU) holds the metadata: each N gets a new database, seeded through the same bulk
# path and then analysed (VACUUM ANALYZE), and the results go to the PostgreSQL section of
# docs/benchmarks.md.
#
# Tunables (environment):
#   BENCH_BACKEND (sqlite)         sqlite (the data folder) or postgres
#   BENCH_PG_PORT (54339)          the private PostgreSQL's port
#   BENCH_LATENCY_SECONDS (10)     one-connection run per shape
#   BENCH_THROUGHPUT_SECONDS (10)  many-connection run per shape
#   BENCH_WARMUP_SECONDS (2)       unmeasured run before each shape
#   BENCH_CONNECTIONS (32)         connections of the throughput run
#   BENCH_RATIO_ROUNDS (3)         interleaved throughput rounds of shape (a) and the baseline
#   BENCH_MIXED ("20 2")           lists per upload of the mixed runs ("" skips them)
#   BENCH_SEED (42)                the data set's random seed
#   BENCH_SERVER_CPU (0), BENCH_LOADGEN_CPU (1)
#   BENCH_WORK_DIR (target/bench)  data folders and raw outputs (a million buckets: ~1 GiB)
#   BENCH_KEEP (0)                 1 keeps the data folders after the run
#   BENCH_SKIP_BUILD (0)           1 uses the binaries already in the target folder
#   BENCH_GIT_REV                  the revision to record when this is not a git checkout
#   BENCH_STARTUP_TIMEOUT (60), BENCH_SEED_TIMEOUT (3600), BENCH_BUILD_TIMEOUT (3600),
#   BENCH_INSTALL_TIMEOUT (600)    seconds
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

LAT_SECONDS=${BENCH_LATENCY_SECONDS:-10}
THR_SECONDS=${BENCH_THROUGHPUT_SECONDS:-10}
WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RATIO_ROUNDS=${BENCH_RATIO_ROUNDS:-3}
MIXED=${BENCH_MIXED-20 2}
SEED=${BENCH_SEED:-42}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-1}
WORK_BASE=${BENCH_WORK_DIR:-$ROOT/target/bench}
KEEP=${BENCH_KEEP:-0}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
STARTUP_TIMEOUT=${BENCH_STARTUP_TIMEOUT:-60}
SEED_TIMEOUT=${BENCH_SEED_TIMEOUT:-3600}
BUILD_TIMEOUT=${BENCH_BUILD_TIMEOUT:-3600}
INSTALL_TIMEOUT=${BENCH_INSTALL_TIMEOUT:-600}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN="$TARGET_DIR/release"

BACKEND=${BENCH_BACKEND:-sqlite}
PG_PORT=${BENCH_PG_PORT:-54339}
[[ $BACKEND == sqlite || $BACKEND == postgres ]] ||
  { echo "bench: BENCH_BACKEND must be sqlite or postgres (got '$BACKEND')" >&2; exit 2; }

SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(10000 1000000)
for n in "${SIZES[@]}"; do
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 100)); then
    echo "bench: N must be a whole number of at least 100 (got '$n')" >&2
    exit 2
  fi
done
for k in $MIXED; do
  [[ $k =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_MIXED must hold whole numbers of at least 1 (got '$k')" >&2; exit 2; }
done
for v in LAT_SECONDS THR_SECONDS WARMUP_SECONDS CONNECTIONS RATIO_ROUNDS SEED STARTUP_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a whole number (got '${!v}')" >&2; exit 2; }
done

log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- processes we start, and stopping them ---------------------------------------------------------
SERVER_PID=
BASELINE_PID=
WORK=
PG_URL=

stop_pid() { # pid, name: SIGTERM, up to 15 s for a graceful stop, then SIGKILL
  local pid=$1 name=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "warning: $name (pid $pid) did not stop within 15 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$SERVER_PID" server
  SERVER_PID=
  stop_pid "$BASELINE_PID" baseline
  BASELINE_PID=
  if [[ -n $PG_URL ]]; then
    CLOUDNEXUS_PG_DIR="$WORK/postgres" "$ROOT/scripts/postgres.sh" stop || true
  fi
  if [[ -n $WORK && $KEEP != 1 ]]; then
    rm -rf "$WORK"/n*/data "$WORK/postgres"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools -----------------------------------------------------------------------------------------
for tool in cargo curl taskset timeout cmp; do
  command -v "$tool" >/dev/null || die "$tool is needed but not installed"
done
if ! command -v wrk >/dev/null; then
  log "installing wrk (apt-get)..."
  SUDO=
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "wrk is missing and installing it needs root: apt-get install wrk"
    SUDO=sudo
  fi
  command -v apt-get >/dev/null || die "wrk is missing and there is no apt-get; install wrk (https is not needed)"
  if ! timeout "$INSTALL_TIMEOUT" $SUDO apt-get update -qq >/dev/null ||
    ! timeout "$INSTALL_TIMEOUT" $SUDO apt-get install -y -qq wrk >/dev/null; then
    die "could not install wrk with apt-get"
  fi
fi
WRK_VERSION=$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}' || true)

CPUS=$(nproc)
if ((CPUS < 2)); then
  log "warning: only $CPUS CPU; the server and wrk share it, so the numbers mean little"
  SERVER_CPU=0 LOADGEN_CPU=0
fi

# --- build -----------------------------------------------------------------------------------------
if [[ $SKIP_BUILD != 1 ]]; then
  log "building in release mode (cargo build --release -p cloudnexus -p cloudnexus-bench)..."
  timeout "$BUILD_TIMEOUT" cargo build --release -p cloudnexus -p cloudnexus-bench ||
    die "the release build failed"
fi
for b in cloudnexus seed baseline report; do
  [[ -x $BIN/$b ]] || die "missing $BIN/$b; build it (cargo build --release -p cloudnexus -p cloudnexus-bench)"
done

# Keep the run hermetic: no configuration or address from the caller's environment.
unset CLOUDNEXUS_CONFIG CLOUDNEXUS_LISTEN CLOUDNEXUS_DATA_DIR CLOUDNEXUS_LOG CLOUDNEXUS_LOG_FORMAT
export NO_COLOR=1

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
  [[ -z $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || GIT_REV="$GIT_REV+changes"
else
  GIT_REV=${BENCH_GIT_REV:-unknown}
fi
WORK="$WORK_BASE/$STAMP"
mkdir -p "$WORK" "$ROOT/bench/results"
if [[ $BACKEND == postgres ]]; then
  command -v psql >/dev/null || die "psql is needed for BENCH_BACKEND=postgres (Debian: postgresql-client)"
  PG_URL=$(CLOUDNEXUS_PG_DIR="$WORK/postgres" CLOUDNEXUS_PG_PORT="$PG_PORT" \
    taskset -c "$SERVER_CPU" "$ROOT/scripts/postgres.sh" start) || die "could not start PostgreSQL"
  log "PostgreSQL at $PG_URL (CPU $SERVER_CPU)"
fi
log "backend $BACKEND; work folder $WORK; sizes ${SIZES[*]}; latency ${LAT_SECONDS}s x1 conn, throughput ${THR_SECONDS}s x${CONNECTIONS} conn; server on CPU $SERVER_CPU, wrk on CPU $LOADGEN_CPU"

# wrk writes its summary as JSON to $WRK_JSON (latency in microseconds).
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(os.getenv("WRK_JSON"), "w"))
  f:write(string.format(
    '{"duration_us":%.0f,"requests":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"min":%.0f,"max":%.0f,"mean":%.1f,"stdev":%.1f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
  f:close()
end
LUA

# The mixed workload: of every MIXED_EVERY + 1 requests, MIXED_EVERY list MIXED_PATH and one uploads
# a 1 KiB object (one of 1,000 keys, so both new objects and overwrites) to a bucket drawn from
# MIXED_BUCKETS (one name per line). The uploads ride on the same connections, so the ratio holds
# exactly whatever the throughput; the report takes the lists' share of the requests.
cat >"$WORK/mixed.lua" <<'LUA'
local every = tonumber(os.getenv("MIXED_EVERY"))
local list = wrk.format("GET", os.getenv("MIXED_PATH"))
local buckets = {}
for line in io.lines(os.getenv("MIXED_BUCKETS")) do buckets[#buckets + 1] = line end
local body = string.rep("x", 1024)
-- The uploads are another client's: their own key, which may write.
local upload_headers = {
  ["Authorization"] = "Bearer " .. os.getenv("MIXED_UPLOAD_KEY"),
  ["Content-Type"] = "application/octet-stream",
}
local sent = 0
request = function()
  sent = sent + 1
  if sent % (every + 1) ~= 0 then return list end
  local bucket = buckets[math.random(#buckets)]
  return wrk.format("PUT", "/v1/buckets/" .. bucket .. "/objects/mixed/" .. math.random(1000), upload_headers, body)
end
LUA
cat "$WORK/report.lua" >>"$WORK/mixed.lua" # the same summary

# --- helpers ---------------------------------------------------------------------------------------
wait_listening() { # out file, pid, name: prints the port
  local out=$1 pid=$2 name=$3 line
  for ((tick = 0; tick < STARTUP_TIMEOUT * 10; tick++)); do
    if line=$(grep -m1 -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$out" 2>/dev/null); then
      echo "${line##*:}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$name exited before it was listening (see $out and its log)"
    sleep 0.1
  done
  die "$name did not print its 'listening on' line within ${STARTUP_TIMEOUT} s"
}

fetch() { # url, key ('' for none), output body file: writes <body file minus .json>.status
  local url=$1 key=$2 body=$3 status
  local auth=()
  [[ -n $key ]] && auth=(-H "Authorization: Bearer $key")
  status=$(curl -sS --noproxy '*' --max-time 120 "${auth[@]}" -o "$body" -w '%{http_code}' "$url") ||
    die "GET $url failed"
  echo "$status" >"${body%.json}.status"
  [[ $status == 200 ]] || die "GET $url answered $status: $(head -c 500 "$body")"
}

throughput() { # name, url, key, run dir: one many-connection run, no warm-up
  local name=$1 url=$2 key=$3 run=$4
  local auth=()
  [[ -n $key ]] && auth=(-H "Authorization: Bearer $key")
  WRK_JSON="$run/wrk/$name.json" timeout $((THR_SECONDS + 60)) taskset -c "$LOADGEN_CPU" wrk -t1 --timeout 30s \
    -s "$WORK/report.lua" "${auth[@]}" -c"$CONNECTIONS" -d"${THR_SECONDS}s" "$url" >"$run/wrk/$name.txt" 2>&1 ||
    die "wrk run $name failed (see $run/wrk/$name.txt)"
  log "  $name: $(grep -m1 'Requests/sec' "$run/wrk/$name.txt" | awk '{print $2}') req/s (${CONNECTIONS} conn)"
}

load() { # name, url, key, run dir: warm-up, then the latency and throughput runs
  local name=$1 url=$2 key=$3 run=$4
  local auth=()
  [[ -n $key ]] && auth=(-H "Authorization: Bearer $key")
  local wrk=(taskset -c "$LOADGEN_CPU" wrk -t1 --timeout 30s -s "$WORK/report.lua" "${auth[@]}")
  if ((WARMUP_SECONDS > 0)); then
    WRK_JSON=/dev/null timeout $((WARMUP_SECONDS + 60)) "${wrk[@]}" -c"$CONNECTIONS" -d"${WARMUP_SECONDS}s" "$url" \
      >>"$run/wrk/$name-warmup.txt" 2>&1 || die "wrk warm-up of $name failed (see $run/wrk/$name-warmup.txt)"
  fi
  WRK_JSON="$run/wrk/$name-lat.json" timeout $((LAT_SECONDS + 60)) "${wrk[@]}" -c1 -d"${LAT_SECONDS}s" --latency "$url" \
    >"$run/wrk/$name-lat.txt" 2>&1 || die "wrk latency run of $name failed (see $run/wrk/$name-lat.txt)"
  WRK_JSON="$run/wrk/$name-thr.json" timeout $((THR_SECONDS + 60)) "${wrk[@]}" -c"$CONNECTIONS" -d"${THR_SECONDS}s" \
    --latency "$url" >"$run/wrk/$name-thr.txt" 2>&1 ||
    die "wrk throughput run of $name failed (see $run/wrk/$name-thr.txt)"
  log "  $name: $(grep -m1 -E '^ +50%' "$run/wrk/$name-lat.txt" | awk '{print "p50", $2}'), $(grep -m1 -E '^ +99%' "$run/wrk/$name-lat.txt" | awk '{print "p99", $2}') (1 conn); $(grep -m1 'Requests/sec' "$run/wrk/$name-thr.txt" | awk '{print $2}') req/s (${CONNECTIONS} conn)"
}

mixed() { # name, url, key, upload key, run dir, lists per upload, bucket names file: one many-connection run
  local name=$1 url=$2 key=$3 upload_key=$4 run=$5 every=$6 buckets=$7
  local path="/${url#http://*/}"
  MIXED_EVERY=$every MIXED_PATH=$path MIXED_BUCKETS=$buckets MIXED_UPLOAD_KEY=$upload_key WRK_JSON="$run/wrk/$name.json" \
    timeout $((THR_SECONDS + 60)) taskset -c "$LOADGEN_CPU" wrk -t1 --timeout 30s -s "$WORK/mixed.lua" \
    -H "Authorization: Bearer $key" -c"$CONNECTIONS" -d"${THR_SECONDS}s" --latency "$url" >"$run/wrk/$name.txt" 2>&1 ||
    die "wrk mixed run $name failed (see $run/wrk/$name.txt)"
  grep -q 'Non-2xx' "$run/wrk/$name.txt" && die "mixed run $name had failed requests (see $run/wrk/$name.txt)"
  log "  $name: $(grep -m1 'Requests/sec' "$run/wrk/$name.txt" | awk '{print $2}') req/s, lists and uploads (${CONNECTIONS} conn)"
}

vmhwm() { # pid: peak resident set size in KiB
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# --- one size ---------------------------------------------------------------------------------------
RESULTS=()
run_size() {
  local n=$1
  local run="$WORK/n$n"
  local data="$run/data"
  mkdir -p "$run/responses" "$run/wrk"
  cp /proc/loadavg "$run/loadavg-before"

  local metadata_toml=
  if [[ $BACKEND == postgres ]]; then
    psql "$PG_URL" -qc "CREATE DATABASE bench_n$n" >/dev/null || die "could not create database bench_n$n"
    # Plain TCP on loopback, as in every earlier run: the figures measure the database, not
    # TLS (the private cluster offers TLS, which the client's default `prefer` would take).
    export CLOUDNEXUS_DATABASE_URL="${PG_URL%/*}/bench_n$n?sslmode=disable"
    metadata_toml=$'[metadata]\n'"url = \"$CLOUDNEXUS_DATABASE_URL\""
  fi
  log "N=$n: seeding $n buckets (seed $SEED)..."
  timeout "$SEED_TIMEOUT" "$BIN/seed" "$data" "$n" "$SEED" >"$run/seed.json" 2> >(tee "$run/seed.log" >&2) ||
    die "seeding failed or took over ${SEED_TIMEOUT} s (see $run/seed.log)"
  if [[ $BACKEND == postgres ]]; then
    # What autovacuum would do soon after a bulk load: statistics for the planner, and the
    # visibility map that lets counts read an index alone.
    timeout "$SEED_TIMEOUT" psql "$CLOUDNEXUS_DATABASE_URL" -qc "VACUUM ANALYZE" || die "VACUUM ANALYZE failed"
    unset CLOUDNEXUS_DATABASE_URL
  fi
  local key
  key=$("$BIN/report" field "$run/seed.json" api_key) || die "no API key in $run/seed.json"
  local upload_key
  upload_key=$("$BIN/report" field "$run/seed.json" upload_key) || die "no upload key in $run/seed.json"
  log "N=$n: seeded in $("$BIN/report" field "$run/seed.json" seed_seconds) s"

  # The server's configuration: limits raised, quiet logs; the list cache as given.
  write_config() { # file, list cache MiB
    cat >"$1" <<TOML
# Written by scripts/bench.sh: the benchmark's server.
listen = "127.0.0.1:0"
data_dir = "$data"

[log]
format = "text"
level = "warn"

[buckets]
list_cache_mib = $2

[rate_limits.list-buckets]
requests = 1000000000
window_seconds = 60

[rate_limits.write]
requests = 1000000000
window_seconds = 60

$metadata_toml
TOML
  }
  local base
  start_server() { # config file, output prefix: sets SERVER_PID and base
    taskset -c "$SERVER_CPU" "$BIN/cloudnexus" serve --config "$1" >"$2.out" 2>"$2.log" &
    SERVER_PID=$!
    base="http://127.0.0.1:$(wait_listening "$2.out" "$SERVER_PID" "the server")"
  }
  write_config "$run/cloudnexus.toml" 64
  write_config "$run/cloudnexus-uncached.toml" 0
  mkdir -p "$run/wrk/uncached"

  start_server "$run/cloudnexus.toml" "$run/serve"
  log "N=$n: server pid $SERVER_PID on $base (CPU $SERVER_CPU), list cache on"

  # Every shape must answer 200 before it is measured; the answers are kept for the report.
  "$BIN/report" cursor-source "$n" >"$run/cursor-source"
  fetch "$base$(cat "$run/cursor-source")" "$key" "$run/responses/cursor-source.json"
  local cursor
  cursor=$("$BIN/report" field "$run/responses/cursor-source.json" pagination.next_cursor) ||
    die "the page at offset N/2 has no next_cursor"
  local ids=() paths=() id _label path
  while IFS=$'\t' read -r id _label path; do
    path=${path//@CURSOR@/$cursor}
    ids+=("$id")
    paths+=("$path")
    fetch "$base$path" "$key" "$run/responses/$id.json"
  done < <("$BIN/report" shapes "$n")
  ((${#ids[@]} > 0)) || die "no shapes to measure"

  # The baseline: shape (a)'s exact bytes from a bare hyper server on the same CPU (idle while
  # the server is measured, and the other way round).
  taskset -c "$SERVER_CPU" "$BIN/baseline" 127.0.0.1:0 "$run/responses/a.json" >"$run/baseline.out" 2>"$run/baseline.log" &
  BASELINE_PID=$!
  local baseline_url
  baseline_url="http://127.0.0.1:$(wait_listening "$run/baseline.out" "$BASELINE_PID" "the baseline")/v1/buckets"
  fetch "$baseline_url" "" "$run/responses/baseline.json"
  cmp -s "$run/responses/a.json" "$run/responses/baseline.json" || die "the baseline does not answer shape (a)'s bytes"

  log "N=$n: shape (a) against the baseline, $RATIO_ROUNDS interleaved rounds"
  load a "$base${paths[0]}" "$key" "$run"
  load baseline "$baseline_url" "$key" "$run"
  for ((round = 1; round <= RATIO_ROUNDS; round++)); do
    throughput "ratio-a-$round" "$base${paths[0]}" "$key" "$run"
    throughput "ratio-baseline-$round" "$baseline_url" "$key" "$run"
  done
  vmhwm "$BASELINE_PID" >"$run/baseline-vmhwm-kib"
  stop_pid "$BASELINE_PID" baseline
  BASELINE_PID=

  log "N=$n: every shape, list cache on"
  for i in "${!ids[@]}"; do
    [[ ${ids[$i]} == a ]] || load "${ids[$i]}" "$base${paths[$i]}" "$key" "$run"
  done
  if [[ -n $MIXED ]]; then
    # Live buckets from the first page and from the middle of the listing.
    local names="$run/mixed-buckets"
    fetch "$base/v1/buckets?limit=100" "$key" "$run/responses/mixed-first.json"
    fetch "$base/v1/buckets?limit=100&offset=$((n / 2))" "$key" "$run/responses/mixed-middle.json"
    cat "$run/responses/mixed-first.json" "$run/responses/mixed-middle.json" |
      grep -oE '"name":"[a-z0-9.-]+"' | cut -d'"' -f4 >"$names"
    [[ -s $names ]] || die "no bucket names for the mixed runs"
    local every
    for every in $MIXED; do
      log "N=$n: mixed workload, 1 upload per $every lists, list cache on"
      mkdir -p "$run/wrk/mixed-$every"
      for i in "${!ids[@]}"; do
        mixed "mixed-$every/${ids[$i]}" "$base${paths[$i]}" "$key" "$upload_key" "$run" "$every" "$names"
      done
    done
  fi
  local peak_cached
  peak_cached=$(vmhwm "$SERVER_PID")
  stop_pid "$SERVER_PID" server
  SERVER_PID=

  start_server "$run/cloudnexus-uncached.toml" "$run/serve-uncached"
  log "N=$n: every shape, list cache off (server pid $SERVER_PID on $base)"
  for i in "${!ids[@]}"; do
    load "uncached/${ids[$i]}" "$base${paths[$i]}" "$key" "$run"
  done
  local peak_uncached
  peak_uncached=$(vmhwm "$SERVER_PID")
  echo $((peak_cached > peak_uncached ? peak_cached : peak_uncached)) >"$run/server-vmhwm-kib"
  log "N=$n: server peak RSS $((peak_cached / 1024)) MiB (cache on), $((peak_uncached / 1024)) MiB (cache off)"
  stop_pid "$SERVER_PID" server
  SERVER_PID=

  local out="$ROOT/bench/results/$STAMP-N$n$([[ $BACKEND == postgres ]] && echo -postgres).json"
  "$BIN/report" collect --dir "$run" --n "$n" --out "$out" --started "$STARTED" --git "$GIT_REV" \
    --load-generator "$WRK_VERSION" --latency-seconds "$LAT_SECONDS" --throughput-seconds "$THR_SECONDS" \
    --connections "$CONNECTIONS" --server-cpu "$SERVER_CPU" --loadgen-cpu "$LOADGEN_CPU" --backend "$BACKEND" ||
    die "could not write the results of N=$n"
  RESULTS+=("$out")
  log "N=$n: results in ${out#"$ROOT"/}"
  if [[ $BACKEND == postgres ]]; then
    psql "$PG_URL" -qc "DROP DATABASE bench_n$n" >/dev/null || log "warning: could not drop bench_n$n"
  fi
  [[ $KEEP == 1 ]] || rm -rf "$data"
}

for n in "${SIZES[@]}"; do
  run_size "$n"
done

SECTION=results
[[ $BACKEND == postgres ]] && SECTION=results-postgres
"$BIN/report" markdown --doc "$ROOT/docs/benchmarks.md" --section "$SECTION" "${RESULTS[@]}" ||
  die "could not update docs/benchmarks.md"
log "done: ${RESULTS[*]#"$ROOT"/}; docs/benchmarks.md updated (compare runs with: target/release/report compare OLD.json NEW.json)"

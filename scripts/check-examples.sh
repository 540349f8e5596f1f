#!/usr/bin/env bash
# Runs the request examples in examples/ (cURL, Python, Node.js) against a local, seeded
# cloudnexus server and checks what each one prints.
#
# Usage: scripts/check-examples.sh [path/to/cloudnexus]   (default: target/release/cloudnexus)
#
# It starts `cloudnexus serve` on 127.0.0.1 (a free port) with a throw-away data folder, loads
# the demo buckets, creates a read-only (storage:read) key, installs `requests` and `axios` if
# they are missing, runs the three examples with CLOUDNEXUS_BASE_URL and CLOUDNEXUS_API_KEY set,
# and compares their output with a direct request to /v1/buckets. It prints one line per
# example and ends with "N passed, N failed"; it exits non-zero if any example failed.
# The server is always stopped on exit. Every request goes to 127.0.0.1 (installs aside).
#
# Tunables (seconds): CHECK_STARTUP_TIMEOUT (30), CHECK_EXAMPLE_TIMEOUT (60),
# CHECK_INSTALL_TIMEOUT (300).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STARTUP_TIMEOUT=${CHECK_STARTUP_TIMEOUT:-30}
EXAMPLE_TIMEOUT=${CHECK_EXAMPLE_TIMEOUT:-60}
INSTALL_TIMEOUT=${CHECK_INSTALL_TIMEOUT:-300}
EXAMPLES=(curl python node)

SERVER_PID=
WORK=
passed=0
failed=0

# A setup step failed: nothing can be checked, so every example counts as failed.
die() {
  echo "check-examples: $*" >&2
  if [[ -n $WORK && -s $WORK/serve.log ]]; then
    echo "--- server log (last 20 lines) ---" >&2
    tail -n 20 "$WORK/serve.log" >&2
  fi
  echo "0 passed, ${#EXAMPLES[@]} failed"
  exit 1
}

cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do # up to 10 s for a graceful shutdown
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "check-examples: warning: the server did not stop within 10 s of SIGTERM; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n $WORK ]]; then
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the binary and the tools ------------------------------------------------------------------
BIN=${1:-target/release/cloudnexus}
if [[ $BIN != /* ]]; then
  if [[ -e $BIN ]]; then BIN="$PWD/$BIN"; else BIN="$ROOT/$BIN"; fi
fi
[[ -f $BIN && -x $BIN ]] ||
  die "no cloudnexus binary at $BIN; build it (cargo build --release -p cloudnexus) or pass its path"
for tool in curl python3 node timeout; do
  command -v "$tool" >/dev/null || die "$tool is needed but not installed"
done

# Keep the run hermetic: no config file or addresses from the caller's environment, no proxy
# for the local server, no colour codes in the server's log.
unset CLOUDNEXUS_CONFIG CLOUDNEXUS_LISTEN CLOUDNEXUS_DATA_DIR CLOUDNEXUS_BASE_URL CLOUDNEXUS_API_KEY
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-examples.XXXXXX")

# --- what the examples need (only if missing) --------------------------------------------------
declare -A INSTALL_ERROR=()
if ! python3 -c 'import requests' 2>/dev/null; then
  echo "installing the Python package requests..."
  if ! timeout "$INSTALL_TIMEOUT" python3 -m pip install --quiet --disable-pip-version-check requests \
      >"$WORK/pip.log" 2>&1 || ! python3 -c 'import requests' 2>/dev/null; then
    INSTALL_ERROR[python]="could not install requests: $(tail -n 3 "$WORK/pip.log" | tr '\n' ' ')"
  fi
fi
if [[ ! -d $ROOT/examples/node/node_modules/axios ]]; then
  echo "installing the Node package axios (npm install in examples/node)..."
  if ! command -v npm >/dev/null; then
    INSTALL_ERROR[node]="npm is not installed, so axios could not be installed"
  elif ! (cd "$ROOT/examples/node" && timeout "$INSTALL_TIMEOUT" npm install --no-audit --no-fund) \
      >"$WORK/npm.log" 2>&1 || [[ ! -d $ROOT/examples/node/node_modules/axios ]]; then
    INSTALL_ERROR[node]="npm install failed: $(tail -n 3 "$WORK/npm.log" | tr '\n' ' ')"
  fi
fi

# --- a seeded server -----------------------------------------------------------------------------
DATA="$WORK/data"
mkdir "$DATA"
NO_COLOR=1 "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!

PORT=
for ((tick = 0; tick < STARTUP_TIMEOUT * 10; tick++)); do # poll every 0.1 s
  if line=$(grep -m1 -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$WORK/serve.out"); then
    PORT=${line##*:}
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited before it was listening"
  sleep 0.1
done
[[ -n $PORT ]] || die "the server did not print its 'listening on' line within ${STARTUP_TIMEOUT} s"
BASE_URL="http://127.0.0.1:$PORT"

"$BIN" admin --data-dir "$DATA" --output json demo --project default >"$WORK/demo.json" 2>"$WORK/demo.err" ||
  die "loading the demo buckets failed: $(cat "$WORK/demo.err")"
"$BIN" admin --data-dir "$DATA" --output json key create --project default --scopes storage:read \
  >"$WORK/key.json" 2>"$WORK/key.err" ||
  die "creating a read-only key failed: $(cat "$WORK/key.err")"
KEY=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["key"])' "$WORK/key.json") ||
  die "no key in the output of 'admin key create': $(cat "$WORK/key.json")"

# The reference answer, straight from the server (and every bucket, to check the region filter).
fetch() { # path, output file
  curl -sS --fail --noproxy '*' --max-time 10 -H "Authorization: Bearer $KEY" -o "$2" "$BASE_URL$1" 2>"$WORK/fetch.err" ||
    die "GET $1 failed: $(cat "$WORK/fetch.err")"
}
fetch "/v1/buckets?limit=25&region=us-east-1" "$WORK/expected.json"
fetch "/v1/buckets?limit=100" "$WORK/all.json"

# --- the checker -----------------------------------------------------------------------------------
cat >"$WORK/check.py" <<'PY'
"""check.py MODE OUTPUT WORKDIR: prints "N" (the number of buckets) if OUTPUT is right,
else one line saying what is wrong, and exits 1."""
import ast
import json
import re
import sys

REGION = "us-east-1"
LIMIT = 25


def fail(msg):
    print(msg)
    sys.exit(1)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_reference(work):
    """The direct /v1/buckets answer must list exactly the us-east-1 demo buckets."""
    demo = load(f"{work}/demo.json")
    everything = load(f"{work}/all.json")
    expected = load(f"{work}/expected.json")
    demo_names = set(demo["names"])
    all_buckets = everything["data"]
    if everything["pagination"]["total"] != len(all_buckets):
        fail(f"listing every bucket: total {everything['pagination']['total']} but {len(all_buckets)} returned")
    if {b["name"] for b in all_buckets} != demo_names:
        fail("the buckets listed are not the demo buckets that were loaded")
    in_region = {b["id"]: b for b in all_buckets if b["region"] == REGION}
    if not in_region:
        fail(f"no demo bucket is in {REGION}")
    data, page = expected["data"], expected["pagination"]
    wrong = sorted({b["region"] for b in data} - {REGION})
    if wrong:
        fail(f"region={REGION} returned buckets in other regions: {wrong}")
    if page["total"] != len(in_region):
        fail(f"region={REGION}: total is {page['total']}, but {len(in_region)} demo buckets are in {REGION}")
    if len(data) != min(len(in_region), LIMIT) or page["limit"] != LIMIT or page["offset"] != 0:
        fail(f"region={REGION}&limit={LIMIT}: {len(data)} buckets and pagination {page}")
    if (page["next_cursor"] is None) != (len(in_region) <= LIMIT):
        fail(f"region={REGION}&limit={LIMIT}: next_cursor {page['next_cursor']!r} with {len(in_region)} in all")
    for b in data:
        if in_region.get(b["id"]) != b:
            fail(f"bucket {b['id']} differs between the filtered and the full listing")
    return expected


def describe_difference(got, expected):
    if not isinstance(got, dict) or set(got) != {"data", "pagination"}:
        return f"not a bucket list: {str(got)[:200]}"
    got_ids = [b.get("id") for b in got["data"]]
    want_ids = [b["id"] for b in expected["data"]]
    if got_ids != want_ids:
        missing = [i for i in want_ids if i not in got_ids]
        extra = [i for i in got_ids if i not in want_ids]
        if not missing and not extra:
            return f"same bucket ids in another order: {got_ids}"
        return f"bucket ids differ: missing {missing}, unexpected {extra}"
    if got["pagination"] != expected["pagination"]:
        return f"pagination {got['pagination']} != expected {expected['pagination']}"
    for g, w in zip(got["data"], expected["data"]):
        if g != w:
            keys = sorted(k for k in set(g) | set(w) if g.get(k) != w.get(k))
            return f"bucket {w['id']} differs in {keys}"
    return "output differs from the expected response"


def check_structured(got, expected):
    if got != expected:
        fail(describe_difference(got, expected))
    if any(b["region"] != REGION for b in got["data"]):
        fail(f"a bucket outside {REGION} was printed")
    return len(got["data"])


def check_inspect(text, expected):
    """Node's console.log (util.inspect): nested objects may print as [Object], so check the
    fields that are always shown."""
    data, page = expected["data"], expected["pagination"]
    if not re.match(r"\s*\{", text) or not re.search(r"\bdata: \[", text) or not re.search(r"\bpagination: \{", text):
        fail(f"not a printed bucket list: {text.strip()[:200]!r}")
    ids = re.findall(r"\bid: '([^']*)'", text)
    want_ids = [b["id"] for b in data]
    if ids != want_ids:
        fail(f"bucket ids {ids} != expected {want_ids}")
    names = re.findall(r"\bname: '([^']*)'", text)
    if names != [b["name"] for b in data]:
        fail(f"bucket names {names} != expected {[b['name'] for b in data]}")
    regions = re.findall(r"\bregion: '([^']*)'", text)
    if len(regions) != len(data) or any(r != REGION for r in regions):
        fail(f"regions printed: {regions}")
    cursor = "null" if page["next_cursor"] is None else f"'{page['next_cursor']}'"
    for key, value in (("total", page["total"]), ("limit", page["limit"]), ("offset", page["offset"]), ("next_cursor", cursor)):
        found = re.findall(rf"\b{key}: ([^,\s}}]+)", text)
        if found != [str(value)]:
            fail(f"expected '{key}: {value}' once in the pagination, found {found}")
    return len(data)


def main():
    mode, output, work = sys.argv[1:4]
    expected = check_reference(work)
    if mode == "reference":
        print(len(expected["data"]))
        return
    with open(output, encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        fail("printed nothing")
    if mode == "json":
        try:
            got = json.loads(text)
        except ValueError as e:
            fail(f"output is not JSON ({e}): {text.strip()[:200]!r}")
        print(check_structured(got, expected))
    elif mode == "pyrepr":
        try:
            got = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError) as e:
            fail(f"output is not a Python literal ({e.__class__.__name__}): {text.strip()[:200]!r}")
        print(check_structured(got, expected))
    elif mode == "inspect":
        print(check_inspect(text, expected))
    else:
        fail(f"unknown mode {mode}")


main()
PY

REF_COUNT=$(python3 "$WORK/check.py" reference - "$WORK") || die "the server's own answer is wrong: $REF_COUNT"
echo "server on $BASE_URL: $REF_COUNT demo buckets in us-east-1 (checked against the full listing)"

# --- the examples ------------------------------------------------------------------------------------
show() { # label, file: the first lines of a file, indented
  if [[ -s $2 ]]; then
    echo "    $1:"
    head -n 8 "$2" | cut -c1-200 | sed 's/^/      /'
  fi
}

run_example() { # name, checker mode, command...
  local name=$1 mode=$2 rc=0 verdict
  shift 2
  local out="$WORK/$name.out" err="$WORK/$name.err"
  if [[ -n ${INSTALL_ERROR[$name]:-} ]]; then
    echo "$name example: FAILED (${INSTALL_ERROR[$name]})"
    failed=$((failed + 1))
    return
  fi
  (cd "$ROOT" && CLOUDNEXUS_BASE_URL="$BASE_URL" CLOUDNEXUS_API_KEY="$KEY" \
    timeout "$EXAMPLE_TIMEOUT" "$@") >"$out" 2>"$err" </dev/null || rc=$?
  if ((rc == 124)); then
    verdict="timed out after ${EXAMPLE_TIMEOUT} s"
  elif ((rc != 0)); then
    verdict="exited with status $rc"
  elif verdict=$(python3 "$WORK/check.py" "$mode" "$out" "$WORK"); then
    echo "$name example: ok ($verdict buckets)"
    passed=$((passed + 1))
    return
  fi
  echo "$name example: FAILED ($verdict)"
  show stdout "$out"
  show stderr "$err"
  failed=$((failed + 1))
}

run_example curl json sh examples/curl/list-buckets.sh
run_example python pyrepr python3 examples/python/list_buckets.py
run_example node inspect node examples/node/list-buckets.js

echo "$passed passed, $failed failed"
((failed == 0))

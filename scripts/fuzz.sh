#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) for a bounded time each, and prints
# each one's executions and findings. A crash stops the script (non-zero) and leaves its input
# in fuzz/artifacts/TARGET/; turn it into a regression test beside the parser's unit tests.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# Needs the nightly toolchain (rustup toolchain install nightly); installs cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_PER_TARGET=${1:-60}
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  timeout 1200 cargo +nightly install cargo-fuzz --locked
fi
targets=$(cargo +nightly fuzz list)
timeout 1800 cargo +nightly fuzz build --release 2>&1 | tail -n 3
for target in $targets; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  if ! timeout $((SECONDS_PER_TARGET + 120)) cargo +nightly fuzz run --release "$target" "corpus/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $target FOUND A CRASH (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  echo "fuzz: $target: $runs executions in ${SECONDS_PER_TARGET} s, 0 crashes"
  rm -f "$log"
done

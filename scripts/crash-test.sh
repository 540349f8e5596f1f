#!/usr/bin/env bash
# The long crash test (issue 16): 100 SIGKILL cycles of a server on an embedded data folder
# while writers upload, overwrite, delete and patch buckets; after each restart every
# acknowledged write must be there byte for byte, usage exact, and at the end no orphaned blob.
# Every test run (scripts/test.sh, CI) runs the same test with 3 cycles.
#
# Usage: scripts/crash-test.sh [CYCLES]   (default 100; bounded to 30 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${1:-100}
CLOUDNEXUS_CRASH_CYCLES=$CYCLES timeout 1800 cargo nextest run -p cloudnexus --test api \
  crash::sigkill_at_random_moments_loses_no_acknowledged_write --no-capture 2>&1 | grep -E 'SIGKILL cycles|PASS|FAIL|panicked|cycle [0-9]+'

#!/usr/bin/env bash
# What the web console's browser tests need (crates/cli/tests/console/): Chromium from
# Debian's packages (`chromium` and `chromium-driver`; no browser is downloaded) and
# playwright-core from npm, installed from the lockfile. Installs what is missing, each step
# bounded in time, then checks that both run: a missing piece fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v npm >/dev/null; then
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq nodejs npm >/dev/null
fi
tests=crates/cli/tests/console
if [ ! -d "$tests/node_modules/playwright-core" ]; then
  (cd "$tests" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
fi

chromium_version=$(chromium --version 2>/dev/null); echo "$chromium_version"
node -e "console.log('playwright-core', require('./$tests/node_modules/playwright-core/package.json').version)"

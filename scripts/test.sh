#!/usr/bin/env bash
# Every test, on a fresh machine too (README's test command; CI runs it after fmt and clippy):
#   1. starts a private PostgreSQL, Redis and S3 server (scripts/postgres.sh, scripts/redis.sh:
#      Debian's packages; scripts/s3.sh: moto's server from PyPI; each installed when missing)
#      for the tests that need them; all three also speak TLS, with the test
#      certificates of scripts/tls.sh (openssl);
#   2. runs every crate's tests: the API suite on the embedded default (SQLite, blobs in the
#      data folder, limits in memory), the store's conformance suites on every backend (SQLite
#      and PostgreSQL; local folder and S3; memory and Redis);
#   3. runs the API suite again with its servers on PostgreSQL, Redis and S3, as a cluster's
#      nodes run;
#   The S3 protocol's tests drive boto3, aws-cli, rclone and s3cmd (scripts/s3-clients.sh
#   installs them when missing: PyPI and Debian's packages); the web console's tests drive
#   Debian's Chromium with playwright-core from npm (scripts/console-browser.sh).
#   4. runs the reference page's cURL, Python and Node examples against a real seeded server;
#   5. feeds the served OpenAPI document to schemathesis (pinned, PyPI), on SQLite and on
#      PostgreSQL (scripts/schemathesis.sh).
# A missing service fails the run; nothing is skipped. Each install and wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  timeout 1200 cargo install cargo-nextest --locked
fi

step "TLS certificates for the test servers"
CLOUDNEXUS_TEST_TLS_DIR=$(scripts/tls.sh)
export CLOUDNEXUS_TEST_TLS_DIR
echo "test certificates: $CLOUDNEXUS_TEST_TLS_DIR"

step "PostgreSQL"
# A fresh cluster each run: the tests create a database per server they start.
scripts/postgres.sh stop
rm -rf "${CLOUDNEXUS_PG_DIR:-target/postgres}"
CLOUDNEXUS_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export CLOUDNEXUS_TEST_POSTGRES_URL
trap 'scripts/postgres.sh stop; scripts/redis.sh stop; scripts/s3.sh stop' EXIT
echo "test server: $CLOUDNEXUS_TEST_POSTGRES_URL"

step "Redis"
scripts/redis.sh stop
CLOUDNEXUS_TEST_REDIS_URL=$(scripts/redis.sh start)
CLOUDNEXUS_TEST_REDIS_TLS_URL=$(scripts/redis.sh tls-url)
export CLOUDNEXUS_TEST_REDIS_URL CLOUDNEXUS_TEST_REDIS_TLS_URL
echo "test server: $CLOUDNEXUS_TEST_REDIS_URL, and over TLS: $CLOUDNEXUS_TEST_REDIS_TLS_URL"

step "S3 (moto's server)"
scripts/s3.sh stop
CLOUDNEXUS_TEST_S3_ENDPOINT=$(scripts/s3.sh start)
CLOUDNEXUS_TEST_S3_TLS_ENDPOINT=$(scripts/s3.sh tls-url)
export CLOUDNEXUS_TEST_S3_ENDPOINT CLOUDNEXUS_TEST_S3_TLS_ENDPOINT
echo "test server: $CLOUDNEXUS_TEST_S3_ENDPOINT, and over TLS: $CLOUDNEXUS_TEST_S3_TLS_ENDPOINT"

step "S3 clients (boto3, aws-cli, rclone, s3cmd)"
scripts/s3-clients.sh

step "the console's browser tests: Debian's Chromium and playwright-core (npm)"
scripts/console-browser.sh

step "every crate's tests (API suite on SQLite; store suites on every backend)"
cargo nextest run --workspace

step "the API suite on PostgreSQL, Redis and S3"
# The servers reach S3 through the standard variables, as in production; moto takes any key.
AWS_ENDPOINT_URL=$CLOUDNEXUS_TEST_S3_ENDPOINT AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  CLOUDNEXUS_TEST_BACKEND=postgres CLOUDNEXUS_TEST_LIMITER=redis CLOUDNEXUS_TEST_BLOBS=s3 \
  cargo nextest run -p cloudnexus --test api

step "reference examples (cURL, Python, Node) against a seeded server"
cargo build -p cloudnexus
scripts/check-examples.sh target/debug/cloudnexus

step "the OpenAPI document fuzzed by schemathesis (SQLite, then PostgreSQL)"
scripts/schemathesis.sh target/debug/cloudnexus

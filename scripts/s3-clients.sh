#!/usr/bin/env bash
# The S3 clients the S3 tests drive (crates/cli/tests/s3_clients/): boto3 and aws-cli from
# PyPI (pinned), rclone and s3cmd from Debian's packages. Installs what is missing, each step
# bounded in time, then checks that every one runs: a client that cannot be had fails loudly.
set -euo pipefail

BOTO3=1.43.11
AWSCLI=1.45.11

if ! python3 -c 'import boto3' 2>/dev/null || ! command -v aws >/dev/null; then
  timeout 600 python3 -m pip install --quiet "boto3==$BOTO3" "awscli==$AWSCLI"
fi
missing=()
command -v rclone >/dev/null || missing+=(rclone)
command -v s3cmd >/dev/null || missing+=(s3cmd)
if [ ${#missing[@]} -gt 0 ]; then
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -c 'import boto3; print("boto3", boto3.__version__)'
aws --version
rclone_version=$(rclone version); echo "${rclone_version%%$'\n'*}"  # not `| head`: under pipefail its early close fails the line
s3cmd --version

#!/usr/bin/env bash
# aws-cli against a CloudNexus S3 listener: a 100 MiB file copied up (multipart) and back
# byte-exact, a folder synced both ways, listings, a presigned URL used with curl, and the
# bucket removed. Reads S3_ENDPOINT and the AWS_* credentials `run_script` sets.
set -euo pipefail
set -x  # each step on stderr, so a failure says where
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
aws() { command aws --endpoint-url "$S3_ENDPOINT" "$@"; }
bucket="awscli-$RANDOM$RANDOM"
aws --version

aws s3 mb "s3://$bucket"
grep -q " $bucket\$" <<<"$(aws s3 ls)"

# 100 MiB: above aws-cli's 8 MiB threshold, so sent in 13 parts, several at once.
head -c $((100 * 1024 * 1024)) /dev/urandom > "$work/big.bin"
aws s3 cp --only-show-errors "$work/big.bin" "s3://$bucket/dir/big.bin"
aws s3 cp --only-show-errors "s3://$bucket/dir/big.bin" "$work/back.bin"
cmp "$work/big.bin" "$work/back.bin"
etag=$(aws s3api head-object --bucket "$bucket" --key dir/big.bin --query ETag --output text)
[[ "$etag" == *-13\" ]] || { echo "unexpected multipart ETag $etag"; exit 1; }
size=$(aws s3api head-object --bucket "$bucket" --key dir/big.bin --query ContentLength --output text)
[ "$size" = $((100 * 1024 * 1024)) ]

# A folder synced up, changed, synced again; then down into an empty folder.
mkdir -p "$work/tree/a/b" "$work/tree/c"
for i in $(seq 1 20); do head -c $((RANDOM * 3)) /dev/urandom > "$work/tree/a/file-$i"; done
echo "hello" > "$work/tree/a/b/deep.txt"
echo "name with spaces" > "$work/tree/c/with space + plus.txt"
# Files older than their uploads, as in life (S3 times have whole seconds).
age() { find "$work/tree" -exec touch -d '1 hour ago' {} +; }
age
aws s3 sync --only-show-errors "$work/tree" "s3://$bucket/tree"
echo "changed" > "$work/tree/a/b/deep.txt"
rm "$work/tree/a/file-1"
age
aws s3 sync --delete "$work/tree" "s3://$bucket/tree"
count=$(aws s3 ls --recursive "s3://$bucket/tree/" | wc -l)
[ "$count" = 21 ] || { echo "expected 21 synced objects, found $count"; exit 1; }
aws s3 sync "s3://$bucket/tree" "$work/down"
diff -r "$work/tree" "$work/down"
# Nothing to do the second time.
[ -z "$(aws s3 sync "$work/tree" "s3://$bucket/tree")" ]

# A presigned URL works with plain curl, and expires.
url=$(aws s3 presign "s3://$bucket/tree/a/b/deep.txt" --expires-in 300)
[ "$(curl -sf "$url")" = "changed" ]
grep -q 403 <<<"$(curl -s -o /dev/null -w '%{http_code}' "${url/deep.txt/other.txt}")"

aws s3 rm --recursive "s3://$bucket/tree"
aws s3 rm "s3://$bucket/dir/big.bin"
[ -z "$(aws s3 ls "s3://$bucket")" ]
aws s3 rb "s3://$bucket"
if aws s3 ls "s3://$bucket" 2>/dev/null; then echo "the removed bucket still answers"; exit 1; fi
echo "aws-cli: ok"

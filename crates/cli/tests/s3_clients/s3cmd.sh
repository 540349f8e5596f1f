#!/usr/bin/env bash
# s3cmd against a CloudNexus S3 listener: mb, ls, put, get, info, del, rb.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
host=${S3_ENDPOINT#http://}
s3cmd() {
    command s3cmd --config=/dev/null --no-ssl --host="$host" --host-bucket="$host" \
        --access_key="$S3_ACCESS_KEY_ID" --secret_key="$S3_SECRET_ACCESS_KEY" --region=us-east-1 "$@"
}
s3cmd --version
bucket="s3cmd-$RANDOM$RANDOM"
s3cmd mb "s3://$bucket"
grep -q "s3://$bucket\$" <<<"$(s3cmd ls)"
head -c 300000 /dev/urandom > "$work/one.bin"
head -c $((20 * 1024 * 1024)) /dev/urandom > "$work/two.bin"
s3cmd put "$work/one.bin" "s3://$bucket/files/one.bin"
s3cmd put --multipart-chunk-size-mb=5 "$work/two.bin" "s3://$bucket/files/two.bin"
grep -q "s3://$bucket/files/one.bin" <<<"$(s3cmd ls "s3://$bucket/files/")"
[ "$(s3cmd ls "s3://$bucket/files/" | wc -l)" = 2 ]
s3cmd get "s3://$bucket/files/one.bin" "$work/one.back"
s3cmd get "s3://$bucket/files/two.bin" "$work/two.back"
cmp "$work/one.bin" "$work/one.back"
cmp "$work/two.bin" "$work/two.back"
grep -q " 300000 " <<<"$(s3cmd ls "s3://$bucket/files/one.bin")"
s3cmd del "s3://$bucket/files/one.bin" "s3://$bucket/files/two.bin"
[ -z "$(s3cmd ls "s3://$bucket/files/")" ]
s3cmd rb "s3://$bucket"
echo "s3cmd: ok"

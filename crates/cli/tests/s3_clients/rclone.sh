#!/usr/bin/env bash
# rclone against a CloudNexus S3 listener: `rclone sync` of a folder (with a file large enough
# for multipart), `rclone check` both ways, modification times kept (rclone stores them as
# `x-amz-meta-mtime`, for single-part and multipart uploads), a change synced, and a purge.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RCLONE_CONFIG="$work/none.conf"
export RCLONE_CONFIG_CNX_TYPE=s3
export RCLONE_CONFIG_CNX_PROVIDER=Other
export RCLONE_CONFIG_CNX_ENDPOINT="$S3_ENDPOINT"
export RCLONE_CONFIG_CNX_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID"
export RCLONE_CONFIG_CNX_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY"
export RCLONE_CONFIG_CNX_REGION=us-east-1
export RCLONE_CONFIG_CNX_FORCE_PATH_STYLE=true
rclone_version=$(rclone version); echo "${rclone_version%%$'\n'*}"  # not `| head`: under pipefail its early close fails the line
bucket="rclone-$RANDOM$RANDOM"

mkdir -p "$work/src/x/y"
for i in $(seq 1 30); do head -c $((RANDOM * 2)) /dev/urandom > "$work/src/x/f$i"; done
head -c $((24 * 1024 * 1024)) /dev/urandom > "$work/src/x/y/large.bin"
echo "ünïcode" > "$work/src/x/y/ünïcode name.txt"
rclone mkdir "cnx:$bucket"
rclone sync --s3-upload-cutoff 8M --s3-chunk-size 5M "$work/src" "cnx:$bucket/backup"
rclone check "$work/src" "cnx:$bucket/backup"
rclone check --download "$work/src" "cnx:$bucket/backup"
# Modification times survive the round trip (to the second: what `lsl` shows is rclone's
# reading of the metadata, not the upload time).
touch -d "2021-03-04 05:06:07" "$work/src/x/f1" "$work/src/x/y/large.bin"
rclone sync --s3-upload-cutoff 8M --s3-chunk-size 5M "$work/src" "cnx:$bucket/backup"
for file in x/f1 x/y/large.bin; do
  listed=$(rclone lsl "cnx:$bucket/backup/$file")
  [[ $listed == *"2021-03-04 05:06:07"* ]] || { echo "rclone: $file lost its modification time: $listed"; exit 1; }
done
echo "edited" > "$work/src/x/f3"
rm "$work/src/x/f4"
rclone sync "$work/src" "cnx:$bucket/backup"
rclone check "$work/src" "cnx:$bucket/backup"
[ "$(rclone cat "cnx:$bucket/backup/x/f3")" = "edited" ]
rclone copy "cnx:$bucket/backup" "$work/restored"
diff -r "$work/src" "$work/restored"
[ "$(stat -c %Y "$work/restored/x/f1")" = "$(stat -c %Y "$work/src/x/f1")" ]
[ "$(rclone lsf -R "cnx:$bucket/backup" --files-only | wc -l)" = 31 ]
rclone purge "cnx:$bucket"
if grep -q " $bucket\$" <<<"$(rclone lsd "cnx:")"; then echo "the purged bucket is still listed"; exit 1; fi
echo "rclone: ok"

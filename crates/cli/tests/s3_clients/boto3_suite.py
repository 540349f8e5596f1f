"""Every supported S3 operation through boto3, against a CloudNexus S3 listener.

Run by `crates/cli/tests/api/s3/clients.rs` with S3_ENDPOINT, S3_ACCESS_KEY_ID,
S3_SECRET_ACCESS_KEY (a credential with storage:read and storage:write on the first project),
API_ENDPOINT and API_KEY (the JSON API and an admin key of the same project). Exits non-zero on
the first failure.
"""

import base64
import hashlib
import json
import os
import sys
import unittest
import urllib.request
import uuid

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["S3_ENDPOINT"]
API = os.environ["API_ENDPOINT"]
API_KEY = os.environ["API_KEY"]


def client(access_key=None, secret=None, **config):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=access_key or os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["S3_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def api(method, path, body=None, headers=None):
    """A JSON API request with the admin key: (status, bytes)."""
    request = urllib.request.Request(API + path, method=method, data=body)
    request.add_header("Authorization", "Bearer " + API_KEY)
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def name(tag):
    return f"b3-{tag}-{uuid.uuid4().hex[:10]}"


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("the call succeeded")


class Buckets(unittest.TestCase):
    def setUp(self):
        self.s3 = client()

    def test_create_list_head_location_delete(self):
        plain = name("plain")
        placed = name("placed")
        self.s3.create_bucket(Bucket=plain)
        self.s3.create_bucket(Bucket=placed, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        listed = {b["Name"]: b for b in self.s3.list_buckets()["Buckets"]}
        self.assertIn(plain, listed)
        self.assertIn(placed, listed)
        self.assertEqual(listed[placed]["BucketRegion"], "eu-west-1")
        # Without a constraint, the region the request was signed for.
        self.assertEqual(self.s3.get_bucket_location(Bucket=plain)["LocationConstraint"], "us-east-1")
        self.assertEqual(self.s3.get_bucket_location(Bucket=placed)["LocationConstraint"], "eu-west-1")
        head = self.s3.head_bucket(Bucket=placed)
        self.assertEqual(head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "eu-west-1")

        # The JSON API lists the same buckets, in the same regions.
        status, body = api("GET", "/v1/buckets?prefix=" + placed)
        self.assertEqual(status, 200)
        self.assertEqual([b["region"] for b in json.loads(body)["data"]], ["eu-west-1"])

        # Delete is the contract's soft delete: gone from listings, the name still taken.
        self.s3.delete_bucket(Bucket=placed)
        self.assertNotIn(placed, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        self.assertEqual(error_code(lambda: self.s3.head_bucket(Bucket=placed)), ("404", 404))
        self.assertEqual(error_code(lambda: self.s3.create_bucket(Bucket=placed)), ("BucketAlreadyExists", 409))
        status, body = api("GET", "/v1/buckets?include=deleted&prefix=" + placed)
        self.assertIsNotNone(json.loads(body)["data"][0]["deleted_at"])
        # Restored through the JSON API, it is back over S3.
        self.assertEqual(api("POST", f"/v1/buckets/{placed}/restore")[0], 200)
        self.s3.head_bucket(Bucket=placed)

    def test_list_buckets_pages_with_continuation_tokens_and_filters(self):
        prefix = f"b3-page-{uuid.uuid4().hex[:6]}"
        names = [f"{prefix}-{i:02}" for i in range(5)]
        for n in names:
            self.s3.create_bucket(Bucket=n)
        seen, token = [], None
        while True:
            kwargs = {"MaxBuckets": 2, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self.s3.list_buckets(**kwargs)
            self.assertLessEqual(len(page["Buckets"]), 2)
            seen += [b["Name"] for b in page["Buckets"]]
            token = page.get("ContinuationToken")
            if not token:
                break
        self.assertEqual(sorted(seen), names)
        only_eu = self.s3.list_buckets(Prefix=prefix, BucketRegion="eu-west-1")["Buckets"]
        self.assertEqual(only_eu, [])

    def test_bad_names_regions_and_missing_buckets_are_s3_errors(self):
        self.assertEqual(error_code(lambda: self.s3.create_bucket(Bucket="Bad_Name")), ("InvalidBucketName", 400))
        self.assertEqual(
            error_code(
                lambda: self.s3.create_bucket(
                    Bucket=name("region"), CreateBucketConfiguration={"LocationConstraint": "mars-north-1"}
                )
            ),
            ("InvalidLocationConstraint", 400),
        )
        missing = name("missing")
        self.assertEqual(error_code(lambda: self.s3.get_bucket_location(Bucket=missing)), ("NoSuchBucket", 404))
        self.assertEqual(error_code(lambda: self.s3.list_objects_v2(Bucket=missing)), ("NoSuchBucket", 404))
        self.assertEqual(error_code(lambda: self.s3.delete_bucket(Bucket=missing)), ("NoSuchBucket", 404))

    def test_tagging_is_the_buckets_tags(self):
        bucket = name("tags")
        self.s3.create_bucket(Bucket=bucket)
        self.assertEqual(error_code(lambda: self.s3.get_bucket_tagging(Bucket=bucket)), ("NoSuchTagSet", 404))
        tags = [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}]
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
        self.assertEqual(sorted(self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"], key=lambda t: t["Key"]), tags)
        status, body = api("GET", f"/v1/buckets/{bucket}")
        self.assertEqual(json.loads(body)["tags"], {"env": "prod", "team": "data"})
        # The JSON API filters on them.
        status, body = api("GET", "/v1/buckets?tag=team:data&prefix=" + bucket)
        self.assertEqual([b["name"] for b in json.loads(body)["data"]], [bucket])
        self.s3.delete_bucket_tagging(Bucket=bucket)
        self.assertEqual(error_code(lambda: self.s3.get_bucket_tagging(Bucket=bucket)), ("NoSuchTagSet", 404))
        self.assertEqual(
            error_code(
                lambda: self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "Not Valid", "Value": "x"}]})
            )[0],
            "InvalidTag",
        )


class Objects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = client()
        cls.bucket = name("objects")
        cls.s3.create_bucket(Bucket=cls.bucket)

    def test_put_get_head_with_etag_type_and_usage(self):
        body = os.urandom(100_000)
        put = self.s3.put_object(Bucket=self.bucket, Key="data/one.bin", Body=body, ContentType="application/x-test")
        md5 = hashlib.md5(body).hexdigest()
        self.assertEqual(put["ETag"], f'"{md5}"')
        got = self.s3.get_object(Bucket=self.bucket, Key="data/one.bin")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ETag"], f'"{md5}"')
        self.assertEqual(got["ContentType"], "application/x-test")
        self.assertEqual(got["ContentLength"], len(body))
        head = self.s3.head_object(Bucket=self.bucket, Key="data/one.bin")
        self.assertEqual(head["ContentLength"], len(body))
        self.assertEqual(head["ETag"], f'"{md5}"')
        # Written through S3, read byte-exact through the JSON API, with the bucket's usage.
        status, raw = api("GET", f"/v1/buckets/{self.bucket}/objects/data/one.bin")
        self.assertEqual((status, raw), (200, body))
        status, info = api("GET", f"/v1/buckets/{self.bucket}")
        self.assertGreaterEqual(json.loads(info)["size_bytes"], len(body))

    def test_json_api_writes_are_read_over_s3(self):
        body = b"written through the JSON API\n" * 100
        status, _ = api(
            "PUT", f"/v1/buckets/{self.bucket}/objects/from-json.txt", body, {"Content-Type": "text/plain"}
        )
        self.assertIn(status, (200, 201))
        got = self.s3.get_object(Bucket=self.bucket, Key="from-json.txt")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "text/plain")
        self.assertEqual(got["ETag"], '"%s"' % hashlib.md5(body).hexdigest())

    def test_ranges_and_conditions(self):
        body = bytes(range(256)) * 4
        etag = self.s3.put_object(Bucket=self.bucket, Key="ranged", Body=body)["ETag"]
        part = self.s3.get_object(Bucket=self.bucket, Key="ranged", Range="bytes=10-19")
        self.assertEqual(part["Body"].read(), body[10:20])
        self.assertEqual(part["ContentRange"], f"bytes 10-19/{len(body)}")
        self.assertEqual(part["ResponseMetadata"]["HTTPStatusCode"], 206)
        tail = self.s3.get_object(Bucket=self.bucket, Key="ranged", Range="bytes=-5")
        self.assertEqual(tail["Body"].read(), body[-5:])
        self.assertEqual(
            error_code(lambda: self.s3.get_object(Bucket=self.bucket, Key="ranged", Range="bytes=5000-6000")),
            ("InvalidRange", 416),
        )
        same = self.s3.get_object(Bucket=self.bucket, Key="ranged", IfMatch=etag)
        self.assertEqual(same["Body"].read(), body)
        self.assertEqual(
            error_code(lambda: self.s3.get_object(Bucket=self.bucket, Key="ranged", IfMatch='"0000"')),
            ("PreconditionFailed", 412),
        )
        self.assertEqual(
            error_code(lambda: self.s3.get_object(Bucket=self.bucket, Key="ranged", IfNoneMatch=etag))[1], 304
        )
        self.assertEqual(
            error_code(lambda: self.s3.head_object(Bucket=self.bucket, Key="ranged", IfNoneMatch=etag))[1], 304
        )
        # Create-only puts.
        self.assertEqual(
            error_code(lambda: self.s3.put_object(Bucket=self.bucket, Key="ranged", Body=b"x", IfNoneMatch="*")),
            ("PreconditionFailed", 412),
        )

    def test_content_md5_is_checked(self):
        good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
        self.s3.put_object(Bucket=self.bucket, Key="md5", Body=b"abc", ContentMD5=good)
        wrong = base64.b64encode(hashlib.md5(b"abd").digest()).decode()
        self.assertEqual(
            error_code(lambda: self.s3.put_object(Bucket=self.bucket, Key="md5", Body=b"abc", ContentMD5=wrong))[0],
            "BadDigest",
        )

    def test_missing_keys_and_deletes(self):
        self.assertEqual(error_code(lambda: self.s3.get_object(Bucket=self.bucket, Key="nope")), ("NoSuchKey", 404))
        self.assertEqual(error_code(lambda: self.s3.head_object(Bucket=self.bucket, Key="nope"))[1], 404)
        self.s3.put_object(Bucket=self.bucket, Key="gone", Body=b"1")
        self.assertEqual(self.s3.delete_object(Bucket=self.bucket, Key="gone")["ResponseMetadata"]["HTTPStatusCode"], 204)
        # Idempotent, as S3.
        self.s3.delete_object(Bucket=self.bucket, Key="gone")
        self.assertEqual(error_code(lambda: self.s3.get_object(Bucket=self.bucket, Key="gone"))[0], "NoSuchKey")

    def test_delete_objects_reports_each_key(self):
        for k in ("batch/a", "batch/b"):
            self.s3.put_object(Bucket=self.bucket, Key=k, Body=b"x")
        out = self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": "batch/a"}, {"Key": "batch/b"}, {"Key": "batch/never"}]}
        )
        self.assertEqual(sorted(d["Key"] for d in out["Deleted"]), ["batch/a", "batch/b", "batch/never"])
        self.assertEqual(out.get("Errors", []), [])
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="batch/")
        self.assertEqual(listed["KeyCount"], 0)
        quiet = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": "batch/a"}], "Quiet": True})
        self.assertEqual(quiet.get("Deleted", []), [])

    def test_copy_object(self):
        body = os.urandom(20_000)
        self.s3.put_object(Bucket=self.bucket, Key="copy/src", Body=body, ContentType="image/png")
        other = name("copy-target")
        self.s3.create_bucket(Bucket=other)
        out = self.s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": self.bucket, "Key": "copy/src"})
        self.assertEqual(out["CopyObjectResult"]["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        got = self.s3.get_object(Bucket=other, Key="dst")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "image/png")
        replaced = self.s3.copy_object(
            Bucket=other,
            Key="dst2",
            CopySource={"Bucket": self.bucket, "Key": "copy/src"},
            MetadataDirective="REPLACE",
            ContentType="text/plain",
        )
        self.assertTrue(replaced["CopyObjectResult"]["ETag"])
        self.assertEqual(self.s3.head_object(Bucket=other, Key="dst2")["ContentType"], "text/plain")
        self.assertEqual(
            error_code(
                lambda: self.s3.copy_object(Bucket=other, Key="x", CopySource={"Bucket": self.bucket, "Key": "nope"})
            )[0],
            "NoSuchKey",
        )
        self.assertEqual(
            error_code(
                lambda: self.s3.copy_object(
                    Bucket=other, Key="x", CopySource={"Bucket": self.bucket, "Key": "copy/src"}, CopySourceIfMatch='"00"'
                )
            )[0],
            "PreconditionFailed",
        )

    def test_user_metadata_is_kept_copied_and_replaced(self):
        metadata = {"mtime": "1700000000.25", "author": "Zoe O'Brien", "odd-name_1": "a=b; c"}
        self.s3.put_object(Bucket=self.bucket, Key="meta/src", Body=b"m" * 5000, Metadata=metadata)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/src")["Metadata"], metadata)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="meta/src")["Metadata"], metadata)
        # A small object (kept in the metadata store) keeps its metadata too.
        self.s3.put_object(Bucket=self.bucket, Key="meta/small", Body=b"s", Metadata={"k": "v"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/small")["Metadata"], {"k": "v"})
        # COPY (the default) keeps the source's; REPLACE takes the request's, none meaning none.
        self.s3.copy_object(Bucket=self.bucket, Key="meta/copy", CopySource={"Bucket": self.bucket, "Key": "meta/src"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/copy")["Metadata"], metadata)
        self.s3.copy_object(
            Bucket=self.bucket,
            Key="meta/src",
            CopySource={"Bucket": self.bucket, "Key": "meta/src"},
            MetadataDirective="REPLACE",
            Metadata={"mtime": "1800000000"},
        )
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/src")["Metadata"], {"mtime": "1800000000"})
        self.s3.copy_object(
            Bucket=self.bucket,
            Key="meta/bare",
            CopySource={"Bucket": self.bucket, "Key": "meta/src"},
            MetadataDirective="REPLACE",
        )
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/bare")["Metadata"], {})
        # A write of the key replaces it whole, metadata included (the JSON API sets none).
        self.s3.put_object(Bucket=self.bucket, Key="meta/copy", Body=b"again")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/copy")["Metadata"], {})
        status, _ = api("PUT", f"/v1/buckets/{self.bucket}/objects/meta/small", b"json", {"Content-Type": "text/plain"})
        self.assertEqual(status, 200)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/small")["Metadata"], {})
        # At most 2 KiB of names and values: over it, nothing is written.
        self.assertEqual(
            error_code(
                lambda: self.s3.put_object(Bucket=self.bucket, Key="meta/big", Body=b"x", Metadata={"big": "v" * 2046})
            ),
            ("MetadataTooLarge", 400),
        )
        self.assertEqual(error_code(lambda: self.s3.head_object(Bucket=self.bucket, Key="meta/big"))[1], 404)
        self.s3.put_object(Bucket=self.bucket, Key="meta/big", Body=b"x", Metadata={"big": "v" * 2045})
        # Non-ASCII text travels as RFC 2047 encoded words (the SDKs send headers in ASCII): it is
        # decoded when stored ("Zoë", counted as its UTF-8 bytes) and encoded again when answered.
        zoe = "=?UTF-8?B?Wm/Dqw==?="
        self.s3.put_object(Bucket=self.bucket, Key="meta/utf8", Body=b"u", Metadata={"author": zoe})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="meta/utf8")["Metadata"], {"author": zoe})
        # A value decoding to a line break could not be answered as a header: refused.
        self.assertEqual(
            error_code(
                lambda: self.s3.put_object(
                    Bucket=self.bucket, Key="meta/bad", Body=b"x", Metadata={"n": "=?UTF-8?B?YQpi?="}
                )
            ),
            ("InvalidArgument", 400),
        )

    def test_content_headers_are_kept_served_and_copied(self):
        given = {
            "CacheControl": "public, max-age=86400",
            "ContentDisposition": 'attachment; filename="site.css.gz"',
            "ContentEncoding": "gzip",
            "ContentLanguage": "en-GB",
        }
        self.s3.put_object(Bucket=self.bucket, Key="h/site.css", Body=b"g" * 100, ContentType="text/css", **given)
        for answer in (
            self.s3.head_object(Bucket=self.bucket, Key="h/site.css"),
            self.s3.get_object(Bucket=self.bucket, Key="h/site.css"),
        ):
            self.assertEqual({k: answer.get(k) for k in given}, given)
        # The JSON API serves the object with the same headers.
        request = urllib.request.Request(API + f"/v1/buckets/{self.bucket}/objects/h/site.css", method="HEAD")
        request.add_header("Authorization", "Bearer " + API_KEY)
        with urllib.request.urlopen(request) as response:
            self.assertEqual(response.headers["Cache-Control"], "public, max-age=86400")
            self.assertEqual(response.headers["Content-Disposition"], 'attachment; filename="site.css.gz"')
            self.assertEqual(response.headers["Content-Encoding"], "gzip")
            self.assertEqual(response.headers["Content-Language"], "en-GB")
        # COPY keeps them; REPLACE takes the request's (none given: none).
        self.s3.copy_object(Bucket=self.bucket, Key="h/copy", CopySource={"Bucket": self.bucket, "Key": "h/site.css"})
        copied = self.s3.head_object(Bucket=self.bucket, Key="h/copy")
        self.assertEqual({k: copied.get(k) for k in given}, given)
        self.s3.copy_object(
            Bucket=self.bucket,
            Key="h/copy",
            CopySource={"Bucket": self.bucket, "Key": "h/site.css"},
            MetadataDirective="REPLACE",
            CacheControl="no-store",
        )
        replaced = self.s3.head_object(Bucket=self.bucket, Key="h/copy")
        self.assertEqual(replaced.get("CacheControl"), "no-store")
        self.assertEqual([replaced.get(k) for k in ("ContentDisposition", "ContentEncoding")], [None, None])
        # A value over 1,024 bytes is refused, and nothing is written.
        self.assertEqual(
            error_code(
                lambda: self.s3.put_object(Bucket=self.bucket, Key="h/bad", Body=b"x", ContentLanguage="x" * 1025)
            ),
            ("InvalidArgument", 400),
        )
        self.assertEqual(error_code(lambda: self.s3.head_object(Bucket=self.bucket, Key="h/bad"))[1], 404)


class Listing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = client()
        cls.bucket = name("listing")
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.keys = sorted(
            [f"photos/2024/{i:03}.jpg" for i in range(7)]
            + [f"photos/2025/{i:03}.jpg" for i in range(3)]
            + ["docs/a.txt", "docs/b c+d%.txt", "readme", "z/ü.txt"]
        )
        for k in cls.keys:
            cls.s3.put_object(Bucket=cls.bucket, Key=k, Body=k.encode())

    def walk_v2(self, **kwargs):
        keys, prefixes, token = [], [], None
        while True:
            args = dict(kwargs)
            if token:
                args["ContinuationToken"] = token
            page = self.s3.list_objects_v2(Bucket=self.bucket, **args)
            keys += [o["Key"] for o in page.get("Contents", [])]
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            self.assertEqual(page["KeyCount"], len(page.get("Contents", [])) + len(page.get("CommonPrefixes", [])))
            if not page["IsTruncated"]:
                return keys, prefixes
            token = page["NextContinuationToken"]

    def test_v2_pages_prefixes_and_delimiters(self):
        keys, prefixes = self.walk_v2(MaxKeys=3)
        self.assertEqual(keys, self.keys)
        self.assertEqual(prefixes, [])
        keys, prefixes = self.walk_v2(Delimiter="/", MaxKeys=2)
        self.assertEqual(keys, ["readme"])
        self.assertEqual(prefixes, ["docs/", "photos/", "z/"])
        keys, prefixes = self.walk_v2(Prefix="photos/", Delimiter="/")
        self.assertEqual(prefixes, ["photos/2024/", "photos/2025/"])
        keys, _ = self.walk_v2(Prefix="photos/2025/")
        self.assertEqual(keys, [f"photos/2025/{i:03}.jpg" for i in range(3)])
        keys, _ = self.walk_v2(StartAfter="photos/2024/005.jpg")
        self.assertEqual(keys, [k for k in self.keys if k > "photos/2024/005.jpg"])
        # Keys that need encoding come back intact (boto3 asks for encoding-type=url).
        keys, _ = self.walk_v2(Prefix="docs/")
        self.assertEqual(keys, ["docs/a.txt", "docs/b c+d%.txt"])
        keys, _ = self.walk_v2(Prefix="z/")
        self.assertEqual(keys, ["z/ü.txt"])

    def test_v1_pages_with_markers(self):
        keys, prefixes, marker = [], [], None
        while True:
            args = {"MaxKeys": 2, "Delimiter": "/"}
            if marker:
                args["Marker"] = marker
            page = self.s3.list_objects(Bucket=self.bucket, **args)
            keys += [o["Key"] for o in page.get("Contents", [])]
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            if not page["IsTruncated"]:
                break
            marker = page["NextMarker"]
        self.assertEqual((keys, prefixes), (["readme"], ["docs/", "photos/", "z/"]))
        page = self.s3.list_objects(Bucket=self.bucket, Prefix="photos/2024/", MaxKeys=100)
        self.assertEqual(len(page["Contents"]), 7)
        self.assertEqual(page["Contents"][0]["Size"], len(self.keys[2]))

    def test_max_keys_zero_and_bad_tokens(self):
        page = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=0)
        self.assertEqual(page["KeyCount"], 0)
        self.assertFalse(page["IsTruncated"])
        self.assertEqual(
            error_code(lambda: self.s3.list_objects_v2(Bucket=self.bucket, ContinuationToken="forged"))[0],
            "InvalidArgument",
        )


MIB = 1024 * 1024


def multipart_etag(parts):
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(parts))


class Multipart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = client()
        cls.bucket = name("multipart")
        cls.s3.create_bucket(Bucket=cls.bucket)

    def test_create_upload_list_complete(self):
        bucket = name("mpu-whole")
        self.s3.create_bucket(Bucket=bucket)
        parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(1234)]
        created = self.s3.create_multipart_upload(
            Bucket=bucket,
            Key="big/file.bin",
            ContentType="application/zip",
            Metadata={"mtime": "1700000000"},
            ContentDisposition="attachment",
        )
        upload = created["UploadId"]
        etags = []
        for number, body in enumerate(parts, start=1):
            out = self.s3.upload_part(Bucket=bucket, Key="big/file.bin", UploadId=upload, PartNumber=number, Body=body)
            self.assertEqual(out["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
            etags.append(out["ETag"])
        # A part sent again replaces the first one.
        parts[1] = os.urandom(5 * MIB)
        etags[1] = self.s3.upload_part(
            Bucket=bucket, Key="big/file.bin", UploadId=upload, PartNumber=2, Body=parts[1]
        )["ETag"]
        listed = self.s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=upload)
        self.assertEqual([p["PartNumber"] for p in listed["Parts"]], [1, 2, 3])
        self.assertEqual([p["ETag"] for p in listed["Parts"]], etags)
        self.assertEqual([p["Size"] for p in listed["Parts"]], [len(p) for p in parts])
        paged = self.s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=upload, MaxParts=2)
        self.assertTrue(paged["IsTruncated"])
        self.assertEqual(paged["NextPartNumberMarker"], 2)
        rest = self.s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=upload, PartNumberMarker=2)
        self.assertEqual([p["PartNumber"] for p in rest["Parts"]], [3])
        uploads = self.s3.list_multipart_uploads(Bucket=bucket, Prefix="big/")["Uploads"]
        self.assertEqual([(u["Key"], u["UploadId"]) for u in uploads], [("big/file.bin", upload)])

        done = self.s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big/file.bin",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
        )
        self.assertEqual(done["ETag"], multipart_etag(parts))
        got = self.s3.get_object(Bucket=bucket, Key="big/file.bin")
        self.assertEqual(got["Body"].read(), b"".join(parts))
        self.assertEqual(got["ETag"], multipart_etag(parts))
        self.assertEqual(got["ContentType"], "application/zip")
        self.assertEqual(got["Metadata"], {"mtime": "1700000000"})
        self.assertEqual(got["ContentDisposition"], "attachment")
        ranged = self.s3.get_object(Bucket=bucket, Key="big/file.bin", Range=f"bytes={5 * MIB - 2}-{5 * MIB + 1}")
        self.assertEqual(ranged["Body"].read(), (parts[0] + parts[1])[5 * MIB - 2 : 5 * MIB + 2])
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=bucket, Prefix="big/").get("Uploads", []), [])
        # Completed: the upload is gone.
        self.assertEqual(
            error_code(lambda: self.s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=upload))[0],
            "NoSuchUpload",
        )
        # The JSON API sees the object, byte-exact, and the bucket's usage counts it once.
        status, raw = api("GET", f"/v1/buckets/{bucket}/objects/big/file.bin")
        self.assertEqual((status, raw), (200, b"".join(parts)))
        status, info = api("GET", f"/v1/buckets/{bucket}")
        self.assertEqual(json.loads(info)["size_bytes"], sum(len(p) for p in parts))
        self.assertEqual(json.loads(info)["object_count"], 1)

    def test_completion_checks_the_parts(self):
        key = "checked.bin"
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        small = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"tiny")["ETag"]
        last = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=2, Body=b"end")["ETag"]

        def complete(parts):
            return lambda: self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
            )

        self.assertEqual(
            error_code(complete([{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]))[0],
            "EntityTooSmall",
        )
        self.assertEqual(error_code(complete([{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]))[0], "InvalidPart")
        self.assertEqual(error_code(complete([{"PartNumber": 3, "ETag": last}]))[0], "InvalidPart")
        self.assertEqual(
            error_code(complete([{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}]))[0],
            "InvalidPartOrder",
        )
        self.assertEqual(
            error_code(
                lambda: self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=10001, Body=b"x")
            )[0],
            "InvalidArgument",
        )
        # A single part may be small: it is the last.
        done = self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small}]}
        )
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"tiny")
        self.assertEqual(done["ETag"], multipart_etag([b"tiny"]))
        # The upload id belongs to its key.
        other = self.s3.create_multipart_upload(Bucket=self.bucket, Key="k1")["UploadId"]
        self.assertEqual(
            error_code(
                lambda: self.s3.upload_part(Bucket=self.bucket, Key="k2", UploadId=other, PartNumber=1, Body=b"x")
            )[0],
            "NoSuchUpload",
        )

    def test_abort_removes_the_upload(self):
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="aborted")["UploadId"]
        self.s3.upload_part(Bucket=self.bucket, Key="aborted", UploadId=upload, PartNumber=1, Body=b"x" * 1000)
        out = self.s3.abort_multipart_upload(Bucket=self.bucket, Key="aborted", UploadId=upload)
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(
            error_code(lambda: self.s3.abort_multipart_upload(Bucket=self.bucket, Key="aborted", UploadId=upload))[0],
            "NoSuchUpload",
        )
        self.assertEqual(
            error_code(
                lambda: self.s3.upload_part(Bucket=self.bucket, Key="aborted", UploadId=upload, PartNumber=2, Body=b"y")
            )[0],
            "NoSuchUpload",
        )
        self.assertEqual(error_code(lambda: self.s3.get_object(Bucket=self.bucket, Key="aborted"))[0], "NoSuchKey")

    def test_upload_part_copy_takes_ranges_of_objects(self):
        source = os.urandom(6 * MIB)
        self.s3.put_object(Bucket=self.bucket, Key="copy-source", Body=source)
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="assembled")["UploadId"]
        first = self.s3.upload_part_copy(
            Bucket=self.bucket,
            Key="assembled",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": self.bucket, "Key": "copy-source"},
            CopySourceRange=f"bytes=0-{5 * MIB - 1}",
        )["CopyPartResult"]["ETag"]
        second = self.s3.upload_part_copy(
            Bucket=self.bucket,
            Key="assembled",
            UploadId=upload,
            PartNumber=2,
            CopySource={"Bucket": self.bucket, "Key": "copy-source"},
        )["CopyPartResult"]["ETag"]
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="assembled",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]},
        )
        body = self.s3.get_object(Bucket=self.bucket, Key="assembled")["Body"].read()
        self.assertEqual(body, source[: 5 * MIB] + source)

    def test_transfer_manager_round_trip(self):
        """boto3's upload_file/download_file split a large file into concurrent parts."""
        import tempfile

        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
        data = os.urandom(23 * MIB)
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src.bin")
            dst = os.path.join(tmp, "dst.bin")
            with open(src, "wb") as f:
                f.write(data)
            self.s3.upload_file(src, self.bucket, "managed.bin", Config=config)
            self.s3.download_file(self.bucket, "managed.bin", dst, Config=config)
            with open(dst, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())
        self.assertTrue(self.s3.head_object(Bucket=self.bucket, Key="managed.bin")["ETag"].endswith('-5"'))



class Presigned(unittest.TestCase):
    def test_presigned_get_and_put_work_with_plain_http(self):
        s3 = client(signature_version="s3v4")
        bucket = name("presigned")
        s3.create_bucket(Bucket=bucket)
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p.txt"}, ExpiresIn=300)
        request = urllib.request.Request(put_url, method="PUT", data=b"via a presigned URL")
        with urllib.request.urlopen(request) as response:
            self.assertEqual(response.status, 200)
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p.txt"}, ExpiresIn=300)
        with urllib.request.urlopen(get_url) as response:
            self.assertEqual(response.read(), b"via a presigned URL")
        # Signature Version 2 presigned URLs (boto3's older default) work too.
        v2 = client(signature_version="s3")
        with urllib.request.urlopen(
            v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p.txt"}, ExpiresIn=300)
        ) as response:
            self.assertEqual(response.read(), b"via a presigned URL")
        # A changed URL is refused.
        try:
            urllib.request.urlopen(get_url.replace("p.txt", "q.txt"))
            raise AssertionError("a tampered URL worked")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 403)


if __name__ == "__main__":
    print("boto3", boto3.__version__, "botocore", botocore.__version__)
    result = unittest.main(verbosity=2, exit=False).result
    print(f"ran {result.testsRun} tests")
    sys.exit(0 if result.wasSuccessful() else 1)

"""The contract's rules over S3, one scenario per run: `python3 boto3_rules.py SCENARIO`.

Run by `crates/cli/tests/api/s3/auth.rs`, which prepares the credentials each scenario reads
from its environment (see `run_script` there). Exits non-zero when a check fails.
"""

import os
import sys
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["S3_ENDPOINT"]


def client(access_key, secret):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )


def main_client():
    return client(os.environ["S3_ACCESS_KEY_ID"], os.environ["S3_SECRET_ACCESS_KEY"])


def other_client(prefix):
    return client(os.environ[prefix + "_ACCESS_KEY_ID"], os.environ[prefix + "_SECRET_ACCESS_KEY"])


def fails(call, code, status):
    try:
        call()
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), f"expected {(code, status)}, got {got}: {e}"
        return
    raise AssertionError(f"expected {code} {status}, but the call succeeded")


def http_status(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def readonly():
    s3 = main_client()
    bucket = os.environ["BUCKET"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    reader = other_client("READONLY")
    assert reader.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert bucket in [b["Name"] for b in reader.list_buckets()["Buckets"]]
    fails(lambda: reader.put_object(Bucket=bucket, Key="k2", Body=b"v"), "AccessDenied", 403)
    fails(lambda: reader.delete_object(Bucket=bucket, Key="k"), "AccessDenied", 403)
    fails(lambda: reader.create_bucket(Bucket="ro-" + uuid.uuid4().hex[:8]), "AccessDenied", 403)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def tenancy():
    mine = main_client()
    theirs = other_client("OTHER")
    bucket = os.environ["BUCKET"]
    mine.put_object(Bucket=bucket, Key="secret.txt", Body=b"mine")
    # Another project's bucket answers exactly as a missing one.
    missing = "missing-" + uuid.uuid4().hex[:8]
    for name in (bucket, missing):
        fails(lambda: theirs.get_object(Bucket=name, Key="secret.txt"), "NoSuchBucket", 404)
        fails(lambda: theirs.put_object(Bucket=name, Key="x", Body=b"x"), "NoSuchBucket", 404)
        fails(lambda: theirs.list_objects_v2(Bucket=name), "NoSuchBucket", 404)
        fails(lambda: theirs.get_bucket_location(Bucket=name), "NoSuchBucket", 404)
        fails(lambda: theirs.delete_bucket(Bucket=name), "NoSuchBucket", 404)
        fails(lambda: theirs.head_bucket(Bucket=name), "404", 404)
        fails(
            lambda: theirs.copy_object(Bucket=os.environ["OTHER_BUCKET"], Key="stolen", CopySource={"Bucket": name, "Key": "secret.txt"}),
            "NoSuchBucket",
            404,
        )
    assert bucket not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    # Names are global: taken, whoever asks.
    fails(lambda: theirs.create_bucket(Bucket=bucket), "BucketAlreadyExists", 409)


def credentials():
    bucket = os.environ["BUCKET"]
    good = main_client()
    good.put_object(Bucket=bucket, Key="private.txt", Body=b"private")
    wrong_secret = client(os.environ["S3_ACCESS_KEY_ID"], "x" * 40)
    fails(lambda: wrong_secret.list_buckets(), "SignatureDoesNotMatch", 403)
    unknown = client("CNXAAAAAAAAAA", "x" * 40)
    fails(lambda: unknown.list_buckets(), "InvalidAccessKeyId", 403)
    not_ours = client("AKIAIOSFODNN7EXAMPLE", "x" * 40)
    fails(lambda: not_ours.list_buckets(), "InvalidAccessKeyId", 403)
    # An API key is not an S3 credential, and an S3 secret is not an API key.
    api_key = os.environ["API_KEY"]
    fails(lambda: client(api_key, api_key).list_buckets(), "InvalidAccessKeyId", 403)
    # Without a signature, only objects of public buckets can be read.
    status, body = http_status(f"{ENDPOINT}/{bucket}/private.txt")
    assert status == 403 and b"AccessDenied" in body, (status, body)
    status, body = http_status(f"{ENDPOINT}/{bucket}")
    assert status == 403 and b"AccessDenied" in body, (status, body)
    status, body = http_status(f"{ENDPOINT}/")
    assert status == 403 and b"AccessDenied" in body, (status, body)
    public = os.environ["PUBLIC_BUCKET"]
    good.put_object(Bucket=public, Key="open.txt", Body=b"for everyone")
    status, body = http_status(f"{ENDPOINT}/{public}/open.txt")
    assert (status, body) == (200, b"for everyone"), (status, body)
    # Anonymous readers cannot choose the answer's headers (S3's rule); signed ones can.
    status, body = http_status(f"{ENDPOINT}/{public}/open.txt?response-content-type=text%2Fhtml")
    assert status == 400 and b"InvalidRequest" in body, (status, body)
    signed = good.generate_presigned_url(
        "get_object",
        Params={"Bucket": public, "Key": "open.txt", "ResponseContentDisposition": "attachment; filename=x.txt"},
    )
    with urllib.request.urlopen(signed) as answer:
        assert answer.headers["Content-Disposition"] == "attachment; filename=x.txt", dict(answer.headers)
    # HeadObject the same way.
    anonymous_head = urllib.request.Request(f"{ENDPOINT}/{public}/open.txt?response-cache-control=no-store", method="HEAD")
    try:
        urllib.request.urlopen(anonymous_head)
        raise AssertionError("an anonymous HEAD with an override was answered")
    except urllib.error.HTTPError as e:
        assert e.code == 400, e.code
    head = good.head_object(Bucket=public, Key="open.txt", ResponseCacheControl="no-store", ResponseContentType="text/x")
    assert (head["CacheControl"], head["ContentType"]) == ("no-store", "text/x"), head
    status, body = http_status(f"{ENDPOINT}/{public}/absent.txt")
    assert status == 404 and b"NoSuchKey" in body, (status, body)
    status, body = http_status(f"{ENDPOINT}/{public}")
    assert status == 403, "listing a public bucket still needs a credential"


def still_works():
    s3 = main_client()
    s3.list_buckets()


def revoked():
    fails(lambda: main_client().list_buckets(), "InvalidAccessKeyId", 403)


def failed_auth_limit():
    """The failed-auth quota is 3 a minute: the 4th bad signature is throttled, and so is a good
    credential from the same address while the gate is shut."""
    wrong = client(os.environ["S3_ACCESS_KEY_ID"], "y" * 40)
    for _ in range(3):
        fails(lambda: wrong.list_buckets(), "SignatureDoesNotMatch", 403)
    fails(lambda: wrong.list_buckets(), "SlowDown", 503)
    fails(lambda: main_client().list_buckets(), "SlowDown", 503)


def key_quota():
    """The write quota is 2 a minute: the 3rd write of the credential is throttled; reads go on."""
    s3 = main_client()
    bucket = os.environ["BUCKET"]
    s3.put_object(Bucket=bucket, Key="1", Body=b"1")
    s3.put_object(Bucket=bucket, Key="2", Body=b"2")
    fails(lambda: s3.put_object(Bucket=bucket, Key="3", Body=b"3"), "SlowDown", 503)
    assert s3.get_object(Bucket=bucket, Key="1")["Body"].read() == b"1"
    # Another credential of the project has a window of its own.
    other = other_client("SECOND")
    other.put_object(Bucket=bucket, Key="3", Body=b"3")


MIB = 1024 * 1024


def part_bytes(number):
    """The bytes of part `number` of the durability scenarios: the same in every run."""
    import random

    return random.Random(number).randbytes(5 * MIB if number == 1 else 1000 + number)


def start_upload():
    """Starts an upload of two parts into BUCKET (created here) and prints its id and ETags."""
    import json

    s3 = main_client()
    bucket = os.environ["BUCKET"]
    s3.create_bucket(Bucket=bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="durable.bin")["UploadId"]
    etags = [
        s3.upload_part(Bucket=bucket, Key="durable.bin", UploadId=upload, PartNumber=n, Body=part_bytes(n))["ETag"]
        for n in (1, 2)
    ]
    print("UPLOAD " + json.dumps({"upload": upload, "etags": etags}))


def finish_upload():
    """The acknowledged parts of UPLOAD are all there; completing it gives the whole object."""
    import json

    s3 = main_client()
    bucket = os.environ["BUCKET"]
    started = json.loads(os.environ["UPLOAD"])
    upload = started["upload"]
    parts = s3.list_parts(Bucket=bucket, Key="durable.bin", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, started["etags"][0]), (2, started["etags"][1])], parts
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="durable.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), started["etags"])]},
    )
    body = s3.get_object(Bucket=bucket, Key="durable.bin")["Body"].read()
    assert body == part_bytes(1) + part_bytes(2), "the completed object is not the parts' bytes"


def upload_gone():
    """UPLOAD was expired: not listed, and it takes no part."""
    import json

    s3 = main_client()
    bucket = os.environ["BUCKET"]
    upload = json.loads(os.environ["UPLOAD"])["upload"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    fails(
        lambda: s3.upload_part(Bucket=bucket, Key="durable.bin", UploadId=upload, PartNumber=3, Body=b"late"),
        "NoSuchUpload",
        404,
    )


if __name__ == "__main__":
    scenario = sys.argv[1]
    globals()[scenario]()
    print(f"{scenario}: ok")

"""What the stack's S3 holds when healthy: author's bucket with its policy, lifecycle rule, public
access block and detector model, and the IAM users whose keys the API and the harness use. The same
functions seed the server when it starts and put each piece back when a fault is reverted."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

from runbook_harness.state import StackState

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
BUCKET = "author-recordings"
APP_USER = "author-app"
ADMIN_USER = "stack-admin"  # the harness's own, for seeding and faults
APP_PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:user/{APP_USER}"
MODEL_VERSION = "2024.06.1"
MODEL_KEY = "models/detector/{version}/model.onnx"
# what the API does with its bucket: list it, read and write objects, abort its uploads
APP_ACTIONS = {"bucket": ["s3:ListBucket"],
               "objects": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]}


def bucket_policy(principal: str = APP_PRINCIPAL, *more: dict[str, Any]) -> str:
    """The bucket's policy: the app's principal may do its actions, on the bucket and its objects."""
    statements = [
        {"Sid": "AppListsBucket", "Effect": "Allow", "Principal": {"AWS": principal},
         "Action": APP_ACTIONS["bucket"], "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Sid": "AppUsesObjects", "Effect": "Allow", "Principal": {"AWS": principal},
         "Action": APP_ACTIONS["objects"], "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        *more,
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


LIFECYCLE = {"Rules": [
    {"ID": "expire-raw-recordings", "Status": "Enabled", "Filter": {"Prefix": "recordings/"},
     "Expiration": {"Days": 90}},
    {"ID": "abort-stalled-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
]}
PUBLIC_ACCESS_BLOCK = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
# The app user's own IAM policy: its bucket, nothing else (the bucket policy is what the checks judge).
APP_IDENTITY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*",
     "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]})
ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                   "Resource": "*"}]})


def client(service: str, endpoint: str | None, key_id: str, secret: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id,
                        aws_secret_access_key=secret,
                        config=Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 2},
                                      s3={"addressing_style": "path"}))


def admin_s3(state: StackState) -> Any:
    """An S3 client of the harness's admin user, reaching the stack's S3 from this machine."""
    return client("s3", f"http://{state.host}:{state.ports['s3']}", state.secrets["s3_admin_key_id"],
                  state.secrets["s3_admin_secret"])


def create_bucket(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    seed_bucket(s3)


def seed_bucket(s3: Any) -> None:
    put_policy(s3)
    put_lifecycle(s3)
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    put_model(s3)


def put_policy(s3: Any, policy: str | None = None) -> None:
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy or bucket_policy())


def put_lifecycle(s3: Any) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=LIFECYCLE)


def put_model(s3: Any, version: str = MODEL_VERSION) -> None:
    s3.put_object(Bucket=BUCKET, Key=MODEL_KEY.format(version=version), Body=b"onnx stand-in model\n")


def empty_bucket(s3: Any) -> None:
    """Aborts every open upload and deletes every object, so that the bucket can be deleted."""
    for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def create_users(iam: Any) -> dict[str, Any]:
    """The app's user and the harness's admin, each with its policy and one access key (moto's
    own: the server gives them the stack's generated values after)."""
    keys = {}
    for user, policy in ((APP_USER, APP_IDENTITY_POLICY), (ADMIN_USER, ADMIN_POLICY)):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=f"{user}-access", PolicyDocument=policy)
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    return keys

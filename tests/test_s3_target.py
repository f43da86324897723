"""The S3 target against the stack's S3 (moto's server, checking signatures and IAM policies): what a
key may not read fails with the call and the permission, a dead endpoint costs its timeout once, and
no message carries the secret key."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager

import pytest

from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed, PermissionMissing, TargetUnreachable
from runbook_checks.targets.s3 import Credentials, S3Target
from runbook_checks.targets.unanswered import Unanswered
from runbook_harness import s3_seed
from runbook_harness.state import StackState
from tests.dead_ends import DeadEnd, black_hole, closed_port, silent

BUCKET = s3_seed.BUCKET


def endpoint(stack: StackState) -> str:
    return f"http://{stack.host}:{stack.ports['s3']}"


@pytest.fixture
def bare_key(stack: StackState) -> Iterator[Credentials]:
    """The key of an IAM user whose policy allows nothing."""
    iam = s3_seed.client("iam", endpoint(stack), stack.secrets["s3_admin_key_id"],
                         stack.secrets["s3_admin_secret"])
    iam.create_user(UserName="no-reads")
    key = iam.create_access_key(UserName="no-reads")["AccessKey"]
    try:
        yield Credentials(key["AccessKeyId"], key["SecretAccessKey"], s3_seed.REGION, endpoint(stack))
    finally:
        iam.delete_access_key(UserName="no-reads", AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName="no-reads")


def test_the_apps_key_reads_what_the_checks_need(stack: StackState) -> None:
    s3 = S3Target("app", Credentials(stack.secrets["author_aws_key_id"], stack.secrets["author_aws_secret"],
                                     s3_seed.REGION, endpoint(stack)), Timeouts())
    assert s3.caller_arn() == s3_seed.APP_PRINCIPAL
    assert s3.bucket_exists(BUCKET) and s3.bucket_policy(BUCKET) == s3_seed.bucket_policy()
    assert s3.multipart_uploads(BUCKET) == []
    assert s3.public_access_block(BUCKET) == s3_seed.PUBLIC_ACCESS_BLOCK
    assert [rule["ID"] for rule in s3.lifecycle_rules(BUCKET) or []] == ["expire-raw-recordings",
                                                                         "abort-stalled-uploads"]
    model = s3_seed.MODEL_KEY.format(version=s3_seed.MODEL_VERSION)
    assert s3.object_exists(BUCKET, model) and not s3.object_exists(BUCKET, "models/none")


def test_a_refused_read_names_the_call_and_the_permission(bare_key: Credentials) -> None:
    s3 = S3Target("no-reads' AWS credentials", bare_key, Timeouts())
    assert s3.caller_arn() == f"arn:aws:iam::{s3_seed.ACCOUNT}:user/no-reads"  # always allowed
    with pytest.raises(PermissionMissing) as caught:
        s3.bucket_policy(BUCKET)
    assert caught.value.cause == f"cannot see get_bucket_policy(Bucket={BUCKET}): AccessDenied"
    assert "s3:GetBucketPolicy" in caught.value.fix
    with pytest.raises(PermissionMissing) as uploads:
        s3.multipart_uploads(BUCKET)
    assert "s3:ListBucketMultipartUploads" in uploads.value.fix
    with pytest.raises(PermissionMissing, match="cannot see head_bucket"):
        s3.bucket_exists(BUCKET)


def test_a_wrong_secret_is_refused_and_never_shown(stack: StackState) -> None:
    secret = "not-the-secret-but-never-shown-either-0123"
    s3 = S3Target("app", Credentials(stack.secrets["author_aws_key_id"], secret, s3_seed.REGION,
                                     endpoint(stack)), Timeouts())
    for read in (s3.caller_arn, lambda: s3.lifecycle_rules(BUCKET)):
        with pytest.raises(CheckFailed) as caught:
            read()
        assert caught.value.found.startswith("SignatureDoesNotMatch")
        assert secret not in f"{caught.value} {caught.value.fix}"
    assert secret not in repr(Credentials("id", secret, "r", None))


@pytest.mark.parametrize(("dead_end", "cause"), [
    (black_hole, "no answer within the 1 s connect timeout"),
    (silent, "no answer within the 1 s read timeout"), (closed_port, "connection refused")])
def test_a_dead_endpoint_costs_its_timeout_once(dead_end: Callable[[], ContextManager[DeadEnd]],
                                                cause: str) -> None:
    with dead_end() as dead:
        port = dead.port
        check_twice(port, cause)


def check_twice(port: int, cause: str) -> None:
    unanswered = Unanswered()
    dead = Credentials("AKIAEXAMPLE000000000", "secret-secret-secret", "us-east-1", f"http://127.0.0.1:{port}")
    targets = [S3Target(name, dead, Timeouts(connect_seconds=1, http_seconds=1), unanswered)
               for name in ("first", "second")]
    with pytest.raises(TargetUnreachable) as first:
        targets[0].caller_arn()
    assert first.value.cause == cause and first.value.address == f"127.0.0.1:{port}"
    started = time.monotonic()
    with pytest.raises(TargetUnreachable) as second:
        targets[1].bucket_exists(BUCKET)
    assert time.monotonic() - started < 0.1
    assert second.value.target == "second" and second.value.cause == cause

"""S3 and STS through botocore, with an app's own credentials: reads only (Get, List, Head and STS
GetCallerIdentity), each call within the environment's timeouts and tried once, so a dead endpoint
costs its connect timeout once per run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import botocore.exceptions
import botocore.session
from botocore.config import Config

from runbook_checks.errors import CheckFailed, PermissionMissing, TargetUnreachable
from runbook_checks.targets.base import address_of
from runbook_checks.targets.unanswered import Unanswered, first_line, url_key

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts

# Error codes that mean the credentials themselves are refused, not a missing permission.
_REFUSED_CREDENTIALS = {
    "SignatureDoesNotMatch": "the secret access key does not match the access key id",
    "InvalidAccessKeyId": "the access key id is not known",
    "InvalidClientTokenId": "the access key id is not known",
    "ExpiredToken": "the session token has expired",
    "UnrecognizedClientException": "the access key id is not known",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403"}
# What each read needs, to say what to grant when it is refused.
_PERMISSION = {"get_bucket_policy": "s3:GetBucketPolicy",
               "list_multipart_uploads": "s3:ListBucketMultipartUploads",
               "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
               "get_public_access_block": "s3:GetBucketPublicAccessBlock", "head_bucket": "s3:ListBucket",
               "head_object": "s3:GetObject"}


@dataclass(frozen=True)
class Credentials:
    """An app's AWS credentials and where it uses them; the secret never leaves this object but
    for botocore's signer."""

    access_key_id: str
    secret_access_key: str
    region: str
    endpoint: str | None  # None: AWS's own endpoints

    def __repr__(self) -> str:
        return f"Credentials({self.access_key_id!r}, region={self.region!r}, endpoint={self.endpoint!r})"


class S3Target:
    """One app's view of S3 and STS, read through botocore with that app's credentials."""

    def __init__(self, name: str, credentials: Credentials, timeouts: Timeouts,
                 unanswered: Unanswered | None = None) -> None:
        self.name = name
        endpoint = credentials.endpoint
        self.address = address_of(endpoint) if endpoint else f"AWS ({credentials.region})"
        self._key = url_key(endpoint) if endpoint else f"aws:{credentials.region}"
        self._unanswered = unanswered or Unanswered()
        self._timeouts = timeouts
        config = Config(connect_timeout=timeouts.connect_seconds, read_timeout=timeouts.http_seconds,
                        retries={"total_max_attempts": 1}, region_name=credentials.region,
                        s3={"addressing_style": "path"} if endpoint else None)
        session = botocore.session.Session()
        self._s3, self._sts = (session.create_client(
            service, region_name=credentials.region, endpoint_url=endpoint, config=config,
            aws_access_key_id=credentials.access_key_id, aws_secret_access_key=credentials.secret_access_key)
            for service in ("s3", "sts"))

    def _call(self, client: Any, operation: str, **arguments: Any) -> dict[str, Any]:
        """One read; refused credentials and a refused permission fail the check with what could
        not be seen, an endpoint that does not answer fails every later read at once."""
        self._unanswered.check(self._key, self.name)
        try:
            answer: dict[str, Any] = getattr(client, operation)(**arguments)
            return answer
        except botocore.exceptions.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _REFUSED_CREDENTIALS:
                raise CheckFailed(f"{self.name} accepted", f"{code}: {_REFUSED_CREDENTIALS[code]}",
                                  "give the app its current access key id and secret access key") from None
            if code in _DENIED:
                needed = _PERMISSION.get(operation, operation)
                raise PermissionMissing(self.name, f"cannot see {operation}({_named(arguments)}): {code}",
                                        f"allow the app's principal {needed} (a read) so that it can be "
                                        "checked") from None
            raise
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
            cause = _cause(error, self._timeouts)
            failure = TargetUnreachable(self.name, self.address, cause,
                                        "start the S3 endpoint, or correct the app's endpoint and region")
            raise self._unanswered.remember(self._key, failure) from None

    def caller_arn(self) -> str:
        """STS GetCallerIdentity: who these credentials are."""
        try:
            return str(self._call(self._sts, "get_caller_identity")["Arn"])
        except botocore.exceptions.ClientError as error:
            raise CheckFailed(f"{self.name} resolve to an identity", f"{_code(error)}: {first_line(error)}",
                              "check the app's credentials and STS endpoint") from None

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._call(self._s3, "head_bucket", Bucket=bucket)
        except botocore.exceptions.ClientError as error:
            if _code(error) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise self._failed(error, bucket) from None
        return True

    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket's policy document (JSON text), None where it has none."""
        answer = self._optional("get_bucket_policy", "NoSuchBucketPolicy", bucket)
        return None if answer is None else str(answer["Policy"])

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]] | None:
        answer = self._optional("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", bucket)
        return None if answer is None else list(answer.get("Rules", []))

    def public_access_block(self, bucket: str) -> dict[str, Any] | None:
        answer = self._optional("get_public_access_block", "NoSuchPublicAccessBlockConfiguration", bucket)
        return None if answer is None else dict(answer["PublicAccessBlockConfiguration"])

    def multipart_uploads(self, bucket: str) -> list[tuple[str, datetime]]:
        """Every open multipart upload's key and start, page by page."""
        uploads: list[tuple[str, datetime]] = []
        markers: dict[str, str] = {}
        while True:
            try:
                page = self._call(self._s3, "list_multipart_uploads", Bucket=bucket, **markers)
            except botocore.exceptions.ClientError as error:
                raise self._failed(error, bucket) from None
            uploads += [(str(u["Key"]), u["Initiated"]) for u in page.get("Uploads", [])]
            if not page.get("IsTruncated"):
                return uploads
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    def object_exists(self, bucket: str, key: str) -> bool:
        try:
            self._call(self._s3, "head_object", Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as error:
            if _code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._failed(error, bucket) from None
        return True

    def _optional(self, operation: str, absent: str, bucket: str) -> dict[str, Any] | None:
        """A bucket setting, None where the bucket has none."""
        try:
            return self._call(self._s3, operation, Bucket=bucket)
        except botocore.exceptions.ClientError as error:
            if _code(error) == absent:
                return None
            raise self._failed(error, bucket) from None

    def _failed(self, error: botocore.exceptions.ClientError, bucket: str) -> Exception:
        """Any other answer a read did not expect: the missing bucket in plain words."""
        code = _code(error)
        if code == "NoSuchBucket":
            return CheckFailed(f"bucket {bucket} readable", f"no bucket {bucket}",
                               f"create {bucket}, or point the app at its bucket")
        return CheckFailed(f"{self.name} answers the read", f"{code}: {first_line(error)}",
                           "check the endpoint and the bucket")


def _code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _named(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in arguments.items())


def _cause(error: Exception, timeouts: Timeouts) -> str:
    if isinstance(error, botocore.exceptions.ConnectTimeoutError):
        return f"no answer within the {timeouts.connect_seconds:g} s connect timeout"
    if isinstance(error, botocore.exceptions.ReadTimeoutError):
        return f"no answer within the {timeouts.http_seconds:g} s read timeout"
    if isinstance(error, botocore.exceptions.ConnectionClosedError):
        return "the server closed the connection without an answer"
    if isinstance(error, botocore.exceptions.SSLError):
        return f"TLS handshake failed: {first_line(error)}"
    text = str(error.__context__ or error).lower()
    return "connection refused" if "refused" in text else f"could not connect: {first_line(error)}"

"""S3 storage checks over what the app's own credentials can read: who they are, the bucket, its
open multipart uploads, lifecycle rules, public access block and the objects the app needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runbook_checks.errors import CheckFailed

# The four settings of S3's Block Public Access, all of which must be on.
PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def role_of_session(arn: str) -> str | None:
    """The role an assumed-role session ARN (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION) is of,
    as arn:aws:iam::ACCOUNT:role/NAME; None for any other ARN."""
    prefix, _, rest = arn.partition(":assumed-role/")
    if not rest or not prefix.startswith("arn:") or ":sts:" not in prefix:
        return None
    partition_and_account = prefix.split(":")
    name = rest.split("/", 1)[0]
    return f"arn:{partition_and_account[1]}:iam::{partition_and_account[4]}:role/{name}"


def _role_name(arn: str) -> str | None:
    """The name of a role ARN, whatever its path (arn:aws:iam::1:role/path/NAME -> NAME)."""
    kind, _, name = arn.rpartition(":")[2].partition("/")
    return name.rsplit("/", 1)[-1] if kind == "role" and name else None


def identity_is(label: str, caller: str, principal: str) -> None:
    """The credentials are the declared principal's: its own ARN, or a session of the declared role."""
    if caller == principal:
        return
    role = role_of_session(caller)
    if role is not None and role.split(":role/")[0] == principal.split(":role/")[0] \
            and _role_name(role) == _role_name(principal):
        return
    raise CheckFailed(f"{label} resolve to {principal}", f"they resolve to {caller}",
                      f"give the app the access key of {principal}, or declare the principal it should use")


def bucket_exists(label: str, bucket: str, exists: bool) -> None:
    if not exists:
        raise CheckFailed(f"bucket {bucket} (the app's {label}) exists", f"no bucket {bucket}",
                          f"create {bucket}, or point {label} at the app's bucket")


def no_stale_multipart_upload(bucket: str, uploads: list[tuple[str, datetime]], now: datetime,
                              max_hours: float) -> None:
    """No multipart upload was started longer than `max_hours` ago and left open: its parts are
    stored, and billed, until it is completed or aborted."""
    stale = sorted((started, key) for key, started in uploads
                   if (now - started).total_seconds() > max_hours * 3600)
    if stale:
        found = [f"{key}: open {_age((now - started).total_seconds())}" for started, key in stale]
        raise CheckFailed(f"no multipart upload open in {bucket} for more than {max_hours:g} h",
                          f"{len(stale)} stale upload(s):\n" + "\n".join(found),
                          f"abort them (aws s3api abort-multipart-upload --bucket {bucket} --key K "
                          "--upload-id ID), and add a lifecycle rule with AbortIncompleteMultipartUpload")


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


# What a lifecycle rule may do that bounds what the bucket keeps.
_RETENTION_ACTIONS = ("Expiration", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload",
                      "Transitions", "Transition", "NoncurrentVersionTransitions")


def lifecycle_enabled(bucket: str, rules: list[dict[str, Any]] | None) -> None:
    """The bucket has an enabled lifecycle rule that expires, moves or cleans up what it keeps."""
    expected = f"an enabled lifecycle rule on {bucket} (expiration, transition or upload clean-up)"
    fix = (f"put a lifecycle configuration on {bucket} with an enabled rule "
           "(aws s3api put-bucket-lifecycle-configuration)")
    if not rules:
        raise CheckFailed(expected, "no lifecycle configuration", fix)
    acting = [rule for rule in rules if any(rule.get(action) for action in _RETENTION_ACTIONS)]
    if not any(rule.get("Status") == "Enabled" for rule in acting):
        names = [f"{rule.get('ID') or '(no ID)'}: {rule.get('Status')}" for rule in rules]
        raise CheckFailed(expected, "no rule enabled that acts: " + ", ".join(names), fix)


def public_access_blocked(bucket: str, settings: dict[str, Any] | None) -> None:
    """All four Block Public Access settings are on for the bucket."""
    expected = f"public access blocked on {bucket} ({', '.join(PUBLIC_ACCESS_FLAGS)})"
    fix = f"aws s3api put-public-access-block --bucket {bucket} with all four settings true"
    if settings is None:
        raise CheckFailed(expected, "no public access block on the bucket", fix)
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if settings.get(flag) is not True]
    if off:
        raise CheckFailed(expected, f"off: {', '.join(off)}", fix)


def model_artifact_key(pattern: str, variable: str, version: str | None) -> str:
    """The artifact's key for the configured version; an unset version fails the check."""
    if not version:
        raise CheckFailed(f"{variable} set to the detector model version", f"not set: {variable}",
                          f"set {variable} to the deployed model's version")
    return pattern.format(version=version)


def artifact_present(bucket: str, key: str, variable: str, version: str, exists: bool) -> None:
    if not exists:
        raise CheckFailed(f"s3://{bucket}/{key} present ({variable}={version})", f"no object {key}",
                          f"upload the model bundle of version {version}, or set {variable} to a version "
                          "whose artifact is in the bucket")

"""The storage checks over hand-made facts: a bucket policy judged statement by statement for one
principal (Allow and Deny, principals, actions, resources, conditions), and the other S3 facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runbook_checks.checks import bucket_policy, storage
from runbook_checks.checks.bucket_policy import Need, judge
from runbook_checks.errors import CheckFailed

APP = "arn:aws:iam::123456789012:user/author-app"
BUCKET = "author-recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECTS = f"{BUCKET_ARN}/*"
PUT = Need("s3:PutObject", OBJECTS)
LIST = Need("s3:ListBucket", BUCKET_ARN)
PERMISSIONS = {"bucket": ["s3:ListBucket"], "objects": ["s3:GetObject", "s3:PutObject"]}


def allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "s3:PutObject", "Resource": OBJECTS,
            **fields}


def deny(**fields: Any) -> dict[str, Any]:
    return {**allow(**fields), "Effect": "Deny", **fields}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def granted(*statements: dict[str, Any], need: Need = PUT) -> bool:
    verdict = judge(policy(*statements), APP, need)
    return bool(verdict.granted_by) and not verdict.denied_by


def failure(text: str | None, needs: list[Need] | None = None) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        bucket_policy.grants(BUCKET, text, APP, needs or [PUT])
    return caught.value


# --- principals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("principal", [
    {"AWS": APP}, {"AWS": [APP, "arn:aws:iam::123456789012:user/other"]}, "*", {"AWS": "*"},
    {"AWS": "arn:aws:iam::123456789012:root"}, {"AWS": "123456789012"}, {"AWS": ["x", "*"]}])
def test_an_allow_names_the_principal(principal: Any) -> None:
    assert granted(allow(Principal=principal))


@pytest.mark.parametrize("principal", [
    {"AWS": "arn:aws:iam::123456789012:user/other"}, {"AWS": "arn:aws:iam::999999999999:root"},
    {"AWS": "999999999999"}, {"Service": "lambda.amazonaws.com"}, {"CanonicalUser": "abc"},
    {"AWS": "arn:aws:iam::123456789012:user/*"}, "arn:aws:iam::123456789012:user/author-app", {"AWS": 7}])
def test_an_allow_that_does_not_name_the_principal_grants_nothing(principal: Any) -> None:
    assert not granted(allow(Principal=principal))


def test_an_allow_without_principal_grants_nothing_and_a_deny_without_one_applies() -> None:
    statement = allow()
    del statement["Principal"]
    assert not granted(statement)
    assert judge(policy(allow(), {**statement, "Effect": "Deny"}), APP, PUT).denied_by == ("statement #2",)


def test_not_principal() -> None:
    others = {"AWS": "arn:aws:iam::123456789012:user/other"}
    # an Allow to everyone but another user includes the app; one leaving out the app or its account does not
    without = {k: v for k, v in allow().items() if k != "Principal"}
    assert granted({**without, "NotPrincipal": others})
    assert not granted({**without, "NotPrincipal": {"AWS": APP}})
    assert not granted({**without, "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}})
    # a Deny to everyone but the app spares it; one that names only its account does not
    denial = {k: v for k, v in deny().items() if k != "Principal"}
    assert granted(allow(), {**denial, "NotPrincipal": {"AWS": [APP, "arn:aws:iam::123456789012:root"]}})
    assert not granted(allow(), {**denial, "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}})
    assert not granted(allow(), {**denial, "NotPrincipal": others})


# --- actions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["s3:PutObject", "s3:putobject", "S3:PUTOBJECT", "s3:*", "*", "s3:Put*",
                                    "s3:P?tObject", ["s3:GetObject", "s3:PutObject"]])
def test_action_patterns_that_cover(action: Any) -> None:
    assert granted(allow(Action=action))


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObjectAcl", "s3:Get*", "ec2:*", "s3:Put", [],
                                    "s3:?PutObject"])
def test_action_patterns_that_do_not(action: Any) -> None:
    assert not granted(allow(Action=action))


def test_not_action() -> None:
    without = {k: v for k, v in allow().items() if k != "Action"}
    assert granted({**without, "NotAction": "s3:DeleteObject"})
    assert not granted({**without, "NotAction": ["s3:Delete*", "s3:put*"]})
    assert not granted({**without, "NotAction": "s3:PutObject"})  # the very action left out
    denial = {k: v for k, v in deny().items() if k != "Action"}
    assert not granted(allow(), {**denial, "NotAction": "s3:GetObject"})  # denies everything else
    assert granted(allow(), {**denial, "NotAction": "s3:*"})
    # neither Action nor NotAction: an Allow grants nothing, a Deny counts
    assert not granted(without)
    assert not granted(allow(), denial)


# --- resources ----------------------------------------------------------------------------------

@pytest.mark.parametrize("resource", [OBJECTS, "*", f"{BUCKET_ARN}*", "arn:aws:s3:::*",
                                      "arn:aws:s3:::author-*/*",
                                      [BUCKET_ARN, OBJECTS], "arn:aws:s3:::author-recording?/*"])
def test_resources_that_cover_every_object(resource: Any) -> None:
    assert granted(allow(Resource=resource))


@pytest.mark.parametrize("resource", [BUCKET_ARN, f"{BUCKET_ARN}/uploads/*", "arn:aws:s3:::other/*",
                                      f"{BUCKET_ARN}/?*", f"{BUCKET_ARN}/${{aws:username}}/*", [],
                                      f"{BUCKET_ARN}/"])  # the last: only the object with an empty key
def test_resources_that_do_not(resource: Any) -> None:
    assert not granted(allow(Resource=resource))


def test_the_bucket_arn_is_not_its_objects() -> None:
    assert granted(allow(Action="s3:ListBucket", Resource=BUCKET_ARN), need=LIST)
    assert not granted(allow(Action="s3:ListBucket", Resource=OBJECTS), need=LIST)
    assert not granted(allow(Action="s3:ListBucket", Resource=f"{BUCKET_ARN}/"), need=LIST)


def test_a_deny_on_part_of_the_objects_counts() -> None:
    assert not granted(allow(), deny(Resource=f"{BUCKET_ARN}/secret/*"))
    assert not granted(allow(), deny(Resource=f"{BUCKET_ARN}/${{aws:username}}"))
    assert granted(allow(), deny(Resource="arn:aws:s3:::other-bucket/*"))
    assert granted(allow(), deny(Resource=BUCKET_ARN))  # the bucket, not its objects
    # a policy variable may stand for this very bucket: a Deny with one counts even where its text
    # does not match
    assert not granted(allow(), deny(Resource="arn:aws:s3:::${aws:username}/*"))
    list_allowed = allow(Action="s3:ListBucket", Resource=BUCKET_ARN)
    assert not granted(list_allowed, deny(Action="s3:ListBucket", Resource="arn:aws:s3:::${aws:username}"),
                       need=LIST)


def test_a_deny_on_exactly_the_bucket_counts_for_a_bucket_action() -> None:
    list_allowed = allow(Action="s3:ListBucket", Resource=BUCKET_ARN)
    assert granted(list_allowed, need=LIST)
    assert not granted(list_allowed, deny(Action="s3:ListBucket", Resource=BUCKET_ARN), need=LIST)
    assert not granted(list_allowed, deny(Action="s3:ListBucket", Resource=f"{BUCKET_ARN}*"), need=LIST)
    assert granted(list_allowed, deny(Action="s3:ListBucket", Resource=OBJECTS), need=LIST)


def test_a_policy_variable_never_grants_even_where_its_text_matches() -> None:
    need = Need("s3:GetObject", "arn:aws:s3:::b/${aws:username}")
    statement = allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/${aws:username}")
    assert not judge(policy(statement), APP, need).granted_by
    assert judge(policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/*")), APP, need).granted_by


def test_not_resource() -> None:
    without = {k: v for k, v in allow().items() if k != "Resource"}
    assert granted({**without, "NotResource": "arn:aws:s3:::other/*"})
    assert not granted({**without, "NotResource": f"{BUCKET_ARN}/private/*"})
    denial = {k: v for k, v in deny().items() if k != "Resource"}
    assert granted(allow(), {**denial, "NotResource": f"{BUCKET_ARN}*"})
    assert not granted(allow(), {**denial, "NotResource": f"{BUCKET_ARN}/public/*"})
    assert not granted(without)


# --- effects and conditions ---------------------------------------------------------------------

def test_deny_wins_over_allow_whatever_the_order() -> None:
    assert not granted(deny(), allow())
    assert not granted(allow(), deny(Principal="*", Action="s3:*", Resource="*"))


def test_conditions_fail_closed() -> None:
    condition = {"Bool": {"aws:SecureTransport": "true"}}
    assert not granted(allow(Condition=condition))
    assert granted(allow(Condition={}))  # an empty condition is none
    verdict = judge(policy(allow(Condition=condition)), APP, PUT)
    assert verdict.granted_if == ("statement #1",) and not verdict.granted_by
    denial = judge(policy(allow(), deny(Sid="OnlyTls", Condition=condition)), APP, PUT)
    assert denial.denied_by == ("statement 'OnlyTls' (under a Condition the gate cannot judge)",)


def test_an_unknown_effect_is_no_grant_and_counts_against() -> None:
    verdict = judge(policy(allow(), allow(Effect="allow")), APP, PUT)
    assert verdict.denied_by == ("statement #2 (Effect 'allow')",)


def test_a_single_statement_object_and_odd_shapes() -> None:
    assert judge({"Statement": allow()}, APP, PUT).granted_by == ("statement #1",)
    assert judge({"Statement": ["not a statement"]}, APP, PUT).denied_by == ("statement #1 (Effect None)",)
    assert judge({}, APP, PUT) == bucket_policy.Verdict()


@pytest.mark.parametrize("sid, name", [("Uploads", "statement 'Uploads'"), ("", "statement #2"),
                                       (5, "statement #2"), (None, "statement #2")])
def test_statements_are_named_by_a_string_sid_or_their_position(sid: Any, name: str) -> None:
    assert judge(policy(allow(Action="s3:GetObject"), allow(Sid=sid)), APP, PUT).granted_by == (name,)


# --- the check's messages -----------------------------------------------------------------------

def test_grants_passes_on_a_healthy_policy() -> None:
    text = json.dumps(policy(allow(Action=["s3:GetObject", "s3:PutObject"]),
                             allow(Action="s3:ListBucket", Resource=BUCKET_ARN)))
    bucket_policy.grants(BUCKET, text, APP, bucket_policy.needs_for(BUCKET, PERMISSIONS))


def test_no_policy_and_a_policy_that_does_not_parse() -> None:
    missing = failure(None)
    assert missing.found == "the bucket has no policy"
    assert missing.expected == (f"the policy of bucket {BUCKET} allows {APP} s3:PutObject "
                                "and denies none of them")
    assert missing.fix == f"put a bucket policy on {BUCKET} that allows {APP} those actions"
    for text in ("{", "[]", '"x"', "", "null"):
        error = failure(text)
        assert (error.expected, error.found, error.fix) == (
            "a bucket policy that is a JSON object", "a policy that does not parse",
            "put a valid policy document on the bucket")


def test_every_problem_is_listed_with_its_statement() -> None:
    from_office = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    text = json.dumps(policy(allow(Action="s3:GetObject", Condition=from_office),
                             deny(Sid="NoUploads")))
    error = failure(text, bucket_policy.needs_for(BUCKET, PERMISSIONS))
    assert error.found.splitlines() == [
        f"s3:ListBucket on {BUCKET_ARN}: not allowed (no statement names {APP}, the action and the resource)",
        f"s3:GetObject on {OBJECTS}: allowed only under a Condition the gate cannot judge (statement #1)",
        f"s3:PutObject on {OBJECTS}: denied by statement 'NoUploads'",
    ]
    assert error.fix == (f"allow {APP} each action on its resource in {BUCKET}'s policy, and remove or "
                         "narrow the Deny statements named")
    assert error.expected == (f"the policy of bucket {BUCKET} allows {APP} s3:GetObject, s3:ListBucket, "
                              "s3:PutObject and denies none of them")


def test_every_statement_behind_a_problem_is_named() -> None:
    condition = {"Bool": {"aws:SecureTransport": "true"}}
    text = json.dumps(policy(allow(Sid="A", Condition=condition), allow(Sid="B", Condition=condition),
                             deny(Sid="C"), deny(Sid="D")))
    assert failure(text).found == f"s3:PutObject on {OBJECTS}: denied by statement 'C', statement 'D'"
    text = json.dumps(policy(allow(Sid="A", Condition=condition), allow(Sid="B", Condition=condition)))
    assert failure(text).found == (f"s3:PutObject on {OBJECTS}: allowed only under a Condition the gate "
                                   "cannot judge (statement 'A', statement 'B')")


def test_needs_for_scopes() -> None:
    assert bucket_policy.needs_for("b", PERMISSIONS) == [
        Need("s3:ListBucket", "arn:aws:s3:::b"), Need("s3:GetObject", "arn:aws:s3:::b/*"),
        Need("s3:PutObject", "arn:aws:s3:::b/*")]
    assert bucket_policy.account_of(APP) == "123456789012" and bucket_policy.account_of("nope") == ""
    # the resource part of an ARN may hold colons of its own
    assert bucket_policy.account_of("arn:aws:logs:us-east-1:123456789012:log-group:app:*") == "123456789012"
    assert bucket_policy.account_of("arn:aws:iam::123456789012") == ""


# --- identity, bucket, uploads, lifecycle, public access, artifact ------------------------------

def test_identity() -> None:
    storage.identity_is("creds", APP, APP)
    role = "arn:aws:iam::123456789012:role/service/author-app"
    storage.identity_is("creds", "arn:aws:sts::123456789012:assumed-role/author-app/i-0abc", role)
    for caller in ("arn:aws:sts::123456789012:user/moto",
                   "arn:aws:sts::999999999999:assumed-role/author-app/s",
                   "arn:aws:sts::123456789012:assumed-role/other/s"):
        with pytest.raises(CheckFailed) as caught:
            storage.identity_is("creds", caller, role)
        assert (caught.value.expected, caught.value.found, caught.value.fix) == (
            f"creds resolve to {role}", f"they resolve to {caller}",
            f"give the app the access key of {role}, or declare the principal it should use")
    assert storage.role_of_session(APP) is None


def test_identity_of_a_role_with_a_deep_path() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/author-app/i-0abc"
    storage.identity_is("creds", session, "arn:aws:iam::123456789012:role/a/b/author-app")
    with pytest.raises(CheckFailed):
        storage.identity_is("creds", session, "arn:aws:iam::123456789012:role/a/author-app/other")


@pytest.mark.parametrize("arn, role", [
    ("arn:aws:sts::1:assumed-role/r/s", "arn:aws:iam::1:role/r"),
    ("arn:aws-cn:sts::1:assumed-role/r/s/x", "arn:aws-cn:iam::1:role/r"),
    ("arn:aws:sts::1:assumed-role/a:assumed-role/b/s", "arn:aws:iam::1:role/a:assumed-role"),
    ("arn:aws:sts::1:assumed-role/", None),  # no role name
    ("arn:aws:iam::1:assumed-role/r/s", None),  # not an STS ARN
    ("xarn:aws:sts::1:assumed-role/r/s", None),  # not an ARN
    ("arn:aws:sts::1:federated-user/r", None)])
def test_role_of_session(arn: str, role: str | None) -> None:
    assert storage.role_of_session(arn) == role


@pytest.mark.parametrize("arn, name", [
    ("arn:aws:iam::1:role/r", "r"), ("arn:aws:iam::1:role/a/b/r", "r"), ("arn:aws:iam::1:role/", None),
    ("arn:aws:iam::1:user/r", None), ("arn:aws:iam::1:root", None)])
def test_role_name(arn: str, name: str | None) -> None:
    assert storage._role_name(arn) == name


def test_bucket_exists() -> None:
    storage.bucket_exists("S3_BUCKET", BUCKET, True)
    with pytest.raises(CheckFailed) as caught:
        storage.bucket_exists("S3_BUCKET", BUCKET, False)
    assert (caught.value.expected, caught.value.found, caught.value.fix) == (
        f"bucket {BUCKET} (the app's S3_BUCKET) exists", f"no bucket {BUCKET}",
        f"create {BUCKET}, or point S3_BUCKET at the app's bucket")


def test_stale_multipart_uploads() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    fresh = ("a", now - timedelta(hours=23))
    storage.no_stale_multipart_upload(BUCKET, [fresh], now, 24)
    with pytest.raises(CheckFailed) as caught:
        storage.no_stale_multipart_upload(BUCKET, [fresh, ("old", now - timedelta(hours=30)),
                                                   ("older", now - timedelta(days=3))], now, 24)
    assert caught.value.found == "2 stale upload(s):\nolder: open 72.0 h\nold: open 30.0 h"
    assert caught.value.expected == f"no multipart upload open in {BUCKET} for more than 24 h"
    assert caught.value.fix == (f"abort them (aws s3api abort-multipart-upload --bucket {BUCKET} --key K "
                                "--upload-id ID), and add a lifecycle rule with "
                                "AbortIncompleteMultipartUpload")
    with pytest.raises(CheckFailed) as short:
        storage.no_stale_multipart_upload(BUCKET, [("a", now - timedelta(seconds=5)),
                                                   ("b", now - timedelta(minutes=20))], now, 0.001)
    assert short.value.found == "2 stale upload(s):\nb: open 20 min\na: open 5 s"


def test_a_stale_upload_is_one_open_past_the_limit() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    # the limit itself passes, a second past it fails
    storage.no_stale_multipart_upload(BUCKET, [("at", now - timedelta(hours=24))], now, 24)
    with pytest.raises(CheckFailed) as caught:
        storage.no_stale_multipart_upload(BUCKET, [("past", now - timedelta(hours=24, seconds=1))], now, 24)
    assert caught.value.found == "1 stale upload(s):\npast: open 24.0 h"


def test_upload_ages_at_their_unit_boundaries() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    ages = {"s59": 59, "m60": 60, "m59": 59 * 60, "h1": 3600, "h240": 240 * 3600}
    with pytest.raises(CheckFailed) as caught:
        storage.no_stale_multipart_upload(
            BUCKET, [(key, now - timedelta(seconds=age)) for key, age in ages.items()], now, 0.001)
    assert caught.value.found == ("5 stale upload(s):\nh240: open 240.0 h\nh1: open 1.0 h\nm59: open 59 min\n"
                                  "m60: open 1 min\ns59: open 59 s")


@pytest.mark.parametrize("rules, found", [
    (None, "no lifecycle configuration"), ([], "no lifecycle configuration"),
    ([{"ID": "r", "Status": "Disabled", "Expiration": {"Days": 1}}],
     "no rule enabled that acts: r: Disabled"),
    ([{"Status": "Enabled", "Filter": {}}], "no rule enabled that acts: (no ID): Enabled")])
def test_lifecycle(rules: Any, found: str) -> None:
    with pytest.raises(CheckFailed) as caught:
        storage.lifecycle_enabled(BUCKET, rules)
    assert (caught.value.expected, caught.value.found, caught.value.fix) == (
        f"an enabled lifecycle rule on {BUCKET} (expiration, transition or upload clean-up)", found,
        f"put a lifecycle configuration on {BUCKET} with an enabled rule "
        "(aws s3api put-bucket-lifecycle-configuration)")


def test_lifecycle_names_every_rule() -> None:
    with pytest.raises(CheckFailed) as caught:
        storage.lifecycle_enabled(BUCKET, [{"ID": "a", "Status": "Disabled", "Expiration": {"Days": 1}},
                                           {"ID": "b", "Status": "Enabled"}])
    assert caught.value.found == "no rule enabled that acts: a: Disabled, b: Enabled"


def test_lifecycle_passes_on_any_enabled_rule_that_acts() -> None:
    for action in ("Expiration", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload",
                   "Transitions"):
        storage.lifecycle_enabled(BUCKET, [{"ID": "off", "Status": "Disabled", "Expiration": {"Days": 1}},
                                           {"Status": "Enabled", action: {"Days": 1}}])


def test_public_access() -> None:
    storage.public_access_blocked(BUCKET, dict.fromkeys(storage.PUBLIC_ACCESS_FLAGS, True))
    expected = (f"public access blocked on {BUCKET} (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, "
                "RestrictPublicBuckets)")
    fix = f"aws s3api put-public-access-block --bucket {BUCKET} with all four settings true"
    with pytest.raises(CheckFailed) as caught:
        storage.public_access_blocked(BUCKET, None)
    assert (caught.value.expected, caught.value.found, caught.value.fix) == (
        expected, "no public access block on the bucket", fix)
    with pytest.raises(CheckFailed) as caught:
        storage.public_access_blocked(BUCKET, {**dict.fromkeys(storage.PUBLIC_ACCESS_FLAGS, True),
                                               "IgnorePublicAcls": False, "RestrictPublicBuckets": "true"})
    assert (caught.value.expected, caught.value.found, caught.value.fix) == (
        expected, "off: IgnorePublicAcls, RestrictPublicBuckets", fix)


def test_model_artifact() -> None:
    assert storage.model_artifact_key("m/{version}/x", "V", "1.2") == "m/1.2/x"
    for unset in (None, ""):
        with pytest.raises(CheckFailed) as unset_error:
            storage.model_artifact_key("m/{version}/x", "V", unset)
        assert (unset_error.value.expected, unset_error.value.found, unset_error.value.fix) == (
            "V set to the detector model version", "not set: V", "set V to the deployed model's version")
    storage.artifact_present(BUCKET, "m/1.2/x", "V", "1.2", True)
    with pytest.raises(CheckFailed) as caught:
        storage.artifact_present(BUCKET, "m/1.2/x", "V", "1.2", False)
    assert caught.value.expected == f"s3://{BUCKET}/m/1.2/x present (V=1.2)"
    assert caught.value.found == "no object m/1.2/x"
    assert caught.value.fix == ("upload the model bundle of version 1.2, or set V to a version whose "
                                "artifact is in the bucket")

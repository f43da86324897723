"""Token checks over tokens signed here with PyJWT, each failure read whole (expected, found, fix)."""

from __future__ import annotations

import json
import time

import jwt

from runbook_checks.checks import tokens
from runbook_checks.targets.http import Response
from tests.failures import failure

SECRET = "s" * 32
SHAPE_EXPECTED = "access token signed with HS256, expiring within 30 min"
SHAPE_FIX = "set the algorithm and lifetime in the API's token settings"


def token(algorithm: str = "HS256", **claims: float) -> str:
    return jwt.encode(claims, SECRET if algorithm.startswith("HS") else "k" * 64, algorithm=algorithm)


def login(status: int, body: object) -> Response:
    return Response(status, {}, json.dumps(body), 0.0)


def test_token_shape_whole_failures() -> None:
    now = time.time()
    tokens.token_shape(token(iat=now, exp=now + 1800), "access", "HS256", 1800)
    tokens.token_shape(token(iat=now - 100, exp=now - 100 + 1805), "access", "HS256", 1800)  # 5 s allowed
    tokens.token_shape(token(exp=now + 1800), "access", "HS256", 1800)  # no iat: exp - now
    tokens.token_shape(token(iat=now + 600, exp=now + 2400), "access", "HS256", 1800)  # a clock ahead
    assert failure(tokens.token_shape, token("HS512", iat=now, exp=now + 1800), "access", "HS256", 1800) == (
        SHAPE_EXPECTED,
        "alg 'HS512'",
        SHAPE_FIX,
    )
    assert failure(tokens.token_shape, token(iat=now), "access", "HS256", 1800) == (
        SHAPE_EXPECTED,
        "no exp claim: it never expires",
        SHAPE_FIX,
    )
    found = failure(tokens.token_shape, token(iat=now - 100, exp=now - 60), "refresh", "HS256", 86400 * 7)
    assert found[0] == "refresh token signed with HS256, expiring within 10080 min"
    assert found[1] in {f"already expired ({s} s ago): check the server clock" for s in (60, 61)}
    assert failure(tokens.token_shape, token(iat=now, exp=now + 1806), "access", "HS256", 1800) == (
        SHAPE_EXPECTED,
        "expires in 30 min",
        SHAPE_FIX,
    )  # past the 5 s allowance
    assert failure(tokens.token_shape, token("HS384", exp=now + 7200), "access", "HS256", 1800)[1] == (
        "alg 'HS384'; expires in 120 min"
    )
    assert failure(tokens.token_shape, "not.a.jwt", "access", "HS256", 1800) == (
        SHAPE_EXPECTED,
        "not a JWT (DecodeError)",
        "issue JWTs",
    )


def test_issued_tokens_whole_failures() -> None:
    where = {"access_token": "data.access", "refresh_token": "refresh"}
    assert tokens.issued_tokens(
        login(200, {"data": {"access": "a"}, "refresh": "r", "x": 1}), "POST /login", where
    ) == {"access_token": "a", "refresh_token": "r"}
    expected = "POST /login with the test account -> 200 with tokens"
    for answer in (login(401, {"data": {"access": "a"}}), login(200, ["a"])):
        assert failure(tokens.issued_tokens, answer, "POST /login", where) == (
            expected,
            f"status {answer.status}",
            "check the account, the password hashing and the JWT secret the API signs with",
        )
    assert failure(
        tokens.issued_tokens, login(200, {"data": {"access": ""}, "refresh": 5}), "POST /login", where
    ) == (
        expected,
        "status 200 without a token at 'data.access', 'refresh'",
        "declare where the login answer holds its tokens (login.tokens)",
    )


def test_refusal_refresh_and_signature_whole_failures() -> None:
    assert failure(tokens.refused, login(200, {}), "GET /me with the refresh token") == (
        "GET /me with the refresh token -> 401",
        "status 200",
        "check the token's type claim on each route: access tokens for the API, refresh tokens for the "
        "refresh route only",
    )
    tokens.refused(login(401, {}), "GET /me")
    tokens.refreshed(login(200, {"access_token": "a"}), "POST /refresh")
    for answer in (
        login(200, {"access_token": ""}),
        login(201, {"access_token": "a"}),
        login(200, ["x" * 200]),
    ):
        assert failure(tokens.refreshed, answer, "POST /refresh") == (
            "POST /refresh with the refresh token from a login -> 200 with a new access token",
            f"status {answer.status}: {answer.body[:160]}",
            "check the refresh token's lifetime and the key it is signed with; users are logged out when "
            "their access token expires otherwise",
        )
    expired = token(exp=time.time() - 60)
    tokens.signed_with(expired, SECRET, "HS256", "api", "JWT_SECRET_KEY")  # expiry is another check's
    expected = "the access token verifies with api's JWT_SECRET_KEY"
    assert failure(tokens.signed_with, expired, "", "HS256", "api", "JWT_SECRET_KEY") == (
        expected,
        "JWT_SECRET_KEY not set",
        "set JWT_SECRET_KEY in api's configuration",
    )
    assert failure(tokens.signed_with, expired, "t" * 32, "HS256", "api", "JWT_SECRET_KEY") == (
        expected,
        "the signature does not verify: the app signs with another key",
        "make the app sign with JWT_SECRET_KEY (a default or stale key is in use)",
    )
    assert failure(tokens.signed_with, expired, SECRET, "HS512", "api", "JWT_SECRET_KEY") == (
        expected,
        "not verifiable (InvalidAlgorithmError)",
        "issue JWTs signed with the configured secret",
    )

"""Token checks: a login that works, what the issued tokens claim, and each kind refused where the
other belongs. Claims are read without printing the token."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.http import Response


def _at(body: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        body = body.get(key) if isinstance(body, dict) else None
    return body


def issued_tokens(reply: Response, request: str, where: dict[str, str]) -> dict[str, str]:
    """The tokens a login answered with, by name, read where `where` says (name -> dotted path
    into the JSON body); a failed login, or an answer without the access token, fails the check."""
    expected = f"{request} with the test account -> 200 with tokens"
    body = reply.json_object()
    if reply.status != 200 or body is None:
        raise CheckFailed(expected, f"status {reply.status}", "check the account, the password hashing "
                          "and the JWT secret the API signs with")
    found = {name: _at(body, path) for name, path in where.items()}
    issued = {name: value for name, value in found.items() if isinstance(value, str) and value}
    missing = [where[name] for name in where if name not in issued]
    if missing:
        raise CheckFailed(expected, f"status 200 without a token at {', '.join(map(repr, missing))}",
                          "declare where the login answer holds its tokens (login.tokens)")
    return issued


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    import jwt  # PyJWT, where a token is read

    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def token_shape(token: str, kind: str, algorithm: str, max_lifetime_seconds: float) -> None:
    """The token uses the declared algorithm and expires, within the declared lifetime: exp - iat
    where it says when it was issued (a server clock ahead or behind ours does not change that),
    else exp - now."""
    import jwt

    expected = f"{kind} token signed with {algorithm}, expiring within {max_lifetime_seconds / 60:g} min"
    try:
        header, claims = _claims(token)
    except jwt.PyJWTError as error:
        raise CheckFailed(expected, f"not a JWT ({type(error).__name__})", "issue JWTs") from None
    problems = []
    if header.get("alg") != algorithm:
        problems.append(f"alg {header.get('alg')!r}")
    expiry, issued, now = claims.get("exp"), claims.get("iat"), time.time()
    if not isinstance(expiry, (int, float)):
        problems.append("no exp claim: it never expires")
    elif expiry <= now:
        problems.append(f"already expired ({now - expiry:.0f} s ago): check the server clock")
    else:
        lifetime = expiry - issued if isinstance(issued, (int, float)) else expiry - now
        if lifetime > max_lifetime_seconds + 5:
            problems.append(f"expires in {lifetime / 60:.0f} min")
    if problems:
        raise CheckFailed(expected, "; ".join(problems),
                          "set the algorithm and lifetime in the API's token settings")


def refused(reply: Response, request: str) -> None:
    """The request is refused with 401 (a token used where it does not belong)."""
    if reply.status != 401:
        raise CheckFailed(f"{request} -> 401", f"status {reply.status}",
                          "check the token's type claim on each route: access tokens for the API, "
                          "refresh tokens for the refresh route only")


def refreshed(reply: Response, request: str) -> None:
    """The refresh route answers a valid refresh token with a new access token."""
    body = reply.json_object()
    if reply.status != 200 or body is None or not body.get("access_token"):
        raise CheckFailed(f"{request} with the refresh token from a login -> 200 with a new access token",
                          f"status {reply.status}: {reply.body[:160]}",
                          "check the refresh token's lifetime and the key it is signed with; "
                          "users are logged out when their access token expires otherwise")


def signed_with(token: str, secret: str, algorithm: str, app: str, variable: str) -> None:
    """The token's signature verifies with the app's configured secret: an app that signs with
    another key (a default left in code) issues tokens its other services refuse."""
    import jwt

    expected = f"the access token verifies with {app}'s {variable}"
    if not secret:
        raise CheckFailed(expected, f"{variable} not set", f"set {variable} in {app}'s configuration")
    try:
        jwt.decode(token, secret, algorithms=[algorithm], options={"verify_exp": False})
    except jwt.InvalidSignatureError:
        raise CheckFailed(expected, "the signature does not verify: the app signs with another key",
                          f"make the app sign with {variable} (a default or stale key is in use)") from None
    except jwt.PyJWTError as error:
        raise CheckFailed(expected, f"not verifiable ({type(error).__name__})",
                          "issue JWTs signed with the configured secret") from None

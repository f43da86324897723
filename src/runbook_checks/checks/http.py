"""Checks over HTTP responses: health, CORS, cookies, clocks, input validation, signed endpoints."""

from __future__ import annotations

import email.utils
import statistics
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    import setcookie

    from runbook_checks.targets.http import Response


def _field(body: Any, path: str) -> Any:
    """`checks.database.status` read from nested JSON objects (None where it is missing)."""
    for part in path.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def health_reports(responses: list[Response], path: str, fields: dict[str, str],
                   limit_ms: float) -> None:
    """Every answer of the sample is 200 with each expected field (dotted paths reach into
    components), median latency under the limit: an endpoint that flaps between healthy and not
    fails, whichever answer came last."""
    expected = f"GET {path} -> 200 with {fields} in under {limit_ms:g} ms"
    problems = [problem for problem in (_health_problem(r, fields) for r in responses) if problem]
    if problems:
        found = "\n".join(dict.fromkeys(found for found, _ in problems))
        raise CheckFailed(expected, f"{found} ({len(problems)} of {len(responses)} answers)", problems[0][1])
    latency_under(responses, f"GET {path}", limit_ms)


def _health_problem(reply: Response, fields: dict[str, str]) -> tuple[str, str] | None:
    """What is wrong with one health answer, and its fix; None when it is healthy."""
    if reply.status != 200:
        return (f"status {reply.status}: {reply.body[:200]}",
                "read the app's log; the health body names the failing component")
    try:
        body = reply.json()
    except ValueError:
        return f"a body that is not JSON: {reply.body[:200]!r}", "the health endpoint must answer JSON"
    wrong = [f"{k}={_field(body, k)!r} (want {v!r})" for k, v in fields.items() if _field(body, k) != v]
    if wrong:
        return ("; ".join(wrong),
                "a component reports an error: check the app's database DSN and role, then restart the app")
    return None


def latency_under(responses: list[Response], request: str, limit_ms: float) -> None:
    """The median time of a few answers is under the limit (one slow outlier does not fail it)."""
    median_ms = statistics.median(r.seconds for r in responses) * 1000
    if median_ms > limit_ms:
        raise CheckFailed(f"{request} answered in under {limit_ms:g} ms (median)",
                          f"median {median_ms:.0f} ms over {len(responses)} call(s)",
                          "profile the handler: its database round trips, missing indexes, cold caches")


def answers_status(reply: Response, request: str, status: int) -> None:
    """The endpoint answers with the expected status."""
    if reply.status != status:
        raise CheckFailed(f"{request} -> {status}", f"status {reply.status}: {reply.body[:200]}",
                          "read the app's log; a failed build or a crash at start are the usual causes")


def answers_json(reply: Response, request: str) -> None:
    """The endpoint answers 200 with a JSON object."""
    if reply.status != 200 or reply.json_object() is None:
        raise CheckFailed(f"{request} -> 200 with a JSON object",
                          f"status {reply.status}: {reply.body[:200]}",
                          "read the app's log for the error; a missing auth secret is the usual cause")


def served_from_cache(reply: Response, request: str) -> None:
    """A repeated request is answered from the cache (X-Cache: HIT); an error answer is not."""
    if not 200 <= reply.status < 300:
        raise CheckFailed(f"{request}, asked twice, answered from the cache the second time",
                          f"status {reply.status}: {reply.body[:200]}",
                          "an error is never cached: read the app's log for what failed")
    state = reply.headers.get("X-Cache")
    if state != "HIT":
        raise CheckFailed(f"{request}, asked twice, answered from the cache the second time",
                          f"X-Cache: {state or 'absent'}",
                          "configure the cache (its Redis URL and token) and a TTL above zero, then redeploy")


_FRIENDS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": None, "Referrer-Policy": None}


def security_headers(reply: Response, request: str, require_hsts: bool, hsts_min_seconds: int) -> None:
    """The answer carries the usual security headers; HSTS with a long max-age where required."""
    problems = [f"{name} missing" for name in _FRIENDS if name not in reply.headers]
    problems += [f"{name}: {reply.headers[name]!r}, not {value!r}" for name, value in _FRIENDS.items()
                 if value and name in reply.headers and reply.headers[name].lower() != value]
    if require_hsts:
        hsts = reply.headers.get("Strict-Transport-Security", "")
        ages = [int(part.split("=", 1)[1]) for part in hsts.replace(" ", "").split(";")
                if part.lower().startswith("max-age=") and part.split("=", 1)[1].isdigit()]
        if not hsts:
            problems.append("Strict-Transport-Security missing")
        elif not ages or ages[0] < hsts_min_seconds:
            problems.append(f"Strict-Transport-Security {hsts!r}: max-age under {hsts_min_seconds}")
    if problems:
        wanted = ", ".join(_FRIENDS) + (", Strict-Transport-Security" if require_hsts else "")
        raise CheckFailed(f"{request} answers with {wanted}", "; ".join(problems),
                          "add the headers in the TLS proxy (nginx add_header ... always) or the app")


def discovery_document(reply: Response, issuer: str) -> None:
    """The OpenID provider's discovery document answers and names this issuer, exactly as the app
    has it (OpenID Connect Discovery compares issuers character for character, trailing slash
    included), and its endpoints."""
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    body = reply.json_object()
    problems = []
    if reply.status != 200 or body is None:
        problems.append(f"status {reply.status}: {reply.body[:160]}")
    else:
        if body.get("issuer") != issuer:
            problems.append(f"issuer {body.get('issuer')!r}")
        problems += [f"no {key}" for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                     if not body.get(key)]
    if problems:
        raise CheckFailed(f"GET {url} -> 200 naming issuer {issuer} and its endpoints", "; ".join(problems),
                          "check the provider's status, then the issuer URL in the app's configuration")


def jobs_healthy(reply: Response, request: str) -> None:
    """Every scheduled job last ran successfully and has a next run."""
    jobs = (reply.json_object() or {}).get("jobs")
    if reply.status != 200 or not isinstance(jobs, list) or not jobs:
        raise CheckFailed(f"{request} -> 200 listing the scheduled jobs", f"status {reply.status}",
                          "start the scheduler with the API; check that the account is an admin")
    problems = [f"{job.get('id')}: last run {job.get('last_run_status')}" for job in jobs
                if job.get("last_run_status") != "success"]
    problems += [f"{job.get('id')}: no next run" for job in jobs if not job.get("next_run_time")]
    if problems:
        raise CheckFailed(f"{len(jobs)} scheduled job(s) healthy", "; ".join(problems),
                          "read the job's failure in the log (job_failed), fix it and run it once by hand")


def cors_allows(reply: Response, origin: str, path: str) -> None:
    """A preflight from `origin` is allowed with that exact origin; never `*` with credentials."""
    allowed = reply.headers.get("Access-Control-Allow-Origin")
    credentials = reply.headers.get("Access-Control-Allow-Credentials", "").lower() == "true"
    expected = f"OPTIONS {path} from {origin} allowed for exactly that origin"
    if allowed == "*" and credentials:
        raise CheckFailed(expected, "Access-Control-Allow-Origin: * with credentials (browsers refuse it)",
                          f"list the exact origins in the API's CORS setting ({origin})")
    if not 200 <= reply.status < 300:
        fix = ("answer OPTIONS on the API itself with 200 or 204 (no redirect, no auth)"
               if 300 <= reply.status < 400 or reply.status in (401, 404, 405) else
               f"add {origin} to the API's allowed origins (CORS_ORIGINS) exactly as browsers send it "
               "(scheme, host, port, no trailing slash), then restart it")
        raise CheckFailed(expected, f"status {reply.status}: browsers fail a preflight that is not 2xx "
                          f"(Access-Control-Allow-Origin: {allowed!r})", fix)
    if allowed != origin:
        raise CheckFailed(expected, f"status {reply.status}, Access-Control-Allow-Origin: {allowed!r}",
                          f"add {origin} to the API's allowed origins (CORS_ORIGINS) and restart it")


def cors_refuses(reply: Response, origin: str, path: str) -> None:
    """A preflight from an origin nobody declared is not allowed."""
    allowed = reply.headers.get("Access-Control-Allow-Origin")
    if allowed in (origin, "*"):
        raise CheckFailed(f"OPTIONS {path} from {origin} (undeclared) refused",
                          f"Access-Control-Allow-Origin: {allowed}",
                          "allow only the declared origins, never a wildcard or the request's echo")


def clock_within(reply: Response, tolerance_seconds: float, app: str, received: float | None = None) -> None:
    """The server's clock (its Date header) agrees with ours (`received`: when the answer came,
    now by default) within the tolerance."""
    header = reply.headers.get("Date")
    parsed = email.utils.parsedate_to_datetime(header).timestamp() if header else None
    received = time.time() if received is None else received
    expected = f"{app}'s clock within {tolerance_seconds:g} s of ours"
    if parsed is None:
        raise CheckFailed(expected, "no Date header", "let the server send a Date header")
    skew = parsed - received
    if abs(skew) > tolerance_seconds + 1:  # the header has whole seconds
        raise CheckFailed(expected, f"{skew:+.0f} s off", "synchronise the server's clock (NTP); "
                          "tokens issued by a skewed clock expire at once or too late")


def validation_refused(reply: Response, request: str) -> None:
    """Bad input gets 400 with a validation body, never a 500."""
    expected = f"{request} -> 400 with a validation error"
    if reply.status >= 500:
        raise CheckFailed(expected, f"status {reply.status}: {reply.body[:200]}",
                          "validate the input (a schema) before using it; a crash is a 500")
    body = reply.json_object()
    if reply.status != 400 or body is None or "error" not in body:
        raise CheckFailed(expected, f"status {reply.status}: {reply.body[:200]}",
                          "answer 400 with an error body that names the field")


def cookies_set(reply: Response) -> list[setcookie.Cookie]:
    """The cookies an answer sets, each Set-Cookie header read as a browser reads it (RFC 6265bis):
    for one name, path and domain the last header wins; a line a browser ignores, or one that
    deletes its cookie (an expiry in the past), sets nothing."""
    import setcookie  # imported where cookies are read

    now = datetime.now(UTC)
    kept: dict[tuple[str, str | None, str | None], setcookie.Cookie] = {}
    for header in reply.cookies:
        try:
            cookie = setcookie.parse(header)
        except setcookie.CookieError:
            continue
        key = (cookie.name, cookie.path, cookie.domain)
        deleted = (cookie.max_age is not None and cookie.max_age <= 0) or (
            cookie.max_age is None and cookie.expires is not None and cookie.expires <= now)
        kept.pop(key, None)
        if not deleted:
            kept[key] = cookie
    return list(kept.values())


def cookie_flags(reply: Response, source: str, same_site: str, secure: bool) -> None:
    """Every cookie the auth route sets is HttpOnly, SameSite as declared, and Secure where
    required (an auth library applies one policy: before sign-in, NextAuth sets its CSRF and
    callback cookies with the options its session cookie gets). No cookie at all fails: there is
    nothing to judge the policy by."""
    expected = f"every cookie {source} sets: HttpOnly, SameSite={same_site}" + (", Secure" if secure else "")
    cookies = cookies_set(reply)
    if not cookies:
        raise CheckFailed(expected, f"{source} (status {reply.status}) sets no cookie",
                          "check the auth route, its secret and its cookie configuration")
    problems = []
    for cookie in cookies:
        found = []
        if not cookie.http_only:
            found.append("not HttpOnly (scripts can read it)")
        if (cookie.same_site or "").lower() != same_site.lower():
            found.append(f"SameSite={cookie.same_site or 'unset'}")
        if secure and not cookie.secure:
            found.append("not Secure")
        if found:
            problems.append(f"{cookie.name}: {', '.join(found)}")
    if problems:
        raise CheckFailed(expected, "; ".join(problems),
                          "set the cookie options (httpOnly, sameSite, secure) in the auth configuration")


def refused_unsigned(reply: Response, request: str) -> None:
    """A call without a valid signature is refused with 401."""
    if reply.status != 401:
        raise CheckFailed(f"{request} without a signature -> 401",
                          f"status {reply.status}: {reply.body[:200]}",
                          "verify the request signature with both signing keys before doing any work")


def rate_limited(replies: list[Response], request: str) -> None:
    """Repeated failed attempts end in a 429 (the limiter works)."""
    statuses = [r.status for r in replies]
    if 429 not in statuses:
        raise CheckFailed(f"{request} refused with 429 within {len(replies)} attempts",
                          f"statuses: {', '.join(map(str, statuses))}",
                          "enable the login rate limit (e.g. 5/minute per client) and restart the API")


def rate_limit_headers(reply: Response, request: str) -> None:
    """Responses carry the limiter's headers (X-RateLimit-Limit and -Remaining)."""
    missing = [h for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining") if h not in reply.headers]
    if missing:
        raise CheckFailed(f"{request} answers with rate-limit headers", "missing: " + ", ".join(missing),
                          "configure the rate limiter (its Redis URL and token) and redeploy")

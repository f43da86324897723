"""HTTP checks over hand-made answers: each passes on a healthy answer and fails, with its message,
on the breakage it is for, at its boundaries."""

from __future__ import annotations

import email.utils
import json
import time
from datetime import datetime, tzinfo

import pytest

from runbook_checks.checks import http
from runbook_checks.errors import CheckFailed
from runbook_checks.targets.http import Response
from tests.failures import failure


def reply(status: int = 200, body: object = None, seconds: float = 0.01) -> Response:
    text = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return Response(status, {"Content-Type": "application/json"}, text, seconds)


def test_latency_is_the_median_and_the_limit_is_allowed() -> None:
    http.latency_under([reply(seconds=s) for s in (0.1, 0.5, 9.0)], "GET /", 500)  # one outlier
    with pytest.raises(CheckFailed, match="median 501 ms over 3 call"):
        http.latency_under([reply(seconds=s) for s in (0.1, 0.501, 9.0)], "GET /", 500)


def test_status_and_json_answers() -> None:
    http.answers_status(reply(204, ""), "GET /", 204)
    with pytest.raises(CheckFailed, match="status 200: "):
        http.answers_status(reply(200), "GET /", 204)
    http.answers_json(reply(200, {"ok": True}), "GET /")
    with pytest.raises(CheckFailed, match="status 200: \\[1\\]"):
        http.answers_json(reply(200, [1]), "GET /")  # JSON, but not an object
    with pytest.raises(CheckFailed, match="status 201"):
        http.answers_json(reply(201, {"ok": True}), "GET /")


def test_scheduled_jobs() -> None:
    healthy = {"jobs": [{"id": "a", "last_run_status": "success", "next_run_time": "soon"}]}
    http.jobs_healthy(reply(200, healthy), "GET /jobs")
    broken = {"jobs": [{"id": "a", "last_run_status": "failed", "next_run_time": "soon"},
                       {"id": "b", "last_run_status": "success", "next_run_time": None}]}
    with pytest.raises(CheckFailed, match="a: last run failed; b: no next run"):
        http.jobs_healthy(reply(200, broken), "GET /jobs")
    for answer in (reply(200, {"jobs": []}), reply(403, healthy), reply(200, {"jobs": "x"})):
        with pytest.raises(CheckFailed, match="listing the scheduled jobs"):
            http.jobs_healthy(answer, "GET /jobs")


def test_bad_input_is_refused_with_a_validation_error() -> None:
    http.validation_refused(reply(400, {"error": "Validation error"}), "GET /stats")
    with pytest.raises(CheckFailed, match="status 500: boom") as crashed:
        http.validation_refused(reply(500, "boom"), "GET /stats")
    assert "a crash is a 500" in crashed.value.fix
    for answer in (reply(200, {"range": "week"}), reply(400, {"detail": "x"}), reply(422, {"error": "x"}),
                   reply(400, "not json")):
        with pytest.raises(CheckFailed, match="-> 400 with a validation error"):
            http.validation_refused(answer, "GET /stats")


def test_unsigned_calls_are_refused_with_401_only() -> None:
    http.refused_unsigned(reply(401, {"error": "Invalid signature"}), "POST /cron")
    for status in (200, 403, 405, 500):
        with pytest.raises(CheckFailed, match=f"status {status}"):
            http.refused_unsigned(reply(status), "POST /cron")


def test_failed_logins_end_in_429() -> None:
    http.rate_limited([reply(401), reply(401), reply(429)], "POST /login")
    with pytest.raises(CheckFailed, match="statuses: 401, 401, 401") as caught:
        http.rate_limited([reply(401)] * 3, "POST /login")
    assert "within 3 attempts" in caught.value.expected


def answer(status: int = 200, headers: dict[str, str] | None = None, body: str = "",
           seconds: float = 0.01) -> Response:
    return Response(status, headers or {}, body, seconds)


ORIGIN = "https://web.example"
CORS_EXPECTED = f"OPTIONS /items from {ORIGIN} allowed for exactly that origin"
CORS_ADD = (f"add {ORIGIN} to the API's allowed origins (CORS_ORIGINS) exactly as browsers send it (scheme, "
            "host, port, no trailing slash), then restart it")
CORS_ANSWER_ITSELF = "answer OPTIONS on the API itself with 200 or 204 (no redirect, no auth)"


def test_cors_preflight_whole_failures() -> None:
    for status in (200, 204, 299):
        http.cors_allows(answer(status, {"Access-Control-Allow-Origin": ORIGIN}), ORIGIN, "/items")
    http.cors_allows(answer(200, {"Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Credentials":
                                  "TRUE"}), ORIGIN, "/items")  # credentials with the exact origin
    wildcard = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "True"}
    assert failure(http.cors_allows, answer(200, wildcard), ORIGIN, "/items") == (
        CORS_EXPECTED, "Access-Control-Allow-Origin: * with credentials (browsers refuse it)",
        f"list the exact origins in the API's CORS setting ({ORIGIN})")
    assert failure(http.cors_allows, answer(200, {"Access-Control-Allow-Origin": "*"}), ORIGIN, "/items") == (
        CORS_EXPECTED, "status 200, Access-Control-Allow-Origin: '*'",
        f"add {ORIGIN} to the API's allowed origins (CORS_ORIGINS) and restart it")
    assert failure(http.cors_allows, answer(204), ORIGIN, "/items")[1] == (
        "status 204, Access-Control-Allow-Origin: None")
    for status, fix in ((199, CORS_ADD), (300, CORS_ANSWER_ITSELF), (301, CORS_ANSWER_ITSELF),
                        (399, CORS_ANSWER_ITSELF), (400, CORS_ADD), (401, CORS_ANSWER_ITSELF),
                        (402, CORS_ADD), (403, CORS_ADD), (404, CORS_ANSWER_ITSELF),
                        (405, CORS_ANSWER_ITSELF), (406, CORS_ADD), (500, CORS_ADD)):
        assert failure(http.cors_allows, answer(status, {"Access-Control-Allow-Origin": ORIGIN}), ORIGIN,
                       "/items") == (
            CORS_EXPECTED, f"status {status}: browsers fail a preflight that is not 2xx "
            f"(Access-Control-Allow-Origin: '{ORIGIN}')", fix), status


def test_cors_refuses_strangers_whole_failure() -> None:
    http.cors_refuses(answer(200, {"Access-Control-Allow-Origin": ORIGIN}), "https://evil.example", "/items")
    http.cors_refuses(answer(400), "https://evil.example", "/items")
    for allowed in ("https://evil.example", "*"):
        assert failure(http.cors_refuses, answer(200, {"Access-Control-Allow-Origin": allowed}),
                       "https://evil.example", "/items") == (
            "OPTIONS /items from https://evil.example (undeclared) refused",
            f"Access-Control-Allow-Origin: {allowed}",
            "allow only the declared origins, never a wildcard or the request's echo")


ISSUER = "https://idp.example/"
DISCOVERY = {"issuer": ISSUER, "authorization_endpoint": "a", "token_endpoint": "t", "jwks_uri": "j"}


def test_discovery_document_whole_failures() -> None:
    http.discovery_document(reply(200, DISCOVERY), ISSUER)
    expected = ("GET https://idp.example/.well-known/openid-configuration -> 200 naming issuer "
                "https://idp.example/ and its endpoints")
    fix = "check the provider's status, then the issuer URL in the app's configuration"
    assert failure(http.discovery_document, reply(200, {**DISCOVERY, "issuer": "https://idp.example"}),
                   ISSUER) == (expected, "issuer 'https://idp.example'", fix)
    assert failure(http.discovery_document, reply(200, {"issuer": ISSUER, "jwks_uri": ""}), ISSUER)[1] == (
        "no authorization_endpoint; no token_endpoint; no jwks_uri")
    assert failure(http.discovery_document, reply(503, "x" * 300), ISSUER)[1] == f"status 503: {'x' * 160}"
    assert failure(http.discovery_document, reply(200, [DISCOVERY]), ISSUER)[1].startswith("status 200: [")
    assert failure(http.discovery_document, reply(201, DISCOVERY), ISSUER)[1].startswith("status 201: {")
    # only the trailing slash goes before the well-known path
    tenant = "https://idp.example/tenant-X/"
    assert failure(http.discovery_document, reply(200, DISCOVERY), tenant)[0] == (
        f"GET https://idp.example/tenant-X/.well-known/openid-configuration -> 200 naming issuer {tenant} "
        "and its endpoints")


def test_health_whole_failures() -> None:
    fields = {"status": "healthy", "checks.database.status": "healthy"}
    good = {"status": "healthy", "checks": {"database": {"status": "healthy"}}}
    http.health_reports([reply(200, good, 0.1)] * 3, "/health", fields, 500)
    expected = f"GET /health -> 200 with {fields} in under 500 ms"
    bad = {"status": "degraded", "checks": {"database": "down"}}
    assert failure(http.health_reports, [reply(200, good), reply(200, bad), reply(200, bad)], "/health",
                   fields, 500) == (
        expected, "status='degraded' (want 'healthy'); checks.database.status=None (want 'healthy') "
        "(2 of 3 answers)",
        "a component reports an error: check the app's database DSN and role, then restart the app")
    assert failure(http.health_reports, [reply(503, "y" * 300), reply(200, "not json")], "/health", fields,
                   500) == (
        expected, f"status 503: {'y' * 200}\na body that is not JSON: 'not json' (2 of 2 answers)",
        "read the app's log; the health body names the failing component")
    assert failure(http.health_reports, [reply(200, "<html>")], "/health", fields, 500)[2] == (
        "the health endpoint must answer JSON")
    assert failure(http.health_reports, [reply(200, "<" * 300)], "/health", fields, 500) == (
        expected, f"a body that is not JSON: {'<' * 200!r} (1 of 1 answers)",
        "the health endpoint must answer JSON")
    assert failure(http.health_reports, [reply(200, good, 0.7)], "/health", fields, 500) == (
        "GET /health answered in under 500 ms (median)", "median 700 ms over 1 call(s)",
        "profile the handler: its database round trips, missing indexes, cold caches")
    http.health_reports([reply(200, good, 0.5)], "/health", fields, 500)  # the limit itself passes


def test_status_json_and_jobs_whole_failures() -> None:
    assert failure(http.answers_status, reply(500, "z" * 300), "GET /", 200) == (
        "GET / -> 200", f"status 500: {'z' * 200}",
        "read the app's log; a failed build or a crash at start are the usual causes")
    assert failure(http.answers_json, reply(500, "z" * 300), "GET /api") == (
        "GET /api -> 200 with a JSON object", f"status 500: {'z' * 200}",
        "read the app's log for the error; a missing auth secret is the usual cause")
    assert failure(http.jobs_healthy, reply(403, {}), "GET /jobs") == (
        "GET /jobs -> 200 listing the scheduled jobs", "status 403",
        "start the scheduler with the API; check that the account is an admin")
    broken = {"jobs": [{"id": "a", "last_run_status": "failed", "next_run_time": "soon"},
                       {"id": "b", "last_run_status": "success", "next_run_time": None}]}
    assert failure(http.jobs_healthy, reply(200, broken), "GET /jobs") == (
        "2 scheduled job(s) healthy", "a: last run failed; b: no next run",
        "read the job's failure in the log (job_failed), fix it and run it once by hand")
    http.jobs_healthy(reply(200, {"jobs": [{"id": "a", "last_run_status": "success", "next_run_time": "x"}]}),
                      "GET /jobs")


def test_cache_security_headers_and_limits_whole_failures() -> None:
    http.served_from_cache(answer(200, {"X-Cache": "HIT"}), "GET /stats")
    http.served_from_cache(answer(299, {"X-Cache": "HIT"}), "GET /stats")
    expected = "GET /stats, asked twice, answered from the cache the second time"
    assert failure(http.served_from_cache, answer(200, {"X-Cache": "MISS"}), "GET /stats") == (
        expected, "X-Cache: MISS", "configure the cache (its Redis URL and token) and a TTL above zero, then "
        "redeploy")
    assert failure(http.served_from_cache, answer(200), "GET /stats")[1] == "X-Cache: absent"
    for status in (199, 300):
        broken = answer(status, {"X-Cache": "HIT"}, "e" * 300)
        assert failure(http.served_from_cache, broken, "GET /stats") == (
            expected, f"status {status}: {'e' * 200}",
            "an error is never cached: read the app's log for what failed")
    friends = {"X-Content-Type-Options": "NoSniff", "X-Frame-Options": "DENY",
               "Referrer-Policy": "no-referrer"}
    http.security_headers(answer(200, friends), "GET /", False, 100)
    http.security_headers(answer(200, {**friends, "Strict-Transport-Security": "max-age=100; preload"}),
                          "GET /", True, 100)
    wanted = "GET / answers with X-Content-Type-Options, X-Frame-Options, Referrer-Policy"
    fix = "add the headers in the TLS proxy (nginx add_header ... always) or the app"
    assert failure(http.security_headers, answer(200, {"X-Content-Type-Options": "sniff"}), "GET /", False,
                   100) == (
        wanted, "X-Frame-Options missing; Referrer-Policy missing; X-Content-Type-Options: 'sniff', not "
        "'nosniff'", fix)
    for hsts, found in (("", "Strict-Transport-Security missing"),
                        ("max-age=99", "Strict-Transport-Security 'max-age=99': max-age under 100"),
                        ("includeSubDomains",
                         "Strict-Transport-Security 'includeSubDomains': max-age under 100"),
                        ("max-age=abc", "Strict-Transport-Security 'max-age=abc': max-age under 100"),
                        ("max-age=100=1", "Strict-Transport-Security 'max-age=100=1': max-age under 100")):
        headers = {**friends, **({"Strict-Transport-Security": hsts} if hsts else {})}
        assert failure(http.security_headers, answer(200, headers), "GET /", True, 100) == (
            wanted + ", Strict-Transport-Security", found, fix)
    http.security_headers(answer(200, {**friends, "Strict-Transport-Security": "Max-Age = 200"}), "GET /",
                          True, 100)
    assert failure(http.rate_limited, [answer(401), answer(403)], "POST /login") == (
        "POST /login refused with 429 within 2 attempts", "statuses: 401, 403",
        "enable the login rate limit (e.g. 5/minute per client) and restart the API")
    http.rate_limited([answer(401), answer(429)], "POST /login")
    assert failure(http.rate_limit_headers, answer(200, {"X-RateLimit-Limit": "5"}), "GET /") == (
        "GET / answers with rate-limit headers", "missing: X-RateLimit-Remaining",
        "configure the rate limiter (its Redis URL and token) and redeploy")
    http.rate_limit_headers(answer(200, {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"}), "GET /")
    assert failure(http.rate_limit_headers, answer(200), "GET /")[1] == (
        "missing: X-RateLimit-Limit, X-RateLimit-Remaining")


def with_cookies(*headers: str, status: int = 200) -> Response:
    return Response(status, {}, "", 0.0, tuple(headers))


COOKIE_EXPECTED = "every cookie GET /session sets: HttpOnly, SameSite=Lax"
COOKIE_FIX = "set the cookie options (httpOnly, sameSite, secure) in the auth configuration"


def test_cookies_as_a_browser_keeps_them() -> None:
    kept = http.cookies_set(with_cookies(
        "a=1; Path=/; HttpOnly", "a=2; Path=/", "b=1; Path=/x", "b=2; Path=/y", "c=1; Max-Age=0",
        "d=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "e=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "f=1; Max-Age=60", "a=3; Path=/; Domain=example.com", "=; ;", "g=1; Max-Age=-5"))
    assert [(c.name, c.value, c.path) for c in kept] == [
        ("a", "2", "/"), ("b", "1", "/x"), ("b", "2", "/y"), ("e", "1", None), ("f", "1", None),
        ("a", "3", "/")]
    assert http.cookies_set(with_cookies("a=1; Path=/", "a=1; Path=/; Max-Age=0")) == []  # deleted
    # a line a browser ignores does not end the reading; a Max-Age of one second keeps the cookie
    kept = http.cookies_set(with_cookies("=; ;", "h=1; Max-Age=1"))
    assert [(c.name, c.value) for c in kept] == [("h", "1")]


def test_a_cookie_that_expires_now_is_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            return cls(2026, 1, 1, tzinfo=tz)

    monkeypatch.setattr(http, "datetime", Frozen)
    kept = http.cookies_set(with_cookies("a=1; Expires=Thu, 01 Jan 2026 00:00:00 GMT",
                                         "b=1; Expires=Thu, 01 Jan 2026 00:00:01 GMT"))
    assert [c.name for c in kept] == ["b"]


def test_cookie_flags_whole_failures() -> None:
    http.cookie_flags(with_cookies("s=1; HttpOnly; SameSite=lax", "t=2; HttpOnly; SameSite=Lax"),
                      "GET /session", "Lax", secure=False)
    http.cookie_flags(with_cookies("s=1; HttpOnly; SameSite=Strict; Secure"), "GET /session", "strict", True)
    assert failure(http.cookie_flags, with_cookies(status=302), "GET /session", "Lax", False) == (
        COOKIE_EXPECTED, "GET /session (status 302) sets no cookie",
        "check the auth route, its secret and its cookie configuration")
    assert failure(http.cookie_flags, with_cookies("s=1; SameSite=None", "t=1; HttpOnly", "u=1; HttpOnly; "
                                                   "SameSite=Lax"), "GET /session", "Lax", True) == (
        COOKIE_EXPECTED + ", Secure",
        "s: not HttpOnly (scripts can read it), SameSite=None, not Secure; t: SameSite=unset, not Secure; "
        "u: not Secure", COOKIE_FIX)
    last_wins = with_cookies("s=1; HttpOnly; SameSite=Lax; Secure", "s=2; SameSite=Lax")
    assert failure(http.cookie_flags, last_wins, "GET /session", "Lax", False)[1] == (
        "s: not HttpOnly (scripts can read it)")


def test_clock_validation_and_signatures_whole_failures() -> None:
    def dated(offset: float) -> Response:
        return answer(200, {"Date": email.utils.formatdate(time.time() + offset, usegmt=True)})

    http.clock_within(dated(0), 30, "api")
    http.clock_within(dated(30.5), 30, "api")  # whole seconds in the header: one more is allowed
    expected = "api's clock within 30 s of ours"
    fix = "synchronise the server's clock (NTP); tokens issued by a skewed clock expire at once or too late"
    ahead = failure(http.clock_within, dated(300), 30, "api")
    behind = failure(http.clock_within, dated(-300), 30, "api")
    assert ahead in {(expected, f"+{s} s off", fix) for s in (299, 300)}
    assert behind in {(expected, f"-{s} s off", fix) for s in (300, 301)}
    assert failure(http.clock_within, answer(200), 30, "api") == (
        expected, "no Date header", "let the server send a Date header")
    http.validation_refused(reply(400, {"error": "Validation error"}), "GET /stats")
    expected = "GET /stats -> 400 with a validation error"
    for status in (500, 502):
        assert failure(http.validation_refused, reply(status, "c" * 300), "GET /stats") == (
            expected, f"status {status}: {'c' * 200}",
            "validate the input (a schema) before using it; a crash is a 500")
    for bad in (reply(200, {"error": "x"}), reply(400, "plain"), reply(400, {"detail": "x"}),
                reply(499, "x" * 300)):
        assert failure(http.validation_refused, bad, "GET /stats") == (
            expected, f"status {bad.status}: {bad.body[:200]}",
            "answer 400 with an error body that names the field")
    http.refused_unsigned(reply(401, {}), "POST /cron")
    assert failure(http.refused_unsigned, reply(200, "k" * 300), "POST /cron") == (
        "POST /cron without a signature -> 401", f"status 200: {'k' * 200}",
        "verify the request signature with both signing keys before doing any work")


def test_clock_skew_at_the_tolerance_against_a_given_receipt_time() -> None:
    sent = 1_700_000_000
    dated = answer(200, {"Date": email.utils.formatdate(sent, usegmt=True)})
    expected = "api's clock within 30 s of ours"
    fix = "synchronise the server's clock (NTP); tokens issued by a skewed clock expire at once or too late"
    for received in (sent, sent - 31, sent + 31):  # a second over the tolerance is the header's rounding
        http.clock_within(dated, 30, "api", received=received)
    assert failure(http.clock_within, dated, 30, "api", received=sent - 31.25) == (expected, "+31 s off", fix)
    assert failure(http.clock_within, dated, 30, "api", received=sent + 31.25) == (expected, "-31 s off", fix)

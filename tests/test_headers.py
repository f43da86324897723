"""Header names are case-insensitive: against a real Starlette app (lower-case names), the HTTP
checks give the verdicts a browser would, healthy and broken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_checks.checks import http
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed
from runbook_checks.targets.http import HttpTarget, Response
from tests.apps.starlette_headers import WEB_ORIGIN
from tests.servers import uvicorn_app

FAST = Timeouts(connect_seconds=1, http_seconds=3, http_retries=0)
STRANGER = "https://stranger.example"


def preflight(client: HttpTarget, origin: str) -> Response:
    return client.request("OPTIONS", "/items", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpTarget]:
    with uvicorn_app("tests.apps.starlette_headers:app", tmp_path_factory.mktemp("app") / "log") as url:
        yield HttpTarget("api", url, FAST, allow_state_changes=False)


def test_lower_case_names_reach_the_checks(app: HttpTarget) -> None:
    reply = preflight(app, WEB_ORIGIN)
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    http.cors_allows(reply, WEB_ORIGIN, "/items")
    http.cors_refuses(preflight(app, STRANGER), STRANGER, "/items")
    answer = app.get("/items")
    http.security_headers(answer, "GET /items", require_hsts=False, hsts_min_seconds=0)
    http.rate_limit_headers(answer, "GET /items")
    http.clock_within(answer, 30, "api")


def test_a_stranger_origin_allowed_is_caught(tmp_path: Path) -> None:
    with uvicorn_app("tests.apps.starlette_headers:app", tmp_path / "log", {"STRANGER_ALLOWED": "1"}) as url:
        client = HttpTarget("api", url, FAST, allow_state_changes=False)
        reply = preflight(client, STRANGER)
        assert reply.headers["access-control-allow-origin"] == STRANGER  # Starlette echoes it
        with pytest.raises(CheckFailed, match="Access-Control-Allow-Origin: https://stranger.example"):
            http.cors_refuses(reply, STRANGER, "/items")


def test_headers_are_matched_without_regard_to_case() -> None:
    reply = Response(200, {"x-cache": "HIT", "DATE": "Sun, 29 Nov 2026 15:00:00 GMT"}, "", 0.0)
    assert reply.headers["X-Cache"] == "HIT" and reply.headers.get("date")
    http.served_from_cache(reply, "GET /stats")


def test_an_error_answer_is_not_taken_for_a_cache_miss() -> None:
    reply = Response(503, {"X-Cache": "MISS"}, '{"error": "Stats unavailable"}', 0.0)
    with pytest.raises(CheckFailed, match="status 503: .*Stats unavailable"):
        http.served_from_cache(reply, "GET /stats")


def test_every_cookie_of_the_auth_route_is_judged(app: HttpTarget, tmp_path: Path) -> None:
    healthy = app.get("/session")
    assert len(healthy.cookies) == 2
    http.cookie_flags(healthy, "GET /session", "Lax", secure=False)
    with pytest.raises(CheckFailed, match=r"auth.csrf-token: not Secure; auth.callback-url: not Secure"):
        http.cookie_flags(healthy, "GET /session", "Lax", secure=True)
    with pytest.raises(CheckFailed, match="sets no cookie"):
        http.cookie_flags(app.get("/items"), "GET /items", "Lax", secure=False)
    with uvicorn_app("tests.apps.starlette_headers:app", tmp_path / "log", {"CALLBACK_READABLE": "1"}) as url:
        broken = HttpTarget("api", url, FAST, allow_state_changes=False).get("/session")
        with pytest.raises(CheckFailed, match=r"found +auth.callback-url: not HttpOnly") as failure:
            http.cookie_flags(broken, "GET /session", "Lax", secure=False)
        assert "auth.csrf-token" not in str(failure.value)


def test_no_cookie_carries_over_between_requests(app: HttpTarget) -> None:
    assert app.get("/session").cookies
    assert app.get("/cookies").json() == {}  # the client kept nothing to send back


def test_cookies_are_read_as_a_browser_reads_them(app: HttpTarget, tmp_path: Path) -> None:
    reply = app.get("/cookies/browser-cases")
    assert sorted(c.name for c in http.cookies_set(reply)) == ["csrf", "pkce", "state"]  # "gone" deletes
    http.cookie_flags(reply, "GET /cookies/browser-cases", "Lax", secure=False)
    with uvicorn_app("tests.apps.starlette_headers:app", tmp_path / "log", {"LAST_READABLE": "1"}) as url:
        last = HttpTarget("api", url, FAST, allow_state_changes=False).get("/cookies/browser-cases")
        with pytest.raises(CheckFailed, match=r"found +csrf: not HttpOnly") as failure:
            http.cookie_flags(last, "GET /cookies/browser-cases", "Lax", secure=False)
        assert "state" not in str(failure.value) and "pkce" not in str(failure.value)

"""The stand-in HTTP apps of the five systems. Each takes its configuration from its process
environment at start, where the stack put its env file's values (as compose's env_file does), and
behaves from that configuration.

Run as: python -m runbook_harness.apps NAME --port PORT
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from runbook_harness.fastapi_apps import FASTAPI_APPS, database_ok, flag
from runbook_harness.fastapi_apps import serve as serve_fastapi

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    client: str = ""
    body: bytes = b""


Handler = Callable[[Request], Reply]
Routes = dict[tuple[str, str], Handler]


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def _audiospective_web(config: dict[str, str]) -> Routes:
    def health(request: Request) -> Reply:
        ok = database_ok(config)
        return _json(200 if ok else 503, {"status": "healthy" if ok else "unhealthy",
                                          "database": "healthy" if ok else "unreachable"})

    def signin(request: Request) -> Reply:
        # The callback URL is built the way NextAuth builds it: base URL + callback path, as is.
        redirect_uri = config.get("NEXTAUTH_URL", "") + "/api/auth/callback/spotify"
        query = urlencode({"client_id": config.get("SPOTIFY_CLIENT_ID", ""),
                           "response_type": "code", "redirect_uri": redirect_uri})
        return 302, {"Location": f"https://accounts.spotify.com/authorize?{query}"}, b""

    def session(request: Request) -> Reply:
        if not config.get("NEXTAUTH_SECRET"):  # NextAuth answers NO_SECRET with a server error
            return _json(500, {"error": "There is a problem with the server configuration."})
        flags = ["Path=/"]
        if flag(config, "SESSION_COOKIE_HTTPONLY"):
            flags.append("HttpOnly")
        flags.append(f"SameSite={config.get('SESSION_COOKIE_SAMESITE', 'Lax')}")
        if config.get("NEXTAUTH_URL", "").startswith("https://"):
            flags.append("Secure")
        cookie = "next-auth.session-token=anonymous; " + "; ".join(flags)
        return _json(200, {}, {"Set-Cookie": cookie})

    redis_configured = bool(config.get("UPSTASH_REDIS_REST_URL") and config.get("UPSTASH_REDIS_REST_TOKEN"))
    limiter = RateLimiter(config.get("RATE_LIMIT", "100/minute")) if redis_configured else None
    cache_seconds = float(config.get("STATS_CACHE_SECONDS", "3600")) if redis_configured else 0.0
    cached: dict[str, float] = {}  # stats range -> when it was computed

    def stats(request: Request) -> Reply:
        if limiter is not None:
            allowed, headers = limiter.hit(request.client)
            if not allowed:
                return _json(429, {"error": "Rate limit exceeded"}, headers)
            status, base, body = _cached_stats(request)
            return status, {**base, **headers}, body
        return _cached_stats(request)

    def _cached_stats(request: Request) -> Reply:
        status, headers, body = _stats(request)
        if status != 200:
            return status, headers, body
        key, now = request.query.get("range", ["week"])[0], time.time()
        hit = cache_seconds > 0 and now - cached.get(key, -1e18) < cache_seconds
        if not hit and cache_seconds > 0:
            cached[key] = now
        return status, {**headers, "X-Cache": "HIT" if hit else "MISS"}, body

    def _stats(request: Request) -> Reply:
        period = request.query.get("range", ["week"])[0]
        if period not in ("week", "month", "year"):
            if not flag(config, "VALIDATE_INPUT"):
                return _json(500, {"error": "Internal server error"})
            return _json(400, {"error": "Validation error",
                               "details": [{"field": "range", "message": "one of week, month, year"}]})
        return _json(200, {"range": period, "plays": 0})

    def cron(request: Request) -> Reply:
        keys = [config.get("QSTASH_CURRENT_SIGNING_KEY"), config.get("QSTASH_NEXT_SIGNING_KEY")]
        if any(keys) and request.headers.get("upstash-signature") not in keys:
            return _json(401, {"error": "Invalid signature"})
        return _json(200, {"archived": 0})

    return {("GET", "/api/health"): health, ("GET", "/api/auth/signin/spotify"): signin,
            ("GET", "/api/auth/session"): session, ("GET", "/api/stats"): stats,
            ("POST", "/api/cron/archive"): cron}


class RateLimiter:
    """N hits per client per minute ("5/minute"), in memory, with the usual headers."""

    def __init__(self, spec: str) -> None:
        self.limit = int(spec.split("/")[0])
        self.hits: dict[str, list[float]] = {}

    def hit(self, client: str) -> tuple[bool, dict[str, str]]:
        """Counts a request; (allowed, headers)."""
        self.record(client)
        return self.check(client)

    def record(self, client: str) -> None:
        self.hits.setdefault(client, []).append(time.time())

    def check(self, client: str) -> tuple[bool, dict[str, str]]:
        """Whether `client` is still under the limit, without counting a request."""
        now = time.time()
        recent = [t for t in self.hits.get(client, []) if now - t < 60]
        self.hits[client] = recent
        remaining = max(0, self.limit - len(recent))
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(remaining)}
        if len(recent) > self.limit:
            headers["Retry-After"] = str(int(60 - (now - recent[0])) + 1)
            return False, headers
        return True, headers


def _identity_provider(config: dict[str, str]) -> Routes:
    """An OpenID provider's discovery document, as the API's OAuth login reads it."""
    issuer = config.get("ISSUER", "")
    document = {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"]}
    return {("GET", "/.well-known/openid-configuration"): lambda r: _json(200, document),
            ("GET", "/jwks"): lambda r: _json(200, {"keys": []})}


ROUTES: dict[str, Callable[[dict[str, str]], Routes]] = {
    "audiospective-web": _audiospective_web,
    "platform-idp": _identity_provider,
}


def routes(name: str, config: dict[str, str]) -> Routes:
    """The app's routes; every app also answers GET / with its name."""
    index: Routes = {("GET", "/"): lambda r: (200, {"Content-Type": "text/plain"}, f"{name}\n".encode())}
    return index | (ROUTES[name](config) if name in ROUTES else {})


def security_headers(config: dict[str, str]) -> dict[str, str]:
    """What the app's proxy adds to every answer; HSTS where a max-age is configured."""
    if not flag(config, "SECURITY_HEADERS"):
        return {}
    headers = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
               "Referrer-Policy": "strict-origin-when-cross-origin"}
    if config.get("HSTS_MAX_AGE"):
        headers["Strict-Transport-Security"] = f"max-age={config['HSTS_MAX_AGE']}; includeSubDomains"
    return headers


def serve(table: Routes, config: dict[str, str], host: str, port: int) -> None:
    skew = float(config.get("CLOCK_SKEW_SECONDS", "0"))  # a server whose clock is off
    delay = float(config.get("RESPONSE_DELAY_MS", "0")) / 1000  # a server under load
    added = security_headers(config)

    class RequestHandler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, self.client_address[0],
                              self.rfile.read(length) if length else b"")
            route = table.get((self.command, parts.path))
            status, headers, body = route(request) if route else _json(404, {"error": "not found"})
            time.sleep(delay)
            self.send_response(status)
            for key, value in {**added, **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_OPTIONS = _answer  # noqa: N815 - the stdlib's names

        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate((timestamp or time.time()) + skew, usegmt=True)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    ThreadingHTTPServer((host, port), RequestHandler).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted({*ROUTES, *FASTAPI_APPS, "author-web"}))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = dict(os.environ)
    if args.name in FASTAPI_APPS:
        serve_fastapi(args.name, config, args.host, args.port)
        return
    serve(routes(args.name, config), config, args.host, args.port)


if __name__ == "__main__":
    main()

"""The stand-in HTTP apps of the five systems. Each reads its own env file at start, as a real
deployment reads its .env, and behaves from that configuration.

Run as: python -m runbook_checks.stack.apps NAME --port PORT --env-file PATH
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from dotenv import dotenv_values

from runbook_checks.targets.postgres import libpq_url

Reply = tuple[int, dict[str, str], bytes]
Routes = dict[str, Callable[[], Reply]]


def _json(status: int, body: object) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def database_ok(config: dict[str, str]) -> bool:
    """Whether the app's own DATABASE_URL connects and answers (drivers like +asyncpg stripped)."""
    try:
        with psycopg.connect(libpq_url(config.get("DATABASE_URL", "")), connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except (psycopg.Error, ValueError):
        return False
    return True


def _author_api(config: dict[str, str]) -> Routes:
    return {"/health": lambda: _json(200, {"status": "ok"})}


def _audiospective_web(config: dict[str, str]) -> Routes:
    def health() -> Reply:
        ok = database_ok(config)
        return _json(200 if ok else 503, {"status": "healthy" if ok else "unhealthy",
                                          "database": "healthy" if ok else "unreachable"})

    def signin() -> Reply:
        # The callback URL is built the way NextAuth builds it: base URL + callback path, as is.
        redirect_uri = config.get("NEXTAUTH_URL", "") + "/api/auth/callback/spotify"
        query = urlencode({"client_id": config.get("SPOTIFY_CLIENT_ID", ""),
                           "response_type": "code", "redirect_uri": redirect_uri})
        return 302, {"Location": f"https://accounts.spotify.com/authorize?{query}"}, b""

    return {"/api/health": health, "/api/auth/signin/spotify": signin}


def _platform_api(config: dict[str, str]) -> Routes:
    def check() -> Reply:
        ok = database_ok(config)
        return _json(200, {"status": "healthy" if ok else "degraded",
                           "checks": {"database": {"status": "healthy" if ok else "unhealthy"}}})

    return {"/trpc/health.check": check,
            "/trpc/health.liveness": lambda: _json(200, {"status": "alive"}),
            "/trpc/health.readiness": lambda: _json(200, {"status": "ready"})}


def _ghostworks_api(config: dict[str, str]) -> Routes:
    return {"/api/v1/health": lambda: _json(200, {"status": "healthy"})}


def _ghostworks_web(config: dict[str, str]) -> Routes:
    return {"/api/health": lambda: _json(200, {"status": "ok"})}


def _practiceops_api(config: dict[str, str]) -> Routes:
    def health() -> Reply:
        ok = database_ok(config)
        return _json(200, {"status": "ok" if ok else "degraded", "db": "ok" if ok else "error"})

    return {"/health": health}


ROUTES: dict[str, Callable[[dict[str, str]], Routes]] = {
    "author-api": _author_api,
    "audiospective-web": _audiospective_web,
    "platform-api": _platform_api,
    "ghostworks-api": _ghostworks_api,
    "ghostworks-web": _ghostworks_web,
    "practiceops-api": _practiceops_api,
}


def routes(name: str, config: dict[str, str]) -> Routes:
    """The app's routes; every app also answers / with its name."""
    index: Routes = {"/": lambda: (200, {"Content-Type": "text/plain"}, f"{name}\n".encode())}
    return index | (ROUTES[name](config) if name in ROUTES else {})


def serve(table: Routes, host: str, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            route = table.get(self.path.split("?")[0])
            status, headers, body = route() if route else _json(404, {"error": "not found"})
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    ThreadingHTTPServer((host, port), Handler).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted({*ROUTES, "author-web"}))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--env-file", type=Path, required=True)
    args = parser.parse_args()
    config = {k: v for k, v in dotenv_values(args.env_file).items() if v is not None}
    serve(routes(args.name, config), args.host, args.port)


if __name__ == "__main__":
    main()

"""The stack's Python apps: the FastAPI APIs (fastapi_apps), and two small servers of the harness's
own for what needs no framework (platform's identity provider, author's web app, whose
configuration alone the checks read). Each takes its configuration from its process environment
at start, where the stack put its env file's values (as compose's env_file does).

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
from urllib.parse import urlsplit

from runbook_harness.fastapi_apps import FASTAPI_APPS, security_headers
from runbook_harness.fastapi_apps import serve as serve_fastapi

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Request:
    method: str
    path: str


Handler = Callable[[Request], Reply]
Routes = dict[tuple[str, str], Handler]


def _json(status: int, body: object) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _identity_provider(config: dict[str, str]) -> Routes:
    """An OpenID provider's discovery document, as the API's OAuth login reads it."""
    issuer = config.get("ISSUER", "")
    document = {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"]}
    return {("GET", "/.well-known/openid-configuration"): lambda r: _json(200, document),
            ("GET", "/jwks"): lambda r: _json(200, {"keys": []})}


ROUTES: dict[str, Callable[[dict[str, str]], Routes]] = {
    "platform-idp": _identity_provider,
}


def routes(name: str, config: dict[str, str]) -> Routes:
    """The app's routes; every app also answers GET / with its name."""
    index: Routes = {("GET", "/"): lambda r: (200, {"Content-Type": "text/plain"}, f"{name}\n".encode())}
    return index | (ROUTES[name](config) if name in ROUTES else {})


def serve(table: Routes, config: dict[str, str], host: str, port: int) -> None:
    skew = float(config.get("CLOCK_SKEW_SECONDS", "0"))  # a server whose clock is off
    delay = float(config.get("RESPONSE_DELAY_MS", "0")) / 1000  # a server under load
    added = security_headers(config)

    class RequestHandler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = urlsplit(self.path).path
            route = table.get((self.command, path))
            reply = route(Request(self.command, path)) if route else _json(404, {"error": "not found"})
            status, headers, body = reply
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

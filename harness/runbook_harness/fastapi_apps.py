"""Stand-in apps built on the framework their runbook names: FastAPI under uvicorn, with
Starlette's own CORS middleware, so that the gate meets real framework behaviour (lower-case
header names, 400 for a refused preflight, 422 for a malformed body), not behaviour written to
suit it. Each takes its configuration from the process environment at start."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import jwt
from fastapi import FastAPI, Header, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel


def _flag(config: dict[str, str], name: str, default: bool = True) -> bool:
    return config.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


class Credentials(BaseModel):
    email: str
    password: str


def _proxy_behaviour(app: FastAPI, config: dict[str, str]) -> None:
    """What the app's proxy and host add: security headers (HSTS where a max-age is set), the
    Date header of its clock (skewed where configured), and a delay under load."""
    skew = float(config.get("CLOCK_SKEW_SECONDS", "0"))
    delay = float(config.get("RESPONSE_DELAY_MS", "0")) / 1000
    headers = {}
    if _flag(config, "SECURITY_HEADERS"):
        headers = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
                   "referrer-policy": "strict-origin-when-cross-origin"}
        if config.get("HSTS_MAX_AGE"):
            headers["strict-transport-security"] = f"max-age={config['HSTS_MAX_AGE']}; includeSubDomains"

    @app.middleware("http")
    async def proxy(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if delay:
            await asyncio.sleep(delay)
        response.headers.update(headers)
        response.headers["date"] = email.utils.formatdate(time.time() + skew, usegmt=True)
        return response


def ghostworks_api(config: dict[str, str]) -> FastAPI:
    """The ghostworks API: health, items behind CORS, and JWT login, refresh and /me."""
    app = FastAPI(debug=_flag(config, "DEBUG", default=False), docs_url=None, redoc_url=None)
    _proxy_behaviour(app, config)
    origins = [o.strip() for o in config.get("CORS_ORIGINS", "").split(",") if o.strip()]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True,
                       allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type"])
    secret, algorithm = config.get("JWT_SECRET_KEY", ""), config.get("JWT_ALGORITHM", "HS256")
    access_seconds = float(config.get("ACCESS_TOKEN_MINUTES", "30")) * 60
    refresh_seconds = float(config.get("REFRESH_TOKEN_DAYS", "7")) * 86400

    def issue(kind: str, seconds: float) -> str:
        now = int(time.time())
        return jwt.encode({"sub": "demo", "type": kind, "iat": now, "exp": now + int(seconds)},
                          secret, algorithm=algorithm)

    def holds(authorization: str | None, kind: str) -> bool:
        token = (authorization or "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, secret, algorithms=[algorithm])
        except jwt.PyJWTError:
            return False
        return claims.get("type") == kind or not _flag(config, "CHECK_TOKEN_TYPE")

    @app.get("/", response_class=PlainTextResponse)
    def index() -> str:
        return "ghostworks-api\n"

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.get("/api/v1/items")
    def items() -> list[dict[str, Any]]:
        return [{"id": 1, "name": "demo item"}]

    @app.post("/api/v1/auth/login")
    def login(credentials: Credentials) -> Response:
        demo = (config.get("DEMO_EMAIL"), config.get("DEMO_PASSWORD"))
        if (credentials.email, credentials.password) != demo:
            return JSONResponse({"detail": "Incorrect email or password"}, status_code=401)
        return JSONResponse({"access_token": issue("access", access_seconds),
                             "refresh_token": issue("refresh", refresh_seconds), "token_type": "bearer"})

    @app.get("/api/v1/me")
    def me(authorization: Annotated[str | None, Header()] = None) -> Response:
        if not holds(authorization, "access"):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return JSONResponse({"sub": "demo"})

    @app.post("/api/v1/auth/refresh")
    def refresh(authorization: Annotated[str | None, Header()] = None) -> Response:
        if not holds(authorization, "refresh"):
            return JSONResponse({"detail": "A refresh token is required"}, status_code=401)
        return JSONResponse({"access_token": issue("access", access_seconds), "token_type": "bearer"})

    return app


FASTAPI_APPS: dict[str, Callable[[dict[str, str]], FastAPI]] = {"ghostworks-api": ghostworks_api}


def serve(name: str, config: dict[str, str], host: str, port: int) -> None:
    """Runs the app under uvicorn; the app sets its own Date header (its clock may be off)."""
    import uvicorn

    uvicorn.run(FASTAPI_APPS[name](config), host=host, port=port, log_level="warning",
                date_header=False, server_header=False)

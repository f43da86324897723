"""Stand-in apps built on the framework their runbook names: FastAPI under uvicorn, with
Starlette's own CORS middleware, so that the gate meets real framework behaviour (lower-case
header names, 400 for a refused preflight, 422 for a malformed body), not behaviour written to
suit it. Each takes its configuration from the process environment at start."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import jwt
import psycopg
from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import OAuth2PasswordRequestForm
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel

from runbook_checks.targets.base import libpq_url
from runbook_harness import app_logging
from runbook_harness.app_metrics import instrument


def flag(config: dict[str, str], name: str, default: bool = True) -> bool:
    """A yes/no setting of the app's configuration."""
    return config.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


class Credentials(BaseModel):
    email: str
    password: str


def security_headers(config: dict[str, str]) -> dict[str, str]:
    """What the app's proxy adds to every answer; HSTS where a max-age is configured."""
    if not flag(config, "SECURITY_HEADERS"):
        return {}
    headers = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
               "Referrer-Policy": "strict-origin-when-cross-origin"}
    if config.get("HSTS_MAX_AGE"):
        headers["Strict-Transport-Security"] = f"max-age={config['HSTS_MAX_AGE']}; includeSubDomains"
    return headers


def _proxy_behaviour(app: FastAPI, config: dict[str, str]) -> None:
    """What the app's proxy and host add: security headers (HSTS where a max-age is set), the
    Date header of its clock (skewed where configured), and a delay under load."""
    skew = float(config.get("CLOCK_SKEW_SECONDS", "0"))
    delay = float(config.get("RESPONSE_DELAY_MS", "0")) / 1000
    headers = {name.lower(): value for name, value in security_headers(config).items()}  # Starlette's case

    @app.middleware("http")
    async def proxy(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if delay:
            await asyncio.sleep(delay)
        response.headers.update(headers)
        response.headers["date"] = email.utils.formatdate(time.time() + skew, usegmt=True)
        return response


class Tokens:
    """JWT access and refresh tokens as the apps issue and accept them (HS256 by default)."""

    def __init__(self, config: dict[str, str]) -> None:
        self.config = config
        self.secret, self.algorithm = config.get("JWT_SECRET_KEY", ""), config.get("JWT_ALGORITHM", "HS256")
        self.access_seconds = float(config.get("ACCESS_TOKEN_MINUTES", "30")) * 60
        self.refresh_seconds = float(config.get("REFRESH_TOKEN_DAYS", "7")) * 86400

    def issue(self, kind: str) -> str:
        now = int(time.time())
        seconds = self.access_seconds if kind == "access" else self.refresh_seconds
        return jwt.encode({"sub": "demo", "type": kind, "iat": now, "exp": now + int(seconds)},
                          self.secret, algorithm=self.algorithm)

    def pair(self) -> dict[str, str]:
        return {"access_token": self.issue("access"), "refresh_token": self.issue("refresh"),
                "token_type": "bearer"}

    def holds(self, authorization: str | None, kind: str) -> bool:
        """The bearer token verifies and is of `kind` (unless the app stopped checking kinds)."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, self.secret, algorithms=[self.algorithm])
        except jwt.PyJWTError:
            return False
        return claims.get("type") == kind or not flag(self.config, "CHECK_TOKEN_TYPE")

    def routes(self, app: FastAPI, prefix: str) -> None:
        """/me with an access token, /auth/refresh with a refresh token."""

        @app.get(f"{prefix}/me")
        def me(authorization: Annotated[str | None, Header()] = None) -> Response:
            if not self.holds(authorization, "access"):
                return JSONResponse({"detail": "Not authenticated"}, status_code=401)
            return JSONResponse({"sub": "demo"})

        @app.post(f"{prefix}/auth/refresh")
        def refresh(authorization: Annotated[str | None, Header()] = None) -> Response:
            if not self.holds(authorization, "refresh"):
                return JSONResponse({"detail": "A refresh token is required"}, status_code=401)
            return JSONResponse({"access_token": self.issue("access"), "token_type": "bearer"})


def _is_demo(config: dict[str, str], user: str, password: str) -> bool:
    return (user, password) == (config.get("DEMO_EMAIL"), config.get("DEMO_PASSWORD"))


def _app(name: str, config: dict[str, str]) -> FastAPI:
    app = FastAPI(debug=flag(config, "DEBUG", default=False), docs_url=None, redoc_url=None)
    _proxy_behaviour(app, config)
    instrument(app, config)
    origins = [o.strip() for o in config.get("CORS_ORIGINS", "").split(",") if o.strip()]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True,
                       allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type"])
    logger = app_logging.configure(config)
    app_logging.log_requests(app, logger)
    logger.info("app_started", extra={"app": name})

    @app.get("/", response_class=PlainTextResponse)
    def index() -> str:
        return f"{name}\n"

    return app


def ghostworks_api(config: dict[str, str]) -> FastAPI:
    """The ghostworks API: health, items behind CORS, and a JSON login with refresh and /me."""
    app, tokens = _app("ghostworks-api", config), Tokens(config)
    tokens.routes(app, "/api/v1")

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.get("/api/v1/items")
    def items() -> list[dict[str, Any]]:
        return [{"id": 1, "name": "demo item"}]

    @app.get("/api/v1/reports/legacy")
    def legacy_report() -> dict[str, Any]:
        """A route a deploy left broken: every call fails with an unhandled error (a 500)."""
        raise RuntimeError("the legacy report's table was dropped")

    @app.post("/api/v1/auth/login")
    def login(credentials: Credentials) -> Response:
        if not _is_demo(config, credentials.email, credentials.password):
            return JSONResponse({"detail": "Incorrect email or password"}, status_code=401)
        return JSONResponse(tokens.pair())

    return app


def practiceops_api(config: dict[str, str]) -> FastAPI:
    """The practiceops API: health with its database, FastAPI's OAuth2 password login (a form)
    whose failures the `limits` library throttles per client and account (each refusal logged as
    a rate_limit_exceeded event), refresh, /me and the scheduler's job list."""
    app, tokens = _app("practiceops-api", config), Tokens(config)
    tokens.routes(app, "")
    limit = parse_limit(config.get("AUTH_RATE_LIMIT", "5/minute"))
    failures = MovingWindowRateLimiter(MemoryStorage())
    logger = logging.getLogger("app")

    def refused(request: Request) -> Response:
        logger.warning("rate_limit_exceeded", extra={
            "request_id": request.state.request_id, "path": request.url.path,
            "client_ip": app_logging.client_ip(request), "limit": str(limit)})
        return JSONResponse({"detail": "RATE_LIMITED"}, status_code=429)

    @app.get("/health")
    def health() -> dict[str, str]:
        ok = database_ok(config)
        return {"status": "ok" if ok else "degraded", "db": "ok" if ok else "error"}

    @app.post("/auth/login")
    def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Response:
        key = f"{request.client.host if request.client else '?'} {form.username}"
        if not failures.test(limit, key):
            return refused(request)
        if not _is_demo(config, form.username, form.password):
            failures.hit(limit, key)
            if not failures.test(limit, key):
                return refused(request)
            return JSONResponse({"detail": "Incorrect username or password"}, status_code=401)
        return JSONResponse(tokens.pair())

    jobs = [job for job in config.get("SCHEDULED_JOBS", "").split(",") if job]
    if jobs:
        @app.get("/admin/jobs")
        def job_list(authorization: Annotated[str | None, Header()] = None) -> Response:
            if not tokens.holds(authorization, "access"):
                return JSONResponse({"detail": "Not authenticated"}, status_code=401)
            failing, now = config.get("FAILING_JOB", ""), time.time()
            return JSONResponse({"jobs": [
                {"id": job, "last_run_status": "failed" if job == failing else "success",
                 "last_run_time": _iso(now - 600), "next_run_time": _iso(now + 3000)} for job in jobs]})

    return app


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def database_ok(config: dict[str, str]) -> bool:
    """Whether the app's own DATABASE_URL connects and answers (a driver suffix like +asyncpg
    is SQLAlchemy's; libpq does not take it)."""
    try:
        with psycopg.connect(libpq_url(config.get("DATABASE_URL", "")), connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except (psycopg.Error, ValueError):
        return False
    return True


FASTAPI_APPS: dict[str, Callable[[dict[str, str]], FastAPI]] = {
    "ghostworks-api": ghostworks_api,
    "practiceops-api": practiceops_api,
}


def serve(name: str, config: dict[str, str], host: str, port: int) -> None:
    """Runs the app under uvicorn; the app sets its own Date header (its clock may be off)."""
    import uvicorn

    uvicorn.run(FASTAPI_APPS[name](config), host=host, port=port, log_level="warning", log_config=None,
                date_header=False, server_header=False)

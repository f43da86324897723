"""A FastAPI app whose middleware sends lower-case header names, as Starlette does: CORS for one
declared origin (or, with STRANGER_ALLOWED=1, for any origin), security headers, rate-limit headers
and the Date header. The gate must read them as browsers do."""

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

WEB_ORIGIN = "https://web.example"
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_credentials=True, allow_methods=["*"], allow_headers=["*"],
                   allow_origins=[WEB_ORIGIN] if os.environ.get("STRANGER_ALLOWED") != "1" else [],
                   allow_origin_regex=".*" if os.environ.get("STRANGER_ALLOWED") == "1" else None)


@app.middleware("http")
async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["x-frame-options"] = "DENY"
    response.headers["referrer-policy"] = "no-referrer"
    response.headers["x-ratelimit-limit"] = "100"
    response.headers["x-ratelimit-remaining"] = "99"
    return response


@app.get("/items")
def items() -> list[str]:
    return ["a", "b"]


@app.get("/session")
def session(response: Response) -> dict[str, str]:
    """Two auth cookies with one policy (one with an expiry date, whose comma splits a merged
    Set-Cookie header badly); with CALLBACK_READABLE=1 the second lost HttpOnly."""
    response.set_cookie("auth.csrf-token", "t", httponly=True, samesite="lax", expires=3600)
    response.set_cookie("auth.callback-url", "u", samesite="lax",
                        httponly=os.environ.get("CALLBACK_READABLE") != "1")
    return {}


@app.get("/cookies")
def cookies(request: Request) -> dict[str, str]:
    """The cookies the client sent."""
    return dict(request.cookies)

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


@app.get("/cookies/browser-cases")
def browser_cases(response: Response) -> dict[str, str]:
    """Set-Cookie lines a browser reads without trouble: an unknown attribute, Partitioned,
    Priority, a JSON-like value, an expiry date with its comma; with LAST_READABLE=1 the same
    name is set again, last, without HttpOnly (the browser keeps that one)."""
    for line in ('state={"step":1,"ids":[1,2]}; Path=/; HttpOnly; SameSite=Lax; Priority=High',
                 "pkce=v; Path=/; HttpOnly; SameSite=Lax; Partitioned; Secure; x-flag",
                 "csrf=t; Path=/; HttpOnly; SameSite=Lax; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
                 "gone=; Path=/; Max-Age=0"):
        response.headers.append("set-cookie", line)
    if os.environ.get("LAST_READABLE") == "1":
        response.headers.append("set-cookie", "csrf=u; Path=/; SameSite=Lax")
    return {}

"""Sessions and CSRF for the console's routes.

The session token lives only in an HttpOnly, SameSite=Strict cookie. Each session has a CSRF
token, sent back in the ``X-CSRF-Token`` header or a ``csrf`` form field by every state-changing
request. The login form, before any session exists, uses a double-submit token.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.services.accounts import LoginSession, csrf_ok, resolve_session

SESSION_COOKIE = "dialer_session"
LOGIN_CSRF_COOKIE = "dialer_login_csrf"


async def current_session(request: Request) -> LoginSession | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    return await run_in_threadpool(resolve_session, request.app.state.store, token)


async def csrf_valid(request: Request, login: LoginSession) -> bool:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    return csrf_ok(login, sent)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
        path="/",
    )


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def login_csrf_valid(request: Request, sent: str | None) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and sent is not None and hmac.compare_digest(cookie.encode(), sent.encode())

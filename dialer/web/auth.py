"""Sessions and CSRF for the console's routes, and how a request without them is refused.

The session token lives only in an HttpOnly, SameSite=Strict cookie. Each session has a CSRF
token, sent back in the ``X-CSRF-Token`` header or a ``csrf`` form field by every state-changing
request. The login form, before any session exists, uses a double-submit token.

A refusal is a page for the browser's own navigation (a link, a form it posts itself: no session
goes to the login page) and, for the page's scripts, JSON like every other refusal of the console
(``dialer.web.views.refusal``), in the language of the session's user (the login page's without one).
"""

from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dialer.core.i18n import LANGS, N_, from_accept_language
from dialer.core.reasons import shown
from dialer.services.accounts import LoginSession, csrf_ok, resolve_session, session_language
from dialer.web.views import refusal, render

SESSION_COOKIE = "dialer_session"
LOGIN_CSRF_COOKIE = "dialer_login_csrf"
LOGIN_LANGUAGE = "ru"  # the login page's, before anyone is known, unless the browser asks otherwise
LANGUAGE_COOKIE = "dialer_lang"  # the language of the last user who logged in on this browser
SESSION_ENDED = N_("your session has ended: log in again")
OPERATORS_ONLY = N_("only an operator can do this")
OUT_OF_DATE = N_("this page is out of date: reload it and try again")


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


def navigating(request: Request) -> bool:
    """Is this the browser's own navigation (answered with a page), not a script's request (JSON)?"""
    mode = request.headers.get("sec-fetch-mode")
    if mode:
        return mode == "navigate"
    return "text/html" in request.headers.get("accept", "")


def login_language(request: Request) -> str:
    """The login page's language, before anyone is known: that of the last user who logged in on
    this browser, else the one its ``Accept-Language`` prefers, else Russian."""
    kept = request.cookies.get(LANGUAGE_COOKIE, "")
    if kept in LANGS:
        return kept
    return from_accept_language(request.headers.get("accept-language", "")) or LOGIN_LANGUAGE


def set_language_cookie(request: Request, response: Response, language: str) -> None:
    """Not a secret, and not the session: which language the next login page on this browser speaks."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
    )


async def refusal_language(request: Request, login: LoginSession | None) -> str:
    """The session's user's language; for an ended session the language of the user it was
    opened for, and without one the login page's."""
    if login is not None:
        return login.user.language
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await run_in_threadpool(session_language, request.app.state.store, token) if token else None
    return found or login_language(request)


async def unauthorized(request: Request, login: LoginSession | None = None) -> Response:
    """401 for a request that needs an operator's session: without a session (ended, or none) it
    says to log in again; a user who is not an operator is told so. A navigation goes to the login
    page instead (a user who is logged in: to their home page)."""
    if navigating(request):
        return RedirectResponse("/" if login is not None else "/login", status_code=303)
    language = await refusal_language(request, login)
    return refusal(language, SESSION_ENDED if login is None else OPERATORS_ONLY, 401)


async def forbidden(request: Request, login: LoginSession | None) -> Response:
    """403 for a state change without its CSRF token: the page that sent it is out of date."""
    language = await refusal_language(request, login)
    if not navigating(request):
        return refusal(language, OUT_OF_DATE, 403)
    message = shown(OUT_OF_DATE, language)
    html = render(request.app.state.templates, "refused.html", language, login=login, message=message)
    return HTMLResponse(html, status_code=403)

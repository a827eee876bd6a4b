"""The console's routes: each parses the request, calls one service function and renders."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import N_
from dialer.core.reasons import shown
from dialer.services import accounts, console, dispositions, lead_edits
from dialer.services.accounts import LoginSession, Role
from dialer.services.callbacks import FieldProblem
from dialer.services.operators import OperatorState, set_desired_state
from dialer.services.pause_codes import check_pause_code
from dialer.services.survey import AnswersRejected
from dialer.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_valid,
    current_session,
    forbidden,
    login_csrf_valid,
    login_language,
    navigating,
    new_login_csrf,
    set_language_cookie,
    set_session_cookie,
    unauthorized,
)
from dialer.web.events import EVERYONE
from dialer.web.screen import CALL, PARTS, Screen, screen_fragments
from dialer.web.views import NOT_FOUND, refusal, render, sse, team_fragment

log = logging.getLogger("dialer.console")
KEEPALIVE_S = 15.0
SESSION_CHECK_S = 2.0  # an open stream re-reads its session at most this often (logout, expiry)
TEAM_EVERY_S = 0.25


def _page(request: Request, template: str, language: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = render(request.app.state.templates, template, language, **context)
    return HTMLResponse(html, status_code=status)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


FORM_EXPIRED = N_("the login form had expired: log in again")


def _login_page(request: Request, status: int = 200, error: str | None = None, name: str = "") -> Response:
    """The login form with a new double-submit token."""
    token = new_login_csrf()
    language = login_language(request)
    response = _page(request, "login.html", language, status, csrf=token, error=error, name=name)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request)


async def login_submit(request: Request) -> Response:
    form = await request.form()
    name, password, sent = (str(form.get(k) or "") for k in ("name", "password", "csrf"))
    if not login_csrf_valid(request, sent):  # the form was open too long, or not ours
        if navigating(request):
            return _login_page(request, 403, shown(FORM_EXPIRED, login_language(request)), name[:100])
        return await forbidden(request, None)
    try:
        opened = await run_in_threadpool(accounts.login, request.app.state.store, name, password)
    except accounts.LoginRefused as exc:
        log.info("console login refused for %r", name[:100])
        status = 429 if isinstance(exc, accounts.LoginThrottled) else 401
        language = login_language(request)
        error = shown(str(exc), language)
        return _page(request, "login.html", language, status, csrf=sent, error=error, name=name)
    log.info("console login: %s (%s)", opened.user.name, opened.user.role.value)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, opened.token)
    set_language_cookie(request, response, opened.user.language)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    login = await current_session(request)
    if login is None:
        return _to_login()
    if not await csrf_valid(request, login):
        return await forbidden(request, login)
    await run_in_threadpool(accounts.logout, request.app.state.store, login.token)
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def home(request: Request) -> Response:
    login = await current_session(request)
    if login is None:
        return _to_login()
    store, env = request.app.state.store, request.app.state.templates
    if login.user.role is not Role.OPERATOR:
        return await supervisor(request)
    fragments = await run_in_threadpool(screen_fragments, env, store, login)
    return _page(request, "screen.html", login.user.language, login=login, fragments=fragments)


async def change_state(request: Request) -> Response:
    login = await current_session(request)
    if login is None or login.user.operator is None:
        return await unauthorized(request, login)
    if not await csrf_valid(request, login):
        return await forbidden(request, login)
    form = await request.form()
    wanted, reason = str(form.get("state") or ""), str(form.get("reason") or "")
    store = request.app.state.store
    try:
        state = {"ready": OperatorState.READY, "pause": OperatorState.PAUSED}.get(wanted)
        if wanted == "logout":
            state = OperatorState.LOGGED_OUT
        if state is None:
            raise InvalidInput(N_("unknown state"))
        if state is OperatorState.PAUSED:
            reason = await run_in_threadpool(check_pause_code, store, reason)
        await run_in_threadpool(set_desired_state, store, login.user.operator, state, reason or None)
    except InvalidInput as exc:
        return refusal(login.user.language, str(exc), field="reason")
    request.app.state.hub.poke(login.user.operator)
    if request.headers.get("x-csrf-token"):
        return JSONResponse({"ok": True})
    return RedirectResponse("/", status_code=303)


async def supervisor(request: Request) -> Response:
    """The team, live: for supervisors and admins; an operator gets 404, as for anything not theirs."""
    login = await current_session(request)
    if login is None:
        return _to_login()
    try:
        team = await run_in_threadpool(
            team_fragment, request.app.state.templates, request.app.state.store, login
        )
    except NotFound:
        return _page(request, "not_found.html", login.user.language, 404, login=login)
    return _page(request, "supervisor.html", login.user.language, login=login, team=team)


async def events(request: Request) -> Response:
    login = await current_session(request)
    if login is None:
        return await unauthorized(request)
    if login.user.operator is None or login.user.role is not Role.OPERATOR:
        if login.user.role is Role.OPERATOR:
            return await unauthorized(request, login)
        stream = _team_stream(request, login)
    else:
        stream = _stream(request, login)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, login: LoginSession) -> AsyncIterator[str]:
    """An operator's page: at first the whole screen, then the parts each wake-up names, the call
    first (a pop is sent before the rest is read). After a quiet ``KEEPALIVE_S`` everything is read
    again (a preview reservation expired, a callback came due)."""
    app = request.app
    hub, operator = app.state.hub, login.user.operator
    assert operator is not None
    wake = hub.subscribe(operator)
    screen = Screen(app.state.templates, app.state.store, login)
    checked, parts = 0.0, set(PARTS)
    try:
        yield "retry: 1000\n\n"
        while True:
            woke, cursor = time.time(), hub.cursor
            check = woke - checked > SESSION_CHECK_S  # on a pop, beside the pop's read: not before it
            for group in _groups(set(screen.wanted(parts))):
                read = hub.read(group == [CALL], screen.read, group)
                if check:
                    session = hub.read(group == [CALL], accounts.session_alive, app.state.store, login.token)
                    alive, fragments = await asyncio.gather(session, read)
                    if not alive:
                        yield sse("logout", {})
                        return
                    check, checked = False, woke
                else:
                    fragments = await read
                if fragments:
                    # When the page was woken, when these parts were sent, and the CPU time their
                    # read and render took: the screen-pop benchmark's parts.
                    timing = f"{woke:.4f} {time.time():.4f} {screen.cpu_s * 1000.0:.3f}"
                    yield sse("screen", {**fragments, "t": timing}, cursor)
            try:
                async with asyncio.timeout(KEEPALIVE_S):  # not wait_for: see EventHub.read
                    await wake.wait()
                parts = wake.take()
            except TimeoutError:
                yield ": keepalive\n\n"
                parts = set(PARTS)
    finally:
        hub.unsubscribe(operator, wake)


def _groups(parts: set[str]) -> list[list[str]]:
    """The parts to read, in the order they are read and sent: the call (the pop) alone first."""
    rest = [p for p in PARTS if p != CALL and p in parts]
    return ([[CALL]] if CALL in parts else []) + ([rest] if rest else [])


async def _team_stream(request: Request, login: LoginSession) -> AsyncIterator[str]:
    """The supervisor's page: the team's table again after any event (at most one per ``TEAM_EVERY_S``)."""
    app = request.app
    wake = app.state.hub.subscribe(EVERYONE)
    try:
        yield "retry: 1000\n\n"
        last: str | None = None
        while True:
            wake.clear()
            cursor = app.state.hub.cursor
            if await run_in_threadpool(accounts.resolve_session, app.state.store, login.token) is None:
                yield sse("logout", {})
                return
            table = await run_in_threadpool(team_fragment, app.state.templates, app.state.store, login)
            if table != last:
                yield sse("team", {"team": table}, cursor)
                last = table
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    await wake.wait()
            except TimeoutError:
                yield ": keepalive\n\n"
            await asyncio.sleep(TEAM_EVERY_S)  # a busy team's events are taken in together
    finally:
        app.state.hub.unsubscribe(EVERYONE, wake)


async def dispose(request: Request) -> Response:
    login = await current_session(request)
    if login is None or login.user.operator is None:
        return await unauthorized(request, login)
    if not await csrf_valid(request, login):
        return await forbidden(request, login)
    form = await request.form()
    code, note = str(form.get("code") or ""), str(form.get("note") or "")
    callback = (str(form.get("callback_at") or ""), str(form.get("callback_for") or "me"))
    answers = {k[2:]: [str(v) for v in form.getlist(k)] for k in form if k.startswith("q_")}
    attempt_id = request.path_params["attempt_id"]
    try:
        done = await run_in_threadpool(
            dispositions.dispose,
            request.app.state.store,
            login.user.operator,
            attempt_id,
            code,
            note,
            answers,
            callback,
        )
    except NotFound:
        return refusal(login.user.language, NOT_FOUND, 404)
    except FieldProblem as exc:
        return refusal(login.user.language, str(exc), field=exc.field)
    except AnswersRejected as exc:
        return refusal(login.user.language, str(exc), problems=exc.problems)
    except InvalidInput as exc:
        field = "note" if "note" in str(exc) else "code"
        return refusal(login.user.language, str(exc), field=field)
    request.app.state.hub.poke(login.user.operator)
    return JSONResponse({"ok": True, "code": done.code, "lead_status": done.lead_status})


async def lead_page(request: Request) -> Response:
    login = await current_session(request)
    if login is None:
        return _to_login()
    try:
        lead_id = int(request.path_params["lead_id"])
        card = await run_in_threadpool(console.lead_card, request.app.state.store, login.user, lead_id)
    except (NotFound, ValueError):
        return _page(request, "not_found.html", login.user.language, 404, login=login)
    return _page(request, "lead.html", login.user.language, login=login, card=card)


async def call_page(request: Request) -> Response:
    login = await current_session(request)
    if login is None:
        return _to_login()
    try:
        card = await run_in_threadpool(
            console.call_card, request.app.state.store, login.user, request.path_params["attempt_id"]
        )
    except NotFound:
        return _page(request, "not_found.html", login.user.language, 404, login=login)
    return _page(request, "lead.html", login.user.language, login=login, card=card)


async def edit_lead(request: Request) -> Response:
    """Change lead fields (``f_<column>``); every change is audited, a bad value writes nothing."""
    login = await current_session(request)
    if login is None:
        return await unauthorized(request)
    if not await csrf_valid(request, login):
        return await forbidden(request, login)
    form = await request.form()
    values = {k[2:]: str(v) for k, v in form.items() if k.startswith("f_")}
    try:
        lead_id = int(request.path_params["lead_id"])
        changes = await run_in_threadpool(
            lead_edits.edit_lead, request.app.state.store, login.user, lead_id, values
        )
    except lead_edits.FieldsRejected as exc:  # an InvalidInput, so a ValueError: before the next
        return refusal(login.user.language, str(exc), problems=exc.problems)
    except (NotFound, ValueError):
        return refusal(login.user.language, NOT_FOUND, 404)
    if login.user.operator is not None:
        request.app.state.hub.poke(login.user.operator)
    return JSONResponse({"ok": True, "changed": [c.field for c in changes]})

"""The console's routes for calls to one operator: preview (next, call, skip) and manual dial.

Each parses the request, calls one function of ``dialer.services.direct_calls`` and answers JSON;
a lead that is not reserved for this operator is 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import N_
from dialer.core.reasons import shown
from dialer.services import direct_calls
from dialer.services.accounts import LoginSession
from dialer.services.callbacks import FieldProblem
from dialer.web.auth import csrf_valid, current_session, forbidden, unauthorized
from dialer.web.views import NOT_FOUND, refusal


async def _operator(request: Request) -> LoginSession | Response:
    login = await current_session(request)
    if login is None or login.user.operator is None:
        return await unauthorized(request, login)
    if not await csrf_valid(request, login):
        return await forbidden(request, login)
    return login


async def _answer(request: Request, act: Callable[[str], Awaitable[dict[str, object]]]) -> Response:
    login = await _operator(request)
    if isinstance(login, Response):
        return login
    operator, language = login.user.operator, login.user.language
    assert operator is not None
    try:
        body = await act(operator)
    except NotFound:
        return refusal(language, NOT_FOUND, 404)
    except FieldProblem as exc:
        if exc.field == "preview":  # the reservation is gone: the screen shows the next lead button
            request.app.state.hub.poke(operator)
        return refusal(language, str(exc), field=exc.field)
    except InvalidInput as exc:
        return refusal(language, str(exc))
    request.app.state.hub.poke(operator)
    if "message" in body:
        body["message"] = shown(str(body["message"]), language)
    return JSONResponse({"ok": True, **body})


def _lead_id(request: Request) -> int:
    try:
        return int(request.path_params["lead_id"])
    except ValueError:
        raise NotFound("no such lead") from None


async def preview_next(request: Request) -> Response:
    async def act(operator: str) -> dict[str, object]:
        found = await run_in_threadpool(direct_calls.next_lead, request.app.state.store, operator)
        if found is None:
            raise InvalidInput(N_("no lead is due in your preview campaigns now"))
        return {"lead": found.lead_id}

    return await _answer(request, act)


async def preview_call(request: Request) -> Response:
    async def act(operator: str) -> dict[str, object]:
        lead = _lead_id(request)
        await run_in_threadpool(direct_calls.call_reserved, request.app.state.store, operator, lead)
        return {"lead": lead}

    return await _answer(request, act)


async def preview_skip(request: Request) -> Response:
    async def act(operator: str) -> dict[str, object]:
        lead = _lead_id(request)
        await run_in_threadpool(direct_calls.skip_reserved, request.app.state.store, operator, lead)
        return {"lead": lead}

    return await _answer(request, act)


async def manual_dial(request: Request) -> Response:
    async def act(operator: str) -> dict[str, object]:
        form = await request.form()
        phone, campaign = str(form.get("phone") or ""), str(form.get("campaign") or "")
        place = str(form.get("place") or "")
        store = request.app.state.store
        await run_in_threadpool(direct_calls.manual_dial, store, operator, phone, campaign, place)
        return {"message": N_("calling: the customer is put through to you when they answer")}

    return await _answer(request, act)

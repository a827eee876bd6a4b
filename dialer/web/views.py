"""Templates and the fragments the screen is made of, rendered from service values only."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine

from dialer.core.i18n import CONSOLE, translations
from dialer.services import callbacks, direct_calls
from dialer.services.accounts import LoginSession
from dialer.services.console import call_card, current_attempt, operator_state
from dialer.services.pause_codes import list_pause_codes
from dialer.services.team import team

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["epoch"] = _epoch
    env.filters["hm"] = lambda value: value.strftime("%H:%M") if value else ""
    env.filters["stamp"] = lambda value: value.strftime("%Y-%m-%d %H:%M") if value else ""
    return env


def _epoch(value: datetime | None) -> str:
    return "" if value is None else f"{value.timestamp():.3f}"


def render(env: Environment, template: str, language: str, **context: Any) -> str:
    env.install_gettext_translations(translations(language, CONSOLE), newstyle=True)  # type: ignore[attr-defined]
    return env.get_template(template).render(language=language, **context)


def screen_fragments(env: Environment, store: Engine, login: LoginSession) -> dict[str, str]:
    """The operator's state panel and call panel, as HTML, for the page and for push."""
    operator = login.user.operator
    assert operator is not None
    state = operator_state(store, operator)
    attempt = current_attempt(store, operator)
    card = call_card(store, login.user, attempt) if attempt else None
    language = login.user.language
    return {
        "state": render(
            env, "_state.html", language, state=state, pause_codes=list_pause_codes(store), csrf=login.csrf
        ),
        "call": render(env, "_call.html", language, card=card),
        "attempt": attempt or "",
        "direct": render(
            env,
            "_direct.html",
            language,
            preview=direct_calls.current(store, operator),
            previewing=direct_calls.has_preview(store, operator),
            callbacks=callbacks.upcoming(store, operator),
        ),
    }


def team_fragment(env: Environment, store: Engine, login: LoginSession) -> str:
    """The supervisor's table of operators, their states and live calls (``NotFound`` for others)."""
    return render(env, "_team.html", login.user.language, rows=team(store, login.user))


def sse(event: str, payload: dict[str, str], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"

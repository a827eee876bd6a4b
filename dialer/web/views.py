"""Templates and the fragments the screen is made of, rendered from service values only."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from starlette.responses import JSONResponse

from dialer.core.i18n import CONSOLE, N_, translations
from dialer.core.reasons import shown
from dialer.services.accounts import LoginSession
from dialer.services.team import team

TEMPLATES = Path(__file__).parent / "templates"


class Templates:
    """One Jinja environment per language, each with its catalogue installed once.

    Templates are compiled once per environment and kept (Jinja's own cache); no render changes
    an environment, so renders on several threads at once are safe.
    """

    def __init__(self) -> None:
        self._envs: dict[str, Environment] = {}
        self._lock = threading.Lock()

    def env(self, language: str) -> Environment:
        found = self._envs.get(language)
        if found is None:
            with self._lock:
                found = self._envs.get(language) or _environment(language)
                self._envs[language] = found
        return found


def environment() -> Templates:
    return Templates()


def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(translations(language, CONSOLE), newstyle=True)  # type: ignore[attr-defined]
    env.filters["epoch"] = _epoch
    env.filters["hm"] = lambda value: value.strftime("%H:%M") if value else ""
    env.filters["stamp"] = lambda value: value.strftime("%Y-%m-%d %H:%M") if value else ""
    return env


def _epoch(value: datetime | None) -> str:
    return "" if value is None else f"{value.timestamp():.3f}"


def render(templates: Templates, template: str, language: str, **context: Any) -> str:
    return templates.env(language).get_template(template).render(language=language, **context)


def team_fragment(templates: Templates, store: Engine, login: LoginSession) -> str:
    """The supervisor's table of operators, their states and live calls (``NotFound`` for others)."""
    return render(templates, "_team.html", login.user.language, rows=team(store, login.user))


def sse(event: str, payload: dict[str, str], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


NOT_FOUND = N_("not found")


def refusal(
    language: str,
    error: str,
    status: int = 400,
    field: str | None = None,
    problems: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A refused request's answer, shown next to ``field`` (or each of ``problems``' fields, or in
    the form's banner): the services' messages are English, translated here into the reader's."""
    body: dict[str, object] = {"ok": False, "error": shown(error, language)}
    if field is not None:
        body["field"] = field
    if problems is not None:
        body["problems"] = {key: shown(why, language) for key, why in problems.items()}
    return JSONResponse(body, status_code=status)

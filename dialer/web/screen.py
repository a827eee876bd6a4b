"""An operator's screen in three parts, each read and rendered only when it may have changed.

``call`` is the screen pop (the connected call, its lead, campaign, history, script, survey and
codes), ``state`` the operator's desired and observed state, ``direct`` the preview lead and the
callbacks. An event names the parts it may change (a connection: the call, and the direct panel if
it shows a reservation or a callback, all a connection can take away from it; a queue state: the
state), so a pop reads one call with its lead in two queries and renders one fragment. A part whose
values are the same as last time is not rendered again, and a fragment whose HTML is the same is
not sent again. Values only: no rule of the console lives here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.engine import Engine

from dialer.services import callbacks, direct_calls
from dialer.services.accounts import LoginSession
from dialer.services.console import current_card, operator_state
from dialer.services.pause_codes import shown_pause_codes
from dialer.web.views import Templates, render

CALL, STATE, DIRECT = "call", "state", "direct"
PARTS = (CALL, STATE, DIRECT)  # the order a full read goes in: the pop first
DIRECT_IF_SHOWN = "direct-if-shown"  # the direct part, if it shows a reservation or a callback


def _call(store: Engine, operator: str, _csrf: str) -> tuple[str, dict[str, Any]]:
    return "_call.html", {"card": current_card(store, operator)}


def _state(store: Engine, operator: str, csrf: str) -> tuple[str, dict[str, Any]]:
    state, codes = operator_state(store, operator), shown_pause_codes(store)
    return "_state.html", {"state": state, "pause_codes": codes, "csrf": csrf}


def _direct(store: Engine, operator: str, _csrf: str) -> tuple[str, dict[str, Any]]:
    return "_direct.html", {
        "preview": direct_calls.current(store, operator),
        "previewing": direct_calls.has_preview(store, operator),
        "callbacks": callbacks.upcoming(store, operator),
    }


_READERS: dict[str, Callable[[Engine, str, str], tuple[str, dict[str, Any]]]] = {
    CALL: _call,
    STATE: _state,
    DIRECT: _direct,
}


class Screen:
    """One open page's screen: what it was last sent, to send only what changed."""

    def __init__(self, templates: Templates, store: Engine, login: LoginSession) -> None:
        assert login.user.operator is not None
        self._templates, self._store, self._login = templates, store, login
        self._operator = login.user.operator
        self._values: dict[str, dict[str, Any]] = {}
        self._html: dict[str, str] = {}
        self.cpu_s = 0.0  # the thread CPU time of the last read: the screen-pop benchmark's figure

    def wanted(self, parts: Iterable[str]) -> list[str]:
        """The parts of ``parts`` to read, in ``PARTS`` order: ``DIRECT_IF_SHOWN`` is the direct
        part while it shows a reservation or a callback (or has not been read yet), else nothing."""
        asked = set(parts)
        if DIRECT_IF_SHOWN in asked:
            shown = self._values.get(DIRECT)
            if shown is None or shown["preview"] is not None or shown["callbacks"]:
                asked.add(DIRECT)
        return [p for p in PARTS if p in asked]

    def read(self, parts: Iterable[str]) -> dict[str, str]:
        """The fragments of ``parts`` that differ from what was read before (all of them at first).

        With the call goes ``attempt``: the id of the call shown, or "" for none.
        """
        started = time.thread_time()
        changed: dict[str, str] = {}
        for part in self.wanted(parts):
            template, values = _READERS[part](self._store, self._operator, self._login.csrf)
            if self._values.get(part) == values and part in self._html:
                continue
            self._values[part] = values
            html = render(self._templates, template, self._login.user.language, **values)
            if html != self._html.get(part):
                self._html[part] = changed[part] = html
                if part == CALL:
                    card = values["card"]
                    changed["attempt"] = card.attempt_id if card is not None else ""
        self.cpu_s = time.thread_time() - started
        return changed


def screen_fragments(templates: Templates, store: Engine, login: LoginSession) -> dict[str, str]:
    """The whole screen at once (the page's first render)."""
    return Screen(templates, store, login).read(PARTS)

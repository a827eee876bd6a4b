"""Pause codes: the reasons an operator may give for a pause (break, lunch, training...)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import PauseCode
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import N_, _

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class PauseCodeView:
    code: str
    label: str


# How stale the pause codes on the operators' screens may be after another process changed them
# (`dialer pause-codes ...`); a change made in this process shows at once, and a pause is always
# checked against the store itself (``check_pause_code``).
PAUSE_CODES_TTL_S = 2.0
_clock: Callable[[], float] = time.monotonic
_shown: dict[str, tuple[float, tuple[PauseCodeView, ...]]] = {}


def add_pause_code(store: Engine, code: str, label: str) -> PauseCodeView:
    """Add a pause code, or relabel an existing one."""
    if not _CODE.match(code):
        raise InvalidInput(
            _("pause code {code}: lower-case letters, digits, '_' or '-', at most 32").format(
                code=repr(code[:40])
            )
        )
    label = label.strip()
    if not label or len(label) > 200:
        raise InvalidInput(_("a label of 1 to 200 characters is required"))
    with session_scope(store) as session:
        row = session.exec(select(PauseCode).where(PauseCode.code == code)).first() or PauseCode(
            code=code, label=label
        )
        row.label = label
        session.add(row)
    _shown.pop(_key(store), None)
    return PauseCodeView(code, label)


def list_pause_codes(store: Engine) -> list[PauseCodeView]:
    with Session(store) as session:
        rows = session.exec(select(PauseCode).order_by(col(PauseCode.code))).all()
        return [PauseCodeView(r.code, r.label) for r in rows]


def remove_pause_code(store: Engine, code: str) -> None:
    with session_scope(store) as session:
        row = session.exec(select(PauseCode).where(PauseCode.code == code)).first()
        if row is None:
            raise NotFound(_("no pause code {code}").format(code=repr(code)))
        session.delete(row)
    _shown.pop(_key(store), None)


def shown_pause_codes(store: Engine) -> tuple[PauseCodeView, ...]:
    """The pause codes for the operators' screens: read from the store at most once per
    ``PAUSE_CODES_TTL_S`` in a process, not on every screen's every read."""
    key, now = _key(store), _clock()
    cached = _shown.get(key)
    if cached is not None and now - cached[0] < PAUSE_CODES_TTL_S:
        return cached[1]
    codes = tuple(list_pause_codes(store))
    _shown[key] = (now, codes)
    return codes


def forget_cached_codes() -> None:
    _shown.clear()


def _key(store: Engine) -> str:
    return str(store.url)


def check_pause_code(store: Engine, code: str) -> str:
    """``code`` if it is configured; when none are configured a pause needs no reason."""
    codes = {c.code for c in list_pause_codes(store)}
    if not codes:
        return code
    if code not in codes:
        raise InvalidInput(N_("choose a pause reason"))
    return code

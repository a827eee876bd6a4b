"""Calls that connect to one operator only: callbacks, preview calls and manual dials. Pure.

How such a call goes (the one mechanism, ``dialer-direct`` in ``dialer/pbx/templates``): the engine
originates the customer as for any call; once answered, the dialplan dials the chosen operator's own
interface (``DIALER_OPERATOR``) instead of entering the campaign's queue, for at most the connect
limit, else the safe-harbour message. The operator's interface comes from the operator table and is
checked here; nothing else of the lead but the usual cleaned variables reaches the dialplan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from campaigns.contact_limits import ContactLimits, next_allowed
from campaigns.window import CallingWindow, is_callable, next_callable
from dialer.core import reasons
from dialer.core.errors import InvalidInput

DIRECT_CONTEXT = "dialer-direct"
# A channel technology, a slash and a resource: PJSIP/101, SIP/op7, Local/op101@sim-operators/n.
_INTERFACE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,15}/[A-Za-z0-9_.@+-]{1,80}(/n)?")

MIN_RELEASE_S, MAX_RELEASE_S = 60, 7 * 86400
MIN_HOLD_S, MAX_HOLD_S = 10, 3600
MAX_AHEAD = timedelta(days=60)  # how far ahead a callback may be set


def check_interface(interface: str) -> str:
    """The operator's interface if it is a plain dial string, else ``InvalidInput``."""
    if not _INTERFACE.fullmatch(interface):
        raise InvalidInput("the operator's interface is not a plain dial string (TECH/resource)")
    return interface


@dataclass(frozen=True)
class CallbackDue:
    """A callback fallen due: to ``personal`` (an interface) only, or to anyone when None."""

    callback_id: int
    campaign_id: int
    lead_id: int
    due_at: datetime
    personal: str | None


def callback_operator(due: CallbackDue, ready: Sequence[str], release_s: float, now: datetime) -> str | None:
    """The interface to put a due callback through to now, or None to wait.

    A personal callback waits for its operator to be ready; once it is ``release_s`` late it
    goes to anyone ready. ``ready`` lists the interfaces ready in the campaign, best first.
    """
    if due.personal is not None:
        if due.personal in ready:
            return due.personal
        if now < due.due_at + timedelta(seconds=release_s):
            return None
    return ready[0] if ready else None


def callback_time_problem(
    at: datetime,
    now: datetime,
    zones: Sequence[str],
    window: CallingWindow,
    limits: ContactLimits,
    contacts: Sequence[datetime],
    shown_in: tzinfo = UTC,
) -> str | None:
    """Why a callback may not be set for ``at`` (aware UTC), or None when it may; a time it names
    is given in ``shown_in``, the zone the time was entered in."""
    zone = str(shown_in)
    if at <= now:
        return reasons.IN_THE_PAST
    if at > now + MAX_AHEAD:
        return reasons.TOO_FAR_AHEAD
    if not is_callable(at, zones, window):
        nxt = next_callable(at, zones, window)
        if nxt is None:
            return reasons.OUTSIDE_WINDOW
        return reasons.CALLBACK_OUTSIDE.format(at=f"{nxt.astimezone(shown_in):%Y-%m-%d %H:%M}", zone=zone)
    later = next_allowed(contacts, limits, at) if limits else None
    if later is not None:
        return reasons.CALLBACK_LIMITS.format(at=f"{later.astimezone(shown_in):%Y-%m-%d %H:%M}", zone=zone)
    return None


def check_release(seconds: int) -> int:
    if not MIN_RELEASE_S <= seconds <= MAX_RELEASE_S:
        raise InvalidInput("--release-after: between 1 minute and 7 days")
    return seconds


def check_hold(seconds: int) -> int:
    if not MIN_HOLD_S <= seconds <= MAX_HOLD_S:
        raise InvalidInput("--preview-hold: between 10 seconds and 1 hour")
    return seconds

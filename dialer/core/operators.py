"""An operator's state, as asked for (desired) and as the phone system reports it (observed)."""

from __future__ import annotations

from enum import StrEnum


class OperatorState(StrEnum):
    LOGGED_OUT = "logged_out"
    PAUSED = "paused"  # logged in, not taking calls
    READY = "ready"
    IN_CALL = "in_call"  # observed only
    UNAVAILABLE = "unavailable"  # observed only: the phone is unreachable

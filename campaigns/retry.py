"""Retry rules: after an attempt, what becomes of the lead.

``after_attempt`` is a pure function of (policy, outcome, attempts made, when
the attempt ended). It does not look at calling windows: the engine dials a
scheduled lead at the first callable instant at or after ``next_call_at``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum

from dialer.core.attempt import FINAL_OUTCOMES, Outcome
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _


class LeadStatus(StrEnum):
    """Where a lead stands in its campaign (the store keeps these strings)."""

    NEW = "new"
    SCHEDULED = "scheduled"  # a retry is pending
    IN_CALL = "in_call"
    DONE = "done"
    EXHAUSTED = "exhausted"  # max attempts reached without a final outcome
    DNC = "dnc"  # on a do-not-call list
    INVALID = "invalid"  # the number does not exist or cannot be dialed
    CALLBACK = "callback"  # an operator promised a call at a set time (the callback table)


# The UK rule: no repeat call to a number whose call was abandoned within 72 hours,
# unless an operator is guaranteed (which a predictive dialer cannot promise).
UK_ABANDON_REDIAL_GAP = timedelta(hours=72)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION_S = 100 * 366 * 86400  # far beyond any rule; keeps a typo from overflowing timedelta
_DURATION = re.compile(r"\s*([0-9]{1,12})\s*([smhd])\s*")
_MAX_DELAY = timedelta(days=365)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before calling a lead again, by the outcome of its last attempt."""

    busy: timedelta = timedelta(minutes=15)
    no_answer: timedelta = timedelta(hours=2)
    congestion: timedelta = timedelta(minutes=5)
    failed: timedelta = timedelta(minutes=30)
    machine: timedelta = timedelta(hours=4)
    abandoned: timedelta = timedelta(hours=1)
    max_attempts: int = 5
    # On by default: the safe choice; an abandoned person is not called back within 72 h.
    uk_abandon_rule: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidInput(f"max_attempts must be at least 1, got {self.max_attempts}")
        for outcome in RETRYABLE_OUTCOMES:
            delay: timedelta = getattr(self, outcome.value)
            if not timedelta(0) <= delay <= _MAX_DELAY:
                raise InvalidInput(f"retry delay for {outcome.value} must be between 0 and 365d, got {delay}")

    def delay(self, outcome: Outcome) -> timedelta:
        """The wait before the next attempt after ``outcome`` (which must be retryable)."""
        if outcome in FINAL_OUTCOMES:
            raise InvalidInput(f"{outcome.value} is final and is never retried")
        delay: timedelta = getattr(self, outcome.value)
        if outcome is Outcome.ABANDONED and self.uk_abandon_rule:
            return max(delay, UK_ABANDON_REDIAL_GAP)
        return delay

    @classmethod
    def parse_overrides(cls, items: Iterable[str], base: RetryPolicy | None = None) -> RetryPolicy:
        """Apply ``outcome=DURATION`` items (``busy=10m``, ``no_answer=1h``) to ``base``.

        Durations take one unit: s, m, h or d. Also ``max_attempts=N`` and
        ``uk_abandon_rule=on|off``.
        """
        policy = base if base is not None else cls()
        changes: dict[str, object] = {}
        for item in items:
            key, sep, value = item.partition("=")
            key, value = key.strip().lower(), value.strip()
            if not sep or not key:
                raise InvalidInput(f"retry override {item!r}: expected NAME=VALUE, e.g. busy=10m")
            changes[key] = _parse_value(key, value, item)
        try:
            return replace(policy, **changes)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InvalidInput(f"retry overrides: {exc}") from None


RETRYABLE_OUTCOMES: tuple[Outcome, ...] = tuple(o for o in Outcome if o not in FINAL_OUTCOMES)
_FIELD_NAMES = {f.name for f in fields(RetryPolicy)}
assert {o.value for o in RETRYABLE_OUTCOMES} <= _FIELD_NAMES


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"10m"``, ``"2h"``, ``"3d"`` as a timedelta."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise InvalidInput(
            _("duration {text}: expected a whole number and a unit s, m, h or d (e.g. 10m)").format(
                text=repr(text[:40])
            )
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION_S:
        raise InvalidInput(
            _("duration {text}: at most {days}d").format(text=repr(text[:40]), days=MAX_DURATION_S // 86400)
        )
    return timedelta(seconds=seconds)


def _parse_value(key: str, value: str, item: str) -> object:
    if key in {o.value for o in FINAL_OUTCOMES}:
        raise InvalidInput(f"retry override {item!r}: {key} is final and is never retried")
    if key in {o.value for o in RETRYABLE_OUTCOMES}:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise InvalidInput(f"retry override {item!r}: {exc}") from None
    if key == "max_attempts":
        if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) < 1:
            raise InvalidInput(
                f"retry override {item[:60]!r}: max_attempts must be a whole number: at least 1, at most 999"
            )
        return int(value)
    if key == "uk_abandon_rule":
        flag = value.lower()
        if flag not in {"on", "off", "true", "false", "yes", "no", "1", "0"}:
            raise InvalidInput(f"retry override {item!r}: uk_abandon_rule must be on or off")
        return flag in {"on", "true", "yes", "1"}
    known = ", ".join([o.value for o in RETRYABLE_OUTCOMES] + ["max_attempts", "uk_abandon_rule"])
    raise InvalidInput(f"retry override {item!r}: unknown name {key!r}; known: {known}")


@dataclass(frozen=True)
class LeadDisposition:
    """What happens to the lead after an attempt."""

    status: LeadStatus
    reason: Outcome
    next_call_at: datetime | None = None


def after_attempt(
    policy: RetryPolicy, outcome: Outcome, attempts_so_far: int, ended_at: datetime
) -> LeadDisposition:
    """The lead's next status after an attempt that ended with ``outcome``.

    ``attempts_so_far`` counts every attempt made on the lead, including this one.
    A final outcome wins even on the last allowed attempt.
    """
    if attempts_so_far < 1:
        raise InvalidInput(
            f"attempts_so_far counts the attempt just made and must be >= 1, got {attempts_so_far}"
        )
    if outcome is Outcome.INVALID_NUMBER:
        return LeadDisposition(LeadStatus.INVALID, outcome)
    if outcome in FINAL_OUTCOMES:
        return LeadDisposition(LeadStatus.DONE, outcome)
    if attempts_so_far >= policy.max_attempts:
        return LeadDisposition(LeadStatus.EXHAUSTED, outcome)
    return LeadDisposition(LeadStatus.SCHEDULED, outcome, ended_at + policy.delay(outcome))

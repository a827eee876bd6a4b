"""A campaign's abandon figures as the engine keeps them, and AMD verdicts read as abandons.

``AbandonTracker`` holds the figures between two readings of the store (``dialer.store.abandon``
reads them): the store's, plus the live answers this engine recorded since.

AMD false positives: Asterisk's ``AMD()`` says MACHINE when nobody speaks for
its initial-silence time. A real answering machine greets at once; a person who
picked up and waits for the caller to speak first is classed as a machine and
hung up on. Such a call (``INITIALSILENCE`` cause) is recorded as abandoned: it
counts in the rate, holds the number under the UK 72-hour rule, and keeps
``amd_status`` MACHINE on the row so it can be told apart. A machine verdict on
a person who spoke (``LONGGREETING``, ``MAXWORDS`` ...) cannot be told from a
real machine afterwards and stays ``machine``: the rate is then a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from campaigns.settings import DEFAULTS
from dialer.core.attempt import Attempt, Outcome, counts_toward_abandon_rate
from dialer.pacing import AbandonStats
from dialer.policy.compliance_checks import WINDOWS

_SILENT_MACHINE = "INITIALSILENCE"


def window_length(abandon_window: str) -> timedelta:
    """The length of a campaign's abandon window (``30d`` or ``24h``); unknown values get 30 days."""
    return WINDOWS.get(abandon_window, WINDOWS["30d"])


class AbandonTracker:
    """A campaign's abandon figures: the store's, refreshed every ``refresh_s``, plus this run's news.

    Mutable, one per campaign per engine. ``record`` each attempt this engine
    ends; ``stats(now)`` re-reads the store when the last reading is older than
    ``refresh_s`` (a reading includes every attempt recorded before it). An engine
    that reads in another thread does the same in steps: ``news``, ``read`` there,
    ``take_reading``, so that an attempt recorded while the read runs is kept.
    """

    def __init__(
        self,
        read: Callable[[float], AbandonStats],
        refresh_s: float = 5.0,
    ) -> None:
        self._read = read
        self.refresh_s = refresh_s
        self._base = AbandonStats()
        self._next_read = float("-inf")
        self._abandoned = 0
        self._live = 0

    def record(self, attempt: Attempt) -> None:
        live, abandoned = counts_toward_abandon_rate(attempt.outcome)
        self._live += live
        self._abandoned += abandoned

    def stats(self, now: float) -> AbandonStats:
        if self.needs_reading(now):
            self.take_reading(self.read(now), now, self.news())
        return self.current()

    def needs_reading(self, now: float) -> bool:
        return now >= self._next_read

    def read(self, now: float) -> AbandonStats:
        """The store's figures (no state of the tracker is touched: callable from another thread)."""
        return self._read(now)

    def news(self) -> tuple[int, int]:
        """What ``record`` counted so far: (abandoned, live answers). Take it when the read is sent."""
        return self._abandoned, self._live

    def take_reading(self, base: AbandonStats, now: float, before: tuple[int, int]) -> None:
        """Adopt a reading of the store; keep what was recorded after the read was sent (``before``)."""
        self._base = base
        self._abandoned -= before[0]
        self._live -= before[1]
        self._next_read = now + self.refresh_s

    def current(self) -> AbandonStats:
        return AbandonStats(
            abandoned=self._base.abandoned + self._abandoned,
            live_answers=self._base.live_answers + self._live,
        )


@dataclass(frozen=True)
class AbandonSettings:
    """A campaign's cap and window, as the engine reads them from its row."""

    cap: float = DEFAULTS.abandon_cap
    window: str = DEFAULTS.abandon_window


def silent_machine(status: str | None, cause: str | None) -> bool:
    """An AMD MACHINE verdict reached on silence alone: most likely a person waiting to hear us."""
    return (status or "").upper() == "MACHINE" and (cause or "").upper().startswith(_SILENT_MACHINE)


def reclassify_machine(attempt: Attempt, amd_cause: str | None) -> Attempt:
    """A ``machine`` attempt whose verdict came from silence alone, as the abandoned call it likely was."""
    if attempt.outcome is Outcome.MACHINE and silent_machine(attempt.amd_status, amd_cause):
        return replace(attempt, outcome=Outcome.ABANDONED)
    return attempt

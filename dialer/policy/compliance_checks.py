"""The figures of the compliance record, computed from attempt rows with no I/O.

Every function takes plain rows and instants and returns counts, rates and the
ids of offending attempts, so a record can be recomputed and checked by hand.

Definitions (the rules are in ``dialer.core.attempt``):

- A *live answer* is an attempt a person answered: outcome ``connected`` or
  ``abandoned`` (or the ``abandoned`` flag). ``machine`` outcomes are not live
  answers. An AMD ``MACHINE`` verdict on what was really a person cannot be told
  apart from a true machine afterwards, so such calls are not counted: under
  Ofcom, which counts AMD false positives as abandoned, the rate is a lower
  bound; the record shows the machine count beside it.
- A live answer belongs to the instant of its answer (``answered_at``, else
  ``started_at``). A rolling window of length L ending at ``t`` holds the answers
  in ``(t - L, t]``. The worst window in a history is sought among the windows
  ending at each live answer (see ``worst_window``).
- A *contact* is an attempt with outcome ``connected``, at its ``connected_at``
  (else ``started_at``). Contact limits count the contacts with a number in every
  campaign; a contact is over the limits when the rolling window ending at it
  holds more than a limit allows (``campaigns.contact_limits.over_limits``).
- Ring time runs from ``ringing_at`` (else ``started_at``) to the answer, or to
  the end of an unanswered call. Measuring from the ringing signal, when known,
  gives the shorter figure: the early give-up check errs towards flagging.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from campaigns.contact_limits import ContactLimits, over_limits
from campaigns.settings import MIN_RING_TIMEOUT_S
from campaigns.window import CallingWindow, is_callable
from dialer.core.errors import InvalidInput

# The abandon windows a campaign can be held to: US TSR (30 days) and Ofcom (24 hours).
WINDOWS: dict[str, timedelta] = {"30d": timedelta(days=30), "24h": timedelta(hours=24)}
UK_REDIAL_HOLD = timedelta(hours=72)  # Ofcom: no repeat call to an abandoned number within 72 h

LIVE_OUTCOMES = frozenset({"connected", "abandoned"})
CONTACT_OUTCOME = "connected"  # a conversation with an operator
# Unanswered calls the network ended, not us or the person: not a give-up.
NOT_A_GIVE_UP = frozenset({"busy", "congestion", "failed", "invalid_number"})


@dataclass(frozen=True)
class AttemptRow:
    """What the record needs of one call attempt; instants are aware UTC."""

    attempt_id: str
    phone: str
    zones: tuple[str, ...]
    started_at: datetime
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    abandoned: bool = False

    @property
    def is_abandoned(self) -> bool:
        return self.abandoned or self.outcome == "abandoned"

    @property
    def is_live_answer(self) -> bool:
        return self.is_abandoned or self.outcome in LIVE_OUTCOMES

    @property
    def answer_instant(self) -> datetime:
        return self.answered_at if self.answered_at is not None else self.started_at

    @property
    def is_contact(self) -> bool:
        return self.outcome == CONTACT_OUTCOME

    @property
    def contact_instant(self) -> datetime:
        return self.connected_at if self.connected_at is not None else self.started_at


# --- abandon rate ------------------------------------------------------------------


@dataclass(frozen=True)
class WindowRate:
    """Abandoned calls over live answers in the window ``(end - length, end]``."""

    end: datetime
    length: timedelta
    abandoned: int
    live: int

    @property
    def start(self) -> datetime:
        return self.end - self.length

    @property
    def rate(self) -> Fraction | None:
        """Exact rate; None when no person answered in the window."""
        return Fraction(self.abandoned, self.live) if self.live else None

    def over(self, cap: Fraction) -> bool:
        rate = self.rate
        return rate is not None and rate > cap


LiveAnswer = tuple[datetime, bool]  # (answer instant, abandoned)


def live_answers(rows: Iterable[AttemptRow]) -> list[LiveAnswer]:
    """The live answers, in time order."""
    return sorted((row.answer_instant, row.is_abandoned) for row in rows if row.is_live_answer)


def window_rate(answers: Sequence[LiveAnswer], end: datetime, length: timedelta) -> WindowRate:
    """The rate in the one window ending at ``end``."""
    inside = [abandoned for at, abandoned in answers if end - length < at <= end]
    return WindowRate(end, length, sum(inside), len(inside))


def worst_window(answers: Sequence[LiveAnswer], length: timedelta, until: datetime) -> WindowRate | None:
    """The highest rate over the windows of ``length`` ending at each live answer up to ``until``.

    This is the rate the dialer itself sees the moment each person answers, the
    figure its pacing must keep under the cap. Windows ending between answers are
    left out on purpose: as answered calls age out after the last call before a
    quiet spell (a weekend), such a window shrinks to the last call or two, and a
    single abandoned call among them would read as 50 or 100%. The window ending
    now is reported separately. A window that opens a campaign, or follows a gap
    longer than ``length``, can still hold very few answers; the counts are kept
    beside the rate so a reader can see it.

    A two-pointer sweep over the sorted answers, O(n log n). Ties go to the
    earliest window; None when there is no live answer by ``until``.
    """
    ordered = sorted(answers)
    n = len(ordered)
    best: WindowRate | None = None
    best_rate = Fraction(-1)
    first = last = 0  # ordered[first:last] is inside the current window
    abandoned = 0
    while last < n and ordered[last][0] <= until:
        end = ordered[last][0]
        while last < n and ordered[last][0] == end:  # answers at the same instant share one window
            abandoned += ordered[last][1]
            last += 1
        while ordered[first][0] <= end - length:
            abandoned -= ordered[first][1]
            first += 1
        rate = Fraction(abandoned, last - first)
        if rate > best_rate:
            best_rate = rate
            best = WindowRate(end, length, abandoned, last - first)
    return best


# --- operator connection and ring time ---------------------------------------------


def connected_within(rows: Iterable[AttemptRow], limit_s: float) -> tuple[int, int]:
    """``(live answers connected to an operator within limit_s of the answer, live answers)``."""
    within = live = 0
    for row in rows:
        if not row.is_live_answer:
            continue
        live += 1
        if row.answered_at is not None and row.connected_at is not None:
            within += (row.connected_at - row.answered_at).total_seconds() <= limit_s
    return within, live


def ring_seconds(row: AttemptRow) -> float | None:
    """How long the phone rang; None for a call still in progress or ended by the network."""
    begin = row.ringing_at if row.ringing_at is not None else row.started_at
    if row.answered_at is not None:
        return max(0.0, (row.answered_at - begin).total_seconds())
    if row.outcome in NOT_A_GIVE_UP or row.ended_at is None:
        return None
    return max(0.0, (row.ended_at - begin).total_seconds())


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values: the smallest value with p% at or below it."""
    if not ordered:
        raise InvalidInput("percentile of no values")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class RingStats:
    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    minimum: float | None
    early_give_ups: tuple[str, ...]  # unanswered calls given up before MIN_RING_TIMEOUT_S


def ring_stats(rows: Iterable[AttemptRow]) -> RingStats:
    times: list[float] = []
    early: list[str] = []
    for row in rows:
        seconds = ring_seconds(row)
        if seconds is None:
            continue
        times.append(seconds)
        if row.answered_at is None and seconds < MIN_RING_TIMEOUT_S:
            early.append(row.attempt_id)
    times.sort()
    if not times:
        return RingStats(0, None, None, None, None, ())
    return RingStats(
        len(times),
        percentile(times, 50),
        percentile(times, 90),
        percentile(times, 99),
        times[0],
        tuple(early),
    )


# --- counts that must be zero ------------------------------------------------------


def outside_window(rows: Iterable[AttemptRow], window: CallingWindow) -> tuple[str, ...]:
    """Attempts started when any candidate zone of the lead was outside the window.

    A lead with no known zone is counted: nothing shows its call was in hours.
    """
    return tuple(row.attempt_id for row in rows if not is_callable(row.started_at, row.zones, window))


def dnc_hits(rows: Iterable[AttemptRow], listed_since: Mapping[str, datetime]) -> tuple[str, ...]:
    """Attempts to a number already on a do-not-call list when the attempt started.

    ``listed_since`` maps a phone to the earliest ``added_at`` over the global
    list and the campaign's own.
    """
    hits = []
    for row in rows:
        since = listed_since.get(row.phone)
        if since is not None and since <= row.started_at:
            hits.append(row.attempt_id)
    return tuple(hits)


def redials_after_abandon(rows: Iterable[AttemptRow], hold: timedelta = UK_REDIAL_HOLD) -> tuple[str, ...]:
    """Attempts started within ``hold`` after an earlier call to the same number was abandoned.

    The hold runs from the end of the abandoned call (else its answer, else its
    start): the latest instant known, so no redial escapes the count.
    """
    by_phone: dict[str, list[AttemptRow]] = {}
    for row in rows:
        by_phone.setdefault(row.phone, []).append(row)
    redials: list[str] = []
    for calls in by_phone.values():
        calls.sort(key=lambda r: r.started_at)
        marks: list[datetime] = []  # ends of earlier abandoned calls to this number
        for row in calls:
            if any(mark < row.started_at <= mark + hold for mark in marks):
                redials.append(row.attempt_id)
            if row.is_abandoned:
                marks.append(row.ended_at or row.answered_at or row.started_at)
    return tuple(sorted(redials))


def over_contact_limits(
    rows: Iterable[AttemptRow],
    limits: ContactLimits,
    elsewhere: Mapping[str, Sequence[datetime]] | None = None,
) -> tuple[str, ...]:
    """The campaign's contacts that left some rolling window over ``limits`` for their number.

    ``elsewhere`` maps a phone to its contact instants in other campaigns: they
    count towards the limits, but only the campaign's own contacts are reported.
    """
    if not limits:
        return ()
    own: dict[str, list[AttemptRow]] = {}
    for row in rows:
        if row.is_contact:
            own.setdefault(row.phone, []).append(row)
    over: list[str] = []
    for phone, contacts in own.items():
        others = list((elsewhere or {}).get(phone, ()))
        flags = over_limits([row.contact_instant for row in contacts] + others, limits)
        over.extend(row.attempt_id for row, flag in zip(contacts, flags, strict=False) if flag)
    return tuple(sorted(over))

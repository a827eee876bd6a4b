"""A lead with several numbers: which one the next attempt dials, and what an attempt changes.

A list cell may hold several numbers (``8 (903) 100-20-34; 8 (495) 200-30-44``). The first
good one is the lead's ``phone``; all of them, in the cell's order and each with its own
candidate zones, are kept in the lead's ``numbers`` (none kept for a lead with one number).

The rules, pure functions of the stored values:

- ``turn`` is the position of the number the next attempt dials. An attempt that reached
  nobody (busy, no answer, congestion, failed, an answering machine) moves the turn to the
  next number, cycling: each retry of the lead, timed by the retry rules, dials the next one.
- An attempt that reached a person (connected, abandoned) leaves the turn where it is.
- A number the network called wrong (``invalid_number``: unallocated, changed, bad format)
  is dropped: never dialed again for this lead. The lead is closed as invalid only when no
  number is left; otherwise its next attempt dials the next live number, at once.
- At dial time a number on a do-not-call list is passed over, per number; a lead is held
  back as do-not-call only when every live number is on a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dialer.core.attempt import Outcome

# Outcomes after which the next attempt of the lead dials its next number.
NEXT_NUMBER_AFTER = frozenset(
    {Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CONGESTION, Outcome.FAILED, Outcome.MACHINE}
)


@dataclass(frozen=True)
class LeadNumber:
    phone: str  # E.164
    zones: str  # candidate IANA zones, comma-separated
    dropped: bool = False

    def stored(self) -> dict[str, Any]:
        return {"phone": self.phone, "zones": self.zones, "dropped": self.dropped}


def lead_numbers(phone: str, zones: str, stored: object) -> list[LeadNumber]:
    """The lead's numbers from its columns; a lead with none stored has its one ``phone``."""
    found: list[LeadNumber] = []
    if isinstance(stored, list):
        for item in stored:
            if isinstance(item, dict) and isinstance(item.get("phone"), str):
                found.append(
                    LeadNumber(item["phone"], str(item.get("zones") or ""), bool(item.get("dropped")))
                )
    return found or [LeadNumber(phone, zones)]


def number_zones(phone: str, zones: str, stored: object, dialed: str) -> str:
    """The zones of the lead's number ``dialed``; the lead's own zones if it is not one of its numbers."""
    return next((n.zones for n in lead_numbers(phone, zones, stored) if n.phone == dialed), zones)


def stored_numbers(numbers: Sequence[LeadNumber]) -> list[dict[str, Any]] | None:
    """What the store keeps: nothing for one number, else every number in order."""
    return [n.stored() for n in numbers] if len(numbers) > 1 else None


def dial_order(numbers: Sequence[LeadNumber], turn: int) -> list[int]:
    """Positions of the live numbers, starting at the turn and cycling."""
    count = len(numbers)
    if count == 0:
        return []
    start = turn % count
    order = [(start + i) % count for i in range(count)]
    return [i for i in order if not numbers[i].dropped]


def choose_number(numbers: Sequence[LeadNumber], turn: int, blocked: Iterable[str]) -> int | None:
    """The position of the number to dial: the first live one from the turn not on a DNC list."""
    barred = set(blocked)
    for i in dial_order(numbers, turn):
        if numbers[i].phone not in barred:
            return i
    return None


@dataclass(frozen=True)
class NumbersAfter:
    numbers: list[LeadNumber]
    turn: int
    live: int  # numbers left to dial

    @property
    def retry_now(self) -> bool:
        """A wrong number was dropped and another is left: dial that one without waiting."""
        return self.live > 0


def after_dial(numbers: Sequence[LeadNumber], turn: int, dialed: str, outcome: Outcome) -> NumbersAfter:
    """The lead's numbers and turn after an attempt on ``dialed`` ended with ``outcome``."""
    kept = list(numbers)
    position = next((i for i, n in enumerate(kept) if n.phone == dialed), None)
    if position is None:
        return NumbersAfter(kept, turn, len(dial_order(kept, turn)))
    if outcome is Outcome.INVALID_NUMBER:
        kept[position] = LeadNumber(dialed, kept[position].zones, dropped=True)
    if outcome is Outcome.INVALID_NUMBER or outcome in NEXT_NUMBER_AFTER:
        turn = (position + 1) % len(kept)
    else:
        turn = position
    return NumbersAfter(kept, turn, len(dial_order(kept, turn)))

"""The last check before a claimed lead is dialed: pure, from (lead facts, rules, now).

Import-time checks are not enough: a number can join a do-not-call list, the
window can close, and a retry can come due in another zone's night between the
claim and the dial. Every verdict other than ``DIAL`` says what to do with the lead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from campaigns.lead_numbers import LeadNumber, dial_order
from campaigns.window import is_callable, next_callable, window_problem
from dialer.core import reasons
from dialer.policy.campaign_rules import CampaignRules


class Verdict(Enum):
    DIAL = "dial"
    DNC = "dnc"  # on a do-not-call list: never dial
    EXHAUSTED = "exhausted"  # max attempts already made
    LATER = "later"  # outside the calling window: retry at ``next_at``
    NO_WINDOW = "no_window"  # no callable time at all: report, never skip silently


@dataclass(frozen=True)
class GateResult:
    verdict: Verdict
    next_at: datetime | None = None
    reason: str = ""


def zones_of(time_zones: str) -> list[str]:
    return [z.strip() for z in time_zones.split(",") if z.strip()]


def check_lead(
    rules: CampaignRules, zones: list[str], attempts: int, on_dnc: bool, now: datetime
) -> GateResult:
    if on_dnc:
        return GateResult(Verdict.DNC, reason=reasons.ON_A_DNC)
    if attempts >= rules.retry.max_attempts:
        return GateResult(Verdict.EXHAUSTED, reason=reasons.ATTEMPTS_MADE.format(attempts=attempts))
    if is_callable(now, zones, rules.window):
        return GateResult(Verdict.DIAL)
    next_at = next_callable(now, zones, rules.window)
    if next_at is None:
        reason = window_problem(zones, rules.window, now) or reasons.NO_CALLABLE_WEEK
        return GateResult(Verdict.NO_WINDOW, reason=reason)
    return GateResult(Verdict.LATER, next_at=next_at, reason=reasons.OUTSIDE_WINDOW)


def check_numbers(
    rules: CampaignRules,
    numbers: Sequence[LeadNumber],
    turn: int,
    attempts: int,
    blocked: Collection[str],
    now: datetime,
) -> tuple[int | None, GateResult]:
    """The gate for a lead with several numbers: which one to dial now, or what to do with the lead.

    The live numbers are tried from the turn on (``campaigns.lead_numbers``), each in its own
    zones; one on a do-not-call list is passed over. The first callable one is dialed. If none is
    callable now, the lead waits for the earliest instant one of them becomes callable.
    """
    candidates = [i for i in dial_order(numbers, turn) if numbers[i].phone not in blocked]
    if not candidates:
        return None, GateResult(Verdict.DNC, reason=reasons.EVERY_NUMBER_DNC)
    results = [(i, check_lead(rules, zones_of(numbers[i].zones), attempts, False, now)) for i in candidates]
    for i, result in results:
        if result.verdict in (Verdict.DIAL, Verdict.EXHAUSTED):
            return i, result
    later = [(r.next_at, i, r) for i, r in results if r.verdict is Verdict.LATER and r.next_at is not None]
    if later:
        _, i, result = min(later, key=lambda item: (item[0], item[1]))
        return i, result
    return results[0]

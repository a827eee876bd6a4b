"""Choosing the leads to dial now: claim, then check each one again at dial time.

A claimed lead that may not be dialed is released at once with the reason
applied: a do-not-call hit closes it, a closed window reschedules it to the next
callable instant, a lead with no callable time at all is marked ``no_window``
(and shown by ``dialer status``), never left to be skipped silently forever.
A lead whose number was spoken to as often as the campaign's contact limits
allow (in any campaign) is rescheduled to the first instant they allow again.

A lead with several numbers is dialed on one of them (``campaigns.lead_numbers``): the
claimed lead handed on carries that number and its zones, so the attempt row, the Originate
and the contact limits all see the number actually dialed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Engine

from campaigns.contact_limits import longest_period, next_allowed
from campaigns.lead_numbers import LeadNumber, lead_numbers
from campaigns.retry import LeadStatus
from dialer.core.clock import to_dt
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.gate import GateResult, Verdict, check_lead, check_numbers, zones_of
from dialer.store.claims import ClaimedLead, claim_due_leads, dnc_phones, release_claims
from dialer.store.contacts import recent_contacts
from dialer.store.recorder import (
    NO_WINDOW,
    NO_WINDOW_RECHECK,
    Fenced,
    Placement,
    begin_attempts,
    settle_unreached,
)

log = logging.getLogger(__name__)

# Claim a few more than needed: some will fail the dial-time checks.
_ROUNDS = 4


def claim_and_begin(
    store: Engine,
    rules: CampaignRules,
    node: str,
    now: float,
    wanted: int,
    clock: Callable[[], float],
    still_dialing: Callable[[], bool],
    fence: int | None = None,
) -> list[Placement]:
    """Select up to ``wanted`` leads and commit their attempts: one dialing cycle's store work.

    One call, so that the engine hands its store thread one job per cycle. If
    ``still_dialing`` says no once the leads are chosen (the engine was stopped or
    lost its phone system meanwhile), or the campaign's ``fence`` moved on (another node
    took the campaign), they are given back and nothing is begun.
    """
    leads = select_leads(store, rules, node, now, wanted)
    if not leads:
        return []
    if still_dialing():
        try:
            return begin_attempts(store, leads, node, clock, fence)
        except Fenced as exc:
            log.warning("%s: this node places no call", exc)
    release_claims(store, node)  # between cycles a node holds no lead outside a call
    return []


def select_leads(
    store: Engine, rules: CampaignRules, node: str, now: float, wanted: int
) -> list[ClaimedLead]:
    """Up to ``wanted`` claimed leads that passed every dial-time check, held by ``node``."""
    chosen: list[ClaimedLead] = []
    moment = to_dt(now)
    for _ in range(_ROUNDS):
        need = wanted - len(chosen)
        if need <= 0:
            break
        batch = claim_due_leads(store, rules.campaign_id, node, moment, need)
        if not batch:
            break
        chosen.extend(_check(store, rules, node, batch, moment))
    return chosen


def settle_uncallable(store: Engine, rules: CampaignRules, node: str, now: float, batch: int = 200) -> bool:
    """Reschedule the campaign's due leads that may not be dialed now; True once one may be.

    Run when nothing is being dialed (no operator ready, say), so that a lead whose
    window is closed waits for it like a lead waits for its retry time, instead of
    counting as due. The callable lead found is given back unclaimed.
    """
    moment = to_dt(now)
    while True:
        claimed = claim_due_leads(store, rules.campaign_id, node, moment, batch)
        if not claimed:
            return False
        callable_now = _check(store, rules, node, claimed, moment)
        for lead in callable_now:
            settle_unreached(store, lead.lead_id, node, None, None)
        if callable_now:
            return True


def _check(
    store: Engine, rules: CampaignRules, node: str, batch: list[ClaimedLead], moment: datetime
) -> list[ClaimedLead]:
    """The claimed leads that pass every dial-time check; the others are released with the verdict."""
    phones = [n.phone for lead in batch for n in _numbers_of(lead)]
    blocked = dnc_phones(store, rules.campaign_id, phones)
    passed: list[ClaimedLead] = []
    for claimed in batch:
        lead, result = _gate(rules, claimed, blocked, moment)
        if result.verdict is Verdict.DIAL:
            passed.append(lead)
            continue
        log.info("lead %s not dialed: %s", lead.lead_id, result.reason)
        if result.verdict is Verdict.DNC:
            settle_unreached(store, lead.lead_id, node, LeadStatus.DNC, None)
        elif result.verdict is Verdict.EXHAUSTED:
            settle_unreached(store, lead.lead_id, node, LeadStatus.EXHAUSTED, None)
        elif result.verdict is Verdict.LATER:
            settle_unreached(store, lead.lead_id, node, None, result.next_at)
        else:
            settle_unreached(store, lead.lead_id, node, None, moment + NO_WINDOW_RECHECK, NO_WINDOW)
    return _within_contact_limits(store, rules, node, passed, moment)


def _numbers_of(lead: ClaimedLead) -> list[LeadNumber]:
    return lead_numbers(lead.phone, ",".join(lead.zones), lead.numbers)


def _gate(
    rules: CampaignRules, lead: ClaimedLead, blocked: set[str], moment: datetime
) -> tuple[ClaimedLead, GateResult]:
    """The verdict on a claimed lead; one with several numbers comes back carrying the one to dial."""
    if lead.numbers is None:
        return lead, check_lead(rules, lead.zones, lead.attempts, lead.phone in blocked, moment)
    numbers = _numbers_of(lead)
    position, result = check_numbers(rules, numbers, lead.turn, lead.attempts, blocked, moment)
    if position is None or result.verdict is not Verdict.DIAL:
        return lead, result
    chosen = numbers[position]
    return replace(lead, phone=chosen.phone, zones=zones_of(chosen.zones)), result


def _within_contact_limits(
    store: Engine, rules: CampaignRules, node: str, leads: list[ClaimedLead], moment: datetime
) -> list[ClaimedLead]:
    """The leads whose numbers may be spoken to now; the others are released until they may."""
    if not rules.contact_limits or not leads:
        return leads
    since = moment - longest_period(rules.contact_limits)
    contacts = recent_contacts(store, [lead.phone for lead in leads], since)
    allowed: list[ClaimedLead] = []
    for lead in leads:
        next_at = next_allowed(contacts.get(lead.phone, []), rules.contact_limits, moment)
        if next_at is None:
            allowed.append(lead)
            continue
        log.info(
            "lead %s not dialed: its number reached the contact limits; next call at %s",
            lead.lead_id,
            f"{next_at:%Y-%m-%d %H:%M:%S} UTC",
        )
        settle_unreached(store, lead.lead_id, node, None, next_at)
    return allowed

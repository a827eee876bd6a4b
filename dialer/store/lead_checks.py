"""One lead's dial-time verdict: do-not-call, calling window, contact limits.

For calls an operator asks for (a callback, a preview call, a manual dial), checked by the
console when asked and by the engine again when it dials. The rules are the pure ones the
engine's own selection applies (``dialer.policy.gate``, ``campaigns.contact_limits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from campaigns.contact_limits import longest_period, next_allowed
from dialer.core import reasons
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.gate import GateResult, Verdict, check_lead
from dialer.store.claims import dnc_phones
from dialer.store.contacts import recent_contacts


def dial_verdict(
    store: Engine, rules: CampaignRules, phone: str, zones: Sequence[str], moment: datetime
) -> GateResult:
    """May ``phone`` be called now for the campaign? The attempts limit is left out on purpose:
    it bounds the engine's own retries, not a call an operator asks for."""
    on_dnc = phone in dnc_phones(store, rules.campaign_id, [phone])
    result = check_lead(rules, list(zones), 0, on_dnc, moment)
    if result.verdict is not Verdict.DIAL or not rules.contact_limits:
        return result
    contacts = contacts_of(store, rules, phone, moment)
    later = next_allowed(contacts, rules.contact_limits, moment)
    if later is None:
        return result
    return GateResult(Verdict.LATER, later, reasons.CONTACT_LIMITS.format(at=f"{later:%Y-%m-%d %H:%M}"))


def contacts_of(store: Engine, rules: CampaignRules, phone: str, moment: datetime) -> list[datetime]:
    """The number's conversations that the campaign's contact limits count at ``moment``."""
    if not rules.contact_limits:
        return []
    since = moment - longest_period(rules.contact_limits)
    return recent_contacts(store, [phone], since).get(phone, [])

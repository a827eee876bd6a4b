"""What a disposition code does to its lead, inside the transaction that records it.

A ``dnc`` code puts the number on the global do-not-call list at once; a code with a retry
delay schedules the lead again (unless it is already closed for good); any other code closes it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from campaigns.models import DncEntry, Lead, utcnow
from campaigns.retry import LeadStatus


def apply_code(
    session: Session, lead: Lead, code: str, *, dnc: bool, retry_in_s: int | None, dialed: str | None = None
) -> None:
    """``dialed``: the number the person was reached on (a lead may have alternates); the default is
    the lead's first number. A ``dnc`` code lists that number and closes the lead."""
    if dnc:
        number = dialed or lead.phone
        listed = session.exec(
            select(DncEntry).where(DncEntry.phone == number, col(DncEntry.campaign_id).is_(None))
        ).first()
        if listed is None:
            session.add(DncEntry(phone=number, campaign_id=None, source=f"disposition {code}"))
        lead.status = LeadStatus.DNC.value
    elif retry_in_s is not None:
        if lead.status not in (LeadStatus.DNC.value, LeadStatus.INVALID.value):
            lead.status = LeadStatus.SCHEDULED.value
            lead.next_call_at = utcnow() + timedelta(seconds=retry_in_s)
    elif lead.status != LeadStatus.DNC.value:
        lead.status = LeadStatus.DONE.value
        lead.next_call_at = None
    session.add(lead)

"""When a campaign's leads will be called next: the earliest due time of its dialable leads.

A lead waiting for its first call has no ``next_call_at``; it has been due since it was
imported. The time is the retry rules' and the contact limits' answer; the calling window
is checked again when the lead is claimed, and a lead found outside it is moved to the
window's next opening then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from campaigns.models import DIALABLE as DIALABLE
from campaigns.models import Lead
from dialer.core.clock import aware


def next_due(session: Session, campaign_ids: Sequence[int]) -> dict[int, datetime]:
    """Campaign id -> the earliest instant one of its leads is due; campaigns with none are left out."""
    if not campaign_ids:
        return {}
    due = func.min(func.coalesce(col(Lead.next_call_at), col(Lead.created_at)))
    rows = session.exec(
        select(col(Lead.campaign_id), due)
        .where(col(Lead.campaign_id).in_(list(campaign_ids)), col(Lead.status).in_(DIALABLE))
        .group_by(col(Lead.campaign_id))
    ).all()
    return {int(cid): aware(moment) for cid, moment in rows if moment is not None}

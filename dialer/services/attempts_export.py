"""``dialer export attempts``: every call attempt of a campaign as CSV."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt
from campaigns.service import find_campaign

COLUMNS = (
    "attempt_id",
    "lead_id",
    "phone",
    "started_at",
    "answered_at",
    "connected_at",
    "ended_at",
    "outcome",
    "hangup_cause",
    "operator",
)


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.isoformat()  # every datetime column reads back as aware UTC


def export_attempts(store: Engine, campaign: str, out: TextIO) -> int:
    """Write the campaign's attempts, oldest first, to ``out``; the number of rows written."""
    with Session(store) as session:
        row = find_campaign(session, campaign)
        attempts = session.exec(
            select(CallAttempt)
            .where(CallAttempt.campaign_id == row.id)
            .order_by(col(CallAttempt.started_at), col(CallAttempt.id))
        ).all()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for a in attempts:
        writer.writerow(
            [
                a.id,
                a.lead_id,
                a.phone,
                _iso(a.started_at),
                _iso(a.answered_at),
                _iso(a.connected_at),
                _iso(a.ended_at),
                a.outcome or "",
                "" if a.hangup_cause is None else a.hangup_cause,
                _safe_text(a.operator),
            ]
        )
    return len(attempts)


def _safe_text(value: str | None) -> str:
    """Free text for a spreadsheet: a leading = + - @ would make it a formula."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

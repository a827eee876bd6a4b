"""Wrap-ups held until the operator's disposition: which have ended, and the default at expiry.

The console records a disposition in its own process; the engine, which holds the operator out
of the queue meanwhile, reads here which of the calls it holds for have one now. When a
campaign's wrap-up limit passes first, ``expire_wrapup`` records the campaign's default code in
one transaction with the lead's fate and a console event, and only if the operator's own
disposition has not landed meanwhile (a conditional update: whichever commits first wins).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Campaign, DispositionCode, Lead, utcnow
from campaigns.store import session_scope
from dialer.core.clock import to_ts
from dialer.store import console_events
from dialer.store.lead_fate import apply_code

EXPIRED_NOTE = "wrap-up limit expired"
ATTEMPTS = CallAttempt.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Closed:
    """A held call's wrap-up ended: disposed at ``at`` (epoch seconds) with ``code``."""

    attempt_id: str
    at: float
    code: str


def disposed(store: Engine, attempt_ids: Collection[str]) -> list[Closed]:
    """Those of ``attempt_ids`` that carry a disposition now."""
    if not attempt_ids:
        return []
    with Session(store) as session:
        rows = session.exec(
            select(CallAttempt.id, CallAttempt.disposed_at, CallAttempt.disposition).where(
                col(CallAttempt.id).in_(list(attempt_ids)), col(CallAttempt.disposition).is_not(None)
            )
        ).all()
    return [Closed(aid, to_ts(at) if at else 0.0, code or "") for aid, at, code in rows]


def expire_wrapup(store: Engine, attempt_id: str) -> Closed | None:
    """Record the campaign's wrap-up code on the call unless it has a disposition already.

    Returns what was recorded, or None when the operator's own came first (or there is no code).
    """
    with session_scope(store) as session:
        attempt = session.get(CallAttempt, attempt_id)
        if attempt is None or attempt.disposition is not None:
            return None
        campaign = session.get(Campaign, attempt.campaign_id)
        code = _code(session, attempt.campaign_id, campaign.wrapup_code if campaign else "")
        if code is None:
            return None
        now = utcnow()
        changed = session.connection().execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id, ATTEMPTS.c.disposition.is_(None))
            .values(disposition=code.code, disposed_at=now, note=EXPIRED_NOTE)
        )
        if changed.rowcount != 1:
            return None
        lead = session.get(Lead, attempt.lead_id)
        if lead is not None:
            apply_code(
                session, lead, code.code, dnc=code.dnc, retry_in_s=code.retry_in_s, dialed=attempt.phone
            )
        if attempt.operator:
            console_events.write_events(
                session.connection(), [(console_events.DISPOSED, attempt.operator, attempt_id)]
            )
        return Closed(attempt_id, to_ts(now), code.code)


def _code(session: Session, campaign_id: int, code: str) -> DispositionCode | None:
    if not code:
        return None
    rows = session.exec(
        select(DispositionCode).where(
            (col(DispositionCode.campaign_id) == campaign_id) | col(DispositionCode.campaign_id).is_(None),
            DispositionCode.code == code,
        )
    ).all()
    # The campaign's own code before a global one of the same name.
    return sorted(rows, key=lambda r: r.campaign_id is None)[0] if rows else None

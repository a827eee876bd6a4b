"""The tables of a campaign report, computed from the store with pandas.

Every figure comes from the ``call_attempt`` and ``lead`` rows, the same rows ``dialer export
attempts`` and ``dialer export leads`` write, so the report and the exports agree.

- Period: attempts started in ``[start, end)`` (UTC); leads: every lead of the campaign.
- Local time: a lead's first candidate zone (``lead.time_zones``); a lead with no zone is
  counted in UTC under the zone ``unknown``.
- Answered: the attempt has an answer time (a person or a machine picked up); connected: an
  operator took it (outcome ``connected``).
- Abandon rate per day (UTC day of the answer): abandoned / (connected + abandoned), as the
  engine's cap counts it; the cap is the campaign's.
- Operator performance: what the attempts record: connects, talk time (connect to hang-up) and
  connects per talk hour. Wrap-up, pauses and idle time are not recorded per interval by the
  store yet, so the report does not show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import Table
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.service import find_campaign
from dialer.core.clock import aware
from dialer.core.errors import InvalidInput

LIVE = ("connected", "abandoned")
ATTEMPTS: Table = CallAttempt.__table__  # type: ignore[attr-defined]
LEADS: Table = Lead.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CampaignReport:
    campaign: str
    start: datetime | None
    end: datetime | None
    abandon_cap: float
    tables: dict[str, pd.DataFrame]  # key -> table, in report order


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def _zone(zones: str) -> str:
    first = (zones or "").split(",")[0].strip()
    if not first:
        return "unknown"
    try:
        ZoneInfo(first)
    except (ZoneInfoNotFoundError, ValueError):
        return "unknown"
    return first


def load_attempts(
    store: Engine, campaign: Campaign, start: datetime | None, end: datetime | None
) -> pd.DataFrame:
    a, lead = ATTEMPTS.c, LEADS.c
    query = (
        sa_select(
            a.id,
            a.operator,
            a.started_at,
            a.answered_at,
            a.connected_at,
            a.ended_at,
            a.outcome,
            a.disposition,
            a.abandoned,
            lead.time_zones,
        )
        .where(a.campaign_id == campaign.id, a.lead_id == lead.id)
        .order_by(a.started_at)
    )
    if start is not None:
        query = query.where(a.started_at >= start)
    if end is not None:
        query = query.where(a.started_at < end)
    with store.connect() as conn:
        rows = conn.execute(query).all()
    zones = {text: _zone(text) for text in {r[9] for r in rows}}  # a few distinct zone lists
    records = [
        {
            "attempt_id": r[0],
            "operator": r[1] or "",
            "started_at": _aware(r[2]),
            "answered_at": _aware(r[3]),
            "connected_at": _aware(r[4]),
            "ended_at": _aware(r[5]),
            "outcome": r[6] or "in_progress",
            "disposition": r[7] or "",
            "abandoned": bool(r[8]) or r[6] == "abandoned",
            "zone": zones[r[9]],
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    tz = {z: UTC if z == "unknown" else ZoneInfo(z) for z in zones.values()}
    frame["local_hour"] = [
        t.astimezone(tz[z]).hour for t, z in zip(frame.started_at, frame.zone, strict=True)
    ]
    return frame


def build_report(store: Engine, name: str, start: datetime | None, end: datetime | None) -> CampaignReport:
    """Every table of the report; ``InvalidInput`` when the campaign has no attempt in the period."""
    if start and end and end <= start:
        raise InvalidInput("--to must come after --from")
    with Session(store) as session:
        campaign = find_campaign(session, name)
        leads = session.exec(select(Lead.status, Lead.attempts).where(Lead.campaign_id == campaign.id)).all()
    attempts = load_attempts(store, campaign, start, end)
    if attempts.empty:
        period = "" if not (start or end) else f" between {start or 'the start'} and {end or 'now'}"
        raise InvalidInput(f"campaign {name} has no call attempts{period}: nothing to report yet")
    tables = {
        "funnel": funnel(attempts),
        "hourly": hourly(attempts),
        "abandon": abandon_by_day(attempts, campaign.abandon_cap),
        "operators": operators(attempts),
        "leads_status": pd.DataFrame(leads, columns=["status", "attempts"])
        .groupby("status")
        .size()
        .rename("leads")
        .reset_index(),
        "leads_attempts": pd.DataFrame(leads, columns=["status", "attempts"])
        .groupby("attempts")
        .size()
        .rename("leads")
        .reset_index(),
        "answer_rate": answer_rate(attempts),
    }
    return CampaignReport(campaign.name, start, end, campaign.abandon_cap, tables)


def funnel(a: pd.DataFrame) -> pd.DataFrame:
    steps = [
        ("dialed", len(a)),
        ("answered", int(a.answered_at.notna().sum())),
        ("connected", int((a.outcome == "connected").sum())),
    ]
    rows = pd.DataFrame(steps, columns=["step", "count"])
    dispositions = a[a.disposition != ""].groupby("disposition").size()
    extra = pd.DataFrame(
        [(f"disposition: {k}", int(v)) for k, v in dispositions.items()], columns=["step", "count"]
    )
    outcomes = a.groupby("outcome").size()
    by_outcome = pd.DataFrame(
        [(f"outcome: {k}", int(v)) for k, v in outcomes.items()], columns=["step", "count"]
    )
    return pd.concat([rows, extra, by_outcome], ignore_index=True)


def hourly(a: pd.DataFrame) -> pd.DataFrame:
    grouped = a.groupby("local_hour").agg(
        attempts=("attempt_id", "size"),
        answers=("answered_at", lambda s: int(s.notna().sum())),
        connects=("outcome", lambda s: int((s == "connected").sum())),
    )
    return grouped.reindex(range(24), fill_value=0).rename_axis("hour").reset_index()


def abandon_by_day(a: pd.DataFrame, cap: float) -> pd.DataFrame:
    live = a[a.outcome.isin(LIVE) | a.abandoned].copy()
    if live.empty:
        return pd.DataFrame({"day": [], "live_answers": [], "abandoned": [], "rate": [], "cap": []})
    when = live.answered_at.where(live.answered_at.notna(), live.started_at)
    live["day"] = [t.astimezone(UTC).date().isoformat() for t in when]
    grouped = live.groupby("day").agg(live_answers=("attempt_id", "size"), abandoned=("abandoned", "sum"))
    grouped["abandoned"] = grouped.abandoned.astype(int)
    grouped["rate"] = grouped.abandoned / grouped.live_answers
    grouped["cap"] = cap
    return grouped.reset_index()


def operators(a: pd.DataFrame) -> pd.DataFrame:
    taken = a[(a.outcome == "connected") & (a.operator != "")].copy()
    if taken.empty:
        return pd.DataFrame(
            {"operator": [], "connects": [], "talk_s": [], "mean_talk_s": [], "connects_per_talk_hour": []}
        )
    taken["talk_s"] = [
        max(0.0, (e - c).total_seconds()) if c is not None and e is not None else 0.0
        for c, e in zip(taken.connected_at, taken.ended_at, strict=True)
    ]
    grouped = taken.groupby("operator").agg(connects=("attempt_id", "size"), talk_s=("talk_s", "sum"))
    grouped["mean_talk_s"] = grouped.talk_s / grouped.connects
    grouped["connects_per_talk_hour"] = grouped.connects / (grouped.talk_s / 3600).where(grouped.talk_s > 0)
    return grouped.round(1).reset_index()


def answer_rate(a: pd.DataFrame) -> pd.DataFrame:
    grouped = a.groupby(["zone", "local_hour"]).agg(
        attempts=("attempt_id", "size"), answers=("answered_at", lambda s: int(s.notna().sum()))
    )
    grouped["answer_rate"] = (grouped.answers / grouped.attempts).round(3)
    return grouped.reset_index().rename(columns={"local_hour": "hour"})

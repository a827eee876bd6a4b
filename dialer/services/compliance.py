"""The compliance record of one campaign: what a regulator asks to see.

``compliance_report`` reads the campaign's attempts and the do-not-call entries
that concern them, and ``dialer.policy.compliance_checks`` computes the figures. The
record is a list of ``metric, value, limit, ok`` rows (CSV or JSON) and a
one-line verdict; a metric with no limit is shown for information.

The abandon rate is judged as each rule words it (``dialer.abandon_rules``):
the US rule (a campaign's ``abandon_window`` of 30 days) over the campaign's
duration if under 30 days, else each successive 30-day period; the UK rule
(``uk_abandon_rule``, or a 24-hour window) over each 24-hour period. Every
period's rate is shown with its counts and its dates, and each rule gets a
verdict that states the rule. The rates over the last 30 days and 24 hours,
which the pacer steers by, are shown for information. The record is as of
``now``: attempts started later are left out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import IO, Protocol

from rich.markup import escape
from rich.table import Table
from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from campaigns.contact_limits import format_limits, parse_limits
from campaigns.models import CallAttempt, DncEntry, Lead
from campaigns.service import find_campaign
from campaigns.settings import MIN_RING_TIMEOUT_S
from campaigns.window import CallingWindow
from dialer.core import numbers
from dialer.core.errors import InvalidInput
from dialer.core.i18n import N_, _
from dialer.policy.abandon_rules import UK_RULE, US_RULE, RuleVerdict, campaign_span, judge
from dialer.policy.compliance_checks import (
    UK_REDIAL_HOLD,
    WINDOWS,
    AttemptRow,
    RingStats,
    WindowRate,
    connected_within,
    dnc_hits,
    live_answers,
    outside_window,
    over_contact_limits,
    redials_after_abandon,
    ring_stats,
    window_rate,
)
from dialer.services.compliance_reasons import Findings
from lists.safe_write import write_text

Value = str | int | float | bool | None
Row = dict[str, Value]
Metric = tuple[str, Value, Value, bool | None, str | None, str | None, str | None]
COLUMNS = ("metric", "value", "limit", "ok", "counts", "period_start", "period_end")


@dataclass(frozen=True)
class ComplianceReport:
    campaign: str
    now: datetime
    calling_window: str
    abandon_cap: Fraction
    rules: tuple[RuleVerdict, ...]  # the abandon-rate rules that apply, each over its own periods
    current: dict[str, WindowRate]  # per window key: the window ending now, for information
    machine_answers: int
    connected_in_time: int
    live_answers: int
    connect_limit_s: float
    ring: RingStats
    outside_window: tuple[str, ...]
    dnc_hits: tuple[str, ...]
    uk_abandon_rule: bool
    uk_redials: tuple[str, ...]
    contact_limits: str = ""  # canonical N/PERIOD list; "" when the campaign sets none
    over_contact_limits: tuple[str, ...] = ()

    @property
    def reasons(self) -> list[str]:
        """Why the campaign is not compliant, in English (the record's verdict); empty when it is."""
        return self.reason_texts("en")

    def reason_texts(self, lang: str | None = None) -> list[str]:
        """The same reasons in ``lang`` (default: the language of the moment), as the table shows them.

        The abandon-rate rules' verdicts too: each rule's wording, translated (the English is the
        rule as its regulator words it).
        """
        found = Findings(
            len(self.ring.early_give_ups),
            len(self.outside_window),
            self.calling_window,
            len(self.dnc_hits),
            len(self.uk_redials) if self.uk_abandon_rule else 0,
            len(self.over_contact_limits) if self.contact_limits else 0,
            self.contact_limits,
        )
        return [verdict.text(lang) for verdict in self.rules if not verdict.compliant] + found.texts(lang)

    @property
    def compliant(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        reasons = self.reasons
        return "compliant" if not reasons else "NOT compliant: " + "; ".join(reasons)

    def to_rows(self) -> list[Row]:
        """``metric, value, limit, ok`` rows; ``limit`` and ``ok`` are None for information."""
        return [dict(zip(COLUMNS, metric, strict=True)) for metric in self._metrics()]

    def _metrics(self) -> Iterator[Metric]:
        for verdict in self.rules:
            yield from _rule_metrics(verdict)
        for key, now_rate in self.current.items():
            yield _rate_metric(f"abandon_pct_last_{key}", now_rate.rate, None, now_rate)
        for name, value, limit, ok in self._other_metrics():
            yield name, value, limit, ok, None, None, None

    def _other_metrics(self) -> Iterator[tuple[str, Value, Value, bool | None]]:
        yield "machine_answers", self.machine_answers, None, None
        share = round(self.connected_in_time / self.live_answers, 6) if self.live_answers else None
        yield f"connected_within_{self.connect_limit_s:g}s_share", share, None, None
        yield "ring_count", self.ring.count, None, None
        for name, seconds in (
            ("p50", self.ring.p50),
            ("p90", self.ring.p90),
            ("p99", self.ring.p99),
            ("min", self.ring.minimum),
        ):
            yield f"ring_{name}_s", None if seconds is None else round(seconds, 3), None, None
        early = f"unanswered_given_up_before_{MIN_RING_TIMEOUT_S:g}s"
        yield from _must_be_zero(early, self.ring.early_give_ups)
        yield from _must_be_zero("started_outside_calling_window", self.outside_window)
        yield from _must_be_zero("dialled_on_do_not_call_list", self.dnc_hits)
        redials = f"abandoned_redialled_within_{UK_REDIAL_HOLD.total_seconds() / 3600:g}h"
        if self.uk_abandon_rule:
            yield from _must_be_zero(redials, self.uk_redials)
        else:
            yield redials, len(self.uk_redials), None, None
        if self.contact_limits:
            yield from _must_be_zero("contacts_over_frequency_limits", self.over_contact_limits)
        yield "verdict", self.verdict, None, self.compliant


def _rule_metrics(verdict: RuleVerdict) -> Iterator[Metric]:
    key = verdict.rule.key
    yield (
        f"{key}_rule",
        "compliant" if verdict.compliant else "NOT compliant",
        verdict.statement,
        (verdict.compliant),
        None,
        None,
        None,
    )
    for number, period in enumerate(verdict.periods, start=1):
        yield _rate_metric(f"{key}_abandon_pct_period_{number}", period.rate, verdict.cap, period)


def _rate_metric(name: str, rate: Fraction | None, cap: Fraction | None, span: _Span) -> Metric:
    value = None if rate is None else round(float(rate) * 100, 2)
    limit = None if cap is None else round(float(cap) * 100, 2)
    ok = None if cap is None else not (rate is not None and rate > cap)
    counts = f"{span.abandoned}/{span.live}"
    return name, value, limit, ok, counts, span.start.isoformat(), span.end.isoformat()


class _Span(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def abandoned(self) -> int: ...
    @property
    def live(self) -> int: ...


def _must_be_zero(name: str, ids: tuple[str, ...]) -> Iterator[tuple[str, Value, Value, bool | None]]:
    yield name, len(ids), 0, not ids


# --- reading the store ---------------------------------------------------------------


def load_attempts(session: Session, campaign_id: int) -> list[AttemptRow]:
    """The campaign's attempts with the candidate zones of their leads, oldest first."""
    query = (
        select(CallAttempt, col(Lead.time_zones))
        .join(Lead, col(Lead.id) == col(CallAttempt.lead_id))
        .where(CallAttempt.campaign_id == campaign_id)
        .order_by(col(CallAttempt.started_at), col(CallAttempt.id))
    )
    rows = []
    for attempt, zones in session.exec(query):
        rows.append(
            AttemptRow(
                attempt_id=attempt.id,
                phone=attempt.phone,
                zones=tuple(z.strip() for z in zones.split(",") if z.strip()),
                started_at=attempt.started_at,  # every datetime column reads back as aware UTC
                ringing_at=attempt.ringing_at,
                answered_at=attempt.answered_at,
                connected_at=attempt.connected_at,
                ended_at=attempt.ended_at,
                outcome=attempt.outcome,
                abandoned=attempt.abandoned,
            )
        )
    return rows


def load_dnc(session: Session, campaign_id: int) -> dict[str, datetime]:
    """For each number the campaign dialled that is on the global or the campaign's list: since when."""
    dialled = select(CallAttempt.phone).where(CallAttempt.campaign_id == campaign_id)
    query = (
        select(DncEntry.phone, func.min(DncEntry.added_at))
        .where(or_(col(DncEntry.campaign_id).is_(None), col(DncEntry.campaign_id) == campaign_id))
        .where(col(DncEntry.phone).in_(dialled))
        .group_by(col(DncEntry.phone))
    )
    return dict(session.exec(query).all())  # MIN keeps the column's type: aware UTC


def load_other_contacts(session: Session, campaign_id: int, now: datetime) -> dict[str, list[datetime]]:
    """Contacts by or before ``now`` in other campaigns with the numbers this campaign dialled."""
    instant = func.coalesce(col(CallAttempt.connected_at), col(CallAttempt.started_at))
    dialled = select(CallAttempt.phone).where(CallAttempt.campaign_id == campaign_id)
    query = select(CallAttempt.phone, instant).where(
        CallAttempt.campaign_id != campaign_id,
        CallAttempt.outcome == "connected",
        col(CallAttempt.phone).in_(dialled),
        instant <= now,
    )
    found: dict[str, list[datetime]] = {}
    for phone, at in session.exec(query):
        found.setdefault(phone, []).append(at)  # COALESCE keeps the columns' type: aware UTC
    return found


def compliance_report(session: Session, campaign_name: str, now: datetime) -> ComplianceReport:
    """The compliance record of a campaign as of ``now`` (aware); NotFound for an unknown name."""
    if now.tzinfo is None:
        raise InvalidInput("now must be an aware datetime")
    now = now.astimezone(UTC)
    campaign = find_campaign(session, campaign_name)
    assert campaign.id is not None  # a stored campaign
    if campaign.abandon_window not in WINDOWS:
        raise InvalidInput(
            f"campaign {campaign_name!r}: abandon window {campaign.abandon_window!r} is not one of "
            f"{', '.join(WINDOWS)}"
        )
    try:
        window = CallingWindow.parse(campaign.calling_window)
        limits = parse_limits(campaign.contact_limits or "")
    except ValueError as exc:
        raise InvalidInput(f"campaign {campaign_name!r}: {exc}") from None
    rows = [row for row in load_attempts(session, campaign.id) if row.started_at <= now]
    answers = [a for a in live_answers(rows) if a[0] <= now]
    span = campaign_span(rows, now)
    cap = Fraction(str(campaign.abandon_cap))
    rules = [US_RULE] if campaign.abandon_window == "30d" else []
    rules += [UK_RULE] if campaign.uk_abandon_rule or campaign.abandon_window == "24h" else []
    within, live = connected_within(rows, campaign.connect_limit_s)
    return ComplianceReport(
        campaign=campaign.name,
        now=now,
        calling_window=str(window),
        abandon_cap=cap,
        rules=tuple(judge(rule, cap, answers, span) for rule in rules),
        current={key: window_rate(answers, now, length) for key, length in WINDOWS.items()},
        machine_answers=sum(row.outcome == "machine" for row in rows),
        connected_in_time=within,
        live_answers=live,
        connect_limit_s=campaign.connect_limit_s,
        ring=ring_stats(rows),
        outside_window=outside_window(rows, window),
        dnc_hits=dnc_hits(rows, load_dnc(session, campaign.id)),
        uk_abandon_rule=campaign.uk_abandon_rule,
        uk_redials=redials_after_abandon(rows),
        contact_limits=format_limits(limits),
        over_contact_limits=over_contact_limits(
            rows, limits, load_other_contacts(session, campaign.id, now) if limits else None
        ),
    )


# --- output --------------------------------------------------------------------------


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shown(value: Value) -> str:
    """A figure of the table, in the reader's convention (the CSV keeps ``_cell``'s)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return numbers.decimal(value)
    return _cell(value)


def write_report(report: ComplianceReport, path_or_dash: str) -> None:
    """Write the record as CSV (``metric,value,limit,ok``); ``-`` writes to stdout."""
    write_text(path_or_dash, lambda out: write_csv(report, out))


def write_csv(report: ComplianceReport, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.to_rows():
        writer.writerow([_cell(row[column]) for column in COLUMNS])


def render(report: ComplianceReport) -> Table:
    """The record as a table for the terminal, the verdict as its caption."""
    title = _("Compliance of campaign {campaign} as of {now} UTC")
    table = Table(title=title.format(campaign=report.campaign, now=f"{report.now:%Y-%m-%d %H:%M:%S}"))
    for header in (N_("metric"), N_("value"), N_("limit"), N_("ok"), N_("counts"), N_("period (UTC)")):
        table.add_column(_(header), justify="left" if header in ("metric", "period (UTC)") else "right")
    for row in report.to_rows():
        if row["metric"] == "verdict" or str(row["metric"]).endswith("_rule"):
            continue
        ok = row["ok"]
        mark = "" if ok is None else (f"[green]{_('yes')}[/]" if ok else f"[bold red]{_('NO')}[/]")
        table.add_row(
            _cell(row["metric"]),
            _shown(row["value"]),
            _shown(row["limit"]),
            mark,
            _cell(row["counts"]),
            _period(row),
        )
    lines = [f"[{'green' if v.compliant else 'bold red'}]{escape(v.text())}[/]" for v in report.rules]
    style = "green" if report.compliant else "bold red"
    verdict = (
        _("compliant")
        if report.compliant
        else _("NOT compliant: {reasons}").format(reasons="; ".join(report.reason_texts()))
    )
    lines.append(f"[{style}]{escape(verdict)}[/]")
    table.caption = "\n".join(lines)
    return table


def _period(row: Row) -> str:
    start, end = row["period_start"], row["period_end"]
    if not isinstance(start, str) or not isinstance(end, str):
        return ""
    return f"{start[:16].replace('T', ' ')} - {end[:16].replace('T', ' ')}"

"""The compliance record, built from real rows in a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.models import CallAttempt, Campaign, DncEntry, Lead
from campaigns.store import session_scope
from dialer.core import i18n
from dialer.core.errors import NotFound
from dialer.policy.compliance_checks import WindowRate, percentile, window_rate, worst_window
from dialer.services.compliance import ComplianceReport, compliance_report, render, write_report

pytestmark = pytest.mark.every_store

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)  # before the UK clocks change: London is UTC
JAN10 = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
FEB25 = datetime(2025, 2, 25, 10, 0, tzinfo=UTC)
LONDON = "Europe/London"


class Builder:
    """Writes a campaign, its leads and attempts with known instants."""

    def __init__(
        self,
        session: Session,
        *,
        calling_window: str = "09:00-21:00",
        uk_abandon_rule: bool = False,
        contact_limits: str = "",
    ) -> None:
        self.session = session
        self.campaign = Campaign(
            name="spring",
            calling_window=calling_window,
            uk_abandon_rule=uk_abandon_rule,
            contact_limits=contact_limits,
        )
        session.add(self.campaign)
        session.flush()
        self.leads: dict[str, Lead] = {}
        self.count = 0

    def lead(self, phone: str, zones: str = LONDON) -> Lead:
        if phone not in self.leads:
            lead = Lead(campaign_id=self.campaign_id, phone=phone, time_zones=zones)
            self.session.add(lead)
            self.session.flush()
            self.leads[phone] = lead
        return self.leads[phone]

    def lead_id(self, phone: str, zones: str) -> int:
        lead_id = self.lead(phone, zones).id
        assert lead_id is not None
        return lead_id

    @property
    def campaign_id(self) -> int:
        assert self.campaign.id is not None
        return self.campaign.id

    def attempt(
        self,
        started: datetime,
        outcome: str,
        *,
        phone: str = "+442071234567",
        zones: str = LONDON,
        ring_s: float | None = 5.0,
        connect_s: float | None = 1.0,
        end_s: float = 60.0,
    ) -> str:
        """One attempt; answered after ``ring_s`` when the outcome is an answer."""
        self.count += 1
        attempt_id = f"att-{self.count:03d}"
        answered = outcome in ("connected", "abandoned", "machine")
        answered_at = started + timedelta(seconds=ring_s or 0) if answered else None
        connected_at = (
            answered_at + timedelta(seconds=connect_s)
            if answered_at is not None and connect_s is not None and outcome != "machine"
            else None
        )
        ended_at = started + timedelta(seconds=end_s if answered else ring_s or 0)
        self.session.add(
            CallAttempt(
                id=attempt_id,
                campaign_id=self.campaign_id,
                lead_id=self.lead_id(phone, zones),
                phone=phone,
                started_at=started,
                answered_at=answered_at,
                connected_at=connected_at,
                ended_at=ended_at,
                outcome=outcome,
                abandoned=outcome == "abandoned",
                amd_status="MACHINE" if outcome == "machine" else None,
            )
        )
        return attempt_id

    def dnc(self, phone: str, added: datetime, campaign_id: int | None = None) -> None:
        self.session.add(DncEntry(phone=phone, campaign_id=campaign_id, added_at=added))


@pytest.fixture
def session(store: Engine) -> Iterator[Session]:
    with session_scope(store) as session:
        yield session


def report_of(session: Session) -> ComplianceReport:
    session.flush()
    return compliance_report(session, "spring", NOW)


def rows_by_metric(report: ComplianceReport) -> dict[str, tuple[object, object, object]]:
    return {str(r["metric"]): (r["value"], r["limit"], r["ok"]) for r in report.to_rows()}


def minutes(start: datetime, n: int) -> list[datetime]:
    return [start + timedelta(minutes=i) for i in range(n)]


# --- the store-backed record ---------------------------------------------------------


def test_unknown_campaign_raises_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="nobody"):
        compliance_report(session, "nobody", NOW)


def test_empty_campaign_is_compliant_with_no_rates(session: Session) -> None:
    Builder(session)
    report = report_of(session)
    assert report.compliant and report.verdict == "compliant"
    metrics = rows_by_metric(report)
    assert metrics["us_rule"][0] == "compliant" and metrics["us_rule"][2] is True
    assert "us_abandon_pct_period_1" not in metrics
    assert metrics["abandon_pct_last_30d"] == (None, None, None)
    assert metrics["ring_count"] == (0, None, None)
    assert [v.text() for v in report.rules] == [
        "compliant: US TSR 16 CFR 310.4(b)(4)(i): at most 3.00% of calls answered by a person abandoned, "
        "over the campaign's duration if under 30 days, else over each successive 30-day period or part "
        "of one. no calls yet"
    ]


def test_an_early_abandon_in_a_short_campaign_is_judged_over_the_whole_campaign(session: Session) -> None:
    b = Builder(session)
    start = NOW - timedelta(days=3)
    b.attempt(start, "abandoned")  # one of the first six answers: 17% of the first minutes
    for i, at in enumerate(minutes(start + timedelta(minutes=1), 90)):
        b.attempt(at, "connected", phone=f"+4479000001{i:02d}")
    report = report_of(session)
    (us,) = report.rules
    assert len(us.periods) == 1
    period = us.periods[0]
    assert (period.abandoned, period.live, period.start) == (1, 91, start)
    assert report.compliant
    row = rows_by_metric(report)["us_abandon_pct_period_1"]
    assert row == (1.1, 3.0, True)
    assert "highest 1.10% (1 abandoned of 91 live answers)" in us.text()


def test_a_first_thirty_day_period_over_the_cap_is_not_compliant(session: Session) -> None:
    b = Builder(session)
    # January: connected, abandoned, connected five minutes apart; then 46 days of silence.
    b.attempt(JAN10, "connected")
    b.attempt(JAN10 + timedelta(minutes=5), "abandoned")
    b.attempt(JAN10 + timedelta(minutes=10), "connected")
    # Late February: 20 connected, 1 abandoned, 20 connected, one a minute.
    for i, at in enumerate(minutes(FEB25, 41)):
        b.attempt(at, "abandoned" if i == 20 else "connected")
    b.attempt(FEB25 + timedelta(hours=2), "machine")  # not a live answer
    report = report_of(session)

    (us,) = report.rules
    assert [(p.start, p.end, p.abandoned, p.live) for p in us.periods] == [
        (JAN10, JAN10 + timedelta(days=30), 1, 3),
        (JAN10 + timedelta(days=30), FEB25 + timedelta(hours=2, seconds=60), 1, 41),
    ]
    metrics = rows_by_metric(report)
    assert metrics["us_abandon_pct_period_1"] == (33.33, 3.0, False)
    assert metrics["us_abandon_pct_period_2"] == (2.44, 3.0, True)
    # The last 30 days are shown for information, without a limit.
    assert metrics["abandon_pct_last_30d"] == (2.44, None, None)
    assert metrics["machine_answers"] == (1, None, None)
    assert not report.compliant
    assert report.reasons == [us.text()]
    assert us.text().endswith(
        "33.33% (1 abandoned of 3 live answers) from 2025-01-10 10:00 to 2025-02-09 10:00 UTC is over the cap"
    )
    assert metrics["verdict"] == (report.verdict, None, False)


def test_the_uk_rule_judges_each_24_hours(session: Session) -> None:
    b = Builder(session, uk_abandon_rule=True)
    day1 = NOW - timedelta(days=2)
    for i, at in enumerate(minutes(day1, 20)):  # day 1: 1 of 20 abandoned, 5%
        b.attempt(at, "abandoned" if i == 10 else "connected", phone=f"+4420700000{i:02d}")
    for i, at in enumerate(minutes(day1 + timedelta(hours=30), 40)):  # day 2: 1 of 40, 2.5%
        b.attempt(at, "abandoned" if i == 0 else "connected", phone=f"+4420700001{i:02d}")
    report = report_of(session)
    us, uk = report.rules
    assert [(p.abandoned, p.live) for p in uk.periods] == [(1, 20), (1, 40)]
    assert uk.periods[0].end == day1 + timedelta(hours=24)
    assert [p.over(uk.cap) for p in uk.periods] == [True, False]
    assert [(p.abandoned, p.live) for p in us.periods] == [(2, 60)]  # 3.33% over the whole run
    metrics = rows_by_metric(report)
    assert metrics["uk_abandon_pct_period_1"] == (5.0, 3.0, False)
    assert metrics["uk_abandon_pct_period_2"] == (2.5, 3.0, True)
    assert metrics["uk_rule"][0] == "NOT compliant"
    assert "UK Ofcom persistent misuse policy: at most 3.00% of live calls abandoned in each 24-hour" in (
        uk.text()
    )
    assert len(report.reasons) == 2


def test_connect_share_and_ring_distribution(session: Session) -> None:
    b = Builder(session)
    t = NOW - timedelta(days=1)
    b.attempt(t, "connected", ring_s=4, connect_s=0.5)
    b.attempt(t + timedelta(minutes=1), "connected", ring_s=6, connect_s=2.0)  # at the limit: in time
    b.attempt(t + timedelta(minutes=2), "abandoned", ring_s=8, connect_s=3.0)  # operator too late
    b.attempt(t + timedelta(minutes=3), "abandoned", ring_s=10, connect_s=None)
    b.attempt(t + timedelta(minutes=4), "no_answer", ring_s=25)
    given_up = b.attempt(t + timedelta(minutes=5), "no_answer", ring_s=12)
    b.attempt(t + timedelta(minutes=6), "busy", ring_s=1)  # the network said no: not a give-up
    b.attempt(t + timedelta(minutes=7), "invalid_number", ring_s=0)
    report = report_of(session)

    assert (report.connected_in_time, report.live_answers) == (2, 4)
    # Ring seconds, sorted: 4, 6, 8, 10, 12, 25 (busy and invalid are not rings).
    assert (report.ring.count, report.ring.minimum) == (6, 4.0)
    assert (report.ring.p50, report.ring.p90, report.ring.p99) == (8.0, 25.0, 25.0)
    assert report.ring.early_give_ups == (given_up,)
    metrics = rows_by_metric(report)
    assert metrics["connected_within_2s_share"] == (0.5, None, None)
    assert metrics["unanswered_given_up_before_15s"] == (1, 0, False)
    assert "1 unanswered call given up before 15 s of ringing" in report.reasons


def test_attempts_outside_the_window_in_any_candidate_zone_are_counted(session: Session) -> None:
    b = Builder(session, calling_window="09:00-21:00")
    evening = datetime(2025, 3, 19, 19, 0, tzinfo=UTC)  # London 19:00, Moscow 22:00
    b.attempt(evening, "connected", phone="+447700900001")
    outside = b.attempt(evening, "connected", phone="+447700900002", zones="Europe/London,Europe/Moscow")
    unknown = b.attempt(evening, "connected", phone="+447700900003", zones="")
    early = b.attempt(datetime(2025, 3, 19, 8, 59, 59, tzinfo=UTC), "no_answer", ring_s=20)
    report = report_of(session)
    assert report.outside_window == (early, outside, unknown)  # in the order they started
    assert rows_by_metric(report)["started_outside_calling_window"] == (3, 0, False)
    assert "3 attempts started outside the calling window 09:00-21:00 in the lead's local time" in (
        report.reasons
    )


def test_dnc_hit_counts_only_entries_listed_by_the_attempt(session: Session) -> None:
    b = Builder(session)
    other = Campaign(name="autumn")
    session.add(other)
    session.flush()
    t = NOW - timedelta(days=2)
    on_global = b.attempt(t, "connected", phone="+447700900010")
    b.dnc("+447700900010", t - timedelta(days=1))
    on_own_list_at_start = b.attempt(t, "connected", phone="+447700900011")
    b.dnc("+447700900011", t, campaign_id=b.campaign_id)  # listed the very instant the call started
    b.attempt(t, "connected", phone="+447700900012")
    b.dnc("+447700900012", t + timedelta(seconds=1))  # listed after the call: no breach
    b.attempt(t, "connected", phone="+447700900013")
    b.dnc("+447700900013", t - timedelta(days=1), campaign_id=other.id)  # another campaign's list
    report = report_of(session)
    assert report.dnc_hits == (on_global, on_own_list_at_start)
    assert rows_by_metric(report)["dialled_on_do_not_call_list"] == (2, 0, False)
    assert "2 attempts to a number on a do-not-call list" in report.reasons


@pytest.mark.parametrize("uk_rule", [True, False])
def test_abandoned_number_redialled_within_72h(session: Session, uk_rule: bool) -> None:
    b = Builder(session, uk_abandon_rule=uk_rule)
    phone = "+447700900020"
    t = NOW - timedelta(days=10)
    # 40 connected calls elsewhere keep the abandon rate under the cap.
    for i, at in enumerate(minutes(t - timedelta(hours=1), 40)):
        b.attempt(at, "connected", phone=f"+4479000000{i:02d}")
    b.attempt(t, "abandoned", phone=phone, end_s=30)  # the 72 h run from its end, t + 30 s
    too_soon = b.attempt(t + timedelta(hours=72, seconds=30), "no_answer", phone=phone, ring_s=20)
    b.attempt(t + timedelta(hours=72, seconds=31), "no_answer", phone=phone, ring_s=20)
    report = report_of(session)
    assert report.uk_redials == (too_soon,)
    metrics = rows_by_metric(report)
    if uk_rule:
        assert metrics["abandoned_redialled_within_72h"] == (1, 0, False)
        assert report.reasons == ["1 redial of an abandoned number within 72 h"]
    else:
        assert metrics["abandoned_redialled_within_72h"] == (1, None, None)
        assert report.compliant


def _contact_elsewhere(session: Session, phone: str, connected: datetime) -> None:
    other = Campaign(name=f"autumn-{connected:%Y%m%d%H%M}")
    session.add(other)
    session.flush()
    assert other.id is not None
    lead = Lead(campaign_id=other.id, phone=phone, time_zones=LONDON)
    session.add(lead)
    session.flush()
    assert lead.id is not None
    session.add(
        CallAttempt(
            id=f"other-{other.id}",
            campaign_id=other.id,
            lead_id=lead.id,
            phone=phone,
            started_at=connected - timedelta(seconds=10),
            connected_at=connected,
            outcome="connected",
        )
    )


def test_contacts_over_the_frequency_limits_count_calls_in_every_campaign(session: Session) -> None:
    b = Builder(session, contact_limits="1/1d,2/7d")
    p, q = "+447700900030", "+447700900031"
    _contact_elsewhere(session, p, NOW - timedelta(days=3))
    b.attempt(NOW - timedelta(days=2), "connected", phone=p)  # second in the week: allowed
    third_in_a_week = b.attempt(NOW - timedelta(days=1), "connected", phone=p)
    b.attempt(NOW - timedelta(hours=3), "connected", phone=q)
    b.attempt(NOW - timedelta(hours=2), "no_answer", phone=q, ring_s=20)  # not a conversation
    second_in_a_day = b.attempt(NOW - timedelta(hours=1), "connected", phone=q)
    _contact_elsewhere(session, q, NOW + timedelta(minutes=5))  # after the record's instant
    report = report_of(session)

    assert report.contact_limits == "1/1d,2/7d"
    assert report.over_contact_limits == (third_in_a_week, second_in_a_day)
    assert rows_by_metric(report)["contacts_over_frequency_limits"] == (2, 0, False)
    assert report.reasons == [
        "2 contacts over the campaign's frequency limits 1/1d,2/7d (counting every campaign's calls "
        "to the number)"
    ]


def test_contacts_within_the_profile_leave_the_campaign_compliant(session: Session) -> None:
    b = Builder(session, contact_limits="ru-230fz")
    phone = "+447700900032"
    for days in (15, 8, 1):  # never two in 7 days, never more than one a day
        b.attempt(NOW - timedelta(days=days), "connected", phone=phone)
    report = report_of(session)
    assert report.contact_limits == "1/1d,2/7d,8/31d"
    assert rows_by_metric(report)["contacts_over_frequency_limits"] == (0, 0, True)
    assert report.compliant


def test_without_contact_limits_the_record_has_no_contact_count(session: Session) -> None:
    b = Builder(session)
    phone = "+447700900033"
    b.attempt(NOW - timedelta(hours=2), "connected", phone=phone)
    b.attempt(NOW - timedelta(hours=1), "connected", phone=phone)
    report = report_of(session)
    assert "contacts_over_frequency_limits" not in rows_by_metric(report)
    assert report.over_contact_limits == () and report.compliant


def test_attempts_after_now_are_left_out(session: Session) -> None:
    b = Builder(session)
    b.attempt(NOW - timedelta(hours=1), "connected")
    b.attempt(NOW + timedelta(seconds=1), "abandoned")
    report = report_of(session)
    assert (report.current["30d"].abandoned, report.current["30d"].live) == (0, 1)
    assert report.compliant


# --- output ----------------------------------------------------------------------------


def test_write_report_to_a_file_and_to_stdout(
    session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = Builder(session)
    b.attempt(NOW - timedelta(hours=1), "connected")
    report = report_of(session)
    target = tmp_path / "record.csv"
    write_report(report, str(target))
    with target.open(newline="", encoding="utf-8") as handle:
        from_file = list(csv.reader(handle))
    write_report(report, "-")
    from_stdout = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert from_file == from_stdout
    assert from_file[0] == ["metric", "value", "limit", "ok", "counts", "period_start", "period_end"]
    start, end = (NOW - timedelta(hours=1)).isoformat(), (NOW - timedelta(minutes=59)).isoformat()
    assert ["us_abandon_pct_period_1", "0.0", "3.0", "true", "0/1", start, end] in from_file
    assert ["verdict", "compliant", "", "true", "", "", ""] in from_file
    assert len(from_file) == len(report.to_rows()) + 1
    assert json.loads(json.dumps(report.to_rows())) == report.to_rows()


def test_render_shows_every_metric_and_the_verdict(session: Session) -> None:
    b = Builder(session)
    b.attempt(NOW - timedelta(hours=1), "abandoned")
    report = report_of(session)
    console = Console(record=True, width=200)
    console.print(render(report))
    text = console.export_text()
    assert "NOT compliant: US TSR 16 CFR 310.4(b)(4)(i)" in text
    assert "us_abandon_pct_period_1" in text and "1/1" in text
    assert "started_outside_calling_window" in text


def test_render_shows_the_contact_count_and_its_reason(session: Session) -> None:
    b = Builder(session, contact_limits="1/1d")
    b.attempt(NOW - timedelta(hours=2), "connected")
    b.attempt(NOW - timedelta(hours=1), "connected")
    console = Console(record=True, width=300)
    console.print(render(report_of(session)))
    text = console.export_text()
    assert "contacts_over_frequency_limits" in text
    assert "1 contact over the campaign's frequency limits 1/1d" in text


def test_the_table_gives_the_reasons_in_russian_and_the_record_keeps_them_in_english(
    session: Session,
) -> None:
    b = Builder(session, calling_window="09:00-21:00", contact_limits="1/1d")
    evening = datetime(2025, 3, 19, 20, 0, tzinfo=UTC)  # London 20:00, Moscow 23:00
    for i in range(5):
        b.attempt(evening + timedelta(minutes=i), "connected", zones="Europe/London,Europe/Moscow")
        b.dnc(f"+4477009003{i:02d}", JAN10)
        b.attempt(evening + timedelta(minutes=10 + i), "connected", phone=f"+4477009003{i:02d}")
    report = report_of(session)
    console = Console(record=True, width=400)
    token = i18n.use("ru")
    try:
        console.print(render(report))
    finally:
        i18n.restore(token)
    text = " ".join(console.export_text().split())  # the caption wraps at the table's width
    assert "5 попыток начаты вне окна звонков 09:00-21:00 по местному времени контакта" in text
    assert "5 попыток дозвониться на номер из списка запрета звонков" in text
    assert "4 контакта сверх ограничений частоты кампании 1/1d (с учётом звонков" in text
    assert "5 attempts to a number on a do-not-call list" in report.reasons  # the record's own words
    [verdict] = [row for row in report.to_rows() if row["metric"] == "verdict"]
    assert "5 attempts to a number on a do-not-call list" in str(verdict["value"])


# --- pure figures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "expected"),
    [(50, 3.0), (90, 5.0), (99, 5.0), (20, 1.0), (21, 2.0), (0, 1.0), (100, 5.0)],
)
def test_percentile_is_nearest_rank(p: float, expected: float) -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], p) == expected


EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
answers_strategy = st.lists(st.tuples(st.integers(0, 60), st.booleans()), max_size=25)


def brute_worst(answers: list[tuple[int, bool]], length: int, until: int) -> tuple[int, int, int] | None:
    """Each answer's window counted from scratch: (end, abandoned, live) of the worst, earliest first."""
    best: tuple[int, int, int] | None = None
    best_rate = Fraction(-1)
    for end in sorted({at for at, _ in answers if at <= until}):
        inside = [ab for at, ab in answers if end - length < at <= end]
        if Fraction(sum(inside), len(inside)) > best_rate:
            best_rate = Fraction(sum(inside), len(inside))
            best = (end, sum(inside), len(inside))
    return best


@given(answers=answers_strategy, length=st.integers(1, 20), until=st.integers(0, 90))
def test_worst_window_sweep_matches_brute_force(
    answers: list[tuple[int, bool]], length: int, until: int
) -> None:
    as_instants = [(EPOCH + timedelta(minutes=at), ab) for at, ab in answers]
    worst = worst_window(as_instants, timedelta(minutes=length), EPOCH + timedelta(minutes=until))
    expected = brute_worst(answers, length, until)
    if expected is None:
        assert worst is None
    else:
        assert worst is not None
        end, abandoned, live = expected
        assert (worst.end, worst.abandoned, worst.live) == (EPOCH + timedelta(minutes=end), abandoned, live)


def test_worst_window_is_measured_at_answers_not_as_old_calls_age_out() -> None:
    day = [(EPOCH + timedelta(minutes=i), False) for i in range(40)]
    last = EPOCH + timedelta(minutes=40)
    answers = [*day, (last, True)]
    worst = worst_window(answers, timedelta(hours=24), EPOCH + timedelta(days=5))
    assert worst == WindowRate(last, timedelta(hours=24), 1, 41)
    # The window ending now still shows the abandoned call alone once the others aged out.
    assert window_rate(answers, last + timedelta(hours=23, minutes=59, seconds=30), timedelta(hours=24)) == (
        WindowRate(last + timedelta(hours=23, minutes=59, seconds=30), timedelta(hours=24), 1, 1)
    )

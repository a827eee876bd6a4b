"""Abandon figures from the store, what the engine feeds its pacer, and the campaign settings behind them.

Real SQLite; the engine runs against ``ScriptedTelephony`` (a fake of our own port).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from campaigns.models import CallAttempt
from campaigns.service import DEFAULT_SAFE_HARBOUR_SOUND, CampaignSpec, create_campaign
from campaigns.store import session_scope
from dialer.cli.status_view import pacing_line
from dialer.core.attempt import Attempt, AttemptState, Outcome
from dialer.core.errors import InvalidInput
from dialer.core.telephony import Answered, HungUp, MachineDetected, OriginateRequest, Ringing
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pacing import AbandonPolicy, AbandonStats, Pacer, PacingDecision, PacingSnapshot, make_pacer
from dialer.policy.abandon import AbandonTracker, reclassify_machine, silent_machine, window_length
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.compliance_checks import AttemptRow, live_answers, window_rate
from dialer.policy.originate import build_request
from dialer.services.operators import ready
from dialer.services.status import collect_status
from dialer.store.abandon import stored_abandon_stats
from dialer.store.pace import load_explains, warm_estimates
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

FAST = EngineSettings(node_id="n", tick_s=0.02, operator_poll_s=0.02, abandon_refresh_s=0.05)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _row(
    cid: int, n: int, outcome: str, answered_ago: timedelta | None, abandoned: bool = False
) -> CallAttempt:
    started = NOW - (answered_ago or timedelta(minutes=5)) - timedelta(seconds=3)
    return CallAttempt(
        id=f"a{n:05d}",
        campaign_id=cid,
        lead_id=1,
        phone="+79000000000",
        started_at=started,
        answered_at=None if answered_ago is None else NOW - answered_ago,
        ended_at=started + timedelta(seconds=30),
        outcome=outcome,
        abandoned=abandoned or outcome == "abandoned",
    )


def _history(store: Engine, cid: int) -> list[CallAttempt]:
    make_leads(store, cid, ["+79000000000"])
    rows = []
    plan = [
        ("connected", timedelta(hours=1), 30),
        ("abandoned", timedelta(hours=2), 2),
        ("connected", timedelta(days=3), 20),
        ("abandoned", timedelta(days=3), 3),
        ("machine", timedelta(hours=1), 7),  # not a live answer
        ("busy", None, 9),
        ("no_answer", None, 4),
        ("connected", timedelta(days=40), 11),  # outside both windows
        ("abandoned", timedelta(days=40), 5),
        ("abandoned", timedelta(minutes=-5), 1),  # after now: not yet in the record
    ]
    n = 0
    for outcome, ago, count in plan:
        for _ in range(count):
            rows.append(_row(cid, n, outcome, ago))
            n += 1
    # The abandoned flag alone also makes an abandoned live answer (as the compliance record reads it).
    rows.append(_row(cid, n, "connected", timedelta(hours=3), abandoned=True))
    with session_scope(store) as session:
        session.add_all(rows)
    return rows


@pytest.mark.parametrize("window", ["30d", "24h"])
def test_stored_abandon_stats_count_what_the_compliance_record_counts(store: Engine, window: str) -> None:
    cid = make_campaign(store, "history")
    rows = _history(store, cid)
    stats = stored_abandon_stats(store, cid, window_length(window), NOW.timestamp())

    record = window_rate(
        live_answers(
            AttemptRow(
                attempt_id=r.id,
                phone=r.phone,
                zones=(),
                started_at=r.started_at,
                answered_at=r.answered_at,
                ended_at=r.ended_at,
                outcome=r.outcome,
                abandoned=r.abandoned,
            )
            for r in rows
        ),
        NOW,
        window_length(window),
    )
    assert (stats.abandoned, stats.live_answers) == (record.abandoned, record.live)
    expected = {"30d": (2 + 3 + 1, 30 + 2 + 20 + 3 + 1), "24h": (2 + 1, 30 + 2 + 1)}[window]
    assert (stats.abandoned, stats.live_answers) == expected


def test_stored_abandon_stats_keep_campaigns_apart(store: Engine) -> None:
    cid = make_campaign(store, "history")
    _history(store, cid)
    other = make_campaign(store, "other")
    assert stored_abandon_stats(store, other, timedelta(days=30), NOW.timestamp()) == AbandonStats(0, 0)


def _ended(outcome: Outcome) -> Attempt:
    return Attempt("x", 0.0, state=AttemptState.ENDED, answered_at=1.0, ended_at=5.0, outcome=outcome)


def test_the_tracker_reads_the_store_every_refresh_and_adds_this_runs_calls_between() -> None:
    readings = iter([AbandonStats(2, 100), AbandonStats(5, 130)])
    reads: list[float] = []

    def read(now: float) -> AbandonStats:
        reads.append(now)
        return next(readings)

    tracker = AbandonTracker(read, refresh_s=5.0)
    assert tracker.stats(10.0) == AbandonStats(2, 100)
    tracker.record(_ended(Outcome.ABANDONED))
    tracker.record(_ended(Outcome.CONNECTED))
    tracker.record(_ended(Outcome.MACHINE))  # not a live answer
    tracker.record(_ended(Outcome.BUSY))
    assert tracker.stats(12.0) == AbandonStats(3, 102)
    assert reads == [10.0]
    # The next reading already holds those calls: they are not counted twice.
    assert tracker.stats(15.0) == AbandonStats(5, 130)
    assert reads == [10.0, 15.0]


@pytest.mark.parametrize(
    ("status", "cause", "outcome"),
    [
        ("MACHINE", "INITIALSILENCE-2500-2500", Outcome.ABANDONED),
        ("MACHINE", "LONGGREETING-1500-1500", Outcome.MACHINE),
        ("MACHINE", "MAXWORDS-3-3", Outcome.MACHINE),
        ("MACHINE", None, Outcome.MACHINE),
    ],
)
def test_a_machine_verdict_on_silence_alone_is_recorded_as_an_abandoned_person(
    status: str, cause: str | None, outcome: Outcome
) -> None:
    attempt = Attempt("x", 0.0, state=AttemptState.ENDED, outcome=Outcome.MACHINE, amd_status=status)
    assert reclassify_machine(attempt, cause).outcome is outcome
    assert silent_machine(status, cause) is (outcome is Outcome.ABANDONED)


def test_only_machine_outcomes_are_reclassified() -> None:
    connected = _ended(Outcome.CONNECTED)
    assert reclassify_machine(connected, "INITIALSILENCE-2500-2500") == connected


# --- the engine ----------------------------------------------------------------------


@dataclass
class RecordingPacer:
    """Progressive pacing that remembers every snapshot it was shown."""

    seen: list[PacingSnapshot] = field(default_factory=list)
    inner: Pacer = field(default_factory=lambda: make_pacer("progressive"))

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        self.seen.append(snap)
        return self.inner.decide(snap)


async def test_the_engine_shows_its_pacer_the_campaigns_abandons_from_the_store_and_this_run(
    store: Engine,
) -> None:
    cid = make_campaign(store, "spring", mode="predictive")
    make_leads(store, cid, ["+79000000000"], status="done")
    now = datetime.now(UTC)
    with session_scope(store) as session:  # an earlier shift: 4 abandoned of 100 live answers
        for n in range(100):
            answered = now - timedelta(hours=1, seconds=n)
            session.add(
                CallAttempt(
                    id=f"old{n:04d}",
                    campaign_id=cid,
                    lead_id=1,
                    phone="+79000000000",
                    started_at=answered - timedelta(seconds=2),
                    answered_at=answered,
                    ended_at=answered + timedelta(seconds=20),
                    outcome="abandoned" if n < 4 else "connected",
                    abandoned=n < 4,
                )
            )
    make_leads(store, cid, phones_by_digit([8, 8, 0, 0], start=10))
    for name in make_operators(store, "spring", 2):
        ready(store, name)
    pacer = RecordingPacer()
    policies: list[AbandonPolicy | None] = []

    def pacer_for(rules: CampaignRules, policy: AbandonPolicy | None) -> Pacer:
        policies.append(policy)
        return pacer

    engine = DialEngine(store, ScriptedTelephony(), FAST, pacer_for=pacer_for)
    await asyncio.wait_for(engine.run(until_done=True), 30)

    assert pacer.seen[0].abandon == AbandonStats(4, 100)
    assert pacer.seen[-1].abandon == AbandonStats(4 + 2, 100 + 4)
    assert all(s.abandon.live_answers >= 100 for s in pacer.seen)
    assert policies[0] is not None and policies[0].cap == 0.03
    assert policies[0].window_s == timedelta(days=30).total_seconds()


async def test_status_shows_the_pacers_last_decision_from_another_process(store: Engine) -> None:
    cid = make_campaign(store, "spring", mode="predictive", abandon_window="24h")
    make_campaign(store, "plain")  # progressive: nothing to explain
    make_leads(store, cid, phones_by_digit([0, 1, 2, 3, 4, 5, 8, 0, 1, 2]))
    for name in make_operators(store, "spring", 3):
        ready(store, name)
    await asyncio.wait_for(DialEngine(store, ScriptedTelephony(), FAST).run(until_done=True), 30)

    # The engine has stopped: status shows no pacing line for a campaign nobody dials ...
    report = collect_status(store)
    assert all(c.pacing == [] for c in report.campaigns)
    # ... but what it wrote for another process to read is there.
    explains = load_explains(store, [cid])
    assert list(explains) == [cid]
    [view] = explains[cid]
    assert view.node == "n"
    e = view.explain
    assert e["mode"] == "predictive"
    assert e["abandon_window"] == "24h" and e["abandon_cap"] == 0.03
    rows = attempts(store, cid)
    live = [r for r in rows if r.outcome in ("connected", "abandoned")]
    # The figures are those of the pacer's last decision: calls answered after it (the run ends when
    # the last one does, before the abandon figures' next refresh) are not in them.
    assert 0 < int(e["live_answers"]) <= len(live)
    assert 0 <= int(e["abandoned"]) <= sum(r.outcome == "abandoned" for r in rows)
    assert 0.0 < float(e["answer_rate"]) < 1.0 and float(e["talk_mean_s"]) > 0
    line = pacing_line("spring", view, time.time())
    assert f"abandoned {e['abandoned']}/{e['live_answers']}" in line and "cap 3.0% per 24h" in line
    assert "[not running]" in pacing_line("spring", view, time.time() + 600)


async def test_a_restarted_engine_remembers_the_answer_rate_it_learned(store: Engine) -> None:
    cid = make_campaign(store, "spring", mode="predictive")
    make_leads(store, cid, phones_by_digit([0, 1, 2, 3, 4, 5, 7] * 12))
    for name in make_operators(store, "spring", 4):
        ready(store, name)
    await asyncio.wait_for(DialEngine(store, ScriptedTelephony(), FAST).run(until_done=True), 60)

    fresh = warm_estimates(store, 999).current()
    learned = warm_estimates(store, cid).current()
    assert learned.resolved == 84 and learned.answered == 60
    # From the 25% prior towards the campaign's 5 answers in 7 calls.
    assert fresh.answer_rate == pytest.approx(0.25)
    assert learned.answer_rate > 0.5
    assert learned.talk.mean < fresh.talk.mean / 10  # the scripted calls talk 0.1 s, the prior 110 s


@pytest.mark.parametrize(("uk", "hold"), [(True, timedelta(hours=72)), (False, timedelta(hours=1))])
async def test_the_uk_rule_holds_an_abandoned_number_for_72_hours(
    store: Engine, uk: bool, hold: timedelta
) -> None:
    cid = make_campaign(store, "spring", uk_abandon_rule=uk)
    make_leads(store, cid, phones_by_digit([8, 0]))
    for name in make_operators(store, "spring", 1):
        ready(store, name)
    await asyncio.wait_for(DialEngine(store, ScriptedTelephony(), FAST).run(until_done=True), 30)

    [dropped] = [r for r in attempts(store, cid) if r.outcome == "abandoned"]
    [lead] = [lead for lead in leads(store, cid) if lead.id == dropped.lead_id]
    assert dropped.ended_at is not None and lead.next_call_at is not None
    assert lead.status == "scheduled"
    assert lead.next_call_at - dropped.ended_at == hold


@dataclass
class SilentMachines(ScriptedTelephony):
    """Digit 9: a person who answers and says nothing, whom AMD calls a machine on silence."""

    async def _play(self, request: OriginateRequest) -> None:
        if not request.channel.split("@")[0].endswith("9"):
            await super()._play(request)
            return
        aid = request.attempt_id
        self._emit(Ringing(aid, time.time()))
        await asyncio.sleep(self.ring_s)
        self._emit(Answered(aid, time.time()))
        await asyncio.sleep(0.05)
        self._emit(MachineDetected(aid, time.time(), "MACHINE", "INITIALSILENCE-2500-2500"))
        self._emit(HungUp(aid, time.time(), 16))


async def test_a_silent_person_classed_as_a_machine_counts_as_abandoned_and_is_held_72_hours(
    store: Engine,
) -> None:
    cid = make_campaign(store, "spring", amd=True, uk_abandon_rule=True)
    make_leads(store, cid, phones_by_digit([9, 0]))
    for name in make_operators(store, "spring", 1):
        ready(store, name)
    await asyncio.wait_for(DialEngine(store, SilentMachines(), FAST).run(until_done=True), 30)

    [silent] = [r for r in attempts(store, cid) if r.phone.endswith("9")]
    assert (silent.outcome, silent.abandoned, silent.amd_status) == ("abandoned", True, "MACHINE")
    assert not silent.safe_harbour
    stats = stored_abandon_stats(store, cid, timedelta(days=30), time.time() + 1)
    assert stats == AbandonStats(1, 2)
    [lead] = [lead for lead in leads(store, cid) if lead.id == silent.lead_id]
    assert silent.ended_at is not None and lead.next_call_at is not None
    assert lead.next_call_at - silent.ended_at == timedelta(hours=72)


# --- campaign settings ---------------------------------------------------------------


def test_a_campaign_gets_the_shipped_safe_harbour_message_unless_told_otherwise(store: Engine) -> None:
    plain = create_campaign(store, CampaignSpec.build("plain"))
    own = create_campaign(
        store,
        CampaignSpec.build(
            "own",
            amd=True,
            safe_harbour_sound="/var/lib/asterisk/sounds/custom/sorry",
            machine_message="custom/offer-for-machines",
        ),
    )
    assert plain.safe_harbour_sound == DEFAULT_SAFE_HARBOUR_SOUND and plain.machine_message is None
    assert own.safe_harbour_sound == "/var/lib/asterisk/sounds/custom/sorry"
    assert own.machine_message == "custom/offer-for-machines"

    def variables(campaign_id: int, **changes: object) -> dict[str, str]:
        with session_scope(store) as session:
            row = session.get(type(plain), campaign_id)
            assert row is not None
            for key, value in changes.items():
                setattr(row, key, value)
            rules = CampaignRules.from_campaign(row)
        request = build_request(rules, "a1", 1, "+79000000000", {}, {})
        return dict(request.variables)

    assert plain.id is not None and own.id is not None
    assert variables(plain.id)["DIALER_SAFE_HARBOUR"] == DEFAULT_SAFE_HARBOUR_SOUND
    assert "DIALER_MACHINE_MESSAGE" not in variables(plain.id)
    assert variables(plain.id)["DIALER_AMD"] == "0"  # AMD is off unless asked for
    # A row stored before the default existed still plays a message.
    assert variables(plain.id, safe_harbour_sound=None)["DIALER_SAFE_HARBOUR"] == DEFAULT_SAFE_HARBOUR_SOUND
    own_vars = variables(own.id)
    assert own_vars["DIALER_SAFE_HARBOUR"] == "/var/lib/asterisk/sounds/custom/sorry"
    assert own_vars["DIALER_MACHINE_MESSAGE"] == "custom/offer-for-machines"
    assert own_vars["DIALER_AMD"] == "1"


@pytest.mark.parametrize(
    "sound",
    [
        "sorry\r\nAction: Originate",
        "sorry\nx",
        "sorry\x00",
        "sorry.wav",
        "custom/sorry.GSM",
        "a,b",
        "a&b",
        "${EVIL}",
        "with space",
        "",
        "x" * 256,
    ],
)
@pytest.mark.parametrize("option", ["safe_harbour_sound", "machine_message"])
def test_a_sound_setting_refuses_what_playback_would_misread(sound: str, option: str) -> None:
    if option == "machine_message" and sound == "":
        return  # an empty machine message means "none"
    with pytest.raises(InvalidInput, match=option.replace("_", "-")):
        CampaignSpec.build("x", **{option: sound})  # type: ignore[arg-type]

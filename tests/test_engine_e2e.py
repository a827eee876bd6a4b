"""The dial engine end to end against the real sandbox Asterisk (AMI, queues, simulated network).

Numbers script their outcome by their last digit (see ``dialer.pbx.sandbox``):
0-4 answer and reach an operator, 5 busy, 6 never answers, 7 congestion,
8 answers and hangs up while waiting for an operator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.models import DncEntry, Lead
from campaigns.store import session_scope
from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import login, pause, ready
from tests.asterisk_fixtures import SANDBOX_SIM, AmiWitness, wait_until
from tests.engine_helpers import (
    assert_no_overlap,
    attempts,
    closed_zone,
    expected_outcome,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

asterisk = pytest.mark.asterisk

SETTINGS = EngineSettings(node_id="e2e-node", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=20.0)


@contextlib.asynccontextmanager
async def sim_tuning(telephony: AmiTelephony, **values: str) -> AsyncIterator[None]:
    """Change the simulated world's timings for one test, and put them back."""
    defaults = {
        "SIM_IMPATIENT": str(SANDBOX_SIM.impatient_s),
        "SIM_OP_ANSWER": str(SANDBOX_SIM.op_answer_s),
        "SIM_TALK": str(SANDBOX_SIM.talk_s),
    }
    for name, value in values.items():
        await telephony.action("Setvar", {"Variable": name, "Value": value})
    try:
        yield
    finally:
        for name in values:
            await telephony.action("Setvar", {"Variable": name, "Value": defaults[name]})


@asterisk
async def test_progressive_campaign_end_to_end(asterisk_sandbox: Sandbox, store: Engine) -> None:
    cid = make_campaign(
        store,
        "e2e",
        queue="q8",
        ring_timeout_s=15,  # the legal minimum, and the no-answer wait
        max_channels=30,
        originate_rate=20.0,
        safe_harbour_sound=asterisk_sandbox.safe_harbour_sound,
    )
    digits = [d for d in range(5) for _ in range(25)] + [5] * 20 + [7] * 20 + [8] * 12 + [6] * 3
    phones = phones_by_digit(digits)
    make_leads(store, cid, phones)
    dnc = phones_by_digit([0, 1, 2], start=500)
    make_leads(store, cid, dnc)
    with session_scope(store) as session:
        session.add(DncEntry(phone=dnc[0]))
        session.add(DncEntry(phone=dnc[1], campaign_id=cid))
        session.add(DncEntry(phone=dnc[2]))
    night = phones_by_digit([0, 3], start=600)
    make_leads(store, cid, night, zone=closed_zone())
    operators = make_operators(store, "e2e", 6, prefix="op5")
    for name in operators:
        login(store, name)  # logged in but paused: nothing may be dialed

    telephony = await AmiTelephony.connect(asterisk_sandbox)
    engine = DialEngine(store, telephony, SETTINGS)
    try:
        # Answer() in the sandbox waits up to 0.5 s for media before the next step, so a
        # customer of digit 8 leaves ~0.6 s after answering: before an operator who takes
        # 1 s to pick up, which is still inside the 2-second connect limit.
        async with sim_tuning(telephony, SIM_IMPATIENT="0.1", SIM_OP_ANSWER="1.0", SIM_TALK="0.5"):
            run = asyncio.create_task(engine.run(until_done=True))
            await asyncio.sleep(2.0)
            assert attempts(store, cid) == [], "dialed while every operator was paused"

            for name in operators:
                ready(store, name)
            await wait_until(lambda: len(attempts(store, cid)) >= 40, 60)

            # A pause phase in the middle of the run: no new call starts during it.
            for name in operators:
                pause(store, name)
            paused_at = datetime.now(UTC)
            await asyncio.sleep(4.0)
            resumed_at = datetime.now(UTC)
            for name in operators:
                ready(store, name)

            await asyncio.wait_for(run, 110)
    finally:
        engine.stop()
        await telephony.close()

    rows = attempts(store, cid)
    # Allow for the pause to reach the engine (one operator poll and one tick).
    grace = 0.5
    started_in_pause = [
        r for r in rows if (r.started_at - paused_at).total_seconds() > grace and r.started_at < resumed_at
    ]
    assert started_in_pause == []
    assert sorted(r.phone for r in rows) == sorted(phones), "each lead dialed exactly once"
    wrong = [
        (
            r.phone,
            r.outcome,
            r.hangup_cause,
            r.safe_harbour,
            r.started_at,
            r.answered_at,
            r.connected_at,
            r.ended_at,
        )
        for r in rows
        if r.outcome != expected_outcome(r.phone)
    ]
    assert wrong == []
    for row in rows:
        assert row.ended_at is not None
        if row.outcome == "connected":
            assert row.operator in operators and row.connected_at is not None
            assert not row.safe_harbour
        if row.outcome == "abandoned":
            assert row.answered_at is not None and row.connected_at is None and row.abandoned
    assert_no_overlap(rows)

    final = {lead.phone: lead for lead in leads(store, cid)}
    for phone in phones:
        lead = final[phone]
        assert lead.attempts == 1 and lead.last_outcome == expected_outcome(phone)
        assert lead.status == ("done" if expected_outcome(phone) == "connected" else "scheduled")
        assert lead.claimed_by is None
    assert {final[p].status for p in dnc} == {"dnc"}
    for phone in night:
        lead = final[phone]
        assert lead.attempts == 0 and lead.next_call_at is not None
        assert lead.next_call_at > datetime.now(UTC)


@asterisk
async def test_lead_data_cannot_inject_an_ami_action(asterisk_sandbox: Sandbox, store: Engine) -> None:
    cid = make_campaign(store, "inject", queue="q6", safe_harbour_sound=asterisk_sandbox.safe_harbour_sound)
    evil = "Eve\r\n\r\nAction: UserEvent\r\nUserEvent: Injected\r\n\r\n"
    make_leads(store, cid, phones_by_digit([0]), data={"name": evil})
    [name] = make_operators(store, "inject", 1, prefix="op6")
    ready(store, name)
    witness = AmiWitness()
    await witness.start(asterisk_sandbox)
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    try:
        # Operators too slow for the 2-second rule: the call hears the safe-harbour message,
        # whose UserEvent proves the witness sees what the call's dialplan sends.
        async with sim_tuning(telephony, SIM_OP_ANSWER="3"):
            await asyncio.wait_for(DialEngine(store, telephony, SETTINGS).run(until_done=True), 60)
        await asyncio.sleep(0.3)
    finally:
        await telephony.close()
        await witness.close()
    [row] = attempts(store, cid)
    assert row.outcome == "abandoned" and row.safe_harbour and row.answered_at is not None
    assert "DialerSafeHarbour" in witness.user_event_names()
    assert "Injected" not in witness.user_event_names()
    with Session(store) as session:
        lead = session.get(Lead, row.lead_id)
        assert lead is not None and lead.status == "scheduled" and lead.attempts == 1


@asterisk
def test_run_command_dials_until_done_without_logging_the_secret(
    asterisk_sandbox: Sandbox, store: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import typer
    from typer.testing import CliRunner

    from dialer.cli.engine_commands import run_command

    cid = make_campaign(store, "cli", queue="q5", safe_harbour_sound=asterisk_sandbox.safe_harbour_sound)
    make_leads(store, cid, phones_by_digit([0, 5, 7], start=700))
    [name] = make_operators(store, "cli", 1, prefix="op7")
    ready(store, name)
    app = typer.Typer()
    app.command()(run_command)
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        app,
        ["--campaign", "cli", "--until-done", "--node", "cli-node"],
        env={"DIALER_DB": db_url, "DIALER_AMI_URL": asterisk_sandbox.ami_url},
    )
    assert result.exit_code == 0, result.output
    assert sorted((r.phone[-1], r.outcome) for r in attempts(store, cid)) == [
        ("0", "connected"),
        ("5", "busy"),
        ("7", "congestion"),
    ]
    assert asterisk_sandbox.secret not in result.output
    assert asterisk_sandbox.secret not in caplog.text
    assert "ami://dialer:***@" in caplog.text

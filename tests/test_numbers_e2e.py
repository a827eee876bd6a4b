"""A lead's alternate numbers and the operator's caller ID, end to end on the real sandbox Asterisk.

Customers are played by the sandbox dialplan: a number's last digit picks its fate (0-4 answer,
5 busy, 7 congestion), and numbers starting 999 do not exist (cause 1). Each simulated operator
reports the caller ID its phone shows in a ``SimOperatorCallerID`` user event, read here by an
AMI session of the test's own.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from campaigns.lead_numbers import LeadNumber, lead_numbers, stored_numbers
from campaigns.models import CallAttempt, DncEntry
from campaigns.store import session_scope
from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.attempts_export import export_attempts
from dialer.services.operators import add_operator, login, ready
from tests.asterisk_fixtures import AmiWitness, wait_until
from tests.engine_helpers import attempts, leads, make_campaign, make_leads, open_zone

asterisk = pytest.mark.asterisk

OPEN = {"new", "scheduled", "in_call"}
SETTINGS = EngineSettings(node_id="numbers-node", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=20.0)


def several(*phones: str) -> list[dict[str, Any]] | None:
    return stored_numbers([LeadNumber(phone, open_zone()) for phone in phones])


def by_lead(rows: list[CallAttempt]) -> dict[int, list[CallAttempt]]:
    found: dict[int, list[CallAttempt]] = {}
    for row in sorted(rows, key=lambda r: r.started_at):
        found.setdefault(row.lead_id, []).append(row)
    return found


async def run_until_closed(store: Engine, box: Sandbox, campaign_id: int, queue: str, timeout: float) -> None:
    """Run the engine until every lead of the campaign is closed (retries included), then stop it.

    The sandbox's queues are shared by the session's tests: members another test left in the
    queue are taken out first, and this test's are taken out after, so no call goes astray.
    """
    telephony = await AmiTelephony.connect(box)
    await empty_queue(telephony, queue)
    engine = DialEngine(store, telephony, SETTINGS)
    run = asyncio.create_task(engine.run())
    try:
        await wait_until(lambda: all(lead.status not in OPEN for lead in leads(store, campaign_id)), timeout)
    finally:
        engine.stop()
        await asyncio.wait_for(run, 30)
        await empty_queue(telephony, queue)
        await telephony.close()


async def empty_queue(telephony: AmiTelephony, queue: str) -> None:
    status = await telephony.action("QueueStatus", {"Queue": queue}, as_list=True)
    for member in status:
        if member.get("Event") == "QueueMember" and member.get("Queue") == queue:
            await telephony.queue_remove(queue, str(member["Location"]))


def operator(store: Engine, campaign: str, name: str, extension: str) -> None:
    add_operator(store, name, f"Local/{extension}@sim-operators/n", [campaign])
    login(store, name)
    ready(store, name)


@asterisk
async def test_the_engine_dials_the_alternate_after_the_first_number_fails(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = make_campaign(
        store,
        "alts",
        queue="q6",
        retry_rules={"busy": 1, "congestion": 1},
        safe_harbour_sound=asterisk_sandbox.safe_harbour_sound,
    )
    busy_first = ["+79000000105", "+79000000110"]  # busy, then a person
    wrong_first = ["+999000000120", "+79000000127", "+79000000130"]  # no such number, congestion, a person
    dnc_first = ["+79000000140", "+79000000150"]  # the first on the do-not-call list
    ids = [
        make_leads(store, cid, [nums[0]], numbers=several(*nums))[0]
        for nums in (busy_first, wrong_first, dnc_first)
    ]
    with session_scope(store) as session:
        session.add(DncEntry(phone=dnc_first[0]))
    operator(store, "alts", "op601", "op601")

    await run_until_closed(store, asterisk_sandbox, cid, "q6", 90)

    dialed = {
        lead: [(r.phone, r.outcome) for r in rows] for lead, rows in by_lead(attempts(store, cid)).items()
    }
    assert dialed[ids[0]] == [(busy_first[0], "busy"), (busy_first[1], "connected")]
    assert dialed[ids[1]] == [
        (wrong_first[0], "invalid_number"),
        (wrong_first[1], "congestion"),
        (wrong_first[2], "connected"),
    ]
    assert dialed[ids[2]] == [(dnc_first[1], "connected")]
    final = {lead.id: lead for lead in leads(store, cid)}
    assert {final[i].status for i in ids} == {"done"}
    dropped = lead_numbers("", "", final[ids[1]].numbers)
    assert [n.dropped for n in dropped] == [True, False, False]
    # The attempts export shows the number each attempt dialed.
    out = io.StringIO()
    export_attempts(store, "alts", out)
    exported = {line.split(",")[2] for line in out.getvalue().splitlines()[1:]}
    assert exported == {busy_first[0], busy_first[1], *wrong_first, dnc_first[1]}


@asterisk
async def test_the_operators_phone_shows_the_customer_and_a_cyrillic_operator_takes_calls(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = make_campaign(store, "desk", queue="q5", safe_harbour_sound=asterisk_sandbox.safe_harbour_sound)
    plain, hostile = "+79000000200", "+79000000210"
    make_leads(store, cid, [plain], data={"Телефон": "x", "ФИО": "Иванова Анна Петровна"})
    make_leads(store, cid, [hostile], data={"ФИО": 'Пётр"\r\nAction: Hangup\r\nChannel: Local/*;,$[1]'})
    operator(store, "desk", "Анна", "op701")
    witness = AmiWitness()
    await witness.start(asterisk_sandbox)
    try:
        await run_until_closed(store, asterisk_sandbox, cid, "q5", 60)
        await wait_until(lambda: len(_shown(witness)) >= 2, 10)
    finally:
        await witness.close()

    shown = _shown(witness)
    assert shown[plain] == "Иванова Анна Петровна"
    # One harmless line: the would-be AMI action stays text inside the name.
    assert shown[hostile] == "Пётр Action: Hangup Channel: Local/ 1"
    rows = attempts(store, cid)
    assert {(r.outcome, r.operator) for r in rows} == {("connected", "Анна")}
    added = [m for _, m in witness.seen if m.get("Event") == "QueueMemberAdded" and m.get("Queue") == "q5"]
    assert added and added[-1].get("MemberName") == "Анна"


def _shown(witness: AmiWitness) -> dict[str, str]:
    """Caller number -> caller name, as the simulated operators' phones showed them."""
    return {
        m["Num"]: m.get("Name", "")
        for _, m in witness.seen
        if m.get("Event") == "UserEvent" and m.get("UserEvent") == "SimOperatorCallerID" and "Num" in m
    }

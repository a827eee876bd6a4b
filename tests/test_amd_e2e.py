"""Answering-machine detection end to end on the real sandbox Asterisk.

Digit 9 answers with a 6-second greeting that ``AMD()`` classes as MACHINE
(``LONGGREETING``) in about 2 s. Digits 0-4 are people who answer and say
nothing: on the sandbox's Local channels no audio frame reaches ``AMD()`` at all,
and it gives up at its total analysis time with NOTSURE (``TOOLONG``), so they go
to the queue. (On a real line a silent person sends silence frames and AMD says
MACHINE with ``INITIALSILENCE``: the engine records that call as abandoned; see
``dialer.policy.abandon`` and ``tests/test_abandon.py``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dialer.ami.client import AmiTelephony
from dialer.core.errors import TelephonyError
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import ready
from tests.asterisk_fixtures import AmiWitness
from tests.engine_helpers import attempts, make_campaign, make_leads, make_operators, phones_by_digit

asterisk = pytest.mark.asterisk

QUEUE = "q3"
SETTINGS = EngineSettings(node_id="amd-e2e", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=20.0)


def seconds_of(sound: str) -> float:
    with wave.open(str(Path(sound).with_suffix(".wav"))) as wav:
        return float(wav.getnframes() / wav.getframerate())


@asterisk
async def test_amd_ends_machines_with_their_message_and_queues_people(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    message = asterisk_sandbox.safe_harbour_sound  # any sound will do; this one is 3.3 s long
    cid = make_campaign(
        store,
        "amd-e2e",
        queue=QUEUE,
        amd=True,
        machine_message=message,
        safe_harbour_sound=asterisk_sandbox.safe_harbour_sound,
    )
    phones = phones_by_digit([9, 0, 9, 1, 9, 2, 3, 9], start=300000)
    make_leads(store, cid, phones)
    operators = make_operators(store, "amd-e2e", 3, prefix="op3")
    for name in operators:
        ready(store, name)

    witness = AmiWitness()
    await witness.start(asterisk_sandbox)
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    try:
        await asyncio.wait_for(DialEngine(store, telephony, SETTINGS).run(until_done=True), 90)
        # A machine's attempt ends at the verdict; its channel stays up while the message plays.
        ids = [r.id for r in attempts(store, cid)]
        for _ in range(100):
            if all(witness.of(i, "Hangup") for i in ids):
                break
            await asyncio.sleep(0.1)
    finally:
        await witness.close()
        for name in operators:
            with contextlib.suppress(TelephonyError):
                await telephony.queue_remove(QUEUE, f"Local/{name}@sim-operators/n")
        await telephony.close()

    rows = {r.phone: r for r in attempts(store, cid)}
    assert sorted(rows) == sorted(phones)
    for phone, row in rows.items():
        user_events = witness.of(row.id, "UserEvent")
        [(verdict_at, verdict)] = [e for e in user_events if e[1].get("UserEvent") == "DialerAMD"]
        left_message = [e for e in user_events if e[1].get("UserEvent") == "DialerMachineMessage"]
        hangup_at = max(at for at, _ in witness.of(row.id, "Hangup"))
        if phone.endswith("9"):
            assert (row.outcome, row.amd_status, verdict["Status"]) == ("machine", "MACHINE", "MACHINE")
            assert verdict["Cause"].startswith("LONGGREETING")
            assert row.operator is None and not row.abandoned and not row.safe_harbour
            # The message was left: announced, and the call lasted as long as the sound after the verdict.
            assert len(left_message) == 1
            assert hangup_at - verdict_at >= 0.9 * seconds_of(message)
        else:
            assert (row.outcome, row.amd_status, verdict["Status"]) == ("connected", "NOTSURE", "NOTSURE")
            assert verdict["Cause"].startswith("TOOLONG")
            assert row.operator in operators and left_message == []
            # The person reached the queue only after AMD's verdict, and an operator within 2 s of it.
            [(connected_at, _)] = witness.of(row.id, "AgentConnect")
            assert 0 <= connected_at - verdict_at <= 2.0

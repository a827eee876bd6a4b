"""The shipped AMI user receives only the events the engine reads, and still every one of those."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from dialer.ami.client import AmiTelephony
from dialer.core.telephony import HungUp, OriginateRequest, SafeHarbourPlayed
from dialer.pbx.config import AMI_EVENTS, render_manager
from dialer.pbx.sandbox import Sandbox
from tests.asterisk_fixtures import AmiWitness, EventLog

# What dialer.ami.tracker turns into the port's events (calls, then queue members).
READ_BY_THE_TRACKER = {
    "Newstate",
    "Hangup",
    "OriginateResponse",
    "UserEvent",
    "QueueCallerJoin",
    "AgentConnect",
    "QueueMemberAdded",
    "QueueMemberStatus",
    "QueueMemberPause",
    "QueueMemberRemoved",
}


def test_the_ami_user_lets_through_every_event_the_tracker_reads_and_only_includes() -> None:
    lines = [
        line for line in render_manager("dialer", "s3cret").splitlines() if line.startswith("eventfilter")
    ]
    assert set(AMI_EVENTS) >= READ_BY_THE_TRACKER
    assert lines == [f"eventfilter(action(include),name({name})) =" for name in AMI_EVENTS]


@pytest.mark.asterisk
async def test_a_call_sends_the_engine_its_events_and_none_of_the_others(
    asterisk_sandbox: Sandbox, ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    names = AmiWitness()
    await names.start(asterisk_sandbox)
    try:
        # Answered, then the safe-harbour message (q3 has nobody ready), then hung up.
        request = OriginateRequest(
            attempt_id=f"t-{uuid.uuid4().hex[:12]}",
            channel="Local/4930@sim-customers",
            context="dialer-answered",
            exten="s",
            caller_id='"Dialer" <1000>',
            ring_timeout_s=10.0,
            variables={"DIALER_QUEUE": "q3"},
        )
        await ami_telephony.originate(request)
        await ami_events.wait_for(
            lambda events: (
                any(isinstance(e, SafeHarbourPlayed) for e in events)
                and any(isinstance(e, HungUp) for e in events)
            )
        )
        await asyncio.sleep(0.3)
    finally:
        await names.close()
    seen = names.event_names()
    assert {"Newstate", "Hangup", "OriginateResponse", "UserEvent"} <= set(seen)
    assert set(seen) <= set(AMI_EVENTS)
    assert "Newchannel" not in seen

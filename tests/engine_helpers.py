"""Shared set-up for the engine tests: store rows, time zones, and a scripted telephony.

``ScriptedTelephony`` is a fake of our own port only (``dialer.core.telephony.Telephony``):
customers behave by the number's last digit, as in the sandbox dialplan, on a
fast real-time clock. It refuses CR/LF/NUL in any value, like the AMI adapter.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.store import session_scope
from dialer.core.errors import TelephonyError
from dialer.core.telephony import (
    Answered,
    FailReason,
    HungUp,
    MemberChanged,
    MemberState,
    OperatorConnected,
    OriginateFailed,
    OriginateRequest,
    QueueJoined,
    Ringing,
    SafeHarbourPlayed,
    TelephonyEvent,
    refuse_line_breaks,
)
from dialer.services.operators import add_operator


def zone_at_local_hour(hour: int, now: datetime | None = None) -> str:
    """A fixed-offset zone whose local time is now about ``hour`` o'clock."""
    utc_hour = (now or datetime.now(UTC)).hour
    offset = (hour - utc_hour + 12) % 24 - 12  # in [-12, 11]
    # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def open_zone() -> str:
    return zone_at_local_hour(13)


def closed_zone() -> str:
    return zone_at_local_hour(3)


def make_campaign(store: Engine, name: str = "spring", **fields: Any) -> int:
    values: dict[str, Any] = {
        "queue": "q-" + name,
        "dial_template": "Local/{number}@sim-customers",
        "originate_rate": 50.0,
        "max_channels": 50,
        "ring_timeout_s": 15,
    }
    values.update(fields)
    with session_scope(store) as session:
        campaign = Campaign(name=name, **values)
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        return campaign.id


def make_leads(
    store: Engine, campaign_id: int, phones: Sequence[str], zone: str | None = None, **fields: Any
) -> list[int]:
    ids = []
    with session_scope(store) as session:
        for phone in phones:
            lead = Lead(
                campaign_id=campaign_id,
                phone=phone,
                time_zones=open_zone() if zone is None else zone,
                **fields,
            )
            session.add(lead)
            session.flush()
            assert lead.id is not None
            ids.append(lead.id)
    return ids


def make_operators(store: Engine, campaign: str, count: int, prefix: str = "op") -> list[str]:
    names = []
    for i in range(count):
        name = f"{prefix}{101 + i}"
        add_operator(store, name, f"Local/{name}@sim-operators/n", [campaign])
        names.append(name)
    return names


def phones_by_digit(digits: Sequence[int], start: int = 0) -> list[str]:
    """Distinct numbers ending in the given digits (the last digit scripts the outcome)."""
    return [f"+7900{start + i:06d}{d}" for i, d in enumerate(digits)]


def attempts(store: Engine, campaign_id: int | None = None) -> list[CallAttempt]:
    with Session(store) as session:
        query = select(CallAttempt)
        if campaign_id is not None:
            query = query.where(CallAttempt.campaign_id == campaign_id)
        return list(session.exec(query).all())


def leads(store: Engine, campaign_id: int) -> list[Lead]:
    with Session(store) as session:
        return list(session.exec(select(Lead).where(Lead.campaign_id == campaign_id)).all())


def expected_outcome(phone: str) -> str:
    digit = int(phone[-1])
    if digit <= 4:
        return "connected"
    return {5: "busy", 6: "no_answer", 7: "congestion", 8: "abandoned"}[digit]


def assert_no_overlap(rows: Sequence[CallAttempt]) -> None:
    """No lead was ever in two calls at once."""
    by_lead: dict[int, list[CallAttempt]] = {}
    for row in rows:
        by_lead.setdefault(row.lead_id, []).append(row)
    for lead_id, items in by_lead.items():
        items.sort(key=lambda r: r.started_at)
        for earlier, later in itertools.pairwise(items):
            assert earlier.ended_at is not None
            assert earlier.ended_at <= later.started_at, f"lead {lead_id} had overlapping attempts"


_NUMBER = re.compile(r"^Local/(\d+)@")


@dataclass
class Member:
    paused: bool
    busy: bool = False


@dataclass
class Dialed:
    request: OriginateRequest
    at: float
    available_operators: int


@dataclass
class ScriptedTelephony:
    """Digits: 0-4 answer and wait for an operator, 5 busy, 6 no answer, 7 congestion,
    8 answer then hang up at once, 9 silence (no event ever)."""

    ring_s: float = 0.02
    op_answer_s: float = 0.02
    talk_s: float = 0.1
    impatient_s: float = 0.005
    no_answer_s: float = 0.2
    connect_timeout_s: float = 0.5
    hangup_before_verdict: bool = False  # as Asterisk may: a causeless hang-up, then busy/congestion
    on_originate: Callable[[OriginateRequest], None] | None = None
    dialed: list[Dialed] = field(default_factory=list)
    hangups: list[str] = field(default_factory=list)
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    actions: list[tuple[str, ...]] = field(default_factory=list)
    _queue: asyncio.Queue[TelephonyEvent] = field(default_factory=asyncio.Queue)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _hung: set[str] = field(default_factory=set)

    # --- the port ---
    async def originate(self, request: OriginateRequest) -> None:
        refuse_line_breaks(request)  # as every Telephony must
        if self.on_originate is not None:
            self.on_originate(request)
        available = sum(1 for m in self.members.values() if not m.paused and not m.busy)
        self.dialed.append(Dialed(request, time.time(), available))
        task = asyncio.create_task(self._play(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def hangup(self, attempt_id: str) -> None:
        self.hangups.append(attempt_id)
        self._hung.add(attempt_id)

    async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
        self.actions.append(("add", queue, interface, str(paused)))
        if (queue, interface) in self.members:
            raise TelephonyError("already a member")
        self.members[(queue, interface)] = Member(paused)
        self._member_event(queue, interface)

    async def queue_remove(self, queue: str, interface: str) -> None:
        self.actions.append(("remove", queue, interface))
        if self.members.pop((queue, interface), None) is None:
            raise TelephonyError("not a member")
        self._emit(MemberChanged(time.time(), queue, interface, MemberState.REMOVED))

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        self.actions.append(("pause", queue, interface, str(paused)))
        member = self.members.get((queue, interface))
        if member is None:
            raise TelephonyError("not a member")
        member.paused = paused
        self._member_event(queue, interface)

    async def events(self) -> AsyncIterator[TelephonyEvent]:
        while True:
            yield await self._queue.get()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    # --- the simulated world ---
    def _emit(self, event: TelephonyEvent) -> None:
        self._queue.put_nowait(event)

    def _member_event(self, queue: str, interface: str) -> None:
        member = self.members[(queue, interface)]
        state = (
            MemberState.PAUSED
            if member.paused
            else (MemberState.IN_CALL if member.busy else MemberState.AVAILABLE)
        )
        self._emit(MemberChanged(time.time(), queue, interface, state))

    def _free_member(self, queue: str) -> str | None:
        # One phone per operator, as with ringinuse=no: busy in one queue is busy in all.
        busy = {interface for (_, interface), member in self.members.items() if member.busy}
        for (q, interface), member in self.members.items():
            if q == queue and not member.paused and interface not in busy:
                return interface
        return None

    async def _play(self, request: OriginateRequest) -> None:
        match = _NUMBER.match(request.channel)
        assert match is not None, request.channel
        digit = int(match.group(1)[-1])
        aid = request.attempt_id
        if digit == 9:
            return  # a ghost: no event ever
        if digit in (5, 7):
            reason, cause = (FailReason.BUSY, 17) if digit == 5 else (FailReason.CONGESTION, 34)
            await asyncio.sleep(self.ring_s)
            if self.hangup_before_verdict:
                self._emit(HungUp(aid, time.time(), 0))
                await asyncio.sleep(0.05)
            self._emit(OriginateFailed(aid, time.time(), reason, cause))
            return
        self._emit(Ringing(aid, time.time()))
        if digit == 6:
            await self._sleep_unless_hung(aid, self.no_answer_s)
            self._emit(OriginateFailed(aid, time.time(), FailReason.NO_ANSWER, 19))
            return
        await asyncio.sleep(self.ring_s)
        self._emit(Answered(aid, time.time()))
        queue = request.variables["DIALER_QUEUE"]
        self._emit(QueueJoined(aid, time.time(), queue))
        if digit == 8:
            await asyncio.sleep(self.impatient_s)
            self._emit(HungUp(aid, time.time(), 16))
            return
        await self._connect(aid, queue)

    async def _connect(self, aid: str, queue: str) -> None:
        deadline = time.time() + self.connect_timeout_s
        interface = self._free_member(queue)
        while interface is None and time.time() < deadline:
            await asyncio.sleep(0.01)
            interface = self._free_member(queue)
        if interface is None:
            self._emit(SafeHarbourPlayed(aid, time.time()))
            self._emit(HungUp(aid, time.time(), 16))
            return
        member = self.members[(queue, interface)]
        member.busy = True
        await asyncio.sleep(self.op_answer_s)
        self._emit(OperatorConnected(aid, time.time(), queue, interface))
        self._member_event(queue, interface)
        await self._sleep_unless_hung(aid, self.talk_s)
        member.busy = False
        self._emit(HungUp(aid, time.time(), 16))
        if (queue, interface) in self.members:
            self._member_event(queue, interface)

    async def _sleep_unless_hung(self, aid: str, seconds: float) -> None:
        until = time.time() + seconds
        while time.time() < until and aid not in self._hung:
            await asyncio.sleep(0.01)

"""``SimTelephony``: the Telephony port in memory, in real time (asyncio).

For the engine's tests and ``dialer demo --pbx simulated``. Customers behave
like the sandbox Asterisk's ``sim-customers`` context, chosen by the last digit
of the dialed number (the digit before it sets the ring time in tenths of a
second):

    0-4  rings, answers, waits in the queue like a person
    5    busy                      7  network congestion
    6    rings until the originate's ring timeout (no answer)
    8    answers, then hangs up after ``impatient_s`` unless an operator took it
    9    an answering machine: with AMD (``DIALER_AMD=1``) detected and hung up,
         without it the call reaches an operator like a person

Answered calls join the queue named by ``DIALER_QUEUE`` and wait at most
``DIALER_CONNECT_TIMEOUT`` seconds (default 2) for a queue member; if none is
free they hear the safe-harbour message and are hung up, as the product's
dialplan does. Members are added with ``queue_add``; each answers at once,
talks for ``talk_s`` and is free again after ``wrap_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

from dialer.core.errors import ConnectionFailed, TelephonyError
from dialer.core.telephony import (
    Answered,
    FailReason,
    HungUp,
    MachineDetected,
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

NORMAL_CLEARING = 16


@dataclass(frozen=True)
class SimTiming:
    """Delays in seconds of simulated time; ``time_scale`` shrinks them all (tests use 0.01)."""

    time_scale: float = 1.0
    setup_s: float = 0.2  # dial to ringing (or to busy / congestion)
    amd_s: float = 1.0
    impatient_s: float = 1.0
    op_answer_s: float = 0.0  # a member's phone rings this long before it is bridged
    talk_s: float = 5.0
    wrap_s: float = 0.0
    safe_harbour_s: float = 1.0


@dataclass
class _Member:
    interface: str
    name: str
    paused: bool
    busy: bool = False
    free_since: float = 0.0


@dataclass
class _Queue:
    members: dict[str, _Member] = field(default_factory=dict)
    waiting: deque[tuple[str, asyncio.Future[str]]] = field(default_factory=deque)


def dialed_number(channel: str) -> str:
    """The digits of the number in ``Local/5551234@context`` or ``PJSIP/5551234@trunk``."""
    tail = channel.rsplit("/", 1)[-1].split("@", 1)[0]
    return re.sub(r"\D", "", tail)


class SimTelephony:
    """An in-memory phone system that keeps the Telephony contract in real time."""

    def __init__(
        self,
        timing: SimTiming | None = None,
        *,
        clock: Callable[[], float] = time.time,
        op_answer_s: float | None = None,
        talk_s: float | None = None,
        impatient_s: float | None = None,
    ) -> None:
        timing = timing or SimTiming()
        overrides = {"op_answer_s": op_answer_s, "talk_s": talk_s, "impatient_s": impatient_s}
        self.timing = replace(timing, **{k: v for k, v in overrides.items() if v is not None})
        self._clock = clock
        self._events: asyncio.Queue[TelephonyEvent | None] = asyncio.Queue()
        self._calls: dict[str, asyncio.Task[None]] = {}
        self._queues: dict[str, _Queue] = {}
        self._closed = False

    # --- the port -------------------------------------------------------------------

    async def originate(self, request: OriginateRequest) -> None:
        if self._closed:
            raise ConnectionFailed("the simulated phone system is closed")
        refuse_line_breaks(request)
        if request.attempt_id in self._calls:
            raise TelephonyError(f"attempt {request.attempt_id} already has a call")
        task = asyncio.create_task(self._call(request), name=f"sim-call-{request.attempt_id}")
        self._calls[request.attempt_id] = task
        task.add_done_callback(lambda _: self._calls.pop(request.attempt_id, None))

    async def hangup(self, attempt_id: str) -> None:
        task = self._calls.get(attempt_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
        q = self._queues.setdefault(queue, _Queue())
        q.members[interface] = _Member(interface, member_name, paused, free_since=self._clock())
        self._member_event(queue, q.members[interface])
        self._dispatch(queue)

    async def queue_remove(self, queue: str, interface: str) -> None:
        q = self._queues.get(queue)
        if q is not None and q.members.pop(interface, None) is not None:
            self._emit(MemberChanged(self._clock(), queue, interface, MemberState.REMOVED))

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        q = self._queues.get(queue)
        member = q.members.get(interface) if q else None
        if member is None:
            raise TelephonyError(f"{interface} is not a member of queue {queue}")
        member.paused = paused
        self._member_event(queue, member)
        self._dispatch(queue)

    async def events(self) -> AsyncIterator[TelephonyEvent]:
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._calls.values()):
            task.cancel()
        await asyncio.gather(*self._calls.values(), return_exceptions=True)
        self._events.put_nowait(None)

    # --- one call -------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.timing.time_scale)

    def _emit(self, event: TelephonyEvent) -> None:
        if not self._closed or not isinstance(event, MemberChanged):
            self._events.put_nowait(event)

    async def _call(self, request: OriginateRequest) -> None:
        aid = request.attempt_id
        answered = False
        try:
            answered = await self._until_outcome(request)
        except asyncio.CancelledError:
            # Hung up by the engine (or at close): report the channel gone.
            self._emit(HungUp(aid, self._clock(), NORMAL_CLEARING, "Normal Clearing"))
            raise
        if answered:
            self._emit(HungUp(aid, self._clock(), NORMAL_CLEARING, "Normal Clearing"))

    async def _until_outcome(self, request: OriginateRequest) -> bool:
        """Play the customer's part; True when the call was answered and must end with a hang-up."""
        aid = request.attempt_id
        digits = dialed_number(request.channel)
        t = self.timing
        if len(digits) < 2:
            self._emit(OriginateFailed(aid, self._clock(), FailReason.FAILED))
            return False
        last, ring_s = int(digits[-1]), int(digits[-2]) / 10.0
        await self._sleep(t.setup_s)
        if last == 5:
            self._emit(OriginateFailed(aid, self._clock(), FailReason.BUSY, 17))
            return False
        if last == 7:
            self._emit(OriginateFailed(aid, self._clock(), FailReason.CONGESTION, 34))
            return False
        self._emit(Ringing(aid, self._clock()))
        if last == 6:
            await self._sleep(request.ring_timeout_s)
            self._emit(OriginateFailed(aid, self._clock(), FailReason.NO_ANSWER, 19))
            return False
        await self._sleep(ring_s)
        self._emit(Answered(aid, self._clock()))
        amd = request.variables.get("DIALER_AMD") == "1"
        if amd:
            await self._sleep(t.amd_s)
            status = "MACHINE" if last == 9 else "HUMAN"
            self._emit(MachineDetected(aid, self._clock(), status, "LONGGREETING" if last == 9 else "HUMAN"))
            if last == 9:
                return True
        queue = request.variables.get("DIALER_QUEUE", request.exten)
        limit = float(request.variables.get("DIALER_CONNECT_TIMEOUT") or 2.0)
        patience = min(limit, t.impatient_s) if last == 8 else limit
        self._emit(QueueJoined(aid, self._clock(), queue))
        interface = await self._wait_for_member(queue, aid, patience)
        if interface is None:
            if last != 8:  # a person still on the line hears the message
                self._emit(SafeHarbourPlayed(aid, self._clock()))
                await self._sleep(t.safe_harbour_s)
            return True
        try:
            if t.op_answer_s > 0:
                await self._sleep(t.op_answer_s)
            self._emit(OperatorConnected(aid, self._clock(), queue, interface))
            await self._sleep(t.talk_s)
        finally:
            self._release(queue, interface)
        return True

    # --- the queue ------------------------------------------------------------------

    async def _wait_for_member(self, queue: str, aid: str, patience: float) -> str | None:
        q = self._queues.setdefault(queue, _Queue())
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        q.waiting.append((aid, future))
        self._dispatch(queue)
        taken: str | None = None
        try:
            taken = await asyncio.wait_for(asyncio.shield(future), patience * self.timing.time_scale)
            return taken
        except TimeoutError:
            return None
        finally:
            with contextlib.suppress(ValueError):
                q.waiting.remove((aid, future))
            if taken is None and future.done() and not future.cancelled():
                # A member was handed over just as the caller gave up or hung up.
                self._release(queue, future.result())
            future.cancel()

    def _dispatch(self, queue: str) -> None:
        """Hand waiting callers to free members, longest idle first."""
        q = self._queues.get(queue)
        if q is None:
            return
        while q.waiting:
            free = [m for m in q.members.values() if not m.paused and not m.busy]
            if not free:
                return
            _, future = q.waiting.popleft()
            if future.done():
                continue
            member = min(free, key=lambda m: m.free_since)
            member.busy = True
            self._member_event(queue, member)
            future.set_result(member.interface)

    def _release(self, queue: str, interface: str) -> None:
        q = self._queues.get(queue)
        member = q.members.get(interface) if q else None
        if member is None or not member.busy:
            return
        if self.timing.wrap_s > 0 and not self._closed:
            asyncio.get_running_loop().call_later(
                self.timing.wrap_s * self.timing.time_scale, self._free, queue, member
            )
        else:
            self._free(queue, member)

    def _free(self, queue: str, member: _Member) -> None:
        member.busy = False
        member.free_since = self._clock()
        self._member_event(queue, member)
        self._dispatch(queue)

    def _member_event(self, queue: str, member: _Member) -> None:
        if member.busy:
            state = MemberState.IN_CALL
        elif member.paused:
            state = MemberState.PAUSED
        else:
            state = MemberState.AVAILABLE
        self._emit(MemberChanged(self._clock(), queue, member.interface, state))

"""The sandbox Asterisk for the test session, and helpers to watch a Telephony's events.

One sandbox serves the whole session (queues q1..q9). Without an Asterisk the fixture
skips, except in CI (``CI=true``) or with ``DIALER_REQUIRE_ASTERISK=1``, where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from dialer.ami.client import AmiTelephony
from dialer.core.errors import TelephonyError
from dialer.core.telephony import HungUp, OriginateFailed, Telephony, TelephonyEvent
from dialer.pbx.sandbox import Sandbox, SimTuning

SANDBOX_QUEUES = [f"q{i}" for i in range(1, 10)]
SANDBOX_SIM = SimTuning(impatient_s=1.0, op_answer_s=0.3, talk_s=1.0)


def asterisk_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("DIALER_REQUIRE_ASTERISK") == "1"


@contextlib.contextmanager
def running(box: Sandbox) -> Iterator[Sandbox]:
    """Start ``box`` for a test, or skip it (fail it where Asterisk is required); stop it after."""
    try:
        box.start()
    except TelephonyError as exc:
        if asterisk_required():
            pytest.fail(f"the sandbox Asterisk is required here but could not start: {exc}", pytrace=False)
        pytest.skip(f"no sandbox Asterisk: {exc}")
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="session")
def asterisk_sandbox() -> Iterator[Sandbox]:
    with running(Sandbox(SANDBOX_QUEUES, sim=SANDBOX_SIM)) as box:
        yield box


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    until = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < until, "timed out"
        await asyncio.sleep(0.05)


class EventLog:
    """Collects a Telephony's events in the background so a test can wait for the ones it needs."""

    def __init__(self, telephony: Telephony) -> None:
        self.events: list[TelephonyEvent] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._pump(telephony))

    async def _pump(self, telephony: Telephony) -> None:
        async for event in telephony.events():
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def of(self, attempt_id: str) -> list[TelephonyEvent]:
        return [e for e in self.events if getattr(e, "attempt_id", None) == attempt_id]

    async def wait_for(
        self, predicate: Callable[[list[TelephonyEvent]], bool], timeout: float = 15.0
    ) -> list[TelephonyEvent]:
        async def _until() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.events))

        try:
            await asyncio.wait_for(_until(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout} s; events so far: {self.events}") from None
        return self.events

    async def until_ended(self, attempt_id: str, timeout: float = 15.0) -> list[TelephonyEvent]:
        """The attempt's events once it hung up or failed."""

        def ended(_: list[TelephonyEvent]) -> bool:
            return any(isinstance(e, HungUp | OriginateFailed) for e in self.of(attempt_id))

        await self.wait_for(ended, timeout)
        return self.of(attempt_id)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.fixture
async def ami_telephony(asterisk_sandbox: Sandbox) -> AsyncIterator[AmiTelephony]:
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    try:
        yield telephony
    finally:
        await telephony.close()


@pytest.fixture
async def ami_events(ami_telephony: AmiTelephony) -> AsyncIterator[EventLog]:
    log = EventLog(ami_telephony)
    try:
        yield log
    finally:
        await log.close()


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


class AmiWitness:
    """A plain AMI session of its own, beside the one under test, recording every message it is sent.

    Tests use it to see what Asterisk really did (an injected action, a played message, the
    events a user is sent), independently of the adapter they check.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[float, dict[str, str]]] = []
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def start(self, box: Sandbox) -> None:
        reader, writer = await asyncio.open_connection(box.host, box.port)
        await reader.readline()
        writer.write(f"Action: Login\r\nUsername: {box.username}\r\nSecret: {box.secret}\r\n\r\n".encode())
        await writer.drain()
        self._writer = writer
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        message: dict[str, str] = {}
        while line := await reader.readline():
            text = line.decode(errors="replace").rstrip("\r\n")
            if text:
                key, _, value = text.partition(": ")
                message[key] = value
            elif message:
                self.seen.append((time.time(), message))
                message = {}

    def event_names(self) -> list[str]:
        return [m["Event"] for _, m in self.seen if "Event" in m]

    def user_event_names(self) -> list[str]:
        return [m.get("UserEvent", "") for _, m in self.seen if m.get("Event") == "UserEvent"]

    def of(self, attempt_id: str, event: str) -> list[tuple[float, dict[str, str]]]:
        """Events named ``event`` of the call whose channel id is ``attempt_id``."""
        return [
            (at, m)
            for at, m in self.seen
            if m.get("Event") == event and attempt_id in (m.get("Uniqueid"), m.get("Attempt"))
        ]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()


async def queue_member(telephony: AmiTelephony, queue: str, interface: str) -> dict[str, Any]:
    """Asterisk's own view of one queue member (``QueueStatus``); empty if it is not in the queue."""
    status = await telephony.action("QueueStatus", {"Queue": queue}, as_list=True)
    found = [m for m in status if m.get("Event") == "QueueMember" and m.get("Location") == interface]
    return found[0] if found else {}

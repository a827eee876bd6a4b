"""``AmiTelephony``: the Telephony port over Asterisk's AMI, on panoramisk 1.4.

The only module of the product that imports panoramisk. What it works around:

- an ``Async`` Originate resolves only with its OriginateResponse, seconds later: every
  originate is sent at once and awaited by its own background task, never in line;
- ``Async`` is always sent explicitly (without it panoramisk drops the connection);
- ``QueueAdd`` is sent with ``as_list=False`` (otherwise it never resolves);
- ``originate`` is forgettable, so a reconnect never places a call twice; in-flight
  attempts are reconciled against ``CoreShowChannels`` instead;
- panoramisk's ping does not notice a dead link, and its reconnect loop is blind:
  a watchdog of ours pings with a timeout and reconnects with exponential backoff;
- no header sanitising: every key and value is checked by ``dialer.ami.headers`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

from panoramisk import Manager

from dialer.ami.headers import HeaderValue, check_action, variable
from dialer.ami.redacting_log import RedactingLog
from dialer.ami.settings import AmiSettings, parse_ami_url
from dialer.ami.tracker import PEER_SUFFIX, CallTracker, MemberTracker
from dialer.core.errors import ConnectionFailed, TelephonyError
from dialer.core.telephony import (
    CarriedCall,
    ConnectionLost,
    ConnectionRestored,
    OriginateRequest,
    TelephonyEvent,
)

log = logging.getLogger(__name__)

_CLOSED = object()


class _HasAmiUrl(Protocol):
    @property
    def ami_url(self) -> str: ...


AmiTarget = str | AmiSettings | _HasAmiUrl


def _settings(target: AmiTarget) -> AmiSettings:
    if isinstance(target, AmiSettings):
        return target
    if isinstance(target, str):
        return parse_ami_url(target)
    return parse_ami_url(target.ami_url)


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager without its own reconnect loop: AmiTelephony decides when to reconnect."""

    def __init__(self, on_lost: Callable[[Any], None], **config: Any) -> None:
        super().__init__(**config)
        self._on_lost = on_lost

    def connection_lost(self, exc: object) -> None:
        self._connected = False
        pinger: Any = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
        self.pinger = None
        self._on_lost(self)


class AmiTelephony:
    """The Telephony port on a real Asterisk. Build it with ``await AmiTelephony.connect(url)``."""

    def __init__(
        self,
        settings: AmiSettings,
        *,
        clock: Callable[[], float] = time.time,
        ping_interval_s: float = 5.0,
        ping_timeout_s: float = 3.0,
        action_timeout_s: float = 10.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        self._action_timeout_s = action_timeout_s
        self._max_backoff_s = max_backoff_s
        self._manager: Any = None
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._calls = CallTracker()
        self._members = MemberTracker()
        self._waiters: dict[str, asyncio.Task[None]] = {}
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False

    def __repr__(self) -> str:
        return f"AmiTelephony({self.settings.masked_url})"

    @classmethod
    async def connect(cls, target: AmiTarget, **options: Any) -> AmiTelephony:
        """Log in (``ConnectionFailed`` says why not), snapshot the queue members, start the watchdog."""
        self = cls(_settings(target), **options)
        self._manager = await self._open()
        self._supervisor = asyncio.create_task(self._supervise())
        await self._snapshot_members()
        return self

    # --- the connection ----------------------------------------------------------

    async def _open(self) -> Any:
        s = self.settings
        # The Login action is built by panoramisk, not by us: guard it before a byte is sent.
        check_action({"Action": "Login", "Username": s.username, "Secret": s.secret})
        loop = asyncio.get_running_loop()
        manager = _Manager(
            self._on_connection_lost,
            host=s.host,
            port=s.port,
            username=s.username,
            secret=s.secret,
            loop=loop,
            log=RedactingLog(s.secret),
            forgetable_actions=("ping", "login", "logoff", "originate"),
            ping_delay=86_400,  # its pinger cannot see a dead link; the watchdog pings instead
            ping_interval=86_400,
        )
        manager.register_event("*", self._on_ami_event)
        try:
            connection = await asyncio.wait_for(
                loop.create_connection(manager.config["protocol_factory"], s.host, s.port),
                self._action_timeout_s,
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionFailed(f"cannot reach AMI at {s.host}:{s.port}: {exc}") from None
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result(connection)
        manager.connection_made(done)
        try:
            reply = await asyncio.wait_for(manager.authenticated_future, self._action_timeout_s)
        except TimeoutError:
            manager.close()
            raise ConnectionFailed(f"no reply to the AMI login at {s.host}:{s.port}") from None
        except ConnectionFailed as exc:
            manager.close()
            raise ConnectionFailed(f"AMI at {s.host}:{s.port}: {exc}") from None
        if not reply.success:
            manager.close()
            why = reply.get("Message") or reply.get("Response") or "refused"
            raise ConnectionFailed(f"AMI login as {s.username!r} at {s.host}:{s.port} failed: {why}")
        self._lost.clear()
        return manager

    def _on_connection_lost(self, manager: Any) -> None:
        if manager is self._manager:
            self._lost.set()
        login = manager.authenticated_future
        if login is not None and not login.done():
            login.set_exception(ConnectionFailed("the connection closed during the AMI login"))

    async def _supervise(self) -> None:
        while not self._closing:
            try:
                await asyncio.wait_for(self._lost.wait(), self._ping_interval_s)
            except TimeoutError:
                if await self._ping_ok():
                    continue
            if self._closing:
                return
            await self._recover()

    async def _ping_ok(self) -> bool:
        try:
            reply = await asyncio.wait_for(
                self._manager.send_action({"Action": "Ping"}), self._ping_timeout_s
            )
        except (TimeoutError, OSError, AttributeError):
            return False
        return bool(reply.success)

    async def _recover(self) -> None:
        self._put(ConnectionLost(self._clock()))
        log.warning("lost the AMI connection to %s; reconnecting", self.settings.masked_url)
        old, self._manager = self._manager, None
        if old is not None:
            old.close()
        for attempt_id, waiter in list(self._waiters.items()):
            waiter.cancel()
            self._calls.on_originate_lost(attempt_id)
        self._waiters.clear()
        delay = 0.5
        while not self._closing:
            try:
                self._manager = await self._open()
            except ConnectionFailed as exc:
                log.warning("AMI reconnect failed: %s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff_s)
                continue
            # Asterisk may have restarted with empty queues: report members afresh from its snapshot.
            self._members = MemberTracker()
            self._put(ConnectionRestored(self._clock()))
            log.info("AMI connection restored")
            with contextlib.suppress(TelephonyError):
                await self._snapshot_members()
                await self._reconcile_calls()
            return

    async def _snapshot_members(self) -> None:
        for msg in await self.action("QueueStatus", as_list=True):
            for event in self._members.on_event(msg, self._clock()):
                self._put(event)

    async def _reconcile_calls(self) -> None:
        alive: dict[str, str] = {}
        for msg in await self.action("CoreShowChannels", as_list=True):
            if msg.get("Event") == "CoreShowChannel":
                alive[str(msg.get("Uniqueid", ""))] = str(msg.get("ChannelState", ""))
        for event in self._calls.reconcile(alive, self._clock()):
            self._put(event)

    async def adopt(self, attempt_ids: Sequence[str]) -> dict[str, CarriedCall]:
        """Calls among ``attempt_ids`` Asterisk still carries, followed from now on (see ``carried``)."""
        self._calls.adopt(attempt_ids)  # tracked before asking, so that no event in between is lost
        channels = await self.action("CoreShowChannels", as_list=True)  # if it fails: reconciled on reconnect
        return self._calls.carried(attempt_ids, channels)

    # --- events ------------------------------------------------------------------

    def _put(self, event: object) -> None:
        self._queue.put_nowait(event)

    def _on_ami_event(self, manager: Any, msg: Any) -> None:
        if manager is not self._manager:
            return  # a late event from a connection already replaced
        at = self._clock()
        for event in self._calls.on_event(msg, at):
            self._put(event)
        for member_event in self._members.on_event(msg, at):
            self._put(member_event)

    async def _iterate(self) -> AsyncIterator[TelephonyEvent]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            yield item  # type: ignore[misc]

    def events(self) -> AsyncIterator[TelephonyEvent]:
        return self._iterate()

    # --- actions -----------------------------------------------------------------

    def _send(self, action: Mapping[str, HeaderValue], as_list: bool | None = None) -> asyncio.Future[Any]:
        check_action(action)  # before anything reaches the socket
        if self._manager is None or self._lost.is_set():
            raise ConnectionFailed(f"not connected to AMI at {self.settings.masked_url}")
        future: asyncio.Future[Any] = self._manager.send_action(dict(action), as_list=as_list)
        return future

    async def action(
        self, name: str, headers: Mapping[str, HeaderValue] | None = None, *, as_list: bool | None = None
    ) -> list[dict[str, Any]]:
        """Send one AMI action and return its messages (a list even for a single reply)."""
        future = self._send({"Action": name, **(headers or {})}, as_list=as_list)
        try:
            reply = await asyncio.wait_for(future, self._action_timeout_s)
        except TimeoutError:
            raise TelephonyError(f"AMI action {name} got no reply in {self._action_timeout_s} s") from None
        messages = reply if isinstance(reply, list) else [reply]
        return [dict(m.items()) for m in messages]

    async def _checked(
        self, name: str, headers: Mapping[str, HeaderValue], ok_errors: Sequence[str] = ()
    ) -> None:
        reply = (await self.action(name, headers, as_list=False))[0]
        if reply.get("Response") == "Success":
            return
        message = str(reply.get("Message", ""))
        if any(text in message for text in ok_errors):
            return
        raise TelephonyError(f"AMI {name} failed: {message or reply.get('Response')}")

    async def originate(self, request: OriginateRequest) -> None:
        if self._calls.is_tracked(request.attempt_id):
            raise TelephonyError(f"attempt {request.attempt_id} is already in progress")
        variables = {"DIALER_ATTEMPT": request.attempt_id, **request.variables}
        action: dict[str, HeaderValue] = {
            "Action": "Originate",
            "Channel": request.channel,
            "Context": request.context,
            "Exten": request.exten,
            "Priority": "1",
            "CallerID": request.caller_id,
            "Timeout": str(max(1, round(request.ring_timeout_s * 1000))),
            "Async": "true",
            "ChannelId": request.attempt_id,
            "OtherChannelId": request.attempt_id + PEER_SUFFIX,
            "Variable": [variable(k, v) for k, v in variables.items()],
        }
        future = self._send(action)
        self._calls.prune(self._clock())
        self._calls.track(request.attempt_id)
        self._waiters[request.attempt_id] = asyncio.create_task(
            self._await_originate(request.attempt_id, future)
        )

    async def _await_originate(self, attempt_id: str, future: asyncio.Future[Any]) -> None:
        try:
            reply = await future
        finally:
            self._waiters.pop(attempt_id, None)
        messages = reply if isinstance(reply, list) else [reply]
        if not any(m.get("Event") == "OriginateResponse" for m in messages):
            log.warning("originate of attempt %s refused: %s", attempt_id, messages[0].get("Message", ""))
        for event in self._calls.on_originate_result(attempt_id, messages, self._clock()):
            self._put(event)
        if self._calls.is_tracked(attempt_id):
            # A failure waits for its hang-up to learn the cause; give up waiting after a second.
            asyncio.get_running_loop().call_later(1.0, self._flush_failure, attempt_id)

    def _flush_failure(self, attempt_id: str) -> None:
        for event in self._calls.flush_failure(attempt_id):
            self._put(event)

    async def hangup(self, attempt_id: str) -> None:
        # Asterisk finds a channel by its Uniqueid too, and the attempt id is that Uniqueid.
        await self._checked("Hangup", {"Channel": attempt_id, "Cause": "16"}, ok_errors=("No such channel",))

    async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
        headers = {"Queue": queue, "Interface": interface, "MemberName": member_name, "Paused": _flag(paused)}
        reply = (await self.action("QueueAdd", headers, as_list=False))[0]
        if reply.get("Response") == "Success":
            return
        if "Already there" in str(reply.get("Message", "")):
            await self.queue_pause(queue, interface, paused)
            return
        raise TelephonyError(f"AMI QueueAdd failed: {reply.get('Message') or reply.get('Response')}")

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._checked("QueueRemove", {"Queue": queue, "Interface": interface}, ok_errors=("Not there",))

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        headers = {"Queue": queue, "Interface": interface, "Paused": _flag(paused)}
        if reason:
            headers["Reason"] = reason
        await self._checked("QueuePause", headers)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for waiter in list(self._waiters.values()):
            waiter.cancel()
        self._waiters.clear()
        if self._manager is not None:
            self._manager.close()
            self._manager = None
        self._put(_CLOSED)


def _flag(value: bool) -> str:
    return "true" if value else "false"

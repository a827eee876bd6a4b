"""The phone system as the engine sees it, watched: a pass-through ``Telephony`` that notes whether
the link is up from the events the engine reads (``ConnectionLost`` / ``ConnectionRestored``),
for ``/healthz`` and the ``dialer_ami_up`` metric. It changes nothing the engine receives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dialer.core.telephony import (
    ConnectionLost,
    ConnectionRestored,
    OriginateRequest,
    Telephony,
    TelephonyEvent,
)


class WatchedLink:
    def __init__(self, inner: Telephony) -> None:
        self._inner = inner
        self.up = True  # connected when handed over, as the engine assumes

    async def originate(self, request: OriginateRequest) -> None:
        await self._inner.originate(request)

    async def hangup(self, attempt_id: str) -> None:
        await self._inner.hangup(attempt_id)

    async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
        await self._inner.queue_add(queue, interface, member_name, paused)

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._inner.queue_remove(queue, interface)

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        await self._inner.queue_pause(queue, interface, paused, reason)

    async def events(self) -> AsyncIterator[TelephonyEvent]:
        async for event in self._inner.events():
            if isinstance(event, ConnectionLost):
                self.up = False
            elif isinstance(event, ConnectionRestored):
                self.up = True
            yield event

    async def close(self) -> None:
        await self._inner.close()

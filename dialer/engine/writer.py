"""What the engine writes as its calls go on and end: the journal of call progress and operator
states, each attempt's end, and the ends a store outage kept back.

Every write goes through the engine's store thread (``dialer.engine.store_thread``), in
the order it was asked for. An attempt's end is queued the moment the call ends, so it
is in the store before anything the engine reads later (the abandon rate, its claims).
A connection to an operator is written at once, not at the next tick: the operator's
console pops from it. An end that fails because the store is unreachable is kept and
written by the first tick that reaches the store again (``after_outage``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from dialer.core.attempt import Attempt
from dialer.engine.live import LiveCall
from dialer.engine.store_thread import StoreThread
from dialer.store.claims import release_claims
from dialer.store.recorder import Journal, finish_attempt, write_journal

log = logging.getLogger(__name__)

# The store is unreachable (server restarting, network down): worth waiting out, not dying of.
STORE_DOWN = (OperationalError, InterfaceError)


class Writer:
    def __init__(
        self,
        store: Engine,
        db: StoreThread,
        node: str,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self._store = store
        self._db = db
        self._node = node
        self._spawn = spawn
        self.journal = Journal()
        self.store_down = False
        self._flushing = asyncio.Lock()  # one flush at a time: a connection is announced once
        self._ending: set[asyncio.Future[Any]] = set()  # ends of attempts being written
        self._unrecorded: list[LiveCall] = []  # ended while the store was unreachable

    @property
    def busy(self) -> int:
        """Ends still being written, or kept back by an outage."""
        return len(self._ending) + len(self._unrecorded)

    def on_store_down(self, exc: Exception) -> None:
        if not self.store_down:
            log.warning(
                "the store is unreachable; no new calls until it is back: %s", str(exc).splitlines()[0]
            )
        self.store_down = True

    async def flush_journal(self) -> None:
        async with self._flushing:
            progress, members, connected = self.journal.pending()
            if progress or members:
                await self._db.run(write_journal, self._store, progress, members, connected)
                # Cleared only once written: a failed flush is retried at the next tick.
                self.journal.written(progress, members, connected)

    def note_progress(self, attempt: Attempt, operator: str | None) -> None:
        self.journal.note_progress(attempt, operator)
        if operator and attempt.connected_at is not None:
            self._spawn(self._announce())

    async def _announce(self) -> None:
        # Best effort: a failed write stays noted and the next tick's flush writes it.
        try:
            await self.flush_journal()
        except SQLAlchemyError as exc:
            log.info("could not write a connection yet: %s", str(exc).splitlines()[0])

    def end(self, call: LiveCall) -> None:
        """Queue the ended call's record now; its progress notes are superseded by it."""
        attempt = call.attempt
        self.journal.forget(attempt.attempt_id)
        ending = self._db.submit(finish_attempt, self._store, attempt, call.rules.retry, call.operator_name)
        self._ending.add(ending)
        self._spawn(self._recorded(ending, call))

    async def _recorded(self, ending: asyncio.Future[Any], call: LiveCall) -> None:
        try:
            await ending
        except STORE_DOWN as exc:
            self.on_store_down(exc)
            self._unrecorded.append(call)  # written by the first tick that reaches the store
        finally:
            self._ending.discard(ending)

    async def after_outage(self) -> None:
        """Record the calls that ended meanwhile; give back leads claimed by a cycle the outage cut short."""
        while self._unrecorded:
            call = self._unrecorded[0]
            await self._db.run(
                finish_attempt, self._store, call.attempt, call.rules.retry, call.operator_name
            )
            self._unrecorded.pop(0)
        if self.store_down:
            # Between ticks this node holds no claim outside a call: any left was stranded.
            await self._db.run(release_claims, self._store, self._node)
            self.store_down = False
            log.info("the store is reachable again")

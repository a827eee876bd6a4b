"""The one source of push events: the store's console event feed, fanned out to open pages.

A console process runs one ``EventHub``. It watches the highest id of the store's event feed
(``dialer.store.console_events``), written by the engine in the transactions that record a
connection, a hang-up or a queue state; a short wait loop on the store (every 0.03 s, on a thread
of its own, one look at the highest id through the driver's cursor; the events themselves are read
only when there are new ones, and only then is the event loop woken; ids that commit out of order on
PostgreSQL are awaited below it, ``dialer.store.feed_cursor``), so it works the same on
SQLite and PostgreSQL, and with the console and the engine in separate processes or on separate
nodes. On PostgreSQL a listener thread also wakes the
wait loop on the feed's NOTIFY at once. The hub wakes only the pages of the operators an event names, and
the supervisors' pages, which watch them all, and tells each page which parts of its screen the
events may have changed (``dialer.web.screen``): a connection the call, a queue state the state. A
page then re-reads those parts from the store, so a missed or repeated wake-up costs nothing, and
a reconnecting page re-reads everything and is in sync at once.

Pages read the store on two thread pools of the hub's: one for the call part (the pop) and one for
everything else, so a pop never waits behind other pages' state and callback reads. The other reads
also yield the CPU to pops: while any pop is being read they wait (at most ``YIELD_TO_POPS_S``), so a
burst of connections draws every operator's customer before anyone's state or callbacks. Together with
the feed's thread (two) they hold at most 11 of the store's 15 pooled connections; the routes keep
theirs. Every ``RELEASE_EVERY_S`` the hub also gives back the preview reservations that ran out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from dialer.services.console import (
    CALL_EVENTS,
    CONNECT_EVENTS,
    STATE_EVENTS,
    FeedGate,
    listen_for_events,
    new_event_kinds,
)
from dialer.services.direct_calls import release_expired
from dialer.web.screen import CALL, DIRECT_IF_SHOWN, PARTS, STATE

log = logging.getLogger(__name__)
EVERYONE = "*"  # the pages that watch the whole team (supervisors): woken by every event
T = TypeVar("T")
# How long a page's other reads (state, callbacks) wait for the pops being read to be done.
YIELD_TO_POPS_S = 1.0
# How long stopping waits for the reads still running.
STOP_WAIT_S = 5.0
# How often the hub gives back the preview reservations that ran out (a page gives back its own
# operator's at once when it reads it): once per console, not on every page's every read.
RELEASE_EVERY_S = 5.0
# The parts of a screen each kind of event may change; an unknown kind re-reads the whole screen.
_PARTS_OF = (
    {kind: frozenset({CALL}) for kind in CALL_EVENTS}
    | {kind: frozenset({CALL, DIRECT_IF_SHOWN}) for kind in CONNECT_EVENTS}
    | {kind: frozenset({STATE}) for kind in STATE_EVENTS}
)


def _shut_down(pools: list[ThreadPoolExecutor]) -> None:
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


class Page(asyncio.Event):
    """An open page's wake-up, with the parts of its screen to read again."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: set[str] = set()

    def take(self) -> set[str]:
        parts, self.parts = self.parts, set()
        self.clear()
        return parts


def parts_of(kinds: Iterable[str]) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    for kind in kinds:
        found |= _PARTS_OF.get(kind, frozenset(PARTS))
    return found


class EventHub:
    def __init__(self, store: Engine, poll_s: float = 0.03, release_s: float = RELEASE_EVERY_S) -> None:
        self._store = store
        self._poll_s = poll_s
        self._release_s = release_s
        self._pages: dict[str, set[Page]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None  # giving back run-out reservations
        self._nudge = threading.Event()  # a NOTIFY (or ``stop``) ends the feed thread's wait
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self._feed: threading.Thread | None = None
        self._pops: ThreadPoolExecutor | None = None
        self._reads: ThreadPoolExecutor | None = None
        self._popping = 0  # pops being read now
        self._no_pops = asyncio.Event()
        self._no_pops.set()
        self.cursor = 0

    async def read(self, pop: bool, func: Callable[..., T], *args: object) -> T:
        """Run a page's store read on the pops' threads (``pop``) or, once no pop is being read,
        on the other reads' threads."""
        pool = self._pops if pop else self._reads
        if pool is None:  # not started (an app without its lifespan): the shared pool
            return await run_in_threadpool(func, *args)
        loop = asyncio.get_running_loop()
        if not pop:
            # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` swallows a
            # cancellation that comes as the event is set, and a cancelled read would go on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(YIELD_TO_POPS_S):
                    await self._no_pops.wait()
            return await loop.run_in_executor(pool, func, *args)
        self._popping += 1
        self._no_pops.clear()
        try:
            return await loop.run_in_executor(pool, func, *args)
        finally:
            self._popping -= 1
            if not self._popping:
                self._no_pops.set()

    async def start(self) -> None:
        gate = FeedGate(self._store)  # at the feed's newest id, awaiting those in flight below it
        self.cursor = await run_in_threadpool(gate.start)
        self._pops = ThreadPoolExecutor(6, thread_name_prefix="console-pop")
        self._reads = ThreadPoolExecutor(3, thread_name_prefix="console-read")
        loop = asyncio.get_running_loop()
        # The feed is followed on a thread of its own: a pop is never queued behind the pages'
        # reads, and the event loop does no work while nothing happens.
        self._feed = threading.Thread(
            target=self._follow, args=(loop, gate), name="console-feed", daemon=True
        )
        self._feed.start()
        self._task = asyncio.create_task(self._release_every(), name="console-release")
        if self._store.dialect.name == "postgresql":
            self._listener = threading.Thread(target=self._listen, name="console-listen", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        """PostgreSQL's NOTIFY wakes the feed's thread at once; reconnects after a drop."""
        while not self._stopping.is_set():
            listen_for_events(self._store, self._nudge.set, self._stopping)
            self._stopping.wait(1.0)

    async def stop(self) -> None:
        self._stopping.set()
        self._nudge.set()
        for thread in (self._listener, self._feed):
            if thread is not None:
                await run_in_threadpool(thread.join, 5.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        pools = [pool for pool in (self._pops, self._reads) if pool is not None]
        self._pops = self._reads = None
        # A read still running holds a pooled connection: wait for it (briefly), so that the store
        # can be closed after the hub without a connection coming back to it later.
        # On the loop's executor: a wait cut short by the timeout leaves the thread behind.
        shut = asyncio.get_running_loop().run_in_executor(None, _shut_down, pools)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_WAIT_S):
                await shut

    def subscribe(self, operator: str) -> Page:
        wake = Page()
        self._pages[operator].add(wake)
        return wake

    def unsubscribe(self, operator: str, wake: Page) -> None:
        pages = self._pages.get(operator)
        if pages is not None:
            pages.discard(wake)
            if not pages:
                del self._pages[operator]

    def poke(self, operator: str, parts: Iterable[str] = PARTS) -> None:
        """Wake ``operator``'s pages to read ``parts`` again (by default all: after this process
        changed something of theirs), and the team's pages."""
        for wake in (*self._pages.get(operator, ()), *self._pages.get(EVERYONE, ())):
            wake.parts.update(parts)
            wake.set()

    @property
    def pages(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def _follow(self, loop: asyncio.AbstractEventLoop, gate: FeedGate) -> None:
        """The feed's thread: every ``poll_s`` (or at a NOTIFY) one cheap look at the feed's highest
        id; the events' operators and kinds are read, and handed to the event loop, only when
        there are new ones."""
        cursor = self.cursor
        try:
            while not self._stopping.is_set():
                try:
                    newest, kinds = new_event_kinds(self._store, gate, cursor)
                except Exception:  # the store is away: pages keep what they show, retry shortly
                    log.warning("console events: the store is unreachable; retrying")
                    self._stopping.wait(1.0)
                    continue
                if newest != cursor or kinds:  # kinds alone: an event committed late below the cursor
                    cursor = newest
                    with contextlib.suppress(RuntimeError):  # the loop is closing
                        loop.call_soon_threadsafe(self._deliver, newest, kinds)
                self._nudge.wait(self._poll_s)
                self._nudge.clear()
        finally:
            gate.close()

    def _deliver(self, cursor: int, kinds: dict[str, set[str]]) -> None:
        self.cursor = cursor
        for name, named in kinds.items():
            self.poke(name, parts_of(named))

    async def _release_every(self) -> None:
        """Give back the preview reservations that ran out, every ``release_s``: on the other
        reads' threads, after the pops being read."""
        while not self._stopping.is_set():
            try:
                await self.read(False, release_expired, self._store)
            except Exception:  # the store is away: the next round retries
                log.warning("console: could not give back expired preview reservations; retrying")
            await asyncio.sleep(self._release_s)

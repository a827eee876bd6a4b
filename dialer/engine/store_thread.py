"""The engine's store work, run in one thread of its own so that no query stalls the event loop.

The engine's loop reads call events, paces and originates; a store call that takes
a while (a claim in a large store, a busy server, an outage's connect timeout)
would hold all of that up for every campaign on the node. So the engine hands each
store call to this thread and awaits it, and events keep flowing meanwhile.

One thread, not a pool: calls run one at a time, in the order they were handed
over, as they did in the loop. An attempt's end is therefore written before
anything the engine asks for later (the abandon rate, its own claims), and a
SQLite store sees one writer per engine. Only plain values cross the thread:
the functions handed over are the store modules' own, never the engine's state.
On SQLite a second thread checkpoints the store's log (``dialer.store.wal``), so
that no claim or write of this one waits for a checkpoint.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Engine

from dialer.store.wal import WalCheckpointer

P = ParamSpec("P")
T = TypeVar("T")


class StoreThread:
    def __init__(self, store: Engine | None = None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dialer-store")
        self._wal = WalCheckpointer(store) if store is not None else None

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """Queue ``fn`` now (its place in the order is taken at once); a future of its result."""
        if self._wal is not None:
            self._wal.start()  # once: later calls find it started
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` in the store thread and wait for it without blocking the loop."""
        return await self.submit(fn, *args, **kwargs)

    def close(self) -> None:
        """Let queued calls finish, then end the thread (and the checkpoints' thread)."""
        self._executor.shutdown(wait=True)
        if self._wal is not None:
            self._wal.stop()

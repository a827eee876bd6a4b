"""SQLite's write-ahead log, checkpointed by a thread of its own instead of by the engine's commits.

SQLite copies its log back into the database file (a checkpoint, ending in an fsync) within
the commit that takes the log past 1,000 pages, in whichever connection made that commit.
In the engine that commit is a claim or an attempt's write, which then waits for the whole
checkpoint: one claim in a few hundred took several milliseconds against a median under one
(``bench/claims.py``). While a ``WalCheckpointer`` runs, the store's connections never
checkpoint on commit, and its thread runs a passive checkpoint every ``every_s`` seconds:
one that copies what no reader still needs and waits for no one, so the engine's writes go
on meanwhile. SQLite's driver lets other threads run during it.

Other processes on the same file (the CLI, the console) keep SQLite's own checkpoints.
PostgreSQL has nothing of this: the checkpointer does nothing there.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0


class WalCheckpointer:
    """Checkpoints a SQLite store's log every ``every_s`` seconds, off every caller's path."""

    def __init__(self, store: Engine, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self._store = store
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # passive checkpoints run so far
        # A database in memory has no log, and the pool's one connection is all of it.
        database = store.url.database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in str(store.url)
        self._applies = store.dialect.name == "sqlite" and not in_memory

    def start(self) -> None:
        """From now on the store's connections leave checkpoints to this thread (SQLite only)."""
        if not self._applies or self._thread is not None:
            return  # decided once: the engine's store thread asks at every call
        event.listen(self._store, "connect", self._no_checkpoint_on_commit)
        self._store.dispose()  # the pooled connections opened before; the next ones are set up so
        self._thread = threading.Thread(target=self._run, name="dialer-wal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread after one last checkpoint; the store's new connections checkpoint again."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join()
        self._thread = None
        event.remove(self._store, "connect", self._no_checkpoint_on_commit)
        self._store.dispose()

    def _no_checkpoint_on_commit(self, dbapi_connection: Any, _record: Any) -> None:
        """Each checkpointer sets (and later removes) its own listener: engines may share a store."""
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    def _run(self) -> None:
        while True:
            stopping = self._stopping.wait(self._every_s)
            self.checkpoint()
            if stopping:
                return

    def checkpoint(self) -> None:
        """One passive checkpoint; a failure is logged and the next one tried in ``every_s``."""
        try:
            with self._store.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            self.checkpoints += 1
        except DBAPIError as exc:
            log.warning("checkpoint of the store's log failed, tried again in %.0f s: %s", self._every_s, exc)

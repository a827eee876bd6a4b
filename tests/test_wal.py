"""SQLite's log is checkpointed by a thread of its own while the engine runs, never by its commits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from campaigns.store import open_store
from dialer.engine.store_thread import StoreThread
from dialer.store.wal import WalCheckpointer

PAGES = 2_500  # well past the 1,000 pages at which SQLite checkpoints on commit by itself


def _write_pages(store: Engine, pages: int = PAGES) -> None:
    """About ``pages`` pages of the log, in many small commits as the engine makes them."""
    with store.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (x BLOB)"))
    for _ in range(pages // 10):
        with store.begin() as conn:
            conn.execute(text("INSERT INTO filler VALUES (randomblob(40000))"))


def _log_frames(store: Engine) -> int:
    """Frames in the log now (a passive checkpoint reports them; it copies them too)."""
    with store.connect() as conn:
        _busy, frames, _copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return int(frames)


def _autocheckpoint(store: Engine) -> int:
    with store.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_sqlites_own_checkpoints_keep_the_log_short_without_it(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'plain.db'}")
    _write_pages(store)
    assert _log_frames(store) < 1_500  # checkpointed on some commit past 1,000 pages
    store.dispose()


def test_while_it_runs_no_commit_checkpoints(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'held.db'}")
    checkpointer = WalCheckpointer(store, every_s=3600)  # its own checkpoint never comes in this test
    checkpointer.start()
    try:
        assert _autocheckpoint(store) == 0
        _write_pages(store)
        assert _log_frames(store) >= PAGES  # every commit's pages still in the log
    finally:
        checkpointer.stop()
    assert _autocheckpoint(store) == 1000  # SQLite's own again for the store's next connections
    store.dispose()


def test_its_thread_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "copied.db"
    store = open_store(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(store, every_s=0.05)
    checkpointer.start()
    try:
        before = path.stat().st_size
        _write_pages(store)
        deadline = time.monotonic() + 30
        while path.stat().st_size < before + PAGES * 4096 * 9 // 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= before + PAGES * 4096 * 9 // 10
        assert checkpointer.checkpoints > 0
    finally:
        checkpointer.stop()
    store.dispose()


def test_the_engines_store_thread_runs_it_on_sqlite_only(tmp_path: Path, pg_store: Engine) -> None:
    sqlite = open_store(f"sqlite:///{tmp_path / 'engine.db'}")

    async def use(store: Engine) -> None:
        db = StoreThread(store)
        try:
            await db.run(lambda: None)
            if store.dialect.name == "sqlite":
                assert _autocheckpoint(store) == 0
        finally:
            db.close()

    asyncio.run(use(sqlite))
    assert _autocheckpoint(sqlite) == 1000
    sqlite.dispose()
    asyncio.run(use(pg_store))  # nothing to do there, and nothing goes wrong


def test_two_checkpointers_on_one_store_start_and_stop_in_any_order(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'two.db'}")
    first, second = WalCheckpointer(store, every_s=3600), WalCheckpointer(store, every_s=3600)
    first.start()
    second.start()
    first.stop()
    assert _autocheckpoint(store) == 0  # the second still runs
    second.stop()
    assert _autocheckpoint(store) == 1000
    store.dispose()

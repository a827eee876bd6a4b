"""Closing a test's store."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine


def close_store(engine: Engine, wait_s: float = 5.0) -> None:
    """Close a test's store once every connection is back: one still held by a thread of the test
    would return to a closed pool and be left open (a ResourceWarning whenever it is collected)."""
    deadline = time.monotonic() + wait_s
    while engine.pool.checkedout() and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.02)
    held = engine.pool.checkedout()  # type: ignore[attr-defined]
    engine.dispose()
    assert not held, f"{held} connection(s) of the store still held {wait_s:.0f} s after the test"

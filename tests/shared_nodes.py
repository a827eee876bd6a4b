"""Waiting on the nodes of a shared campaign, for the tests that run two engines."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.engine import Engine

from dialer.store.shares import campaign_paces
from tests.engine_helpers import attempts


async def both_nodes_live(store: Engine, campaign_id: int, nodes: set[str], timeout: float = 60) -> None:
    """Wait until every node has written its pacing row for the campaign (it holds its share)."""
    until = time.monotonic() + timeout
    while {p.node for p in await asyncio.to_thread(campaign_paces, store, campaign_id)} != nodes:
        assert time.monotonic() < until, "the nodes did not both take their share"
        await asyncio.sleep(0.1)


async def all_attempts_ended(store: Engine, campaign_id: int, count: int, timeout: float = 120) -> None:
    until = time.monotonic() + timeout
    while True:
        rows = await asyncio.to_thread(attempts, store, campaign_id)
        if len(rows) >= count and all(r.ended_at is not None for r in rows):
            return
        assert time.monotonic() < until, f"{len(rows)} attempts after {timeout} s"
        await asyncio.sleep(0.1)

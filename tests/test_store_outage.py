"""The engine rides out a store outage on a real PostgreSQL.

The test database stops taking connections for a while and every open one is
cut, as when the database server restarts or the network to it drops. Calls in
flight go on; the engine must neither die nor lose what happened meanwhile:
every call ends up recorded once, every lead is dialed once, no claim is left.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import ready
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)
from tests.postgres_fixtures import TEST_DB, PostgresCluster

SETTINGS = EngineSettings(node_id="outage-node", tick_s=0.02, operator_poll_s=0.02, shutdown_deadline_s=10.0)


def _allow_connections(cluster: PostgresCluster, allowed: bool) -> None:
    with cluster.admin.connect() as conn:
        conn.execute(
            text(f"ALTER DATABASE {TEST_DB} WITH ALLOW_CONNECTIONS {'true' if allowed else 'false'}")
        )
        if not allowed:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": TEST_DB},
            )


async def test_the_engine_survives_a_store_outage(
    postgres_cluster: PostgresCluster, pg_store: Engine
) -> None:
    cid = make_campaign(pg_store, "outage")
    phones = phones_by_digit([d % 5 for d in range(24)])
    make_leads(pg_store, cid, phones)
    for name in make_operators(pg_store, "outage", 3):
        ready(pg_store, name)
    telephony = ScriptedTelephony(talk_s=0.4)
    engine = DialEngine(pg_store, telephony, SETTINGS)
    run = asyncio.create_task(engine.run(until_done=True))
    try:
        until = time.monotonic() + 20
        while len(telephony.dialed) < 6:
            assert time.monotonic() < until and not run.done(), "the campaign did not start"
            await asyncio.sleep(0.02)
        _allow_connections(postgres_cluster, False)
        down_at = datetime.now(UTC)
        try:
            await asyncio.sleep(1.5)  # calls end meanwhile: their outcomes cannot be written yet
            assert not run.done(), "the engine stopped during the outage"
        finally:
            up_at = datetime.now(UTC)
            _allow_connections(postgres_cluster, True)
        report = await asyncio.wait_for(run, 30)
    finally:
        engine.stop()
        await telephony.close()

    rows = attempts(pg_store, cid)
    assert sorted(r.phone for r in rows) == sorted(phones), "each lead dialed exactly once"
    assert all(r.ended_at is not None and r.outcome == "connected" for r in rows)
    ended_in_outage = [r for r in rows if r.ended_at is not None and down_at < r.ended_at < up_at]
    assert ended_in_outage, "no call ended during the outage: the test proved nothing"
    assert report.outcomes == {"connected": len(phones)}
    final = leads(pg_store, cid)
    assert all(lead.status == "done" and lead.attempts == 1 and lead.claimed_by is None for lead in final)

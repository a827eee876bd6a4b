"""A shared campaign's channel cap holds for the campaign, whatever the number of nodes dialing it.

Two engines on one PostgreSQL store, each with its own phone system (the scripted one of the
engine tests) and its own operators, dial one shared campaign whose numbers ring for a while.
Each node alone would place a call per operator; together they keep the campaign under its cap.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.engine import Engine

from campaigns.steering import edit_campaign
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import add_operator, ready
from tests.engine_helpers import ScriptedTelephony, attempts, make_campaign, make_leads, phones_by_digit
from tests.shared_nodes import all_attempts_ended, both_nodes_live


def _most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


async def test_two_nodes_keep_a_shared_campaign_under_its_channel_cap(pg_store: Engine) -> None:
    cid = make_campaign(pg_store, "capped", max_channels=3)
    edit_campaign(pg_store, "capped", {"shared": True})
    for node in ("node-a", "node-b"):
        for i in range(3):
            name = f"{node[-1]}op{i}"
            add_operator(pg_store, name, f"Local/{name}@sim-operators/n", ["capped"], node=node)
            ready(pg_store, name)
    settings = {n: EngineSettings(node_id=n, tick_s=0.05, operator_poll_s=0.1) for n in ("node-a", "node-b")}
    phones = {n: ScriptedTelephony(no_answer_s=1.0) for n in settings}
    engines = [DialEngine(pg_store, phones[n], settings[n]) for n in settings]
    runs = [asyncio.create_task(e.run()) for e in engines]
    try:
        # The leads arrive once both nodes are up: a node that starts late finds nothing left.
        await both_nodes_live(pg_store, cid, set(settings))
        make_leads(pg_store, cid, phones_by_digit([6] * 30))  # each rings, unanswered, for a while
        await all_attempts_ended(pg_store, cid, 30)
    finally:
        for engine in engines:
            engine.stop()
        await asyncio.wait_for(asyncio.gather(*runs), 60)

    rows = attempts(pg_store, cid)
    assert len(rows) == 30 and len({r.lead_id for r in rows}) == 30  # each lead once
    assert {r.node for r in rows} == set(settings)
    spans = [(r.started_at, r.ended_at) for r in rows if r.ended_at is not None]
    assert len(spans) == 30
    most = _most_at_once(spans)
    assert most <= 3

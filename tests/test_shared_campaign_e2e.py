"""One campaign dialed by two nodes at once, each on its own real Asterisk with its own operators.

Both nodes share one PostgreSQL store. Each holds its own share of the campaign, puts only the
operators homed on it in its own Asterisk's queue and paces for them; the pacing rows in the store
carry each node's figures. Every lead is dialed once, every call reaches an operator of the node
that placed it, no operator is counted by both nodes, and the abandon figures each node paces by
cover the whole campaign.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from campaigns.steering import edit_campaign
from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.policy.shares import NodePace
from dialer.services.operators import add_operator, ready
from dialer.store.shares import campaign_paces
from tests.asterisk_fixtures import SANDBOX_SIM, running
from tests.engine_helpers import (
    assert_no_overlap,
    attempts,
    expected_outcome,
    leads,
    make_campaign,
    make_leads,
    phones_by_digit,
)
from tests.shared_nodes import all_attempts_ended, both_nodes_live

asterisk = pytest.mark.asterisk

QUEUE = "qshared"
NODES = {"node-a": "opa", "node-b": "opb"}  # node -> the prefix of its operators' names


@pytest.fixture
def two_asterisks() -> Iterator[tuple[Sandbox, Sandbox]]:
    with (
        running(Sandbox([QUEUE], sim=SANDBOX_SIM)) as first,
        running(Sandbox([QUEUE], sim=SANDBOX_SIM)) as second,
    ):
        yield first, second


def _settings(node: str) -> EngineSettings:
    return EngineSettings(
        node_id=node, tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=20.0, abandon_refresh_s=0.5
    )


def _operators(store: Engine, campaign: str) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for node, prefix in NODES.items():
        for i in range(2):
            name = f"{prefix}{101 + i}"
            add_operator(store, name, f"Local/{name}@sim-operators/n", [campaign], node=node)
            ready(store, name)
            names.setdefault(node, []).append(name)
    return names


async def _watch_rows(
    store: Engine, campaign_id: int, seen: list[list[NodePace]], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        seen.append(await asyncio.to_thread(campaign_paces, store, campaign_id))
        await asyncio.sleep(0.2)


@asterisk
async def test_two_nodes_on_two_asterisks_dial_one_shared_campaign(
    two_asterisks: tuple[Sandbox, Sandbox], pg_store: Engine
) -> None:
    box_a, box_b = two_asterisks
    cid = make_campaign(
        pg_store, "multi", queue=QUEUE, max_channels=6, safe_harbour_sound=box_a.safe_harbour_sound
    )
    edit_campaign(pg_store, "multi", {"shared": True})
    phones = phones_by_digit([d % 5 for d in range(44)] + [5] * 4)
    operators = _operators(pg_store, "multi")

    tel_a, tel_b = await AmiTelephony.connect(box_a), await AmiTelephony.connect(box_b)
    engine_a = DialEngine(pg_store, tel_a, _settings("node-a"))
    engine_b = DialEngine(pg_store, tel_b, _settings("node-b"))
    seen: list[list[NodePace]] = []
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(_watch_rows(pg_store, cid, seen, stop_watching))
    queue_a = queue_b = ""
    runs = [asyncio.create_task(e.run()) for e in (engine_a, engine_b)]
    try:
        # The leads arrive once both nodes hold their share: a node that starts late finds none left.
        await both_nodes_live(pg_store, cid, set(NODES))
        make_leads(pg_store, cid, phones)
        until = time.monotonic() + 60
        while len(attempts(pg_store, cid)) < 10:
            for run in runs:
                assert not run.done(), f"a node stopped: {run.result()}"  # or raises
            assert time.monotonic() < until, "the nodes did not dial"
            await asyncio.sleep(0.1)
        queue_a, queue_b = box_a.cli(f"queue show {QUEUE}"), box_b.cli(f"queue show {QUEUE}")
        await all_attempts_ended(pg_store, cid, len(phones), timeout=180)
    finally:
        engine_a.stop()
        engine_b.stop()
        await asyncio.wait_for(asyncio.gather(*runs, return_exceptions=True), 60)
        stop_watching.set()
        await watcher
        await tel_a.close()
        await tel_b.close()
    for run in runs:
        run.result()  # an engine that failed fails the test
    rows = attempts(pg_store, cid)
    assert sorted(r.phone for r in rows) == sorted(phones), "each lead dialed exactly once"
    assert {r.node for r in rows} == set(NODES), "both nodes dialed the campaign"
    # A person answering may, rarely, find both of a node's operators busy: progressive pacing on
    # the sandbox places one call too many now and then, on one node as on two (seen in 1 of 4
    # runs of one node with two operators). Anything else is wrong.
    wrong = [(r.phone, r.outcome) for r in rows if r.outcome != expected_outcome(r.phone)]
    assert all(outcome == "abandoned" and expected_outcome(p) == "connected" for p, outcome in wrong), wrong
    assert len(wrong) <= 2, wrong
    assert_no_overlap(rows)
    assert all(lead.claimed_by is None for lead in leads(pg_store, cid))
    # Every call went to an operator of the node that placed it, on that node's own Asterisk.
    connected = [r for r in rows if r.outcome == "connected"]
    assert connected and all(str(r.operator).startswith(NODES[r.node]) for r in connected), [
        (r.node, r.operator) for r in connected
    ]
    assert {str(r.operator)[:3] for r in connected} == set(NODES.values())
    # Each Asterisk's queue held that node's operators only: no operator counted by both nodes.
    for queue, node in ((queue_a, "node-a"), (queue_b, "node-b")):
        mine, theirs = operators[node], [n for other, ns in operators.items() if other != node for n in ns]
        assert all(name in queue for name in mine) and not any(name in queue for name in theirs), queue
    # The pacing rows: both nodes at once, each counting at most its own two operators.
    both = [snap for snap in seen if {p.node for p in snap} == set(NODES)]
    assert both, "the two nodes' pacing rows were never live together"
    assert all(p.ready + p.in_call + p.wrapping <= 2 for snap in seen for p in snap)
    assert any(p.in_flight > 0 for snap in both for p in snap)
    # The abandon figures each node paced by are the campaign's, not its own calls' alone.
    last = {"node-a": engine_a.explain()["multi"], "node-b": engine_b.explain()["multi"]}
    own_answers = {
        node: sum(1 for r in rows if r.node == node and r.outcome in ("connected", "abandoned"))
        for node in NODES
    }
    assert any(int(last[node]["live_answers"]) > own_answers[node] for node in NODES), (last, own_answers)
    assert all(int(last[node].get("nodes", 0)) >= 1 for node in NODES)

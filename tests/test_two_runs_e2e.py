"""Two ``dialer run`` processes, as users start them, dial one shared campaign from one PostgreSQL store.

Each process is its own node on its own real Asterisk, with its own operators. The leads
arrive once both hold their share. When every call has ended both are stopped with
SIGTERM, as a service manager would: each exits cleanly, no lead was dialed twice, both
nodes dialed, and nothing is left claimed, in a call or unfinished in the store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns.steering import edit_campaign
from dialer.pbx.sandbox import Sandbox
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

DIALER = Path(sys.executable).with_name("dialer")
QUEUE = "qpair"
NODES = {"node-a": "opa", "node-b": "opb"}  # node -> the prefix of its operators' names


@pytest.fixture
def two_asterisks() -> Iterator[tuple[Sandbox, Sandbox]]:
    with (
        running(Sandbox([QUEUE], sim=SANDBOX_SIM)) as first,
        running(Sandbox([QUEUE], sim=SANDBOX_SIM)) as second,
    ):
        yield first, second


def _node(name: str, ami_url: str, db_url: str) -> subprocess.Popen[str]:
    # The AMI address, secret included, goes in the environment: never on a command line.
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": ami_url}
    argv = [str(DIALER), "run", "--campaign", "pair", "--node", name, "--wrapup", "0"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(what: str, done: Callable[[], bool], nodes: list[subprocess.Popen[str]], timeout: float) -> None:
    until = time.monotonic() + timeout
    while not done():
        for node in nodes:
            assert node.poll() is None, f"a node stopped: {node.communicate()}"
        assert time.monotonic() < until, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.asterisk
def test_two_dialer_runs_dial_one_shared_campaign_each_lead_once(
    two_asterisks: tuple[Sandbox, Sandbox], pg_store: Engine, postgres_db_url: str
) -> None:
    store = pg_store
    box_a, box_b = two_asterisks
    cid = make_campaign(
        store, "pair", queue=QUEUE, max_channels=6, safe_harbour_sound=box_a.safe_harbour_sound
    )
    edit_campaign(store, "pair", {"shared": True})
    for home, prefix in NODES.items():
        for i in range(2):
            name = f"{prefix}{201 + i}"
            add_operator(store, name, f"Local/{name}@sim-operators/n", ["pair"], node=home)
            ready(store, name)
    phones = phones_by_digit([d % 5 for d in range(40)] + [5] * 4)

    nodes = [_node("node-a", box_a.ami_url, postgres_db_url), _node("node-b", box_b.ami_url, postgres_db_url)]
    try:
        # The leads arrive once both hold their share: a node that starts late would find none left.
        _wait("both shares", lambda: {p.node for p in campaign_paces(store, cid)} == set(NODES), nodes, 60)
        make_leads(store, cid, phones)
        _wait(
            "every call to end",
            lambda: (
                len(rows := attempts(store, cid)) >= len(phones) and all(r.ended_at is not None for r in rows)
            ),
            nodes,
            240,
        )
        for node in nodes:
            node.send_signal(signal.SIGTERM)
        outputs = [node.communicate(timeout=60) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.communicate()
    for node, (out, err) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, err
        assert "Traceback" not in out + err

    rows = attempts(store, cid)
    assert sorted(r.phone for r in rows) == sorted(phones), "each lead dialed exactly once"
    assert {r.node for r in rows} == set(NODES), "both processes dialed the campaign"
    assert all(r.ended_at is not None and r.outcome for r in rows), "no attempt left unfinished"
    final = leads(store, cid)
    assert all(lead.claimed_by is None and lead.status != "in_call" for lead in final), [
        (lead.phone, lead.status, lead.claimed_by)
        for lead in final
        if lead.claimed_by or lead.status == "in_call"
    ]
    assert all(lead.attempts == 1 for lead in final)
    # As in the in-process test: progressive pacing on the sandbox may, rarely, abandon one call.
    wrong = [(r.phone, r.outcome) for r in rows if r.outcome != expected_outcome(r.phone)]
    assert all(outcome == "abandoned" and expected_outcome(p) == "connected" for p, outcome in wrong), wrong
    assert len(wrong) <= 2, wrong
    assert_no_overlap(rows)
    connected = [r for r in rows if r.outcome == "connected"]
    assert connected and all(str(r.operator).startswith(NODES[r.node]) for r in connected)

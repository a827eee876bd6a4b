"""``dialer run`` killed with SIGKILL mid-campaign and started again adopts the calls Asterisk carried on.

Operators talk 8 s. The first three leads are two people who answer and a number that
rings until the 15 s ring timeout. The run is killed once both people are with an
operator, and started again 2 s later: the three calls are still up in Asterisk. Each
must end with what really happened to it (two conversations of their full length, one
no answer), and none may be settled as failed or dialed again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dialer.pbx.config import QueueSpec
from dialer.pbx.sandbox import Sandbox, SimTuning
from tests.asterisk_fixtures import running
from tests.engine_helpers import attempts, leads, make_campaign, make_leads, make_operators, phones_by_digit

DIALER = Path(sys.executable).with_name("dialer")
QUEUE = "qadopt"
TALK_S = 8.0


@pytest.fixture(scope="module")
def adopt_sandbox() -> Iterator[Sandbox]:
    box = Sandbox([QueueSpec(QUEUE)], sim=SimTuning(op_answer_s=0.3, talk_s=TALK_S))
    with running(box) as started:
        yield started


def _run(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(DIALER), "run", "--campaign", "adopt", "--node", "adopt-node", "--wrapup", "0", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.asterisk
def test_a_restart_after_sigkill_adopts_the_calls_asterisk_still_carries(
    adopt_sandbox: Sandbox, store: Engine, db_url: str
) -> None:
    cid = make_campaign(
        store, "adopt", queue=QUEUE, ring_timeout_s=15, safe_harbour_sound=adopt_sandbox.safe_harbour_sound
    )
    phones = phones_by_digit([0, 6, 1, 2, 3], start=300)
    make_leads(store, cid, phones)
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": adopt_sandbox.ami_url}
    for name in make_operators(store, "adopt", 3, prefix="opa"):
        subprocess.run([str(DIALER), "operators", "ready", name], env=env, check=True, capture_output=True)

    first = _run(env)
    try:
        deadline = time.monotonic() + 60
        while sum(r.connected_at is not None for r in attempts(store, cid)) < 2:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "no call reached an operator"
            time.sleep(0.1)
        first.kill()  # SIGKILL: no chance to record anything
        first.communicate(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    in_flight = {r.id: r.phone for r in attempts(store, cid) if r.ended_at is None}
    assert len(in_flight) == 3, in_flight
    killed_at = time.time()

    time.sleep(2)
    second = _run(env, "--until-done")
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err
    assert "Traceback" not in out + err

    rows = {r.id: r for r in attempts(store, cid)}
    by_phone = {r.phone: r for r in rows.values()}
    assert sorted(by_phone) == sorted(phones) and len(rows) == len(phones), "nobody was dialed twice"
    outcomes = {aid: str(rows[aid].outcome) for aid in in_flight}
    every = sorted(str(r.outcome) for r in rows.values())
    print(f"\nadopted after SIGKILL: {sorted(outcomes.values())}; all attempts: {every}")
    assert sorted(outcomes.values()) == ["connected", "connected", "no_answer"]
    for aid, phone in in_flight.items():
        row = rows[aid]
        assert row.ended_at is not None
        if row.outcome == "connected":
            # The conversation went on after the restart: it ended when the operator hung up.
            assert row.ended_at.timestamp() > killed_at + 2
            assert (row.ended_at - row.connected_at).total_seconds() >= TALK_S - 1  # type: ignore[operator]
            assert row.operator is not None and row.operator.startswith("opa")
        else:
            assert phone == phones[1]
    final = {lead.phone: lead for lead in leads(store, cid)}
    assert final[phones[0]].status == "done" and final[phones[2]].status == "done"
    assert final[phones[1]].status == "scheduled" and final[phones[1]].attempts == 1


@pytest.mark.asterisk
def test_a_node_taking_over_a_killed_node_adopts_its_calls(
    adopt_sandbox: Sandbox, pg_store: Engine, postgres_db_url: str
) -> None:
    store = pg_store
    cid = make_campaign(
        store, "adopt", queue=QUEUE, ring_timeout_s=15, safe_harbour_sound=adopt_sandbox.safe_harbour_sound
    )
    phones = phones_by_digit([0, 6, 1, 2, 3], start=400)
    make_leads(store, cid, phones)
    env = {**os.environ, "DIALER_DB": postgres_db_url, "DIALER_AMI_URL": adopt_sandbox.ami_url}
    for name in make_operators(store, "adopt", 3, prefix="opt"):
        subprocess.run([str(DIALER), "operators", "ready", name], env=env, check=True, capture_output=True)

    def node(name: str, *extra: str) -> subprocess.Popen[str]:
        argv = [str(DIALER), "run", "--campaign", "adopt", "--node", name, "--wrapup", "0", *extra]
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = node("node-a")
    try:
        deadline = time.monotonic() + 60
        while sum(r.connected_at is not None for r in attempts(store, cid)) < 2:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "no call reached an operator"
            time.sleep(0.1)
        first.kill()  # SIGKILL: its session, and its locks, end with it
        first.communicate(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    in_flight = {r.id: r.phone for r in attempts(store, cid) if r.ended_at is None}
    assert len(in_flight) >= 3, in_flight  # two with an operator, the one that rings 15 s, maybe more
    killed_at = time.time()

    second = node("node-b", "--until-done")
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err
    assert "Traceback" not in out + err

    rows = {r.id: r for r in attempts(store, cid)}
    assert sorted(r.phone for r in rows.values()) == sorted(phones), "nobody was dialed twice"
    outcomes = [str(rows[aid].outcome) for aid in in_flight]
    assert outcomes.count("connected") >= 2 and "failed" not in outcomes, outcomes
    for aid, phone in in_flight.items():
        row = rows[aid]
        assert row.node == "node-b" and row.ended_at is not None  # adopted by the node that took over
        if phone == phones[1]:
            assert row.outcome == "no_answer"  # it rang on to the ring timeout, after the kill
        if row.outcome == "connected":
            assert row.ended_at.timestamp() > killed_at  # the conversation went on after the kill
            assert (row.ended_at - row.connected_at).total_seconds() >= TALK_S - 1  # type: ignore[operator]
    assert all(lead.claimed_by is None for lead in leads(store, cid))

"""One campaign on several nodes: the split of its limits (pure), and the shares and pacing rows
on a real PostgreSQL (locks, fences, rows of a gone node ignored); SQLite refuses a shared campaign."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns.steering import edit_campaign
from campaigns.tables import OWNER_TABLE, SHARE_TABLE
from cli import app
from dialer.core.errors import InvalidInput
from dialer.core.telephony import CarriedCall
from dialer.engine.selection import select_leads
from dialer.engine.store_thread import StoreThread
from dialer.engine.takeover import take_over_gone
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.shares import NodeLimits, NodePace, apportion, campaign_figures, node_limits, weights
from dialer.services.operators import add_operator
from dialer.store.claims import claim_due_leads
from dialer.store.locks import NodeLocks
from dialer.store.operators import load_assignments
from dialer.store.recorder import Fenced, begin_attempts
from dialer.store.shares import ShareFence, campaign_paces, exchange_pace
from tests.engine_helpers import attempts, make_campaign, make_leads, phones_by_digit

ROOT = Path(__file__).resolve().parent.parent

# --- the split of a shared campaign's limits (pure) ------------------------------------


def test_each_node_gets_its_part_of_the_cap_in_proportion_to_its_operators() -> None:
    a = NodePace("a", ringing=2, in_call=3, ready=1)  # 4 operators, 5 channels
    b = NodePace("b", ringing=1, ready=4)  # 4 operators, 1 channel
    assert node_limits(a, [b], 20, 10.0).max_channels == 10
    assert node_limits(b, [a], 20, 10.0).max_channels == 10
    assert node_limits(a, [b], 20, 10.0).originate_rate == pytest.approx(5.0)
    three = NodePace("b", ready=12)  # three times the operators: three times the part (4 and 12 of 16) ...
    assert node_limits(NodePace("a", ready=4), [three], 16, 1.0).max_channels == 4
    assert node_limits(three, [NodePace("a", ready=4)], 16, 1.0).max_channels == 12
    # ... but the calls a node has stay (a: 5, over its 4): the other waits for one to end.
    assert (node_limits(a, [three], 16, 1.0).max_channels, node_limits(three, [a], 16, 1.0).max_channels) == (
        4,
        11,
    )


def test_a_node_takes_no_more_than_the_others_leave() -> None:
    a = NodePace("a", ready=4)
    b = NodePace("b", ready=4, ringing=2, allowance=9)  # b was allowed 9 while a had no operators
    assert node_limits(a, [b], 10, 1.0).max_channels == 1  # 5 is its part, but b holds 9 for now
    shrunk = NodePace("b", ready=4, ringing=2, allowance=node_limits(b, [a], 10, 1.0).max_channels)
    assert shrunk.allowance == 5  # b's next exchange gives back what is over its part
    assert node_limits(a, [shrunk], 10, 1.0).max_channels == 5


def test_a_node_takes_no_more_of_the_rate_than_the_others_leave() -> None:
    a = NodePace("a", ready=4)
    b = NodePace("b", ready=4, rate_allowance=9.0)  # b was allowed the whole rate while a had no operators
    assert node_limits(a, [b], 10, 9.0).originate_rate == 0.0  # 4.5 is its part, but b holds 9 a second
    shrunk = replace(b, rate_allowance=node_limits(b, [a], 10, 9.0).originate_rate)
    assert shrunk.rate_allowance == pytest.approx(4.5)  # b's next exchange gives back what is over its part
    assert node_limits(a, [shrunk], 10, 9.0).originate_rate == pytest.approx(4.5)


def test_a_node_with_no_operators_gets_nothing_while_another_has_some() -> None:
    idle = NodePace("idle", ringing=1)
    busy = NodePace("busy", ready=3)
    limits = node_limits(idle, [busy], 10, 6.0)
    assert limits.max_channels == 0  # no new call (the one it has goes on)
    assert limits.originate_rate == 0.0
    assert node_limits(busy, [idle], 10, 6.0).max_channels == 9


def test_when_no_node_has_operators_the_parts_are_equal() -> None:
    assert weights([NodePace("a"), NodePace("b")]) == {"a": 0.5, "b": 0.5}


def test_the_cap_is_campaign_wide_even_when_over_it_already() -> None:
    a = NodePace("a", ringing=8, ready=1)
    b = NodePace("b", ringing=8, ready=1)
    assert node_limits(a, [b], 10, 1.0).max_channels == 2  # below its 8 calls: no new call for now


def test_the_node_itself_is_not_counted_twice_among_the_others() -> None:
    a = NodePace("a", ringing=2, ready=2)
    assert node_limits(a, [a], 10, 1.0) == node_limits(a, [], 10, 1.0)


def test_the_campaign_figures_add_the_nodes_up() -> None:
    whole = campaign_figures([NodePace("a", 1, 2, 3, 4, 5), NodePace("b", 1, 1, 1, 1, 1)])
    assert (whole.in_flight, whole.ready, whole.staffed) == (9, 5, 15)


@given(
    st.integers(min_value=0, max_value=500),
    st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.floats(0, 50), min_size=1, max_size=6),
)
def test_apportion_never_gives_more_than_there_is_and_is_the_same_for_every_node(
    amount: int, parts: dict[str, float]
) -> None:
    split = apportion(amount, parts)
    assert set(split) == set(parts)
    assert all(v >= 0 for v in split.values())
    assert sum(split.values()) <= amount
    assert apportion(amount, dict(reversed(list(parts.items())))) == split  # order of reading is no matter
    if sum(parts.values()) > 0 and amount > 0:
        assert sum(split.values()) == amount  # nothing left unused while someone may use it
    assert all(split[name] == 0 for name, part in parts.items() if part == 0)


@given(
    st.integers(0, 40),
    st.lists(st.integers(0, 12), min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 12), st.integers(-12, 12)), max_size=60),
)
def test_the_allowances_never_add_up_to_more_than_the_cap(
    cap: int, operators: list[int], steps: list[tuple[int, int, int]]
) -> None:
    """Nodes exchanging one after another (as the store serialises them), operators coming and
    going, calls placed within each node's allowance and ending: the channels held by all the
    nodes (calls in flight or allowed) never exceed the cap."""
    nodes = {f"n{i}": NodePace(f"n{i}", ready=ops) for i, ops in enumerate(operators)}
    for who, ops, calls in steps:
        name = f"n{who % len(nodes)}"
        me = nodes[name]
        # Between two exchanges a node places calls up to its allowance, or some of its calls end.
        ringing = max(0, min(me.ringing + calls, max(me.allowance, me.ringing)))
        me = NodePace(name, ringing=ringing, ready=ops, allowance=me.allowance)
        limits = node_limits(me, [n for n in nodes.values() if n.node != name], cap, 1.0)
        nodes[name] = NodePace(name, ringing=me.ringing, ready=ops, allowance=limits.max_channels)
        assert sum(max(n.in_flight, n.allowance) for n in nodes.values()) <= cap


@given(
    st.floats(0, 100),
    st.lists(st.integers(0, 12), min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 12)), max_size=60),
)
def test_the_rate_allowances_never_add_up_to_more_than_the_campaigns_rate(
    rate: float, operators: list[int], steps: list[tuple[int, int]]
) -> None:
    """Nodes exchanging one after another, operators coming and going: the calls a second the
    nodes may place, added up, never exceed the campaign's originate rate."""
    nodes = {f"n{i}": NodePace(f"n{i}", ready=ops) for i, ops in enumerate(operators)}
    for who, ops in steps:
        name = f"n{who % len(nodes)}"
        me = replace(nodes[name], ready=ops)
        limits = node_limits(me, [n for n in nodes.values() if n.node != name], 10, rate)
        nodes[name] = replace(me, rate_allowance=limits.originate_rate)
        assert sum(n.rate_allowance for n in nodes.values()) <= rate * (1 + 1e-9)


# --- operators of a shared campaign: each node its own ----------------------------------


def test_a_node_of_a_shared_campaign_serves_only_the_operators_homed_on_it(store: Engine) -> None:
    cid = make_campaign(store, "both")
    add_operator(store, "anna", "Local/anna@sim-operators/n", ["both"], node="node-a")
    add_operator(store, "boris", "Local/boris@sim-operators/n", ["both"], node="node-b")
    add_operator(store, "vera", "Local/vera@sim-operators/n", ["both"])  # no home node
    queues = {cid: "q-both"}

    def names(node: str | None, shared: set[int]) -> set[str]:
        return {a.operator for a in load_assignments(store, queues, node, shared)}

    assert names(None, set()) == {"anna", "boris", "vera"}
    assert names("node-a", set()) == {"anna", "vera"}  # the one node dialing it: its own and the unhomed
    assert names("node-a", {cid}) == {"anna"}
    assert names("node-b", {cid}) == {"boris"}


def test_a_bad_home_node_is_one_clear_error(store: Engine) -> None:
    make_campaign(store, "both")
    with pytest.raises(InvalidInput, match="--node"):
        add_operator(store, "anna", "Local/anna@sim-operators/n", ["both"], node="bad node")


# --- SQLite stays single-node ------------------------------------------------------------


def test_sqlite_refuses_a_shared_campaign_in_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'one.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "campaign", "create", "solo"]).exit_code == 0
    result = runner.invoke(app, ["--db", db, "campaign", "edit", "solo", "--shared"])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_postgresql_takes_a_shared_campaign_and_gives_it_back(pg_store: Engine, postgres_db_url: str) -> None:
    make_campaign(pg_store, "both")
    runner = CliRunner()
    shared = runner.invoke(app, ["--db", postgres_db_url, "campaign", "edit", "both", "--shared"])
    assert (
        shared.exit_code == 0
        and "shared: off: one node at a time -> on: every node serving it dials it" in shared.output
    )
    again = runner.invoke(app, ["--db", postgres_db_url, "campaign", "edit", "both", "--shared"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    back = runner.invoke(app, ["--db", postgres_db_url, "campaign", "edit", "both", "--no-shared"])
    assert (
        back.exit_code == 0
        and "shared: on: every node serving it dials it -> off: one node at a time" in back.output
    )
    show = runner.invoke(app, ["--db", postgres_db_url, "campaign", "show", "both"])
    assert "shared: off: one node at a time" in show.output


# --- shares on PostgreSQL ------------------------------------------------------------------


def _shared_campaign(store: Engine, name: str = "both") -> int:
    cid = make_campaign(store, name)
    edit_campaign(store, name, {"shared": True})
    return cid


def _share_rows(store: Engine, cid: int) -> dict[str, int]:
    s = SHARE_TABLE.c
    with store.connect() as conn:
        return dict(conn.execute(select(s.node, s.fence).where(s.campaign_id == cid)).all())


def test_two_nodes_each_hold_a_share_of_a_shared_campaign(pg_store: Engine) -> None:
    cid = _shared_campaign(pg_store)
    solo = make_campaign(pg_store, "solo")
    a, b = NodeLocks(pg_store, "node-a"), NodeLocks(pg_store, "node-b")
    a.open()
    b.open()
    try:
        assert a.own([cid, solo], shared={cid}) == {cid, solo}
        assert b.own([cid, solo], shared={cid}) == {cid}  # its share; the other campaign is a's alone
        assert isinstance(a.fences[cid], ShareFence) and isinstance(b.fences[cid], ShareFence)
        assert not isinstance(a.fences[solo], ShareFence)
        assert _share_rows(pg_store, cid) == {"node-a": 1, "node-b": 1}
        with pg_store.connect() as conn:  # no owner row for a shared campaign
            assert (
                conn.execute(select(OWNER_TABLE.c.node).where(OWNER_TABLE.c.campaign_id == cid)).all() == []
            )
        a.disown(cid)
        assert _share_rows(pg_store, cid) == {"node-b": 1}
        assert a.own([cid], shared={cid}) == {cid}
        assert _share_rows(pg_store, cid) == {"node-a": 1, "node-b": 1}  # a fresh row
    finally:
        a.close()
        b.close()


def test_pacing_rows_are_written_under_the_fence_and_a_gone_nodes_row_is_ignored(pg_store: Engine) -> None:
    cid = _shared_campaign(pg_store)
    a, b = NodeLocks(pg_store, "node-a"), NodeLocks(pg_store, "node-b")
    a.open()
    b.open()
    try:
        a.own([cid], shared={cid})
        b.own([cid], shared={cid})
        mine_a = NodePace("node-a", ringing=2, waiting=1, in_call=3, ready=1, wrapping=1)
        mine_b = NodePace("node-b", ringing=1, ready=2)

        def exchange(fence: int, mine: NodePace) -> tuple[NodeLimits, list[NodePace]]:
            found = exchange_pace(pg_store, cid, fence, mine, 20, 1.0)
            assert found is not None
            return found

        # 20 channels; node-a has 5 operators, node-b 2: parts of 14 and 6.
        limits_a, seen = exchange(a.fences[cid], mine_a)
        assert seen == [NodePace("node-b")] and limits_a.max_channels == 20  # b counts no operator yet
        limits_b, seen = exchange(b.fences[cid], mine_b)
        assert seen == [replace(mine_a, allowance=20, rate_allowance=1.0)]  # a holds all for now
        assert (limits_b.max_channels, limits_b.originate_rate) == (0, 0.0)
        limits_a, seen = exchange(a.fences[cid], mine_a)
        assert seen == [replace(mine_b, allowance=0)] and limits_a.max_channels == 14  # its fair part now
        assert limits_a.originate_rate == pytest.approx(5 / 7)
        limits_b, _ = exchange(b.fences[cid], mine_b)
        assert limits_b.max_channels == 6 and limits_b.originate_rate == pytest.approx(2 / 7)
        assert (
            exchange_pace(pg_store, cid, ShareFence(a.fences[cid] + 1), mine_a, 20, 1.0) is None
        )  # not its fence
        paces = sorted(campaign_paces(pg_store, cid), key=lambda p: p.node)
        assert [(p.node, p.allowance) for p in paces] == [("node-a", 14), ("node-b", 6)]
        assert [replace(p, rate_allowance=0.0) for p in paces] == [
            replace(mine_a, allowance=14),
            replace(mine_b, allowance=6),
        ]
        # The rates written add up to the campaign's: 1 call a second across both nodes.
        assert sum(p.rate_allowance for p in paces) == pytest.approx(1.0)
        assert paces[0].rate_allowance == pytest.approx(5 / 7)
        b.close()  # node-b's session ends (a crash looks the same to the server)
        limits_a, seen = exchange(a.fences[cid], mine_a)
        assert seen == [] and limits_a.max_channels == 20  # its row is left, and ignored
        assert set(_share_rows(pg_store, cid)) == {"node-a", "node-b"}
        assert a.gone_nodes() == ["node-b"]
        a.release_node("node-b")  # the takeover forgets a gone node's shares
        assert set(_share_rows(pg_store, cid)) == {"node-a"}
    finally:
        a.close()
        b.close()


def _rules(store: Engine, cid: int) -> CampaignRules:
    from sqlmodel import Session

    from campaigns.models import Campaign

    with Session(store) as session:
        row = session.get(Campaign, cid)
        assert row is not None
        return CampaignRules.from_campaign(row)


def test_a_node_whose_share_was_taken_over_places_nothing(pg_store: Engine) -> None:
    cid = _shared_campaign(pg_store)
    make_leads(pg_store, cid, phones_by_digit([0] * 6))
    rules = _rules(pg_store, cid)
    a, b = NodeLocks(pg_store, "node-a"), NodeLocks(pg_store, "node-b")
    a.open()
    b.open()
    try:
        a.own([cid], shared={cid})
        b.own([cid], shared={cid})
        now = time.time()  # the leads are in a zone where it is 13:00 now (open_zone)
        leads_b = select_leads(pg_store, rules, "node-b", now, 2)
        assert len(begin_attempts(pg_store, leads_b, "node-b", lambda: now, b.fences[cid])) == 2
        leads_a = select_leads(pg_store, rules, "node-a", now, 2)
        assert {lead.lead_id for lead in leads_a}.isdisjoint({lead.lead_id for lead in leads_b})
        fence_b = b.fences[cid]
        b.close()  # cut off: node-b may not know yet
        assert a.gone_nodes() == ["node-b"]
        a.release_node("node-b")
        more_b = [*select_leads(pg_store, rules, "node-b", now, 1)]
        with pytest.raises(Fenced):
            begin_attempts(pg_store, more_b, "node-b", lambda: now, fence_b)
        assert len(begin_attempts(pg_store, leads_a, "node-a", lambda: now, a.fences[cid])) == 2  # a goes on
        # An exclusive campaign's fence is not a share's, even with the same number.
        with pytest.raises(Fenced):
            begin_attempts(pg_store, more_b, "node-b", lambda: now, int(fence_b))
    finally:
        a.close()
        b.close()


def test_status_says_a_campaign_is_shared_and_this_nodes_part() -> None:
    from dialer.cli.status_view import pacing_line
    from dialer.store.pace import PacingView

    explain = {
        "mode": "predictive",
        "nodes": 2,
        "node_share": 0.25,
        "node_max_channels": 5,
        "campaign_ready": 7,
    }
    line = pacing_line(
        "spring", PacingView("node-a", datetime.now(UTC), explain), datetime.now(UTC).timestamp()
    )
    assert "shared by 2 nodes: this one's part 25.0%, channels 5; campaign ready 7" in line
    alone = pacing_line("spring", PacingView("node-a", datetime.now(UTC), {"mode": "predictive"}), 0.0)
    assert "shared" not in alone


# A node process that takes its share of a shared campaign, says so, and waits to be killed.
_SHARING_NODE = """
import os, sys, time
from campaigns.store import open_store
from dialer.store.locks import NodeLocks
locks = NodeLocks(open_store(os.environ["DIALER_DB"]), "node-dead")
locks.open()
print(sorted(locks.own([int(sys.argv[1])], shared={int(sys.argv[1])})), flush=True)
time.sleep(600)
"""


class _Carrying:
    """The phone system's adoption port, carrying the calls it is told of (answered, no operator)."""

    def __init__(self, carried: set[str]) -> None:
        self.carried = carried

    async def adopt(self, attempt_ids: Sequence[str]) -> dict[str, CarriedCall]:
        return {i: CarriedCall(i, answered=True) for i in attempt_ids if i in self.carried}


async def test_a_killed_nodes_share_is_ignored_at_once_and_its_calls_adopted_by_the_taker(
    pg_store: Engine, postgres_db_url: str
) -> None:
    cid = _shared_campaign(pg_store)
    make_leads(pg_store, cid, phones_by_digit([0] * 4))
    [lead] = claim_due_leads(pg_store, cid, "node-dead", datetime.now(UTC), 1)
    [placement] = begin_attempts(pg_store, [lead], "node-dead", time.time)
    env = {**os.environ, "DIALER_DB": postgres_db_url, "PYTHONPATH": str(ROOT)}
    node = subprocess.Popen(
        [sys.executable, "-c", _SHARING_NODE, str(cid)], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    survivor, db = NodeLocks(pg_store, "node-b"), StoreThread()
    try:
        assert node.stdout is not None and node.stdout.readline().strip() == f"[{cid}]"
        survivor.open()
        assert survivor.own([cid], shared={cid}) == {cid}  # both nodes dial it, each its share
        assert {p.node for p in campaign_paces(pg_store, cid)} == {"node-b", "node-dead"}
        os.kill(node.pid, signal.SIGKILL)
        node.wait(10)
        until = time.monotonic() + 30
        while {p.node for p in campaign_paces(pg_store, cid)} != {"node-b"}:  # no takeover needed for that
            assert time.monotonic() < until, "the killed node's pacing row was still counted"
            await asyncio.sleep(0.05)
        assert "node-dead" in _share_rows(pg_store, cid)  # the row is there, ignored
        adopted = await take_over_gone(pg_store, db, survivor, _Carrying({placement.attempt_id}), time.time())  # type: ignore[arg-type]
        assert [call.attempt.attempt_id for call in adopted] == [placement.attempt_id]
        assert [(a.id, a.node, a.ended_at) for a in attempts(pg_store, cid)] == [
            (placement.attempt_id, "node-b", None)
        ]
        assert _share_rows(pg_store, cid) == {"node-b": 1}  # the gone node's share is forgotten
        [more] = claim_due_leads(pg_store, cid, "node-dead", datetime.now(UTC), 1)
        with pytest.raises(Fenced):  # should it still run somewhere, it places nothing
            begin_attempts(pg_store, [more], "node-dead", time.time, ShareFence(1))
    finally:
        node.kill()
        node.wait(10)
        if node.stdout is not None:
            node.stdout.close()
        survivor.close()
        db.close()

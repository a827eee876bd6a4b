"""Operators: the desired state in the store, the queue membership the engine applies."""

from __future__ import annotations

import asyncio

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from dialer.cli.engine_commands import operators_app
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.operators import OperatorState
from dialer.core.telephony import MemberChanged, MemberState
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.engine.membership import Membership
from dialer.services import operators as ops
from dialer.store.operators import load_assignments
from tests.engine_helpers import ScriptedTelephony, make_campaign

pytestmark = pytest.mark.every_store

IFACE = "Local/op101@sim-operators/n"


def test_add_links_the_operator_to_campaigns_and_starts_logged_out(store: Engine) -> None:
    make_campaign(store, "spring")
    make_campaign(store, "autumn")
    view = ops.add_operator(store, "op101", IFACE, ["spring"])
    view = ops.add_operator(store, "op101", IFACE, ["autumn", "spring"])
    assert view.campaigns == ("autumn", "spring")
    assert view.desired_state == view.state == "logged_out"


@pytest.mark.parametrize(
    ("name", "interface"),
    [("op 1", IFACE), ("op1", "no-slash"), ("op1", "PJSIP/101\r\nAction: Logoff"), ("", IFACE)],
)
def test_bad_names_and_interfaces_are_refused(store: Engine, name: str, interface: str) -> None:
    make_campaign(store, "spring")
    with pytest.raises(InvalidInput):
        ops.add_operator(store, name, interface, ["spring"])


def test_unknown_operator_or_campaign_is_not_found(store: Engine) -> None:
    with pytest.raises(NotFound):
        ops.ready(store, "nobody")
    with pytest.raises(NotFound):
        ops.add_operator(store, "op101", IFACE, ["no-such-campaign"])


def test_login_ready_pause_logout_set_the_desired_state_only(store: Engine) -> None:
    make_campaign(store, "spring")
    ops.add_operator(store, "op101", IFACE, ["spring"])
    assert ops.login(store, "op101").desired_state == "paused"
    assert ops.ready(store, "op101").desired_state == "ready"
    assert ops.pause(store, "op101").desired_state == "paused"
    view = ops.logout(store, "op101")
    assert view.desired_state == "logged_out" and view.state == "logged_out"


async def test_membership_applies_desired_states_as_queue_actions(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    ops.add_operator(store, "op101", IFACE, ["spring"])
    telephony = ScriptedTelephony()
    membership = Membership(telephony)
    queues = {cid: "q-spring"}

    ops.ready(store, "op101")
    await membership.apply(load_assignments(store, queues))
    ops.pause(store, "op101")
    await membership.apply(load_assignments(store, queues))
    await membership.apply(load_assignments(store, queues))  # nothing changed: no action
    ops.logout(store, "op101")
    await membership.apply(load_assignments(store, queues))
    assert telephony.actions == [
        ("remove", "q-spring", IFACE),  # a clean start: it may be left over from an earlier run
        ("add", "q-spring", IFACE, "False"),
        ("pause", "q-spring", IFACE, "True"),
        ("remove", "q-spring", IFACE),
    ]


async def test_ready_needs_both_the_wish_and_the_queue_report(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    ops.add_operator(store, "op101", IFACE, ["spring"])
    ops.ready(store, "op101")
    membership = Membership(ScriptedTelephony())
    assignments = load_assignments(store, {cid: "q-spring"})
    await membership.apply(assignments)
    assert membership.ready(cid) == []  # asked, but the queue has not said so yet
    membership.on_member(MemberChanged(0.0, "q-spring", IFACE, MemberState.AVAILABLE))
    assert [a.operator for a in membership.ready(cid)] == ["op101"]
    assert membership.ready(cid, busy=[IFACE]) == []
    membership.on_member(MemberChanged(0.0, "q-spring", IFACE, MemberState.IN_CALL))
    assert membership.ready(cid) == []


async def test_a_running_engine_applies_a_change_within_a_second(store: Engine) -> None:
    make_campaign(store, "spring")
    ops.add_operator(store, "op101", IFACE, ["spring"])
    telephony = ScriptedTelephony()
    engine = DialEngine(store, telephony, EngineSettings(node_id="n", tick_s=0.05, operator_poll_s=0.25))
    task = asyncio.create_task(engine.run())
    try:
        ops.ready(store, "op101")
        await asyncio.sleep(1.0)
        assert ops.get_operator(store, "op101").state == "ready"
        ops.pause(store, "op101")
        await asyncio.sleep(1.0)
        assert ops.get_operator(store, "op101").state == "paused"
        assert telephony.members[("q-spring", IFACE)].paused
    finally:
        engine.stop()
        await asyncio.wait_for(task, 10)


def test_operators_cli_adds_and_changes_state(store: Engine, db_url: str) -> None:
    make_campaign(store, "spring")
    app = typer.Typer()
    app.add_typer(operators_app, name="operators")
    runner = CliRunner()
    env = {"DIALER_DB": db_url}
    result = runner.invoke(
        app, ["operators", "add", "op101", "--interface", IFACE, "--campaign", "spring"], env=env
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["operators", "ready", "op101"], env=env).exit_code == 0
    assert ops.get_operator(store, "op101").desired_state == OperatorState.READY.value
    listing = runner.invoke(app, ["operators", "list"], env=env)
    assert "op101" in listing.output and "ready" in listing.output


async def test_a_member_already_in_the_queue_is_taken_as_it_is(store: Engine) -> None:
    """Another node (or our previous run) added it: no remove and re-add, only the pause to match."""
    from dialer.core.telephony import MemberChanged, MemberState
    from dialer.engine.membership import Membership
    from dialer.services.operators import add_operator, login, ready
    from dialer.store.operators import load_assignments
    from tests.engine_helpers import Member, ScriptedTelephony, make_campaign

    cid = make_campaign(store, "shared", queue="q-shared")
    add_operator(store, "anna", "Local/anna@sim-operators/n", ["shared"])
    add_operator(store, "ivan", "Local/ivan@sim-operators/n", ["shared"])
    ready(store, "anna")
    login(store, "ivan")  # paused
    telephony = ScriptedTelephony()
    membership = Membership(telephony)
    for name in ("anna", "ivan"):
        interface = f"Local/{name}@sim-operators/n"
        telephony.members[("q-shared", interface)] = Member(paused=False)
        membership.on_member(MemberChanged(0.0, "q-shared", interface, MemberState.AVAILABLE))
    await membership.apply(load_assignments(store, {cid: "q-shared"}))
    assert telephony.actions == [("pause", "q-shared", "Local/ivan@sim-operators/n", "True")]
    assert [a.operator for a in membership.ready(cid)] == ["anna"]

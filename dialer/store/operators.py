"""Operators in the store as the engine sees them: who serves which queue, what each asked for,
and the observed queue states the engine writes back."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, Operator, OperatorCampaign, utcnow
from campaigns.tables import OPERATOR_TABLE
from dialer.core.operators import OperatorState
from dialer.policy.membership import Assignment


def load_assignments(
    store: Engine, queues: dict[int, str], node: str | None = None, shared: Collection[int] = ()
) -> list[Assignment]:
    """Operators of these campaigns (campaign id -> queue), with what they asked for.

    An operator homed on a node (``operator.node``: their phone is on that node's phone system)
    is served by that node only; in a ``shared`` campaign a node serves only the operators homed
    on it, so that no operator is counted by two nodes.
    """
    if not queues:
        return []
    with Session(store) as session:
        rows = session.exec(
            select(Operator, OperatorCampaign.campaign_id)
            .join(OperatorCampaign, col(OperatorCampaign.operator_id) == col(Operator.id))
            .join(Campaign, col(Campaign.id) == col(OperatorCampaign.campaign_id))
            .where(col(OperatorCampaign.campaign_id).in_(list(queues)))
        ).all()
        return [
            Assignment(op.name, op.interface, cid, queues[cid], _desired(op.desired_state))
            for op, cid in rows
            if node is None or op.node == node or (op.node is None and cid not in shared)
        ]


def _desired(value: str) -> OperatorState:
    try:
        state = OperatorState(value)
    except ValueError:
        return OperatorState.LOGGED_OUT
    return state if state in (OperatorState.PAUSED, OperatorState.READY) else OperatorState.LOGGED_OUT


_OBSERVED = (
    update(OPERATOR_TABLE)
    .where(
        OPERATOR_TABLE.c.interface == bindparam("o_interface"),
        OPERATOR_TABLE.c.state != bindparam("o_state"),
    )
    .values(state=bindparam("o_state"), state_changed_at=bindparam("o_at"))
)


def write_observed_states(conn: Connection, states: Mapping[str, OperatorState]) -> None:
    """Store, inside the caller's transaction, what the phone system reported per interface."""
    if states:
        at = utcnow()
        conn.execute(
            _OBSERVED,
            [{"o_interface": i, "o_state": s.value, "o_at": at} for i, s in states.items()],
        )


def record_observed_state(store: Engine, interface: str, state: OperatorState) -> None:
    """Store what the phone system reported for the operator on ``interface``, at once."""
    with store.begin() as conn:
        write_observed_states(conn, {interface: state})

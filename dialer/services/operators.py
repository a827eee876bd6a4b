"""Operators: who takes the answered calls, and in which state they are.

Two states per operator, kept apart on purpose:

- ``desired_state`` is what the operator (or a supervisor) asked for through the
  CLI or a console: logged out, logged in but paused, or ready;
- ``state`` is what the phone system reports about the queue member.

The CLI only writes the desired state. A running engine polls it about four
times a second and applies it to the queue (``queue_add`` / ``queue_pause`` /
``queue_remove``, see ``dialer.engine.membership``); the observed state comes back as
queue events. The engine dials only for operators that are ready in BOTH.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, Operator, OperatorCampaign, check_fits, utcnow
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.operators import OperatorState as OperatorState
from dialer.store.nodes import check_node

DESIRED_STATES = (OperatorState.LOGGED_OUT, OperatorState.PAUSED, OperatorState.READY)


# Letters and digits of any script (Анна, 李娜), then also '_', '.', '@' or '-'; never a space or a control.
_NAME = re.compile(r"[^\W_][\w.@-]{0,99}")
# Tech/resource, e.g. PJSIP/101, SIP/alice, Local/op101@sim-operators/n.
_INTERFACE = re.compile(r"[A-Za-z][A-Za-z0-9]*/[A-Za-z0-9_.@/+-]{1,190}")


@dataclass(frozen=True)
class OperatorView:
    name: str
    interface: str
    desired_state: str
    state: str
    campaigns: tuple[str, ...]


def _operator(session: Session, name: str) -> Operator:
    operator = session.exec(select(Operator).where(Operator.name == name)).first()
    if operator is None:
        raise NotFound(f"no operator named {name!r}; add one with `dialer operators add`")
    return operator


def add_operator(
    store: Engine, name: str, interface: str, campaigns: Sequence[str], node: str | None = None
) -> OperatorView:
    """Create the operator, or add campaigns to an existing one with the same interface.

    ``node``: the dialer node whose phone system the operator's phone is on (kept when None);
    only that node puts them in a queue, and a shared campaign's nodes each dial for their own.
    """
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"operator name {name!r}: use letters, digits, '.', '_', '@' or '-'")
    if not _INTERFACE.fullmatch(interface):
        raise InvalidInput(f"interface {interface[:40]!r}: expected TECH/RESOURCE, e.g. PJSIP/101")
    check_fits(Operator(name=name, interface=interface), {"interface": "--interface"})
    with session_scope(store) as session:
        operator = session.exec(select(Operator).where(Operator.name == name)).first()
        if operator is None:
            operator = Operator(name=name, interface=interface)
            session.add(operator)
            session.flush()
        elif operator.interface != interface:
            raise InvalidInput(f"operator {name} already uses interface {operator.interface}")
        if node is not None:
            operator.node = check_node(node)
        assert operator.id is not None
        for campaign_name in campaigns:
            campaign = find_campaign(session, campaign_name)
            assert campaign.id is not None
            if session.get(OperatorCampaign, (operator.id, campaign.id)) is None:
                session.add(OperatorCampaign(operator_id=operator.id, campaign_id=campaign.id))
    return get_operator(store, name)


def set_desired_state(
    store: Engine, name: str, state: OperatorState, reason: str | None = None
) -> OperatorView:
    """Ask for ``state``; a running engine applies it to the queues within a second.

    ``reason`` is the pause code of a pause (the console asks for one); other states clear it.
    """
    if state not in DESIRED_STATES:
        raise InvalidInput(f"an operator can be asked to be {', '.join(DESIRED_STATES)}, not {state}")
    with session_scope(store) as session:
        operator = _operator(session, name)
        if operator.desired_state != state.value or operator.desired_at is None:
            operator.desired_at = utcnow()
        operator.desired_state = state.value
        operator.pause_reason = reason if state is OperatorState.PAUSED else None
    return get_operator(store, name)


def login(store: Engine, name: str) -> OperatorView:
    """Join the campaign queues, paused: logged in, not yet taking calls."""
    return set_desired_state(store, name, OperatorState.PAUSED)


def ready(store: Engine, name: str) -> OperatorView:
    return set_desired_state(store, name, OperatorState.READY)


def pause(store: Engine, name: str) -> OperatorView:
    return set_desired_state(store, name, OperatorState.PAUSED)


def logout(store: Engine, name: str) -> OperatorView:
    return set_desired_state(store, name, OperatorState.LOGGED_OUT)


def get_operator(store: Engine, name: str) -> OperatorView:
    with Session(store) as session:
        return _view(session, _operator(session, name))


def list_operators(store: Engine) -> list[OperatorView]:
    with Session(store) as session:
        operators = session.exec(select(Operator).order_by(col(Operator.name))).all()
        return [_view(session, op) for op in operators]


def _view(session: Session, operator: Operator) -> OperatorView:
    names = session.exec(
        select(Campaign.name)
        .join(OperatorCampaign, col(OperatorCampaign.campaign_id) == col(Campaign.id))
        .where(OperatorCampaign.operator_id == operator.id)
        .order_by(col(Campaign.name))
    ).all()
    return OperatorView(
        operator.name, operator.interface, operator.desired_state, operator.state, tuple(names)
    )

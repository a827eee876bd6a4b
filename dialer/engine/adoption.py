"""Adopting calls a gone engine left in flight: the phone system may still carry them.

A ``dialer run`` killed mid-campaign leaves attempts unfinished whose calls Asterisk
carries on: ringing, waiting in the queue, or with an operator. Settling those as
failed would record a conversation as a failure and call the person again at the
next retry. So on start the engine asks the phone system which of the node's
unfinished attempts it still carries (the attempt id is the channel id) and follows
them to their real outcome; only the calls gone from the phone system are settled
(``dialer.store.reconcile``). A node taking over another's attempts can adopt them the
same way: ``adopt_calls`` takes the node whose attempts to adopt.

What the earlier run never recorded is filled in from what the phone system shows:
a call that is up was answered (at the latest now), a call bridged to another
channel of the same call is with that operator, connected at the latest when that
channel was made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Campaign, Lead, Operator
from dialer.core.attempt import Attempt, AttemptState, apply
from dialer.core.errors import InvalidInput, TelephonyError
from dialer.core.telephony import Adopting, Answered, CarriedCall, OperatorConnected, Telephony
from dialer.engine.live import LiveCall
from dialer.engine.store_thread import StoreThread
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.gate import zones_of
from dialer.store.claims import ClaimedLead
from dialer.store.recorder import attempt_from_row, unfinished_attempts

log = logging.getLogger(__name__)


async def adopt_calls(
    store: Engine, db: StoreThread, telephony: Telephony, node: str, now: float
) -> list[LiveCall]:
    """``node``'s unfinished attempts whose calls the phone system still carries, as live calls.

    The others are left for ``dialer.store.reconcile.reconcile_node`` to settle. A phone
    system that cannot adopt, or fails to answer, adopts nothing. The store is read in
    the engine's store thread ``db``.
    """
    rows = await db.run(unfinished_attempts, store, node)
    if not rows or not isinstance(telephony, Adopting):
        return []
    try:
        carried = await telephony.adopt([row.id for row in rows])
    except TelephonyError as exc:
        log.warning("could not ask the phone system for the calls of node %s: %s", node, exc)
        return []
    return await db.run(_carried_calls, store, rows, carried, now)


def _carried_calls(
    store: Engine, rows: list[CallAttempt], carried: Mapping[str, CarriedCall], now: float
) -> list[LiveCall]:
    adopted: list[LiveCall] = []
    with Session(store) as session:
        interfaces = list(session.exec(select(Operator.interface, Operator.name)).all())
        for row in rows:
            call = carried.get(row.id)
            campaign = session.get(Campaign, row.campaign_id)
            lead = session.get(Lead, row.lead_id)
            if call is None or campaign is None or lead is None:
                continue
            try:
                rules = CampaignRules.from_campaign(campaign)
            except InvalidInput:
                continue
            live = _live_call(row_attempt(row, rules), call, rules, lead, now, interfaces)
            adopted.append(live)
            log.info("attempt %s carried on by the phone system: adopted (%s)", row.id, live.attempt.state)
    return adopted


def row_attempt(row: CallAttempt, rules: CampaignRules) -> Attempt:
    attempt = attempt_from_row(row)
    return replace(attempt, connect_limit_s=rules.connect_limit_s, amd_enabled=rules.amd)


def _live_call(
    attempt: Attempt,
    call: CarriedCall,
    rules: CampaignRules,
    lead: Lead,
    now: float,
    interfaces: Iterable[tuple[str, str]],
) -> LiveCall:
    operator_name = attempt.operator
    if call.operator_channel and attempt.state is not AttemptState.CONNECTED:
        interface, operator_name = operator_of(call.operator_channel, interfaces)
        connected = max(now - call.operator_for_s, attempt.answered_at or attempt.started_at)
        attempt = apply(attempt, OperatorConnected(attempt.attempt_id, connected, rules.queue, interface))
    elif call.answered and attempt.state in (AttemptState.DIALING, AttemptState.RINGING):
        attempt = apply(attempt, Answered(attempt.attempt_id, now))
    assert lead.id is not None
    claimed = ClaimedLead(lead.id, lead.campaign_id, lead.phone, zones_of(lead.time_zones), lead.attempts, {})
    return LiveCall(attempt, claimed, rules, last_event_at=now, operator_name=operator_name)


def operator_of(channel: str, operators: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The queue member interface and operator name behind a channel name.

    Asterisk names a channel after its device plus a suffix: ``PJSIP/101-0000002a`` for
    ``PJSIP/101``, ``Local/op101@ctx-00000003;1`` for ``Local/op101@ctx/n``.
    """
    device = channel.rsplit("-", 1)[0]
    for interface, name in operators:
        if interface == device or interface.startswith(device + "/"):
            return interface, name
    return device, device


def adopted_ids(calls: Iterable[LiveCall]) -> set[str]:
    return {call.attempt.attempt_id for call in calls}

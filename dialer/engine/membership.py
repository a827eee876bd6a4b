"""The engine's side of operators: apply desired states to queues, track observed ones.

Observed state comes only from the phone system's member events: right after a
start, or after ``QueueAdd``, nobody counts as ready until Asterisk says so.

An operator whose call has just ended is idle, and the queue reports them "not in
use", yet the queue offers them nothing until its wrap-up time has passed since
that call (``dialer.pacing.team``). The end of the call is the later of what the
queue reports (``LastCall``) and the end of the call this engine saw; the wrap-up
time is the member's own if the queue reports one, else the queue's
(``queue_wrapup_s``: the queues' ``wrapuptime``, which Asterisk does not report).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, Operator, OperatorCampaign
from dialer.core.errors import TelephonyError
from dialer.core.telephony import MemberChanged, MemberState, Telephony
from dialer.pacing.team import OperatorView, wrap_end, wrap_up
from dialer.services.operators import OperatorState

log = logging.getLogger(__name__)

OBSERVED: dict[MemberState, OperatorState] = {
    MemberState.AVAILABLE: OperatorState.READY,
    MemberState.PAUSED: OperatorState.PAUSED,
    MemberState.IN_CALL: OperatorState.IN_CALL,
    MemberState.UNAVAILABLE: OperatorState.UNAVAILABLE,
    MemberState.REMOVED: OperatorState.LOGGED_OUT,
}


@dataclass(frozen=True)
class Assignment:
    """One operator serving one campaign's queue."""

    operator: str
    interface: str
    campaign_id: int
    queue: str
    desired: OperatorState


def load_assignments(store: Engine, queues: dict[int, str]) -> list[Assignment]:
    """Operators of these campaigns (campaign id -> queue), with what they asked for."""
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
        ]


def _desired(value: str) -> OperatorState:
    try:
        state = OperatorState(value)
    except ValueError:
        return OperatorState.LOGGED_OUT
    return state if state in (OperatorState.PAUSED, OperatorState.READY) else OperatorState.LOGGED_OUT


class Membership:
    """Queue membership as this engine applied it and as the phone system reports it."""

    def __init__(self, telephony: Telephony, retry_s: float = 5.0, queue_wrapup_s: float = 0.0) -> None:
        self._telephony = telephony
        self._queue_wrapup_s = queue_wrapup_s
        self._last_end: dict[str, float] = {}  # interface -> end of its last call
        self._own_wrapup: dict[tuple[str, str], float] = {}
        self._retry_s = retry_s  # after a refused queue action, try that member again this much later
        self._retry_at: dict[tuple[str, str], float] = {}
        self._assignments: list[Assignment] = []
        self._applied: dict[tuple[str, str], OperatorState] = {}
        self._observed: dict[tuple[str, str], MemberState] = {}

    async def apply(
        self,
        assignments: Sequence[Assignment],
        pending: Mapping[int, int] | None = None,
        now: float | None = None,
    ) -> None:
        """Bring every queue member to its desired state; members no longer assigned leave.

        ``pending`` counts, per campaign, calls placed that have no operator yet. An
        idle operator who asks to pause or log out stays in the queue until those
        calls are covered by the operators still ready: they were placed for them,
        and pulling the operator now would leave an answered person with nobody.
        No new call counts on the operator meanwhile (``ready`` needs a READY wish).
        """
        self._assignments = list(assignments)
        deficit = {cid: n - len(self.ready(cid, now=now)) for cid, n in (pending or {}).items()}
        wanted: dict[tuple[str, str], Assignment] = {(a.queue, a.interface): a for a in assignments}
        now = time.monotonic()
        for key, assignment in wanted.items():
            if self._retry_at.get(key, 0.0) > now:
                continue
            current = self._applied.get(key)
            if current is None:
                current = self._adopt(key)
            if (
                current is OperatorState.READY
                and assignment.desired is not OperatorState.READY
                and deficit.get(assignment.campaign_id, 0) > 0
                and self._observed.get(key) is MemberState.AVAILABLE
            ):
                deficit[assignment.campaign_id] -= 1
                continue  # let the calls already placed reach this operator first
            if current != assignment.desired:
                await self._move(
                    assignment.queue, assignment.interface, assignment.operator, current, assignment.desired
                )
        for key, current in list(self._applied.items()):
            if key not in wanted and current is not OperatorState.LOGGED_OUT:
                await self._move(key[0], key[1], "", current, OperatorState.LOGGED_OUT)

    def _adopt(self, key: tuple[str, str]) -> OperatorState | None:
        """A member Asterisk already reports (another node added it, or it survived our restart).

        Taking it as it is, rather than removing and adding it again, keeps an
        operator shared by several nodes from dropping out of the queue whenever
        one of them starts.
        """
        observed = self._observed.get(key)
        if observed in (MemberState.AVAILABLE, MemberState.IN_CALL):
            state = OperatorState.READY
        elif observed is MemberState.PAUSED:
            state = OperatorState.PAUSED
        else:
            return None
        self._applied[key] = state
        return state

    async def _move(
        self, queue: str, interface: str, name: str, current: OperatorState | None, desired: OperatorState
    ) -> None:
        log.info("operator %s in queue %s: %s -> %s", name or interface, queue, current or "unknown", desired)
        self._applied[(queue, interface)] = desired
        paused = desired is OperatorState.PAUSED
        try:
            if desired is OperatorState.LOGGED_OUT:
                await self._telephony.queue_remove(queue, interface)
            elif current in (OperatorState.PAUSED, OperatorState.READY):
                await self._telephony.queue_pause(queue, interface, paused, reason="dialer")
            else:
                if current is None:
                    # Not reported as a member, yet it may be one (unreachable, or its
                    # report still on the way): start clean so that Asterisk reports afresh.
                    await self._quietly_remove(queue, interface)
                await self._telephony.queue_add(queue, interface, name, paused)
        except TelephonyError as exc:
            if desired is OperatorState.LOGGED_OUT:
                log.info("queue %s member %s: not removed (%s)", queue, interface, exc)
                return  # most often it was not a member: logged out either way
            # The member's real state is unknown now: start it afresh later.
            self._applied.pop((queue, interface), None)
            self._retry_at[(queue, interface)] = time.monotonic() + self._retry_s
            log.warning(
                "queue %s member %s: could not apply %s (retrying in %.0f s): %s",
                queue,
                interface,
                desired,
                self._retry_s,
                exc,
            )

    async def _quietly_remove(self, queue: str, interface: str) -> None:
        with contextlib.suppress(TelephonyError):  # not a member: nothing to remove
            await self._telephony.queue_remove(queue, interface)

    def forget(self) -> None:
        """The link to the phone system broke: what was applied and observed may be gone.

        A restarted Asterisk has empty queues. Until it reports members again nobody
        counts as ready, and the next ``apply`` puts every operator back in their queue.
        """
        self._applied.clear()
        self._observed.clear()
        self._retry_at.clear()
        self._own_wrapup.clear()

    def disown(self, queue: str) -> None:
        """Another node manages ``queue`` now: stop tracking it, and never remove its members."""
        for table in (self._applied, self._observed, self._retry_at, self._own_wrapup):
            for key in [k for k in table if k[0] == queue]:
                del table[key]

    def on_member(self, event: MemberChanged) -> OperatorState:
        key = (event.queue, event.interface)
        self._observed[key] = event.state
        if event.last_call is not None:
            self.call_ended(event.interface, event.last_call)
        if event.wrapup_s is not None:
            self._own_wrapup[key] = event.wrapup_s
        else:
            self._own_wrapup.pop(key, None)
        return OBSERVED[event.state]

    def call_ended(self, interface: str, at: float) -> None:
        """An operator's call ended at ``at``: their wrap-up starts."""
        self._last_end[interface] = max(at, self._last_end.get(interface, at))

    def free_at(self, queue: str, interface: str) -> float | None:
        """When the queue offers this member calls again after their last call (None: no wrap-up)."""
        wrapup = self._own_wrapup.get((queue, interface), self._queue_wrapup_s)
        return wrap_end(self._last_end.get(interface), wrapup)

    def observed(self, queue: str, interface: str) -> MemberState | None:
        return self._observed.get((queue, interface))

    def _idle(self, campaign_id: int, busy: Iterable[str]) -> list[Assignment]:
        """Operators of the campaign who asked to be ready AND whom the queue reports available."""
        taken = set(busy)
        return [
            a
            for a in self._assignments
            if a.campaign_id == campaign_id
            and a.desired is OperatorState.READY
            and a.interface not in taken
            and self._observed.get((a.queue, a.interface)) is MemberState.AVAILABLE
        ]

    def _wrapping(self, a: Assignment, now: float | None) -> bool:
        free_at = self.free_at(a.queue, a.interface)
        return now is not None and free_at is not None and free_at > now

    def ready(self, campaign_id: int, busy: Iterable[str] = (), now: float | None = None) -> list[Assignment]:
        """Available operators the queue would offer a call at ``now``: not in wrap-up.

        Without ``now`` wrap-up is not considered.
        """
        return [a for a in self._idle(campaign_id, busy) if not self._wrapping(a, now)]

    def wrapping(self, campaign_id: int, busy: Iterable[str], now: float) -> dict[str, OperatorView]:
        """Available operators still in wrap-up at ``now``, by interface."""
        views: dict[str, OperatorView] = {}
        for a in self._idle(campaign_id, busy):
            free_at = self.free_at(a.queue, a.interface)
            if free_at is not None and free_at > now:
                wrapup = free_at - self._last_end[a.interface]
                views[a.interface] = wrap_up(self._last_end[a.interface], wrapup)
        return views

    def paused(self, campaign_id: int) -> int:
        return sum(
            1
            for a in self._assignments
            if a.campaign_id == campaign_id
            and self._observed.get((a.queue, a.interface)) is MemberState.PAUSED
        )

    def name_of(self, interface: str) -> str | None:
        for a in self._assignments:
            if a.interface == interface:
                return a.operator
        return None

"""The engine's side of operators: carry out the membership plan, track observed states.

What to do is decided by the pure plan in ``dialer.policy.membership``; this module
sends the queue actions through the port, keeps what it applied and what the queue
reports, and waits ``retry_s`` of the engine's clock before trying a refused member again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from dialer.core.errors import TelephonyError
from dialer.core.operators import OperatorState
from dialer.core.telephony import MemberChanged, MemberState, Telephony
from dialer.policy.membership import (
    OBSERVED,
    Assignment,
    Member,
    QueueAction,
    adopted_state,
    leaving,
    next_step,
    paused_members,
    ready_members,
    shortfall,
)

log = logging.getLogger(__name__)


class Membership:
    """Queue membership as this engine applied it and as the phone system reports it."""

    def __init__(
        self, telephony: Telephony, retry_s: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._telephony = telephony
        self._retry_s = retry_s  # after a refused queue action, try that member again this much later
        self._clock = clock  # the engine's
        self._retry_at: dict[Member, float] = {}
        self._assignments: list[Assignment] = []
        self._applied: dict[Member, OperatorState] = {}
        self._observed: dict[Member, MemberState] = {}

    async def apply(
        self, assignments: Sequence[Assignment], pending: Mapping[int, int] | None = None
    ) -> None:
        """Bring every queue member to its desired state; members no longer assigned leave.

        ``pending`` counts, per campaign, calls placed that have no operator yet. An
        idle operator who asks to pause or log out stays in the queue until those
        calls are covered by the operators still ready: they were placed for them,
        and pulling the operator now would leave an answered person with nobody.
        No new call counts on the operator meanwhile (``ready`` needs a READY wish).
        """
        self._assignments = list(assignments)
        deficit = shortfall(pending or {}, self._assignments, self._observed)
        wanted: dict[Member, Assignment] = {(a.queue, a.interface): a for a in assignments}
        now = self._clock()
        for key, assignment in wanted.items():
            if self._retry_at.get(key, 0.0) > now:
                continue
            current = self._applied.get(key)
            if current is None:
                current = self._adopt(key)
            cid = assignment.campaign_id
            step = next_step(assignment, current, self._observed.get(key), deficit.get(cid, 0))
            if isinstance(step, QueueAction):
                await self._move(step)
            elif step is not None:
                deficit[cid] -= 1  # let the calls already placed reach this operator first
        for action in leaving(self._applied, wanted):
            await self._move(action)

    def _adopt(self, key: Member) -> OperatorState | None:
        """A member Asterisk already reports is taken as it is (``adopted_state``)."""
        state = adopted_state(self._observed.get(key))
        if state is not None:
            self._applied[key] = state
        return state

    async def _move(self, action: QueueAction) -> None:
        queue, interface, name, current, desired = (
            action.queue,
            action.interface,
            action.operator,
            action.current,
            action.desired,
        )
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
            self._retry_at[(queue, interface)] = self._clock() + self._retry_s
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

    def disown(self, queue: str) -> None:
        """Another node manages ``queue`` now: stop tracking it, and never remove its members."""
        for table in (self._applied, self._observed, self._retry_at):
            for key in [k for k in table if k[0] == queue]:
                del table[key]

    def on_member(self, event: MemberChanged) -> OperatorState:
        self._observed[(event.queue, event.interface)] = event.state
        return OBSERVED[event.state]

    def observed(self, queue: str, interface: str) -> MemberState | None:
        return self._observed.get((queue, interface))

    def ready(self, campaign_id: int, busy: Iterable[str] = ()) -> list[Assignment]:
        """Operators of the campaign who asked to be ready AND whom the queue reports available."""
        return ready_members(self._assignments, self._observed, campaign_id, busy)

    def paused(self, campaign_id: int) -> int:
        return paused_members(self._assignments, self._observed, campaign_id)

    def name_of(self, interface: str) -> str | None:
        for a in self._assignments:
            if a.interface == interface:
                return a.operator
        return None

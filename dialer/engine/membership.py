"""The engine's side of operators: carry out the membership plan, track observed states.

What to do is decided by the pure plan in ``dialer.policy.membership``; this module
sends the queue actions through the port, keeps what it applied and what the queue
reports, and waits ``retry_s`` of the engine's clock before trying a refused member again.

An operator whose call has just ended is idle, and the queue reports them "not in
use", yet the queue offers them nothing until its wrap-up time has passed since
that call (``dialer.pacing.team``). The end of the call is the later of what the
queue reports (``LastCall``) and the end of the call this engine saw; the wrap-up
time is the member's own if the queue reports one, else the queue's
(``queue_wrapup_s``: the queues' ``wrapuptime``, which Asterisk does not report).

A campaign may also hold an operator's wrap-up until their disposition
(``dialer.engine.wrapup``): a held member is paused in every queue it serves,
with the reason ``wrap-up``, whatever it asked for, and counts for the pacer as
in an open-ended wrap-up, not as paused. Released, it follows its wish again.

While a call placed for one operator (``dialer.engine.direct``) is live, that
operator is paused the same way with the reason ``direct``, so that no queue
offers them another call meanwhile; when it ends they follow their wish again,
or stay held if their wrap-up is. A paused member whose reason changes (direct,
then wrap-up) is paused again with the new reason.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from dialer.core.errors import TelephonyError
from dialer.core.operators import OperatorState
from dialer.core.telephony import MemberChanged, MemberState, Telephony
from dialer.pacing.team import OperatorView, held_for_calls, held_wrap_up, wrap_end, wrap_up
from dialer.policy.membership import (
    OBSERVED,
    Assignment,
    Member,
    QueueAction,
    adopted_state,
    asks_to_leave,
    leaving,
    next_step,
    paused_members,
    ready_members,
)
from dialer.policy.sharing import share_operators

log = logging.getLogger(__name__)
WRAP_UP_REASON = "wrap-up"  # the pause reason Asterisk shows for a member held in wrap-up
DIRECT_REASON = "direct"  # ... and for a member whose call for one operator is live
OWN_REASON = "dialer"  # ... and for one paused as they asked


class Membership:
    """Queue membership as this engine applied it and as the phone system reports it."""

    def __init__(
        self,
        telephony: Telephony,
        retry_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        queue_wrapup_s: float = 0.0,
    ) -> None:
        self._telephony = telephony
        self._queue_wrapup_s = queue_wrapup_s
        self._last_end: dict[str, float] = {}  # interface -> end of its last call
        self._own_wrapup: dict[Member, float] = {}
        self._retry_s = retry_s  # after a refused queue action, try that member again this much later
        self._clock = clock  # the engine's
        self._retry_at: dict[Member, float] = {}
        self._assignments: list[Assignment] = []
        self._applied: dict[Member, OperatorState] = {}
        self._observed: dict[Member, MemberState] = {}
        self._held: dict[str, float] = {}  # interface -> end of the call whose disposition it awaits
        self._direct: set[str] = set()  # interfaces with a live call placed for them alone
        self._reasons: dict[Member, str] = {}  # the pause reason this engine last gave a member
        self._pending: Mapping[int, Sequence[float]] = {}
        self._asked_at: dict[Member, float] = {}  # idle members who asked to leave: since when
        self.dirty = False  # a hold began or ended: apply at the next tick, not the next poll

    def hold(self, interface: str, call_ended_at: float) -> None:
        """Keep ``interface`` paused in all its queues until ``release``: its wrap-up awaits a disposition."""
        self._held[interface] = call_ended_at
        self.dirty = True

    def release(self, interface: str) -> None:
        if self._held.pop(interface, None) is not None:
            self.dirty = True

    def direct_call(self, interface: str) -> None:
        """A call for ``interface`` alone is placed: keep it paused in its queues until ``direct_ended``."""
        self._direct.add(interface)
        self.dirty = True

    def direct_ended(self, interface: str | None) -> None:
        if interface in self._direct:
            self._direct.discard(interface)
            self.dirty = True

    def let_go(self) -> None:
        """The engine stops: it holds nobody any more (no wrap-up, no direct call); retry every member."""
        self._held.clear()
        self._direct.clear()
        self._retry_at.clear()
        self.dirty = True

    def _kept(self, interface: str) -> bool:
        """Held out of the queues by the engine, whatever the operator asked for."""
        return interface in self._held or interface in self._direct

    def _reason(self, interface: str) -> str:
        if interface in self._held:
            return WRAP_UP_REASON
        return DIRECT_REASON if interface in self._direct else OWN_REASON

    def _wish(self, assignment: Assignment) -> Assignment:
        """What to apply for ``assignment``: paused while held or in a direct call, else what it asked for."""
        if self._kept(assignment.interface) and assignment.desired is OperatorState.READY:
            return replace(assignment, desired=OperatorState.PAUSED)
        return assignment

    async def apply_again(self) -> None:
        """``apply`` the last assignments again at once (a direct call was placed: pause first)."""
        await self.apply(self._assignments, self._pending)

    async def apply(
        self, assignments: Sequence[Assignment], pending: Mapping[int, Sequence[float]] | None = None
    ) -> None:
        """Bring every queue member to its desired state; members no longer assigned leave.

        ``pending`` holds, per campaign, the dial times of calls placed that have no
        operator yet. An idle operator who asks to pause or log out stays in the queue
        while the calls placed before they asked outnumber the operators still ready
        (``held_for_calls``, as in the simulator): they may have been placed for them,
        and pulling the operator now would leave an answered person with nobody. No new
        call counts on the operator meanwhile (``ready`` needs a READY wish), so the hold
        ends once the calls placed before the ask are answered or over.
        """
        self._assignments, self._pending = list(assignments), dict(pending or {})
        self.dirty = False
        wanted: dict[Member, Assignment] = {(a.queue, a.interface): self._wish(a) for a in assignments}
        now = self._clock()
        holding = self._holding(wanted, pending or {}, now)
        for key, assignment in wanted.items():
            if self._retry_at.get(key, 0.0) > now:
                continue
            current = self._applied.get(key)
            if current is None:
                current = self._adopt(key)
            step = next_step(
                assignment, current, self._observed.get(key), key in holding
            ) or self._new_reason(key, current)
            if isinstance(step, QueueAction):
                await self._move(step)
        for action in leaving(self._applied, wanted):
            await self._move(action)

    def _new_reason(self, key: Member, current: OperatorState | None) -> QueueAction | None:
        """Pause again a member this engine paused for another reason than the one that holds now."""
        queue, interface = key
        given = self._reasons.get(key)
        if current is not OperatorState.PAUSED or given is None or given == self._reason(interface):
            return None
        return QueueAction(queue, interface, self.name_of(interface) or "", current, current)

    def _holding(
        self, wanted: Mapping[Member, Assignment], pending: Mapping[int, Sequence[float]], now: float
    ) -> set[Member]:
        """Members who asked to leave (noting when each first did) and stay for calls placed before."""
        asking: dict[Member, Assignment] = {}
        for key, a in wanted.items():
            observed = self._observed.get(key)
            current = self._applied.get(key) or adopted_state(observed)
            if not self._kept(a.interface) and asks_to_leave(a, current, observed):
                asking[key] = a
        self._asked_at = {key: self._asked_at.get(key, now) for key in asking}
        holding: set[Member] = set()
        for cid in {a.campaign_id for a in asking.values()}:
            others = len(ready_members(self._assignments, self._observed, cid))
            asked = {key: self._asked_at[key] for key, a in asking.items() if a.campaign_id == cid}
            holding |= held_for_calls(asked, pending.get(cid, ()), others)
        return holding

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
        self._reasons.pop((queue, interface), None)
        try:
            if desired is OperatorState.LOGGED_OUT:
                await self._telephony.queue_remove(queue, interface)
            elif current in (OperatorState.PAUSED, OperatorState.READY):
                reason = self._reason(interface) if paused else OWN_REASON
                await self._telephony.queue_pause(queue, interface, paused, reason=reason)
                if paused:
                    self._reasons[(queue, interface)] = reason
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
        self._own_wrapup.clear()
        self._reasons.clear()

    def disown(self, queue: str) -> None:
        """Another node manages ``queue`` now: stop tracking it, and never remove its members."""
        for table in (self._applied, self._observed, self._retry_at, self._own_wrapup, self._reasons):
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

    def ready(self, campaign_id: int, busy: Iterable[str] = (), now: float | None = None) -> list[Assignment]:
        """Operators who asked to be ready, reported available, and offered calls at ``now``.

        Without ``now`` wrap-up is not considered.
        """
        idle = ready_members(self._assignments, self._observed, campaign_id, busy)
        return [
            a for a in idle if a.interface not in self._held and (now is None or not self._wrapping(a, now))
        ]

    def _wrapping(self, a: Assignment, now: float) -> bool:
        free_at = self.free_at(a.queue, a.interface)
        return free_at is not None and free_at > now

    def shares(
        self,
        campaign_ids: Sequence[int],
        busy: Iterable[str],
        pending: Mapping[int, int],
        tick: int,
        now: float,
    ) -> dict[int, tuple[list[Assignment], list[OperatorView]]]:
        """Each campaign's share of the operators ready and in wrap-up at ``now``, none counted twice.

        See ``dialer.policy.sharing``; an operator in wrap-up in several queues counts for one too.
        """
        busy = set(busy)
        ready = {cid: self.ready(cid, busy, now) for cid in campaign_ids}
        wrapping = {cid: self.wrapping(cid, busy, now) for cid in campaign_ids}
        mine = share_operators(
            {cid: [a.interface for a in found] for cid, found in ready.items()}, pending, tick
        )
        wraps = share_operators({cid: list(found) for cid, found in wrapping.items()}, {}, tick)
        return {
            cid: (
                [a for a in ready[cid] if a.interface in set(mine.get(cid, ()))],
                [wrapping[cid][i] for i in wraps.get(cid, ())],
            )
            for cid in campaign_ids
        }

    def wrapping(self, campaign_id: int, busy: Iterable[str], now: float) -> dict[str, OperatorView]:
        """Operators in wrap-up at ``now``, by interface: held ones, and available ones in the queue's."""
        taken = set(busy)
        views: dict[str, OperatorView] = {
            a.interface: held_wrap_up(self._held[a.interface])
            for a in self._assignments
            if a.campaign_id == campaign_id
            and a.interface in self._held
            and a.interface not in taken
            and a.desired is OperatorState.READY
        }
        for a in ready_members(self._assignments, self._observed, campaign_id, busy):
            if a.interface in views:
                continue
            free_at = self.free_at(a.queue, a.interface)
            if free_at is not None and free_at > now:
                ended = self._last_end[a.interface]
                views[a.interface] = wrap_up(ended, free_at - ended)
        return views

    def leaving(self, campaign_id: int) -> set[str]:
        """Interfaces of the campaign's operators who asked to pause or log out."""
        return {
            a.interface
            for a in self._assignments
            if a.campaign_id == campaign_id and a.desired is not OperatorState.READY
        }

    def paused(self, campaign_id: int) -> int:
        """Members the queue reports paused, those held in wrap-up apart (they count as wrapping),
        and idle ones who asked to leave and stay for calls placed before (as the simulator counts them)."""
        mine = [
            a
            for a in self._assignments
            if not self._kept(a.interface) or a.desired is not OperatorState.READY
        ]
        asking = sum(
            1
            for a in mine
            if a.campaign_id == campaign_id
            and (a.queue, a.interface) in self._asked_at
            and self._observed.get((a.queue, a.interface)) is MemberState.AVAILABLE
        )
        return paused_members(mine, self._observed, campaign_id) + asking

    def name_of(self, interface: str) -> str | None:
        for a in self._assignments:
            if a.interface == interface:
                return a.operator
        return None

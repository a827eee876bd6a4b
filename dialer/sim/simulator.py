"""A seeded discrete-event simulation of one campaign shift.

Virtual time, a heap of events. Every pacing tick the simulator builds the same
``PacingSnapshot`` the engine builds, asks the product's pacer how many calls
to place, and drives every call through the product's attempt state machine
(``dialer.core.attempt.apply``) with the same telephony events Asterisk would send.
Nothing happens per operator per second: operators change state only at events.

At the end of the shift dialing stops; calls already placed play out, so the
abandon rate includes the tail. Utilisation counts work inside the shift only.

Most calls are never answered by a person, and the state machine's verdict on
them depends only on the kind of failure (busy, no answer, congestion, a
machine), not on times or ids. So each kind is put through ``apply`` once and
its verdict reused; a person's call is driven event by event. The results are
the same as applying every event to every call, several times faster.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from dialer.core.attempt import Attempt, AttemptState, Outcome, apply, counts_toward_abandon_rate
from dialer.core.telephony import (
    Answered,
    CallEvent,
    FailReason,
    HungUp,
    MachineDetected,
    OperatorConnected,
    OriginateFailed,
    QueueJoined,
    Ringing,
    SafeHarbourPlayed,
)
from dialer.pacing import (
    AbandonStats,
    DialCaps,
    EstimatesTracker,
    Pacer,
    PacingDecision,
    PacingSnapshot,
    make_pacer,
)
from dialer.pacing.team import Activity, OperatorView, build_snapshot, held_for_calls, wrap_up
from dialer.sim.params import SimParams
from dialer.sim.report import SimResult, Tally
from dialer.sim.world import CallPlan, Customers, Fate, Operators, warm_tracker

QUEUE = "sim"
SAFE_HARBOUR_S = 6.0
MACHINE_TALK_S = (4.0, 12.0)  # an operator who reaches a machine hangs up quickly

_ANSWERING = frozenset({Fate.PERSON, Fate.MACHINE})

# Event kinds on the heap.
_RESOLVE, _DEADLINE, _PATIENCE, _TALK_END, _WRAP_END, _LOGIN, _LOGOUT = range(7)


@dataclass(frozen=True)
class Foresight:
    """What only the simulation knows: when each call in flight brings a person to the
    queue, and when each busy operator will be free. For the benchmark's limit, never
    for the product's pacers."""

    answers_at: tuple[float, ...]  # calls in flight that a person answers: when they join the queue
    free_at: tuple[float, ...]  # operators in a call or wrap-up who stay on: when they are free
    queued: int = 0  # people in the queue now, waiting for an operator


@runtime_checkable
class Foreseeing(Protocol):
    """A pacer that is told the ``Foresight`` as well as the snapshot (the benchmark's limit)."""

    def decide_knowing(self, snap: PacingSnapshot, sight: Foresight) -> PacingDecision: ...


def run_simulation(params: SimParams, pacer: Pacer | None = None) -> SimResult:
    """Simulate one shift; ``pacer`` overrides ``params.mode`` (for baselines)."""
    return _Shift(params, pacer or make_pacer(params.mode)).run()


class _Shift:
    def __init__(self, params: SimParams, pacer: Pacer) -> None:
        self.p = params
        self.pacer = pacer
        self.rng = random.Random(params.seed)
        self.customers = Customers(
            answer_rate=params.answer_rate,
            ring_mean=params.ring_mean,
            busy_share=params.busy_share,
            no_answer_share=params.no_answer_share,
            machine_share=params.machine_share,
            ring_timeout=params.ring_timeout,
            patience_mean=params.patience_mean,
            amd_s=params.amd_s,
        )
        self.operators = Operators(
            talk_mean=params.talk_mean, wrap_mean=params.wrap, wrap_sigma=0.0 if params.wrap_by_queue else 0.2
        )
        self.limits = DialCaps(params.max_channels, params.max_originate_per_tick)
        self.shift_s = params.hours * 3600.0
        self.tally = Tally(self.shift_s, params.bucket_s, params.operators)
        self.tracker = EstimatesTracker()
        if params.day.start == "warm":
            rate = params.answer_rate * params.day.mean_answer_factor(params.hours)
            warm_tracker(self.tracker, self.customers, self.operators, min(1.0, rate), params.seed)
        self.heap: list[tuple[float, int, int, str | int]] = []
        self.seq = 0
        self.attempts: dict[str, Attempt] = {}  # created when a person answers
        self._verdicts: dict[tuple[type[CallEvent], str, str], tuple[bool, bool]] = {}
        self.plans: dict[str, CallPlan] = {}
        self.pending: dict[str, float] = {}  # placed, not yet in the queue: dial time
        self.waiting: deque[str] = deque()
        self.ready: deque[int] = deque()
        self.wrapping: dict[int, float] = {}  # operator -> wrap-up start
        # What each operator is doing, in the model the engine's live view uses too; an
        # operator not logged in yet, or gone for the day, has no view.
        self.views: dict[int, OperatorView] = {}
        self.on_call: dict[int, tuple[str, float]] = {}  # operator -> (attempt, connect time)
        self.free_at: dict[int, float] = {}  # operator in a call -> end of its wrap-up
        self.away: set[int] = set()  # scheduled off (a break, lunch, gone): leaves after the call
        self.on_since: dict[int, float] = {}  # logged in and not on a break since
        # Due to leave, idle, kept while calls placed before they asked may still need them: when they asked.
        self.held: dict[int, float] = {}
        self._schedule()

    def _schedule(self) -> None:
        """Every operator's logins and logouts, from the day's plan."""
        for op in range(self.p.operators):
            self.views[op] = OperatorView(Activity.PAUSED)
            self.away.add(op)
            spans = self.p.day.presence(op, self.p.hours)
            for start, end in spans:
                self._push(start, _LOGIN, op)
                if end < self.shift_s:
                    self._push(end, _LOGOUT, op)
            if not spans or spans[0][0] > 0:
                del self.views[op]  # not logged in yet (a break shows as paused)

    # --- main loop ------------------------------------------------------------------

    def run(self) -> SimResult:
        ticks = math.ceil(self.shift_s / self.p.tick)
        foreseeing = isinstance(self.pacer, Foreseeing)
        for i in range(ticks):
            now = i * self.p.tick
            self._process_until(now)
            if self.held:
                self._release_held(now)
            snap = self._snapshot(now)
            if foreseeing:
                decision = self.pacer.decide_knowing(snap, self.foresight())  # type: ignore[attr-defined]
            else:
                decision = self.pacer.decide(snap)
            for _ in range(max(0, decision.calls)):
                self._place(now)
        self._process_until(math.inf)
        for since in self.on_since.values():
            self.tally.present(since, self.shift_s)
        return self.tally.result(self.p)

    def foresight(self) -> Foresight:
        answers = [
            dialed + self.plans[aid].verdict_after
            for aid, dialed in self.pending.items()
            if self.plans[aid].fate is Fate.PERSON
        ]
        free = [at for op, at in self.free_at.items() if op not in self.away]
        return Foresight(tuple(sorted(answers)), tuple(sorted(free)), len(self.waiting))

    def _process_until(self, t: float) -> None:
        heap = self.heap
        while heap and heap[0][0] <= t:
            at, _, kind, key = heapq.heappop(heap)
            if kind == _RESOLVE:
                self._resolve(str(key), at)
            elif kind == _WRAP_END:
                self._wrap_end(int(key), at)
            elif kind == _TALK_END:
                self._talk_end(int(key), at)
            elif kind == _LOGIN:
                self._login(int(key), at)
            elif kind == _LOGOUT:
                self._logout(int(key), at)
            else:
                self._give_up(str(key), at, kind)

    def _push(self, at: float, kind: int, key: str | int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, key))

    def _snapshot(self, now: float) -> PacingSnapshot:
        # A call answered and still being screened for a machine is waiting, as the
        # engine counts it: it may be a person.
        ringing: list[float] = []
        screening = 0
        for aid, dialed in self.pending.items():
            plan = self.plans[aid]
            if plan.fate in _ANSWERING and dialed + plan.outcome_after <= now:
                screening += 1
            else:
                ringing.append(dialed)
        return build_snapshot(
            now,
            self.views.values(),
            ringing=ringing,
            waiting=len(self.waiting) + screening,
            estimates=self.tracker.current(),
            abandon=AbandonStats(self.tally.abandoned, self.tally.live_answers),
            limits=self.limits,
        )

    # --- calls ----------------------------------------------------------------------

    def _place(self, now: float) -> None:
        self.tally.placed(now)
        aid = f"a{self.tally.calls}"
        rate = min(1.0, self.p.answer_rate * self.p.day.answer_factor(now))
        plan = self.customers.plan(self.rng, rate)
        self.plans[aid] = plan
        self.pending[aid] = now
        self._push(now + plan.verdict_after, _RESOLVE, aid)

    def _apply(self, aid: str, event: CallEvent) -> Attempt:
        before = self.attempts[aid]
        after = apply(before, event)
        self.attempts[aid] = after
        if after.outcome is not None and before.outcome is None:
            live, abandoned = counts_toward_abandon_rate(after.outcome)
            if live:
                self.tally.live_answer(event.at, abandoned)
        if after.state is AttemptState.ENDED:
            del self.attempts[aid]
            self.plans.pop(aid, None)
        return after

    def _unanswered(self, aid: str, event: OriginateFailed | MachineDetected) -> None:
        """A call that ends before any person answers: classify it by its kind of failure."""
        key: tuple[type[CallEvent], str, str]
        if isinstance(event, OriginateFailed):
            key = (type(event), event.reason.value, str(event.hangup_cause))
        else:
            key = (type(event), event.status, event.cause)
        verdict = self._verdicts.get(key)
        if verdict is None:
            first = Attempt.dial(aid, 0.0, self.p.connect_limit, amd_enabled=self.p.amd_s > 0)
            after = apply(first, event)
            if after.state is not AttemptState.ENDED:
                raise AssertionError(f"{key} should end the attempt")
            verdict = counts_toward_abandon_rate(after.outcome)
            self._verdicts[key] = verdict
        live, abandoned = verdict
        if live:
            self.tally.live_answer(event.at, abandoned)
        del self.plans[aid]

    def _resolve(self, aid: str, at: float) -> None:
        """The call reaches its outcome: a failure, a machine, or a person in the queue."""
        plan = self.plans[aid]
        dialed = self.pending.pop(aid)
        fate = plan.fate
        if fate in (Fate.BUSY, Fate.CONGESTION):
            reason = FailReason.BUSY if fate is Fate.BUSY else FailReason.CONGESTION
            self._unanswered(aid, OriginateFailed(aid, at, reason, 17 if fate is Fate.BUSY else 34))
            self.tracker.call_resolved(False, at - dialed)
            return
        # Failures and machines skip the events that change nothing for them
        # (ringing, the answer implied by the AMD verdict): the shift has
        # hundreds of thousands of them. A person's call gets every event.
        if fate is Fate.NO_ANSWER:
            self._unanswered(aid, OriginateFailed(aid, at, FailReason.NO_ANSWER, 19))
            self.tracker.call_resolved(False, at - dialed)
            return
        amd = self.p.amd_s > 0
        if amd and fate is Fate.MACHINE:
            self._unanswered(aid, MachineDetected(aid, at, "MACHINE", "LONGGREETING"))
            self.tracker.call_resolved(False, at - dialed)
            return
        self.attempts[aid] = Attempt.dial(aid, dialed, self.p.connect_limit, amd_enabled=amd)
        self._apply(aid, Ringing(aid, dialed + plan.ringing_after))
        self._apply(aid, Answered(aid, dialed + plan.outcome_after))
        if amd:
            self._apply(aid, MachineDetected(aid, at, "HUMAN", "HUMAN"))
        self._apply(aid, QueueJoined(aid, at, QUEUE))
        self.tracker.call_resolved(True, at - dialed)
        self.tally.answered(dialed)
        if self.ready:
            self._connect(self.ready.popleft(), aid, at)
            return
        self.waiting.append(aid)
        self._push(at + self.p.connect_limit, _DEADLINE, aid)
        if plan.patience < self.p.connect_limit:
            self._push(at + plan.patience, _PATIENCE, aid)

    def _give_up(self, aid: str, at: float, kind: int) -> None:
        """No operator in time (safe-harbour message) or the person hung up waiting."""
        attempt = self.attempts.get(aid)
        if attempt is None or attempt.state is not AttemptState.WAITING:
            return
        self.waiting.remove(aid)
        if kind == _DEADLINE:
            self._apply(aid, SafeHarbourPlayed(aid, at))
            self._apply(aid, HungUp(aid, at + SAFE_HARBOUR_S, 16, "Normal Clearing"))
        else:
            self._apply(aid, HungUp(aid, at, 16, "Normal Clearing"))

    # --- operators ------------------------------------------------------------------

    def _connect(self, op: int, aid: str, at: float) -> None:
        attempt = self._apply(aid, OperatorConnected(aid, at, QUEUE, f"Local/op{op}"))
        if self.plans[aid].fate is Fate.MACHINE:
            talk = self.rng.uniform(*MACHINE_TALK_S)
        else:
            talk = self.operators.talk(self.rng)
        assert attempt.outcome is Outcome.CONNECTED or attempt.outcome is Outcome.ABANDONED
        self.views[op] = OperatorView(Activity.IN_CALL, at, leaving=op in self.away)
        self.on_call[op] = (aid, at)
        self.free_at[op] = at + talk + self.operators.wrap_mean
        self._push(at + talk, _TALK_END, op)

    def _talk_end(self, op: int, at: float) -> None:
        aid, _ = self.on_call[op]
        self._apply(aid, HungUp(aid, at, 16, "Normal Clearing"))
        self.wrapping[op] = at
        wrap = self.operators.wrap(self.rng)
        self.free_at[op] = at + wrap
        view = wrap_up(at, wrap if self.p.wrap_by_queue else None)
        self.views[op] = replace(view, leaving=op in self.away)
        self._push(at + wrap, _WRAP_END, op)

    def _wrap_end(self, op: int, at: float) -> None:
        _, connected = self.on_call.pop(op)
        wrap_start = self.wrapping.pop(op)
        del self.free_at[op]
        self.tally.busy(connected, at)
        self.tracker.call_handled(wrap_start - connected, at - wrap_start)
        if op in self.away:
            self._leave(op, at)
        elif self.waiting:
            self._connect(op, self.waiting.popleft(), at)
        else:
            self.views[op] = OperatorView(Activity.READY)
            self.ready.append(op)

    # --- schedules --------------------------------------------------------------------

    def _login(self, op: int, at: float) -> None:
        """Back from a break (or in for the day): ready, unless still in the call they left late."""
        self.away.discard(op)
        if self.held.pop(op, None) is not None:
            self.views[op] = OperatorView(Activity.READY)
            return
        if op in self.on_call:
            self.views[op] = replace(self.views[op], leaving=False)
            return
        self.on_since[op] = at
        if self.waiting:
            self._connect(op, self.waiting.popleft(), at)
        else:
            self.views[op] = OperatorView(Activity.READY)
            self.ready.append(op)

    def _logout(self, op: int, at: float) -> None:
        """Time for a break (or home): a ready operator goes now, a busy one after the call.

        As the engine does (``dialer.engine.membership``), an idle operator stays in the queue
        while the calls placed before they asked outnumber the other ready operators
        (``held_for_calls``), and the pacer no longer counts them meanwhile.
        """
        self.away.add(op)
        if op in self.on_call:
            self.views[op] = replace(self.views[op], leaving=True)
        else:
            self.views[op] = OperatorView(Activity.PAUSED, at)
            self.held[op] = at
            self._release_held(at)

    def _release_held(self, at: float) -> None:
        for op in [op for op in self.held if op not in self.ready]:
            del self.held[op]  # took a call: leaves after it
        # An idle operator is in ``ready``, so no answered call waits: only those ringing count.
        keep = held_for_calls(self.held, self.pending.values(), len(self.ready) - len(self.held))
        for op in [op for op in self.held if op not in keep]:
            del self.held[op]
            self.ready.remove(op)
            self._leave(op, at)

    def _leave(self, op: int, at: float) -> None:
        self.tally.present(self.on_since.pop(op), at)
        self.views[op] = OperatorView(Activity.PAUSED, at)

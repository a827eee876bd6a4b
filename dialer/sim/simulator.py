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
from dataclasses import dataclass

from dialer.core.attempt import Attempt, AttemptState, Outcome, apply, counts_toward_abandon_rate
from dialer.core.errors import InvalidInput
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
from dialer.pacing import AbandonStats, DialCaps, EstimatesTracker, Pacer, PacingSnapshot, make_pacer
from dialer.pacing.team import Activity, OperatorView, build_snapshot, wrap_up
from dialer.sim.report import SimResult, Tally
from dialer.sim.world import CallPlan, Customers, Fate, Operators

QUEUE = "sim"
SAFE_HARBOUR_S = 6.0
MACHINE_TALK_S = (4.0, 12.0)  # an operator who reaches a machine hangs up quickly

_ANSWERING = frozenset({Fate.PERSON, Fate.MACHINE})

# Event kinds on the heap.
_RESOLVE, _DEADLINE, _PATIENCE, _TALK_END, _WRAP_END = range(5)


@dataclass(frozen=True)
class SimParams:
    """One simulated shift; the first fields match ``dialer simulate``'s flags."""

    operators: int = 20
    answer_rate: float = 0.3
    ring_mean: float = 8.0
    talk_mean: float = 120.0
    wrap: float = 10.0
    hours: float = 8.0
    seed: int = 1
    mode: str = "predictive"
    busy_share: float = 0.15
    no_answer_share: float = 0.6
    machine_share: float = 0.2
    ring_timeout: float = 25.0
    connect_limit: float = 2.0
    patience_mean: float = 20.0
    amd_s: float = 2.5  # answering-machine detection time; 0 sends machines to operators
    tick: float = 1.0
    max_channels: int = 3000
    max_originate_per_tick: int = 200
    bucket_s: float = 600.0
    # Wrap-up as the queue applies it (Asterisk's wrapuptime): exactly ``wrap`` seconds,
    # its end known. False: each operator closes the call in their own time (lognormal
    # around ``wrap``), and the pacer knows only how long they have been at it.
    wrap_by_queue: bool = True

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            # "not low <= value" also catches NaN, which compares false with everything.
            if not (math.isfinite(value) and low <= value <= high):
                raise InvalidInput(f"--{name.replace('_', '-')} {value:g}: expected {low:g} to {high:g}")
        if self.talk_mean <= 0 or self.ring_mean <= 0 or self.hours <= 0 or self.tick <= 0:
            raise InvalidInput("--talk-mean, --ring-mean and --hours must be more than 0")
        if self.busy_share + self.no_answer_share + self.machine_share > 1.0 + 1e-9:
            raise InvalidInput("--busy-share, --no-answer-share and --machine-share add up to more than 1")


# Every number of a shift, with the range a simulation of one shift can take: the bounds keep
# NaN, infinity and sizes that would take the machine's memory (1e8 operators, 1e9 hours) out.
_RANGES: dict[str, tuple[float, float]] = {
    "operators": (1, 10_000),
    "answer_rate": (0.0, 1.0),
    "ring_mean": (0.0, 600.0),
    "talk_mean": (0.0, 36_000.0),
    "wrap": (0.0, 3_600.0),
    "hours": (0.0, 168.0),
    "busy_share": (0.0, 1.0),
    "no_answer_share": (0.0, 1.0),
    "machine_share": (0.0, 1.0),
    "ring_timeout": (2.0, 600.0),
    "connect_limit": (0.0, 60.0),
    "patience_mean": (0.0, 3_600.0),
    "amd_s": (0.0, 60.0),
    "tick": (0.01, 60.0),
    "max_channels": (1, 100_000),
    "max_originate_per_tick": (1, 100_000),
    "bucket_s": (1.0, 86_400.0),
}


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
        self.heap: list[tuple[float, int, int, str | int]] = []
        self.seq = 0
        self.attempts: dict[str, Attempt] = {}  # created when a person answers
        self._verdicts: dict[tuple[type[CallEvent], str, str], tuple[bool, bool]] = {}
        self.plans: dict[str, CallPlan] = {}
        self.pending: dict[str, float] = {}  # placed, not yet in the queue: dial time
        self.waiting: deque[str] = deque()
        self.ready: deque[int] = deque(range(params.operators))
        self.wrapping: dict[int, float] = {}  # operator -> wrap-up start
        # What each operator is doing, in the model the engine's live view uses too.
        self.views: dict[int, OperatorView] = {op: OperatorView(Activity.READY) for op in self.ready}
        self.on_call: dict[int, tuple[str, float]] = {}  # operator -> (attempt, connect time)

    # --- main loop ------------------------------------------------------------------

    def run(self) -> SimResult:
        ticks = math.ceil(self.shift_s / self.p.tick)
        for i in range(ticks):
            now = i * self.p.tick
            self._process_until(now)
            decision = self.pacer.decide(self._snapshot(now))
            for _ in range(max(0, decision.calls)):
                self._place(now)
        self._process_until(math.inf)
        return self.tally.result(self.p)

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
        self.tally.calls += 1
        aid = f"a{self.tally.calls}"
        plan = self.customers.plan(self.rng)
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
        self.views[op] = OperatorView(Activity.IN_CALL, at)
        self.on_call[op] = (aid, at)
        self._push(at + talk, _TALK_END, op)

    def _talk_end(self, op: int, at: float) -> None:
        aid, _ = self.on_call[op]
        self._apply(aid, HungUp(aid, at, 16, "Normal Clearing"))
        self.wrapping[op] = at
        wrap = self.operators.wrap(self.rng)
        self.views[op] = wrap_up(at, wrap if self.p.wrap_by_queue else None)
        self._push(at + wrap, _WRAP_END, op)

    def _wrap_end(self, op: int, at: float) -> None:
        _, connected = self.on_call.pop(op)
        wrap_start = self.wrapping.pop(op)
        self.tally.busy(connected, at)
        self.tracker.call_handled(wrap_start - connected, at - wrap_start)
        if self.waiting:
            self._connect(op, self.waiting.popleft(), at)
        else:
            self.views[op] = OperatorView(Activity.READY)
            self.ready.append(op)

"""The dial engine: claims due leads, dials them, hands answers to operators, records outcomes.

One ``DialEngine`` runs on one node against one phone system (a ``Telephony``)
and one store. Two tasks share its state in a single event loop:

- the event task feeds every call event to the attempt's state machine
  (``dialer.core.attempt``) and every member event to ``Membership``;
- the tick task, a few times a second, applies operators' desired states,
  expires silent calls and asks each campaign's pacer how many calls to place.

Crash safety: an attempt row is committed before its Originate is sent (one
transaction per dialing cycle); call progress and operator states are written
once per tick (``dialer.store.recorder.Journal``); on start the engine ends this
node's unfinished attempts and releases its claims.
The engine never imports an AMI library and reads no globals: everything comes
in through ``EngineSettings`` and the constructor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from campaigns.models import Campaign
from dialer.core.attempt import Attempt, AttemptState, Outcome, apply, expire
from dialer.core.errors import NotFound, TelephonyError
from dialer.core.telephony import (
    ConnectionLost,
    ConnectionRestored,
    FailReason,
    HungUp,
    MachineDetected,
    MemberChanged,
    OperatorConnected,
    OriginateFailed,
    OriginateRequest,
    Telephony,
    TelephonyEvent,
)
from dialer.engine.adoption import adopt_calls, adopted_ids
from dialer.engine.campaign_run import CampaignRun, abandon_policy, default_pacer
from dialer.engine.live import LiveCall, busy_operators, deadline, pacing_explain, should_hold, snapshot
from dialer.engine.membership import Assignment, Membership, load_assignments
from dialer.engine.selection import select_leads, settle_uncallable
from dialer.pacing import AbandonPolicy, Pacer
from dialer.pacing.team import OperatorView
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.originate import build_request
from dialer.policy.ratelimit import TokenBucket
from dialer.policy.sharing import share_operators
from dialer.store.abandon import (
    AbandonSettings,
    AbandonTracker,
    reclassify_machine,
    stored_abandon_stats,
    window_length,
)
from dialer.store.claims import release_claims
from dialer.store.nodes import DEFAULT_LEASE_S, beat, leave, take_over_silent
from dialer.store.outlook import outlook
from dialer.store.ownership import disown_all, own_campaigns
from dialer.store.pace import PACED_MODES, learn, save_explain, warm_estimates
from dialer.store.reconcile import reconcile_node
from dialer.store.recorder import Journal, Placement, begin_attempts, finish_attempt, to_dt

log = logging.getLogger(__name__)

# How often ``run(until_done=True)`` looks at what is left to dial, once no call is in flight.
DONE_CHECK_S = 1.0

# The store is unreachable (server restarting, network down): worth waiting out, not dying of.
STORE_DOWN = (OperationalError, InterfaceError)


def default_node_id() -> str:
    """Stable across restarts of the same host, so a restart can reconcile its own attempts."""
    return (os.environ.get("DIALER_NODE") or socket.gethostname() or "node")[:64]


def _default_lead_variables() -> dict[str, str]:
    return {"DIALER_LEAD_NAME": "name"}


@dataclass(frozen=True)
class EngineSettings:
    """How the engine runs; built once (by the CLI or a test) and passed down."""

    node_id: str = field(default_factory=default_node_id)
    tick_s: float = 0.25
    operator_poll_s: float = 0.25
    operator_retry_s: float = 5.0  # after the phone system refused a queue action for an operator
    queue_wrapup_s: float = 0.0  # the queues' wrapuptime: no call offered to an operator this long after one
    campaign_reload_s: float = 2.0
    shutdown_deadline_s: float = 30.0
    expire_after_s: float = 60.0  # silence after which an unconnected call is presumed lost
    max_call_s: float = 4 * 3600.0  # a connected call longer than this is presumed lost
    hangup_grace_s: float = 3.0  # after hanging up at shutdown, wait this long for the hang-ups
    hangup_hold_s: float = 1.0  # how long a causeless pre-answer hang-up waits for the originate's verdict
    abandon_refresh_s: float = 5.0  # how often the abandon rate is re-read from the store (all nodes)
    pacing_save_s: float = 2.0  # how often the pacing explanation is written for `dialer status`
    heartbeat_s: float = 5.0  # how often this node records that it is alive
    node_lease_s: float = DEFAULT_LEASE_S  # another node silent this long is taken over
    takeover_check_s: float = 15.0  # how often to look for silent nodes
    lead_variables: Mapping[str, str] = field(default_factory=_default_lead_variables)

    def __post_init__(self) -> None:
        if not self.node_id or len(self.node_id) > 64:
            raise ValueError("node_id must be 1 to 64 characters")
        if min(self.tick_s, self.operator_poll_s, self.campaign_reload_s, self.abandon_refresh_s) <= 0:
            raise ValueError("intervals must be positive")
        if self.queue_wrapup_s < 0:
            raise ValueError("queue_wrapup_s must not be negative")
        if min(self.heartbeat_s, self.takeover_check_s) <= 0 or self.node_lease_s < 3 * self.heartbeat_s:
            raise ValueError("heartbeats must be positive and the node lease at least three of them")


@dataclass(frozen=True)
class RunReport:
    started: int
    outcomes: dict[str, int]
    reconciled: int
    hung_up_at_shutdown: int
    left: str = ""  # with until_done: what is left for later, and when it becomes callable


class DialEngine:
    def __init__(
        self,
        store: Engine,
        telephony: Telephony,
        settings: EngineSettings,
        campaigns: Sequence[str] = (),
        pacer_for: Callable[[CampaignRules, AbandonPolicy | None], Pacer] = default_pacer,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._telephony = telephony
        self._settings = settings
        self._names = tuple(campaigns)
        self._pacer_for = pacer_for
        self._clock = clock
        self._membership = Membership(telephony, settings.operator_retry_s, settings.queue_wrapup_s)
        self._journal = Journal()
        self._campaigns: dict[int, CampaignRun] = {}  # the campaigns this node dials (owns)
        self._known: list[int] = []  # every campaign this engine serves, whichever node dials it
        self._waiting_for: set[int | None] = set()  # campaigns another node dials
        self._live: dict[str, LiveCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._connected = True  # the phone system's link, as its events report it
        self._outcomes: Counter[str] = Counter()
        self._started = 0
        self._next_reload = 0.0
        self._next_operator_poll = 0.0
        self._next_pacing_save = 0.0
        self._next_beat = 0.0
        self._next_takeover = 0.0
        self._store_down = False
        self._ticks = 0
        self._unrecorded: list[LiveCall] = []  # ended while the store was unreachable
        self._next_done_check = 0.0
        self._waiting_note = ""
        self._left = ""

    # --- public -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop originating; ``run`` lets live calls finish, then returns."""
        self._stop.set()

    @property
    def live_calls(self) -> int:
        return len(self._live)

    @property
    def outcomes(self) -> dict[str, int]:
        return dict(self._outcomes)

    def explain(self) -> dict[str, dict[str, float | str]]:
        """The last pacing decision of each campaign, for logs and status."""
        return {run.rules.name: dict(run.last_explain) for run in self._campaigns.values()}

    async def run(self, until_done: bool = False) -> RunReport:
        adopted = await adopt_calls(self._store, self._telephony, self._settings.node_id, self._clock())
        for call in adopted:
            self._live[call.attempt.attempt_id] = call
            self._journal.note_progress(call.attempt, call.operator_name)
        reconciled = reconcile_node(self._store, self._settings.node_id, self._clock(), adopted_ids(adopted))
        beat(self._store, self._settings.node_id, to_dt(self._clock()), starting=True)
        self._next_beat = self._clock() + self._settings.heartbeat_s
        self._load_campaigns(self._clock())
        events = asyncio.create_task(self._consume_events())
        # Let the event task take in what the phone system reported on connecting (queue
        # members already present) before the first tick decides what to change.
        await asyncio.sleep(0)
        hung_up = 0
        try:
            while not self._stop.is_set():
                try:
                    await self._tick()
                    if until_done and self._done():
                        break
                except STORE_DOWN as exc:
                    self._on_store_down(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._settings.tick_s)
            hung_up = await self._drain()
            self._save_pacing(self._clock(), force=True)
        finally:
            events.cancel()
            await asyncio.gather(events, return_exceptions=True)
            self._journal.flush(self._store)
            release_claims(self._store, self._settings.node_id)
            disown_all(self._store, self._settings.node_id)
            leave(self._store, self._settings.node_id)
        return RunReport(self._started, dict(self._outcomes), reconciled, hung_up, self._left)

    # --- campaigns ----------------------------------------------------------------

    def _load_campaigns(self, now: float) -> None:
        with Session(self._store) as session:
            query = select(Campaign).where(col(Campaign.active).is_(True))
            if self._names:
                query = select(Campaign).where(col(Campaign.name).in_(self._names))
            rows = session.exec(query).all()
        missing = set(self._names) - {c.name for c in rows}
        if missing:
            raise NotFound(f"no campaign named {', '.join(sorted(missing))}")
        self._known = [c.id for c in rows if c.id is not None]
        s = self._settings
        owned = own_campaigns(self._store, s.node_id, self._known, to_dt(now), s.node_lease_s)
        seen: set[int] = set()
        for row in rows:
            if row.id not in owned:
                if row.id not in self._waiting_for:
                    log.info(
                        "campaign %s is dialed by another node; this node takes it if that one stops",
                        row.name,
                    )
                self._waiting_for.add(row.id)
                continue
            self._waiting_for.discard(row.id)
            rules = CampaignRules.from_campaign(row)
            limits = AbandonSettings(cap=row.abandon_cap, window=row.abandon_window)
            seen.add(rules.campaign_id)
            run = self._campaigns.get(rules.campaign_id)
            burst = max(1.0, rules.originate_rate)
            if run is None:
                self._campaigns[rules.campaign_id] = CampaignRun(
                    rules,
                    self._pacer_for(rules, abandon_policy(limits)),
                    TokenBucket(rules.originate_rate, burst),
                    self._abandon_tracker(rules.campaign_id, limits),
                    limits,
                    warm_estimates(self._store, rules.campaign_id, self._settings.queue_wrapup_s),
                )
            else:
                if (run.rules.mode, run.rules.ratio, run.limits) != (rules.mode, rules.ratio, limits):
                    run.pacer = self._pacer_for(rules, abandon_policy(limits))
                if run.limits.window != limits.window:
                    run.abandon = self._abandon_tracker(rules.campaign_id, limits)
                run.rules = rules
                run.limits = limits
                run.bucket.reconfigure(rules.originate_rate, burst)
        for campaign_id in set(self._campaigns) - seen:
            lost = self._campaigns.pop(campaign_id)
            if campaign_id in self._known:
                # Another node dials it now and manages its queue: leave the operators there.
                self._membership.disown(lost.rules.queue)
        self._next_reload = now + self._settings.campaign_reload_s

    def _abandon_tracker(self, campaign_id: int, limits: AbandonSettings) -> AbandonTracker:
        length = window_length(limits.window)
        return AbandonTracker(
            lambda now: stored_abandon_stats(self._store, campaign_id, length, now),
            self._settings.abandon_refresh_s,
        )

    def _save_pacing(self, now: float, force: bool = False) -> None:
        """Write the paced campaigns' explanations for `dialer status` (another process)."""
        if not force and now < self._next_pacing_save:
            return
        self._next_pacing_save = now + self._settings.pacing_save_s
        explains = {
            cid: run.last_explain
            for cid, run in self._campaigns.items()
            if run.rules.mode in PACED_MODES and run.last_explain
        }
        save_explain(self._store, self._settings.node_id, explains, now)

    # --- the tick -----------------------------------------------------------------

    def _on_store_down(self, exc: Exception) -> None:
        if not self._store_down:
            log.warning(
                "the store is unreachable; no new calls until it is back: %s", str(exc).splitlines()[0]
            )
        self._store_down = True

    def _after_store_outage(self) -> None:
        """Record the calls that ended meanwhile; give back leads claimed by a cycle the outage cut short."""
        while self._unrecorded:
            call = self._unrecorded[0]
            finish_attempt(self._store, call.attempt, call.rules.retry, call.operator_name)
            self._unrecorded.pop(0)
        if self._store_down:
            # Between ticks this node holds no claim outside a call: any left was stranded.
            release_claims(self._store, self._settings.node_id)
            self._store_down = False
            log.info("the store is reachable again")

    async def _tick(self) -> None:
        self._journal.flush(self._store)
        self._after_store_outage()
        now = self._clock()
        if now >= self._next_reload:
            self._load_campaigns(now)
        if now >= self._next_operator_poll and self._connected:
            queues = {cid: run.rules.queue for cid, run in self._campaigns.items()}
            await self._membership.apply(
                load_assignments(self._store, queues), self._pending_by_campaign(), now
            )
            self._next_operator_poll = now + self._settings.operator_poll_s
        self._keep_alive(now)
        self._expire_silent(now)
        if self._campaigns and not self._stop.is_set() and self._connected:
            busy = busy_operators(self._live.values())
            ready = {cid: self._membership.ready(cid, busy, now) for cid in self._campaigns}
            wrapping = {cid: self._membership.wrapping(cid, busy, now) for cid in self._campaigns}
            shares = share_operators(
                {cid: [a.interface for a in found] for cid, found in ready.items()},
                self._pending_by_campaign(),
                self._ticks,
            )
            # An operator in wrap-up in several campaigns' queues counts for one of them.
            wrap_shares = share_operators({cid: list(w) for cid, w in wrapping.items()}, {}, self._ticks)
            self._ticks += 1
            for cid, run in list(self._campaigns.items()):
                mine = set(shares.get(cid, ()))
                self._dial_campaign(
                    run,
                    self._clock(),
                    [a for a in ready[cid] if a.interface in mine],
                    [wrapping[cid][i] for i in wrap_shares.get(cid, ())],
                )
        self._save_pacing(self._clock())

    def _keep_alive(self, now: float) -> None:
        """Beat this node's heartbeat; take over nodes that stopped beating theirs."""
        s = self._settings
        if now >= self._next_beat:
            beat(self._store, s.node_id, to_dt(now))
            self._next_beat = now + s.heartbeat_s
        if now >= self._next_takeover:
            take_over_silent(self._store, s.node_id, to_dt(now), s.node_lease_s)
            self._next_takeover = now + s.takeover_check_s

    def _pending_by_campaign(self) -> dict[int, int]:
        pending: Counter[int] = Counter()
        for call in self._live.values():
            if call.attempt.state is not AttemptState.CONNECTED:
                pending[call.rules.campaign_id] += 1
        return dict(pending)

    def _dial_campaign(
        self, run: CampaignRun, now: float, ready: list[Assignment], wrapping: list[OperatorView]
    ) -> None:
        """Dial for one campaign; ``ready``, ``wrapping``: its share of the operators ready and in wrap-up.

        See ``dialer.policy.sharing``.
        """
        rules = run.rules
        calls = [c for c in self._live.values() if c.rules.campaign_id == rules.campaign_id]
        snap = snapshot(
            now,
            calls,
            len(ready),
            wrapping,
            self._membership.paused(rules.campaign_id),
            run.estimates.current(),
            rules.max_channels,
            run.bucket.available(now),
            run.abandon.stats(now),
        )
        decision = run.pacer.decide(snap)
        # Hard limits whatever the pacer says: never without a ready operator,
        # never over the channel cap or the originate rate.
        wanted = min(decision.calls, rules.max_channels - len(calls), run.bucket.available(now))
        placed = 0
        if ready and wanted > 0:
            leads = select_leads(self._store, rules, self._settings.node_id, now, wanted)
            for placement in begin_attempts(self._store, leads, self._settings.node_id, self._clock):
                self._place(run, placement)
                placed += 1
        run.last_explain = pacing_explain(
            decision, snap, placed, run.dial_rate(now), run.limits.cap, run.limits.window
        )

    def _place(self, run: CampaignRun, placement: Placement) -> None:
        rules, lead, attempt_id, now = run.rules, placement.lead, placement.attempt_id, placement.started_at
        attempt = Attempt.dial(attempt_id, now, rules.connect_limit_s, rules.amd)
        self._live[attempt_id] = LiveCall(attempt, lead, rules, last_event_at=now)
        run.bucket.take(now)
        run.placed_at.append(now)
        self._started += 1
        request = build_request(
            rules, attempt_id, lead.lead_id, lead.phone, lead.data, self._settings.lead_variables
        )
        log.info("dialing lead %s for %s (attempt %s)", lead.lead_id, rules.name, attempt_id)
        self._spawn(self._originate(request))

    async def _originate(self, request: OriginateRequest) -> None:
        try:
            await self._telephony.originate(request)
        except TelephonyError as exc:
            log.warning("attempt %s: originate refused: %s", request.attempt_id, exc)
            self._on_call_event(OriginateFailed(request.attempt_id, self._clock(), FailReason.FAILED))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _expire_silent(self, now: float) -> None:
        s = self._settings
        for call in list(self._live.values()):
            if call.held_hangup is not None and now >= call.hold_until:
                call.attempt = apply(call.attempt, call.held_hangup)
                if call.attempt.state is AttemptState.ENDED:
                    self._end(call)
                    continue
            if now > deadline(call, s.expire_after_s, s.max_call_s):
                log.warning(
                    "attempt %s: no event since %.0f s, presumed lost",
                    call.attempt.attempt_id,
                    now - call.last_event_at,
                )
                self._spawn(self._hangup_quietly(call.attempt.attempt_id))
                call.attempt = expire(call.attempt, now)
                self._end(call)

    async def _hangup_quietly(self, attempt_id: str) -> None:
        try:
            await self._telephony.hangup(attempt_id)
        except TelephonyError as exc:
            log.info("attempt %s: hang-up failed: %s", attempt_id, exc)

    def _done(self) -> bool:
        """No call in flight and no lead due now (``dialer.outlook``); says what it waits for."""
        now = self._clock()
        if self._live or self._unrecorded:
            self._note_waiting(f"{len(self._live) + len(self._unrecorded)} calls in flight")
            return False
        if now < self._next_done_check:
            return False
        self._next_done_check = now + DONE_CHECK_S
        for run in self._campaigns.values():
            if settle_uncallable(self._store, run.rules, self._settings.node_id, now):
                break  # one lead can be dialed now: not done
        view = outlook(self._store, self._known, to_dt(now))
        if view.done:
            self._left = view.describe()
            log.info("done: no call in flight and no lead due now; %s", self._left)
            return True
        reasons = sorted(
            f"{run.rules.name}: {run.last_explain['reason']}"
            for run in self._campaigns.values()
            if "reason" in run.last_explain
        )
        self._note_waiting(view.describe() + (f" ({'; '.join(reasons)})" if reasons else ""))
        return False

    def _note_waiting(self, what: str) -> None:
        if what != self._waiting_note:
            self._waiting_note = what
            log.info("not done yet: %s", what)

    # --- events -------------------------------------------------------------------

    async def _consume_events(self) -> None:
        async for event in self._telephony.events():
            try:
                self._on_event(event)
            except Exception:
                # One bad event must not stop the engine from hearing the rest.
                log.exception("could not handle %r", event)

    def _on_event(self, event: TelephonyEvent) -> None:
        if isinstance(event, MemberChanged):
            state = self._membership.on_member(event)
            self._journal.note_member(event.interface, state)
        elif isinstance(event, ConnectionLost):
            # No new calls until the link is back: each would fail and burn one of the lead's attempts.
            self._connected = False
            self._membership.forget()
            log.warning("connection to the phone system lost; %d calls in flight", len(self._live))
        elif isinstance(event, ConnectionRestored):
            self._connected = True
            log.info("connection to the phone system restored")
        else:
            self._on_call_event(event)

    def _on_call_event(self, event: TelephonyEvent) -> None:
        attempt_id = getattr(event, "attempt_id", None)
        call = self._live.get(attempt_id) if isinstance(attempt_id, str) else None
        if call is None:
            return  # another node's call, or one already recorded
        call.last_event_at = self._clock()
        if isinstance(event, HungUp) and should_hold(call, event):
            call.held_hangup = event
            call.hold_until = call.last_event_at + self._settings.hangup_hold_s
            return
        before = call.attempt
        call.attempt = apply(before, event)  # type: ignore[arg-type]
        if isinstance(event, MachineDetected) and call.amd_cause is None:
            call.amd_cause = event.cause
        if isinstance(event, OperatorConnected) and call.attempt.operator == event.interface:
            call.operator_name = self._membership.name_of(event.interface) or event.interface
        if call.attempt.state is AttemptState.ENDED:
            self._end(call)
        elif call.attempt.state is not before.state and call.attempt.state in (
            AttemptState.ANSWERED,
            AttemptState.CONNECTED,
        ):
            self._journal.note_progress(call.attempt, call.operator_name)

    def _end(self, call: LiveCall) -> None:
        attempt = call.attempt = reclassify_machine(call.attempt, call.amd_cause)
        if attempt.connected_at is not None and attempt.operator is not None:
            # The operator's wrap-up starts now, whatever the queue has reported yet.
            self._membership.call_ended(attempt.operator, attempt.ended_at or self._clock())
        self._live.pop(attempt.attempt_id, None)
        self._journal.forget(attempt.attempt_id)
        try:
            finish_attempt(self._store, attempt, call.rules.retry, call.operator_name)
        except STORE_DOWN as exc:
            self._on_store_down(exc)
            self._unrecorded.append(call)  # written by the first tick that reaches the store
        outcome = attempt.outcome or Outcome.FAILED
        self._outcomes[outcome.value] += 1
        self._learn(call)
        log.info("attempt %s for lead %s: %s", attempt.attempt_id, call.lead.lead_id, outcome.value)

    def _learn(self, call: LiveCall) -> None:
        run = self._campaigns.get(call.rules.campaign_id)
        attempt = call.attempt
        if run is None or attempt.ended_at is None:
            return
        run.abandon.record(attempt)
        outcome = attempt.outcome.value if attempt.outcome is not None else None
        learn(
            run.estimates,
            attempt.started_at,
            attempt.answered_at,
            attempt.connected_at,
            attempt.ended_at,
            outcome,
            self._settings.queue_wrapup_s,
        )

    # --- shutdown -----------------------------------------------------------------

    async def _drain(self) -> int:
        """Let live calls finish up to the deadline, then hang up and record the rest."""
        if self._live:
            log.info(
                "stopping: waiting up to %.0f s for %d live calls",
                self._settings.shutdown_deadline_s,
                len(self._live),
            )
        await self._wait_for_calls(self._settings.shutdown_deadline_s)
        left = list(self._live.values())
        for call in left:
            await self._hangup_quietly(call.attempt.attempt_id)
        await self._wait_for_calls(self._settings.hangup_grace_s)
        now = self._clock()
        for call in list(self._live.values()):
            call.attempt = expire(call.attempt, now)
            self._end(call)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        return len(left)

    async def _wait_for_calls(self, seconds: float) -> None:
        until = self._clock() + seconds
        while self._live and self._clock() < until:
            self._journal.flush(self._store)
            self._expire_silent(self._clock())
            await asyncio.sleep(min(0.1, self._settings.tick_s))

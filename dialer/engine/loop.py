"""The dial engine: claims due leads, dials them, hands answers to operators, records outcomes.

One ``DialEngine`` runs on one node against one phone system (a ``Telephony``) and one store. Two
tasks share its state in one event loop: the event task feeds call events to each attempt's state
machine (``dialer.core.attempt``) and member events to ``Membership``; the tick task applies desired
states, expires silent calls, places calls for one operator (``direct``), then asks each pacer.

Crash safety: an attempt row is committed before its Originate is sent (one transaction per
dialing cycle); call progress and operator states are written once per tick, a connection at once
(``dialer.store.recorder.Journal``); on start the engine adopts the calls Asterisk still carries
for this node's unfinished attempts and settles the rest. The engine never imports an AMI library
and reads no globals: everything comes in through ``EngineSettings`` and the constructor.

Store calls run in one thread of their own, in order (``dialer.engine.store_thread``): a slow
query delays the tick that asked for it, never the events of calls in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from dialer.core.attempt import Attempt, AttemptState, Outcome, apply, expire
from dialer.core.clock import Periodic, to_dt
from dialer.core.errors import TelephonyError
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
from dialer.engine.campaign_run import CampaignRun, CampaignRuns, default_pacer
from dialer.engine.direct import DirectCalls
from dialer.engine.live import (
    LiveCall,
    busy_operators,
    deadline,
    pacing_explain,
    pending_by_campaign,
    pending_dials,
    should_hold,
    snapshot,
)
from dialer.engine.membership import Membership
from dialer.engine.selection import claim_and_begin
from dialer.engine.settings import EngineSettings, RunReport
from dialer.engine.shared_pace import SharedPacing
from dialer.engine.stopping import restore_wishes
from dialer.engine.store_thread import StoreThread
from dialer.engine.takeover import start_node, take_over
from dialer.engine.until_done import DoneWatch
from dialer.engine.wrapup import WrapUps
from dialer.engine.writer import STORE_DOWN, Writer
from dialer.pacing import AbandonPolicy, Pacer
from dialer.pacing.team import OperatorView
from dialer.policy.abandon import reclassify_machine
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.membership import Assignment
from dialer.policy.originate import build_direct_request, build_request
from dialer.store.claims import release_claims
from dialer.store.locks import NodeLocks, uses_locks
from dialer.store.nodes import beat, leave
from dialer.store.ownership import disown_all
from dialer.store.recorder import Placement

log = logging.getLogger(__name__)
__all__ = ["STORE_DOWN", "DialEngine", "EngineSettings", "RunReport"]


class DialEngine:
    def __init__(
        self,
        store: Engine,
        telephony: Telephony,
        settings: EngineSettings,
        campaigns: Sequence[str] = (),
        pacer_for: Callable[[CampaignRules, AbandonPolicy | None], Pacer] = default_pacer,
        clock: Callable[[], float] = time.time,
        gate: Callable[[int, float], bool] | None = None,
    ) -> None:
        self._store = store
        self._gate = gate or (lambda _cid, _now: True)  # may it place new calls now? (live ones go on)
        self._telephony = telephony
        self._settings = settings
        self._clock = clock
        self._membership = Membership(telephony, settings.operator_retry_s, clock, settings.queue_wrapup_s)
        self._db = StoreThread(store)
        self._writer = Writer(store, self._db, settings.node_id, self._spawn)
        self._locks = NodeLocks(store, settings.node_id) if uses_locks(store) else None
        self._book = CampaignRuns(
            store, self._db, settings, campaigns, pacer_for, self._membership, self._locks
        )
        self._wrapups = WrapUps(store, self._db, self._membership, self._book)  # held until disposed of
        self._campaigns = self._book.runs  # the campaigns this node dials (owns)
        self._live: dict[str, LiveCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._connected = True  # the phone system's link, as its events report it
        self._outcomes: Counter[str] = Counter()
        self._started = 0
        self._operator_poll = Periodic(settings.operator_poll_s)
        self._beat = Periodic(settings.heartbeat_s)
        self._takeover = Periodic(settings.takeover_check_s)
        self._ticks = 0
        self._done_watch = DoneWatch(store, self._db, settings.node_id)
        self._direct = DirectCalls(store, self._db, settings.node_id, self._membership, clock)
        self._shares = SharedPacing(store, self._db, settings.node_id)  # a campaign several nodes dial

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
        try:
            return await self._run(until_done)
        finally:
            self._db.close()

    async def _run(self, until_done: bool) -> RunReport:
        store, node, db = self._store, self._settings.node_id, self._db
        adopted, reconciled = await start_node(store, db, self._locks, self._telephony, node, self._clock)
        self._live.update((call.attempt.attempt_id, call) for call in adopted)
        self._beat.restart(self._clock())
        await self._book.load(self._clock())
        events = asyncio.create_task(self._consume_events())
        # Let the event task take in what the phone system reported on connecting (queue
        # members already present) before the first tick decides what to change.
        await asyncio.sleep(0)
        hung_up = 0
        try:
            while not self._stop.is_set():
                try:
                    await self._tick()
                    if until_done and await self._done():
                        break
                except STORE_DOWN as exc:
                    self._writer.on_store_down(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._settings.tick_s)
            hung_up = await self._drain()
            await self._book.save_pacing(self._clock(), force=True)
        finally:
            events.cancel()
            await asyncio.gather(events, return_exceptions=True)
            await self._writer.flush_journal()
            try:
                for release in (release_claims, disown_all, leave):
                    await db.run(release, store, node)
            finally:
                await db.run(self._locks.close) if self._locks else None
        return RunReport(self._started, dict(self._outcomes), reconciled, hung_up, self._done_watch.left)

    # --- the tick -----------------------------------------------------------------

    async def _tick(self) -> None:
        await self._writer.flush_journal()
        await self._writer.after_outage()
        now = self._clock()
        if await self._book.reload_due(now):
            await self._book.load(now)
        await self._book.let_go_stopped({call.rules.campaign_id for call in self._live.values()})
        if (self._operator_poll.due(now) or self._membership.dirty) and self._connected:
            await self._wrapups.check(now)
            queues = {cid: run.rules.queue for cid, run in self._campaigns.items()}
            assignments = await self._book.assignments(queues)
            await self._membership.apply(assignments, pending_dials(self._live.values()))
            self._operator_poll.restart(now)
        await self._keep_alive(now)
        self._expire_silent(now)
        dialing = self._book.dialing()
        if dialing and not self._stop.is_set() and self._connected:
            dialing = {cid: run for cid, run in dialing.items() if self._gate(cid, now)}
            for direct in await self._direct.due(dialing, self._live.values(), now):  # ahead of the pacers
                self._place(direct.run, direct.placement, direct.interface)
            busy = busy_operators(self._live.values())
            pending = pending_by_campaign(self._live.values())
            shares = self._membership.shares(list(dialing), busy, pending, self._ticks, now)
            self._ticks += 1
            for cid, run in dialing.items():
                await self._dial_campaign(run, self._clock(), *shares[cid])
        await self._book.save_pacing(self._clock())

    async def _keep_alive(self, now: float) -> None:
        """Beat this node's heartbeat; take over nodes that stopped beating theirs."""
        s = self._settings
        if self._beat.due(now):
            await self._db.run(beat, self._store, s.node_id, to_dt(now))
            self._beat.restart(now)
        if self._takeover.due(now):
            adopted = await take_over(self._store, self._db, self._locks, self._telephony, s, now)
            self._live.update((call.attempt.attempt_id, call) for call in adopted)
            self._takeover.restart(now)

    async def _dial_campaign(
        self, run: CampaignRun, now: float, ready: list[Assignment], wrapping: list[OperatorView]
    ) -> None:
        """Dial for one campaign with its share of the operators ready and in wrap-up (``policy.sharing``)."""
        rules = run.rules
        calls = [c for c in self._live.values() if c.rules.campaign_id == rules.campaign_id]
        abandons = await run.abandon_stats(self._db, now)
        ready = [a for a in ready if a.interface not in busy_operators(calls)]  # taken a call meanwhile
        member = self._membership
        cap = self._shares.channel_cap(run, calls, len(ready), len(wrapping))  # this node's part
        snap = snapshot(
            now, calls, len(ready), wrapping, member.paused(rules.campaign_id), run.estimates.current(),
            cap, run.bucket.available(now), abandons, member.leaving(rules.campaign_id),
        )  # fmt: skip
        decision = run.pacer.decide(snap)
        # Hard limits whatever the pacer says: a ready operator, the channel cap, the originate rate.
        wanted = min(decision.calls, cap - len(calls), run.bucket.available(now))
        placed = 0
        if ready and wanted > 0:
            # One job for the store thread: the claim and the attempt rows of this cycle.
            node, clock = self._settings.node_id, self._clock
            placements = await self._db.run(
                claim_and_begin, self._store, rules, node, now, wanted, clock, self._dialing, run.fence
            )
            for placement in placements:
                self._place(run, placement)
            placed = len(placements)
        view = pacing_explain(
            decision, snap, placed, run.dial_rate(now), run.abandon_settings.cap, run.abandon_settings.window
        )
        run.last_explain = await self._shares.after_cycle(run, placed, view)  # its figures out, others' in

    def _dialing(self) -> bool:
        """Whether the engine still places calls; read from the store thread (two flags, each whole)."""
        return not self._stop.is_set() and self._connected

    def _place(self, run: CampaignRun, placement: Placement, direct_to: str | None = None) -> None:
        rules, lead, attempt_id, now = run.rules, placement.lead, placement.attempt_id, placement.started_at
        attempt = Attempt.dial(attempt_id, now, rules.connect_limit_s, rules.amd)
        self._live[attempt_id] = LiveCall(attempt, lead, rules, last_event_at=now, direct_to=direct_to)
        run.bucket.take(now)
        run.placed_at.append(now)
        self._started += 1
        args = (rules, attempt_id, lead.lead_id, lead.phone, lead.data, self._settings.lead_variables)
        request = build_direct_request(*args, direct_to) if direct_to else build_request(*args)
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
                silent = now - call.last_event_at
                log.warning(
                    "attempt %s: no event since %.0f s, presumed lost", call.attempt.attempt_id, silent
                )
                self._spawn(self._hangup_quietly(call.attempt.attempt_id))
                call.attempt = expire(call.attempt, now)
                self._end(call)

    async def _hangup_quietly(self, attempt_id: str) -> None:
        try:
            await self._telephony.hangup(attempt_id)
        except TelephonyError as exc:
            log.info("attempt %s: hang-up failed: %s", attempt_id, exc)

    async def _done(self) -> bool:
        in_flight, runs = len(self._live) + self._writer.busy, self._campaigns.values()
        return await self._done_watch.done(self._clock(), in_flight, runs, self._book.known)

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
            self._writer.journal.note_member(event.interface, state)
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
            self._writer.note_progress(call.attempt, call.operator_name)

    def _end(self, call: LiveCall) -> None:
        attempt = call.attempt = reclassify_machine(call.attempt, call.amd_cause)
        if attempt.connected_at is not None and attempt.operator is not None:
            # The operator's wrap-up starts now, whatever the queue has reported yet.
            self._membership.call_ended(attempt.operator, attempt.ended_at or self._clock())
            self._wrapups.start(call.rules, attempt)
        self._membership.direct_ended(call.direct_to)  # its operator follows their wish (or wrap-up) again
        self._live.pop(attempt.attempt_id, None)
        self._writer.end(call)
        outcome = attempt.outcome or Outcome.FAILED
        self._outcomes[outcome.value] += 1
        run = self._campaigns.get(call.rules.campaign_id)
        if run is not None:
            run.learn(call.attempt)
        log.info("attempt %s for lead %s: %s", attempt.attempt_id, call.lead.lead_id, outcome.value)

    # --- shutdown -----------------------------------------------------------------

    async def _drain(self) -> int:
        """Let live calls finish up to the deadline, then hang up and record the rest."""
        if self._live:
            deadline_s = self._settings.shutdown_deadline_s
            log.info("stopping: waiting up to %.0f s for %d live calls", deadline_s, len(self._live))
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
        await restore_wishes(self._membership, self._book, self._connected)  # no pause of its own left
        return len(left)

    async def _wait_for_calls(self, seconds: float) -> None:
        until = self._clock() + seconds
        while self._live and self._clock() < until:
            await self._writer.flush_journal()
            self._expire_silent(self._clock())
            await asyncio.sleep(min(0.1, self._settings.tick_s))

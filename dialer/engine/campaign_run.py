"""What the engine keeps per campaign it dials, how it picks the campaign's pacer, and which
campaigns it dials (``CampaignRuns``: reloaded every few seconds, or at the next tick when a
campaign's version moved, one node per campaign).

A ``CampaignRun`` lives as long as the engine dials the campaign: its rules as last
loaded, its pacer (which keeps a little state between ticks), its originate
rate limit, its learnt estimates and its abandon figures.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.lifecycle import KEPT, CampaignState, dials, parse_state
from campaigns.models import Campaign
from campaigns.service import find_campaigns
from dialer.core.attempt import Attempt
from dialer.core.clock import Periodic, to_dt
from dialer.core.modes import EXPLAINED_MODES, PacingMode
from dialer.core.reasons import HALTED
from dialer.engine.membership import Membership
from dialer.engine.settings import EngineSettings
from dialer.engine.store_thread import StoreThread
from dialer.pacing import AbandonPolicy, EstimatesTracker, Pacer, make_pacer
from dialer.pacing.base import AbandonStats
from dialer.policy.abandon import AbandonSettings, AbandonTracker, window_length
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.membership import Assignment
from dialer.policy.ratelimit import TokenBucket, burst_for
from dialer.store.abandon import stored_abandon_stats
from dialer.store.locks import NodeLocks
from dialer.store.operators import load_assignments
from dialer.store.ownership import disown, own_campaigns
from dialer.store.pace import forget_explain, learn, save_explain, warm_estimates
from dialer.store.served import served_campaigns, served_versions
from dialer.store.shares import ShareFence

log = logging.getLogger(__name__)

DIAL_RATE_WINDOW_S = 60.0


@dataclass
class CampaignRun:
    """Per-campaign state that lives as long as the engine: pacer, rate limit, estimates, abandons."""

    rules: CampaignRules
    pacer: Pacer
    bucket: TokenBucket
    abandon: AbandonTracker
    abandon_settings: AbandonSettings = field(default_factory=AbandonSettings)
    estimates: EstimatesTracker = field(default_factory=EstimatesTracker)
    last_explain: dict[str, float | str] = field(default_factory=dict)
    placed_at: deque[float] = field(default_factory=deque)  # originate instants over the last minute
    state: CampaignState = CampaignState.ACTIVE  # only an active campaign places calls
    wrapup_s: float = 0.0  # the queue's wrap-up after each call, learnt with the talk time
    fence: int | None = None  # PostgreSQL: the fence this node dials the campaign under

    def learn(self, attempt: Attempt) -> None:
        """Take an attempt this engine ended into the abandon figures and the estimates."""
        if attempt.ended_at is None:
            return
        self.abandon.record(attempt)
        outcome = attempt.outcome.value if attempt.outcome is not None else None
        learn(
            self.estimates,
            attempt.started_at,
            attempt.answered_at,
            attempt.connected_at,
            attempt.ended_at,
            outcome,
            None if self.rules.wrapup_limit_s > 0 else self.wrapup_s,  # held: learnt at the disposition
        )

    async def abandon_stats(self, db: StoreThread, now: float) -> AbandonStats:
        """The abandon figures, the store's part re-read in the store thread when due."""
        tracker = self.abandon
        if tracker.needs_reading(now):
            news = tracker.news()
            tracker.take_reading(await db.run(tracker.read, now), now, news)
        return tracker.current()

    def dial_rate(self, now: float) -> float:
        """Calls placed per minute over the last minute."""
        while self.placed_at and self.placed_at[0] <= now - DIAL_RATE_WINDOW_S:
            self.placed_at.popleft()
        return len(self.placed_at) * 60.0 / DIAL_RATE_WINDOW_S


def halted_explain(last: dict[str, float | str], state: CampaignState) -> dict[str, float | str]:
    """The pacing explanation of a campaign that places no calls because a manager halted it."""
    return {**last, "placed": 0, "reason": HALTED.format(state=state)}


def abandon_policy(settings: AbandonSettings) -> AbandonPolicy | None:
    """The abandonment controller's policy for a campaign's cap and window; None for a zero cap."""
    if settings.cap <= 0:
        return None  # no abandon allowed at all: only progressive dialing can promise that
    # Aim at the same share of the cap as the policy the pacing benchmark measures (2.5% of 3%).
    share = AbandonPolicy.target / AbandonPolicy.cap
    return AbandonPolicy(
        cap=settings.cap,
        target=settings.cap * share,
        window_s=window_length(settings.window).total_seconds(),
    )


def default_pacer(rules: CampaignRules, policy: AbandonPolicy | None) -> Pacer:
    if rules.mode == PacingMode.RATIO:
        return make_pacer(f"{PacingMode.RATIO}:{rules.ratio:g}")
    if rules.mode == PacingMode.PREDICTIVE and policy is None:
        return make_pacer(PacingMode.PROGRESSIVE)
    return make_pacer(rules.mode, policy)


class CampaignRuns:
    """The campaigns one engine serves: a ``CampaignRun`` for each one this node dials (owns),
    and the others, which another node dials until it stops."""

    def __init__(
        self,
        store: Engine,
        db: StoreThread,
        settings: EngineSettings,
        names: Sequence[str],
        pacer_for: Callable[[CampaignRules, AbandonPolicy | None], Pacer],
        membership: Membership,
        locks: NodeLocks | None = None,
    ) -> None:
        self._store = store
        self._locks = locks  # PostgreSQL: ownership by the session's advisory locks
        self._db = db  # every store call runs there, off the event loop
        self._settings = settings
        self._names = tuple(names)
        self._pacer_for = pacer_for
        self._membership = membership
        self.runs: dict[int, CampaignRun] = {}  # the campaigns this node dials (owns)
        self.known: list[int] = []  # every campaign this engine serves, whichever node dials it
        self._waiting_for: set[int | None] = set()  # campaigns another node dials
        self._shared: set[int] = set()  # campaigns every serving node dials, each its own share
        self._versions: dict[int, int] = {}  # campaign id -> version, as last loaded
        self._states: dict[int, CampaignState] = {}  # as last loaded, to log changes
        self._reload = Periodic(settings.campaign_reload_s)
        self._pacing_save = Periodic(settings.pacing_save_s)

    async def reload_due(self, now: float) -> bool:
        """Time for the periodic reload, or a campaign served was edited, steered or added since."""
        if self._reload.due(now):
            return True
        return await self._db.run(served_versions, self._store, self._names) != self._versions

    async def load(self, now: float) -> None:
        """Read the campaigns again: take the ones this node may dial, follow their settings."""
        rows = await self._db.run(_campaign_rows, self._store, self._names)
        self._versions = {c.id: c.version for c in rows if c.id is not None}
        self._note_states(rows)
        kept = [c for c in rows if parse_state(c.state) in KEPT]
        self.known = [c.id for c in kept if c.id is not None]
        self._shared = {c.id for c in kept if c.id is not None and c.shared}
        owned = await self._owned(now)
        seen: set[int] = set()
        for row in kept:
            if row.id not in owned:
                if row.id not in self._waiting_for:
                    log.info(
                        "campaign %s is dialed by another node; this node takes it if that one stops",
                        row.name,
                    )
                self._waiting_for.add(row.id)
                continue
            self._waiting_for.discard(row.id)
            followed = await self._follow(row)
            seen.add(followed)
            if self._locks is not None:
                self.runs[followed].fence = self._locks.fences.get(followed)
        for campaign_id in set(self.runs) - seen:
            if campaign_id in self.known:
                # Another node dials it now and manages its queue: leave the operators there.
                self._membership.disown(self.runs.pop(campaign_id).rules.queue)
                await self._let_go(campaign_id)
            else:
                self.runs[campaign_id].state = CampaignState.STOPPED  # let go once its calls end
        self._reload.restart(now)

    async def _follow(self, row: Campaign) -> int:
        """Start a run for a campaign this node owns, or bring its run up to the row's settings."""
        rules = CampaignRules.from_campaign(row)
        abandon_settings = AbandonSettings(cap=row.abandon_cap, window=row.abandon_window)
        run = self.runs.get(rules.campaign_id)
        burst = burst_for(rules.originate_rate)
        if run is None:
            wrap_s = self._settings.queue_wrapup_s
            estimates = await self._db.run(
                warm_estimates, self._store, rules.campaign_id, wrap_s, held=rules.wrapup_limit_s > 0
            )
            run = self.runs[rules.campaign_id] = CampaignRun(
                rules,
                self._pacer_for(rules, abandon_policy(abandon_settings)),
                TokenBucket(rules.originate_rate, burst),
                self._abandon_tracker(rules.campaign_id, abandon_settings),
                abandon_settings,
                estimates,
                wrapup_s=wrap_s,
            )
        else:
            was = (run.rules.mode, run.rules.ratio, run.abandon_settings)
            if was != (rules.mode, rules.ratio, abandon_settings):
                run.pacer = self._pacer_for(rules, abandon_policy(abandon_settings))
            if run.abandon_settings.window != abandon_settings.window:
                run.abandon = self._abandon_tracker(rules.campaign_id, abandon_settings)
            run.rules = rules
            run.abandon_settings = abandon_settings
            run.bucket.reconfigure(rules.originate_rate, burst)
        run.state = parse_state(row.state)
        return rules.campaign_id

    async def assignments(self, queues: dict[int, str]) -> list[Assignment]:
        """The operators of these campaigns this node serves (in a shared one, those homed on it)."""
        shared = {cid for cid, run in self.runs.items() if isinstance(run.fence, ShareFence)}
        return await self._db.run(load_assignments, self._store, queues, self._settings.node_id, shared)

    def dialing(self) -> dict[int, CampaignRun]:
        """The runs that may place calls now: active ones. The others say why they place none."""
        for run in self.runs.values():
            if not dials(run.state):
                run.last_explain = halted_explain(run.last_explain, run.state)
        return {cid: run for cid, run in self.runs.items() if dials(run.state)}

    async def let_go_stopped(self, live: set[int]) -> None:
        """Drop the runs of stopped (or archived) campaigns with no call in ``live`` any more.

        The node gives up owning the campaign and its pacing line; its operators leave the
        queue at the next operator poll, since no run assigns them to it.
        """
        for campaign_id, run in list(self.runs.items()):
            if run.state is CampaignState.STOPPED and campaign_id not in live:
                del self.runs[campaign_id]
                await self._let_go(campaign_id)
                await self._db.run(forget_explain, self._store, self._settings.node_id, campaign_id)
                log.info("campaign %s: no call left in flight; this node lets it go", run.rules.name)

    async def _owned(self, now: float) -> set[int]:
        s = self._settings
        if self._locks is not None:
            return await self._db.run(self._locks.own, self.known, self._shared)
        return await self._db.run(
            own_campaigns, self._store, s.node_id, self.known, to_dt(now), s.node_lease_s
        )

    async def _let_go(self, campaign_id: int) -> None:
        if self._locks is not None:
            await self._db.run(self._locks.disown, campaign_id)
        await self._db.run(disown, self._store, self._settings.node_id, campaign_id)

    def _note_states(self, rows: Sequence[Campaign]) -> None:
        for row in rows:
            state = parse_state(row.state)
            if row.id is not None and self._states.get(row.id) is not state:
                if row.id in self._states or state is not CampaignState.ACTIVE:
                    log.info("campaign %s is %s", row.name, state)
                self._states[row.id] = state

    def _abandon_tracker(self, campaign_id: int, abandon_settings: AbandonSettings) -> AbandonTracker:
        length = window_length(abandon_settings.window)
        return AbandonTracker(
            lambda now: stored_abandon_stats(self._store, campaign_id, length, now),
            self._settings.abandon_refresh_s,
        )

    async def save_pacing(self, now: float, force: bool = False) -> None:
        """Write the explanations of the campaigns a pacer dials for `dialer status` (another process)."""
        if not force and not self._pacing_save.due(now):
            return
        self._pacing_save.restart(now)
        explains = {
            cid: run.last_explain
            for cid, run in self.runs.items()
            if run.rules.mode in EXPLAINED_MODES and run.last_explain
        }
        await self._db.run(save_explain, self._store, self._settings.node_id, explains, now)


def _campaign_rows(store: Engine, names: Sequence[str]) -> list[Campaign]:
    """The campaigns to serve: those named (every one must exist), else the served ones."""
    if names:
        with Session(store) as session:
            return find_campaigns(session, names)
    return served_campaigns(store)

"""The demo's live dashboard and its closing summary.

The dashboard never queries the store while it runs: ``ObservedTelephony``
sits between the engine and the phone system (it is itself a ``Telephony``),
and feeds every originate and event it passes through to a ``CallBoard``, which
keeps each call's state with the same pure state machine the engine uses
(``dialer.core.attempt.apply``) and each operator's last reported queue state.
Outcomes come from the engine's own tally. The summary, once the engine has
stopped, is computed from the stored attempts: the record of what happened.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from campaigns.models import CallAttempt
from dialer.core.attempt import Attempt, AttemptState, apply
from dialer.core.telephony import (
    CallEvent,
    MemberChanged,
    MemberState,
    OperatorConnected,
    OriginateRequest,
    Telephony,
    TelephonyEvent,
)

CALL_STATES = (
    (AttemptState.DIALING, "dialing"),
    (AttemptState.RINGING, "ringing"),
    (AttemptState.ANSWERED, "answered"),
    (AttemptState.WAITING, "in queue"),
    (AttemptState.CONNECTED, "with an operator"),
)
OPERATOR_STATES = {
    MemberState.AVAILABLE: ("ready", "green"),
    MemberState.IN_CALL: ("on a call", "cyan"),
    MemberState.PAUSED: ("paused", "yellow"),
    MemberState.UNAVAILABLE: ("unreachable", "red"),
    MemberState.REMOVED: ("logged out", "dim"),
}
OUTCOME_STYLES = {
    "connected": "green",
    "abandoned": "red",
    "busy": "yellow",
    "no_answer": "yellow",
    "congestion": "magenta",
    "machine": "blue",
}


# --- what the dashboard knows --------------------------------------------------------


@dataclass
class CallBoard:
    """Calls in flight by state, operators by queue state; fed by ``ObservedTelephony``."""

    clock: Callable[[], float] = time.time
    calls: dict[str, Attempt] = field(default_factory=dict)
    leads_dialed: set[str] = field(default_factory=set)
    placed: int = 0
    operators: dict[str, MemberState] = field(default_factory=dict)  # interface -> last state
    taken: Counter[str] = field(default_factory=Counter)  # interface -> calls connected

    def on_originate(self, request: OriginateRequest) -> None:
        self.placed += 1
        self.leads_dialed.add(request.variables.get("DIALER_LEAD_ID", request.attempt_id))
        self.calls[request.attempt_id] = Attempt.dial(request.attempt_id, self.clock())

    def on_event(self, event: TelephonyEvent) -> None:
        if isinstance(event, MemberChanged):
            self.operators[event.interface] = event.state
            return
        attempt_id = getattr(event, "attempt_id", None)
        attempt = self.calls.get(attempt_id) if isinstance(attempt_id, str) else None
        if attempt is None:
            return
        if isinstance(event, OperatorConnected) and attempt.state is not AttemptState.CONNECTED:
            self.taken[event.interface] += 1
        call_event: CallEvent = event  # type: ignore[assignment]
        after = apply(attempt, call_event)
        if after.state is AttemptState.ENDED:
            del self.calls[after.attempt_id]
        else:
            self.calls[after.attempt_id] = after

    def by_state(self) -> Counter[AttemptState]:
        return Counter(a.state for a in self.calls.values())


class ObservedTelephony:
    """A ``Telephony`` that forwards everything to ``inner`` and shows it to a ``CallBoard``."""

    def __init__(self, inner: Telephony, board: CallBoard) -> None:
        self.inner = inner
        self.board = board

    async def originate(self, request: OriginateRequest) -> None:
        self.board.on_originate(request)
        await self.inner.originate(request)

    async def hangup(self, attempt_id: str) -> None:
        await self.inner.hangup(attempt_id)

    async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
        await self.inner.queue_add(queue, interface, member_name, paused)

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self.inner.queue_remove(queue, interface)

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        await self.inner.queue_pause(queue, interface, paused, reason)

    async def events(self) -> AsyncIterator[TelephonyEvent]:
        async for event in self.inner.events():
            self.board.on_event(event)
            yield event

    async def close(self) -> None:
        await self.inner.close()


# --- the live view -------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFrame:
    """Everything one refresh shows, gathered from in-memory state only."""

    title: str
    elapsed_s: float
    duration_s: float
    stopping: str  # why dialing stopped; empty while it goes on
    finished: bool
    in_flight: int
    board: CallBoard
    operator_names: Mapping[str, str]  # interface -> operator name
    outcomes: Mapping[str, int]
    leads_total: int


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def abandon_rate(outcomes: Mapping[str, int]) -> float | None:
    """Abandoned calls over live answers (connected + abandoned), as the rules count them."""
    live = outcomes.get("connected", 0) + outcomes.get("abandoned", 0)
    return outcomes.get("abandoned", 0) / live if live else None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _calls_table(frame: DashboardFrame) -> Table:
    counts = frame.board.by_state()
    table = Table(title=f"Calls in flight: {frame.in_flight}", show_header=False)
    table.add_column("state")
    table.add_column("calls", justify="right")
    for state, label in CALL_STATES:
        n = counts.get(state, 0)
        table.add_row(label, Text(str(n), style="bold" if n else "dim"))
    return table


def _operators_table(frame: DashboardFrame) -> Table:
    states = frame.board.operators
    tally = Counter(OPERATOR_STATES.get(s, (s.value, ""))[0] for s in states.values())
    summary = ", ".join(f"{n} {label}" for label, n in tally.most_common()) or "none logged in yet"
    table = Table(title=f"Operators: {summary}")
    table.add_column("operator")
    table.add_column("queue says")
    table.add_column("calls", justify="right")
    for interface, name in frame.operator_names.items():
        label, style = (
            OPERATOR_STATES.get(states[interface], ("?", "")) if interface in states else ("-", "dim")
        )
        table.add_row(name, Text(label, style=style), str(frame.board.taken.get(interface, 0)))
    return table


def _outcomes_table(frame: DashboardFrame) -> Table:
    done = sum(frame.outcomes.values())
    table = Table(title=f"Outcomes so far: {done}", show_header=False, expand=True)
    table.add_column("outcome")
    table.add_column("calls", justify="right")
    table.add_column("bar", ratio=1)
    for outcome, n in sorted(frame.outcomes.items(), key=lambda item: -item[1]):
        bar = ProgressBar(
            total=max(done, 1), completed=n, complete_style=OUTCOME_STYLES.get(outcome, "white")
        )
        table.add_row(outcome, str(n), bar)
    if not frame.outcomes:
        table.add_row(Text("none yet", style="dim"), "", "")
    return table


WIDE = 120  # below this many columns the outcomes go under the calls and operators


def render_dashboard(frame: DashboardFrame, width: int = WIDE) -> RenderableType:
    left = max(0.0, frame.duration_s - frame.elapsed_s)
    if frame.finished:
        phase = Text(f"finished after {_clock(frame.elapsed_s)}", style="bold green")
    elif frame.stopping:
        phase = Text(
            f"{frame.stopping}: dialing stopped, letting {frame.in_flight} calls finish", style="yellow"
        )
    else:
        phase = Text(f"elapsed {_clock(frame.elapsed_s)}, {_clock(left)} left", style="bold")
    progress = ProgressBar(total=frame.duration_s, completed=min(frame.elapsed_s, frame.duration_s))
    dialed = len(frame.board.leads_dialed)
    leads = Text.assemble(
        ("leads: ", "bold"),
        f"{frame.leads_total} imported, {dialed} dialed, {frame.leads_total - dialed} not yet dialed\n",
        ("calls placed: ", "bold"),
        f"{frame.board.placed};  ",
        ("abandon rate: ", "bold"),
        _percent(abandon_rate(frame.outcomes)),
    )
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column()
    grid.add_column()
    if width >= WIDE:
        grid.add_column(ratio=1)
        grid.add_row(_calls_table(frame), _operators_table(frame), _outcomes_table(frame))
        parts: list[RenderableType] = [phase, progress, grid, leads]
    else:
        grid.add_row(_calls_table(frame), _operators_table(frame))
        parts = [phase, progress, grid, _outcomes_table(frame), leads]
    return Panel(Group(*parts), title=frame.title, border_style="blue")


# --- the summary ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    outcomes: dict[str, int]
    placed: int
    live_answers: int
    abandoned: int
    connected_within_limit: int
    average_wait_s: float | None  # answer to operator, over connected calls
    average_talk_s: float | None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.live_answers if self.live_answers else None

    @property
    def connected_within_limit_share(self) -> float | None:
        return self.connected_within_limit / self.live_answers if self.live_answers else None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def summarize(attempts: Sequence[CallAttempt], connect_limit_s: float = 2.0) -> RunSummary:
    """The figures a regulator and a manager ask for, from the stored attempts."""
    outcomes = Counter(a.outcome or "unfinished" for a in attempts)
    live = [a for a in attempts if a.outcome in ("connected", "abandoned")]
    waits = [
        w
        for a in live
        if a.outcome == "connected" and (w := _seconds(a.connected_at, a.answered_at)) is not None
    ]
    talks = [
        t
        for a in live
        if a.outcome == "connected" and (t := _seconds(a.ended_at, a.connected_at)) is not None
    ]
    return RunSummary(
        outcomes=dict(outcomes),
        placed=len(attempts),
        live_answers=len(live),
        abandoned=outcomes.get("abandoned", 0),
        connected_within_limit=sum(1 for w in waits if w <= connect_limit_s),
        average_wait_s=_mean(waits),
        average_talk_s=_mean(talks),
    )


def render_summary(
    summary: RunSummary, connect_limit_s: float = 2.0, abandon_cap: float = 0.03
) -> RenderableType:
    outcomes = Table(title="Outcomes")
    outcomes.add_column("outcome")
    outcomes.add_column("calls", justify="right")
    outcomes.add_column("share", justify="right")
    for outcome, n in sorted(summary.outcomes.items(), key=lambda item: -item[1]):
        share = n / summary.placed if summary.placed else 0.0
        outcomes.add_row(Text(outcome, style=OUTCOME_STYLES.get(outcome, "")), str(n), f"{share:.1%}")
    outcomes.add_row(Text("total", style="bold"), str(summary.placed), "", end_section=True)

    def secs(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    figures = Table(title="Service")
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    figures.add_row("calls placed", str(summary.placed))
    figures.add_row("live answers", str(summary.live_answers))
    figures.add_row("abandoned", str(summary.abandoned))
    figures.add_row(f"abandon rate (cap {abandon_cap:.0%})", _percent(summary.abandon_rate))
    figures.add_row(f"connected within {connect_limit_s:g} s", _percent(summary.connected_within_limit_share))
    figures.add_row("average wait for operator", secs(summary.average_wait_s))
    figures.add_row("average talk time", secs(summary.average_talk_s))
    grid = Table.grid(padding=(0, 4))
    grid.add_row(outcomes, figures)
    note = Text(
        "Live answers: calls a person answered (connected + abandoned). The abandon rate and the "
        f"{connect_limit_s:g}-second share are over live answers; the wait runs from the answer "
        "to the operator.",
        style="dim",
    )
    return Group(grid, note)

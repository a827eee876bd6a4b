"""``dialer status``: once, or live with ``--watch``; the table and lines both forms share.

Piped into a file or another program, the table is as wide as its content needs (never cut
to 80 columns). ``--watch`` redraws it in place (rich ``Live``) at the terminal's size:
columns shrink and long cells are cut with an ellipsis, rows beyond the screen are counted
instead of drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from dialer.cli import schedule_commands
from dialer.cli.support import stdout, store
from dialer.core import numbers, reasons
from dialer.core.errors import InvalidInput
from dialer.core.i18n import N_, _
from dialer.services.status import CampaignStatus, StatusReport, collect_status
from dialer.store.nodes import DEFAULT_LEASE_S, NodeHealth
from dialer.store.pace import PacingView

# An engine writes its explanation every few seconds: older than this, it is not dialing.
STALE_PACING_S = 30.0
_UNBOUNDED = 100_000


def status_command(
    ctx: typer.Context,
    campaign: Annotated[list[str] | None, typer.Option(help="Only these campaigns (repeatable).")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Redraw the status in place until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between redraws with --watch.")] = 2.0,
    count: Annotated[
        int | None, typer.Option(help="With --watch, stop after this many redraws (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Campaigns with their state, leads left, next due lead, calls in flight, operators, outcomes."""
    if not 0.2 <= interval <= 3600:
        raise InvalidInput(
            _("--interval {interval:g}: expected 0.2 to 3600 seconds").format(interval=interval)
        )
    if count is not None and count < 1:
        raise InvalidInput(_("--count {count}: expected at least 1").format(count=count))
    engine = store(ctx)
    names = campaign or ()
    report = collect_status(engine, names)  # an unknown campaign fails here, before any redraw
    if not watch:
        print_status(report)
        for line in schedule_commands.schedule_lines(engine, list(names)):
            stdout.print(escape(line))
        return
    watch_status(lambda: collect_status(engine, names), interval, count, first=report)


def print_status(report: StatusReport, console: Console = stdout) -> None:
    """The status once; when not on a terminal, as wide as the content needs."""
    view = render(report, time.time())
    if not console.is_terminal:
        need = Measurement.get(console, console.options.update_width(_UNBOUNDED), view).maximum
        if need > console.width:
            console = Console(file=console.file, width=need, highlight=False, soft_wrap=True)
    console.print(view)


def watch_status(
    load: Callable[[], StatusReport],
    interval: float,
    count: int | None,
    first: StatusReport | None = None,
    console: Console = stdout,
) -> None:
    """Redraw the status every ``interval`` seconds until Ctrl-C (or ``count`` redraws)."""
    report = first or load()
    drawn = 1
    with Live(fitted(report, time.time(), *_size(console)), console=console, auto_refresh=False) as live:
        live.refresh()
        try:
            while count is None or drawn < count:
                time.sleep(interval)
                report = load()
                live.update(fitted(report, time.time(), *_size(console)), refresh=True)
                drawn += 1
        except KeyboardInterrupt:
            pass


def _size(console: Console) -> tuple[int, int]:
    return console.size.height, console.size.width


def fitted(report: StatusReport, now: float, height: int, width: int) -> RenderableType:
    """The status cut to the screen: rows beyond its height counted, long cells cut to its width."""
    lines = _lines(report, now)
    room = max(1, height - len(lines) - 5)  # the table's header and rule take 3 lines, plus a note
    shown = report.campaigns[:room]
    hidden = len(report.campaigns) - len(shown)
    parts: list[RenderableType] = [_fit_table(_rows(shown, now), width)]
    if hidden:
        more = _("... and {count} more campaigns (--campaign NAME to pick)").format(count=hidden)
        parts.append(Text(more, no_wrap=True))
    parts += [Text(line, no_wrap=True, overflow="ellipsis") for line in lines]
    return Group(*parts)


def render(report: StatusReport, now: float) -> RenderableType:
    lines = (Text(line) for line in _lines(report, now))
    return Group(_table(HEADERS, _rows(report.campaigns, now)), *lines)


HEADERS = (
    N_("campaign"), N_("state"), N_("mode"), N_("dialed by"), N_("leads left"), N_("next due"),
    N_("no window"), N_("in flight"), N_("outcomes"),
)  # fmt: skip
_NAME, _OUTCOMES = 0, len(HEADERS) - 1
_DROP_ORDER = (6, 3, 2, 7)  # what a narrow screen loses first: no window, dialed by, mode, in flight
_MIN_CELL = 8


def _rows(campaigns: Sequence[CampaignStatus], now: float) -> list[list[str]]:
    moment = datetime.fromtimestamp(now, UTC)
    return [
        [
            c.name,
            c.state,
            c.mode,
            c.node or "-",
            numbers.integer(c.leads_left),
            due_text(c.next_due, moment),
            numbers.integer(c.no_window),
            numbers.integer(c.in_flight),
            ", ".join(f"{k} {numbers.integer(v)}" for k, v in sorted(c.outcomes.items())) or "-",
        ]
        for c in campaigns
    ]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], compact: bool = False) -> Table:
    table = Table(*(_(h) for h in headers), box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD)
    for row in rows:
        table.add_row(*row)
    return table


def _fit_table(rows: list[list[str]], width: int) -> Table:
    """A table no wider than ``width``: outcomes, then names, are cut short, then columns dropped."""
    keep = list(range(len(HEADERS)))
    for drop in (None, *_DROP_ORDER):
        if drop is not None:
            keep.remove(drop)
        table = _within(rows, keep, width)
        if table is not None:
            return table
    return _sized(rows, keep, {_NAME: _MIN_CELL, _OUTCOMES: _MIN_CELL})  # the terminal cuts the rest


def _within(rows: list[list[str]], keep: list[int], width: int) -> Table | None:
    """The table of columns ``keep`` cut to ``width``, if cutting names and outcomes is enough."""
    caps = {i: max((len(r[i]) for r in rows), default=0) for i in (_NAME, _OUTCOMES)}
    for column, floor in ((_OUTCOMES, 2 * _MIN_CELL), (_NAME, _MIN_CELL + 4)):
        table = _sized(rows, keep, caps)
        excess = _width(table) - width
        if excess <= 0:
            return table
        caps[column] = max(floor, caps[column] - excess)
    table = _sized(rows, keep, caps)
    return table if _width(table) <= width else None


def _sized(rows: list[list[str]], keep: list[int], caps: dict[int, int]) -> Table:
    cells = [[_cut(r[i], caps.get(i)) for i in keep] for r in rows]
    return _table([HEADERS[i] for i in keep], cells, compact=True)


def _width(table: Table) -> int:
    console = Console(width=_UNBOUNDED)
    return Measurement.get(console, console.options, table).maximum


def _cut(text: str, cap: int | None) -> str:
    if cap is None or len(text) <= cap:
        return text
    return text[: cap - 1] + "…"


def due_text(due: datetime | None, now: datetime) -> str:
    """When the next lead is due: ``now``, a UTC time today, or a UTC date and time."""
    if due is None:
        return "-"
    if due <= now:
        return _("now")
    if due.date() == now.date():
        return f"{due:%H:%M} UTC"
    return f"{due:%Y-%m-%d %H:%M} UTC"


def _lines(report: StatusReport, now: float) -> list[str]:
    operators = ", ".join(f"{k} {v}" for k, v in sorted(report.operators.items())) or _("none")
    lines = [
        _("calls in flight: {count}; operators: {operators}").format(
            count=report.in_flight, operators=operators
        )
    ]
    lines.append(engines_line(report.nodes, datetime.fromtimestamp(now, UTC)))
    for c in report.campaigns:
        lines += [pacing_line(c.name, view, now) for view in c.pacing]
    for c in report.campaigns:
        if c.no_window:
            never = _(
                "{count} leads can never be called in their calling window; set their time zone or region"
            )
            lines.append(f"{c.name}: " + never.format(count=c.no_window))
    return lines


def engines_line(engines: Sequence[NodeHealth], now: datetime) -> str:
    """Running engines and how recently each beat its heartbeat."""
    if not engines:
        return _("engines: none running")
    parts = []
    for node in engines:
        silent = node.silent_for(now)
        if silent > DEFAULT_LEASE_S:
            note = _("silent {seconds:.0f} s: another engine will take it over").format(seconds=silent)
        else:
            note = _("alive {seconds:.0f} s ago").format(seconds=silent)
        parts.append(f"{node.name} ({note})")
    return _("engines: {engines}").format(engines=", ".join(parts))


def _pct(value: object) -> str:
    return numbers.percent(value) if isinstance(value, int | float) else "-"


def _num(value: object) -> str:
    """A figure of the pacer's explanation (already rounded), in the reader's convention."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    return numbers.decimal(value)


def pacing_line(campaign: str, view: PacingView, now: float) -> str:
    """One engine's last pacing decision for a campaign, in one line."""
    e = view.explain
    age = view.age_s(now)
    mode = str(e.get("mode", "?"))
    if mode == "progressive":
        return _pacing_end(_progressive_parts(campaign, view), e, age)
    if e.get("fallback"):
        mode += " (" + _("fallen back to {mode}: abandon rate near the cap").format(mode=e["fallback"]) + ")"
    parts = [
        _("{campaign} pacing on {node}: {mode}").format(campaign=campaign, node=view.node, mode=mode),
        _("dial rate {rate}/min, placed {placed} last tick").format(
            rate=_num(e.get("dial_rate_per_min", 0)), placed=e.get("placed", 0)
        ),
        _("answer rate {rate} over {count} answers").format(
            rate=_pct(e.get("answer_rate")), count=e.get("answered_seen", 0)
        ),
        _("ring {ring} s, talk {talk} s").format(
            ring=_num(e.get("ring_mean_s")), talk=_num(e.get("talk_mean_s"))
        ),
        _("operators ready {ready} of {staffed}").format(
            ready=e.get("ready", 0), staffed=e.get("staffed", 0)
        ),
    ]
    if "free_expected" in e:
        expected = _("expected free {free}, expected answers {answers}")
        parts.append(expected.format(free=_num(e["free_expected"]), answers=_num(e.get("answers_expected"))))
    parts.append(
        _("abandoned {abandoned}/{live} = {rate} (cap {cap} per {window})").format(
            abandoned=e.get("abandoned", 0),
            live=e.get("live_answers", 0),
            rate=_pct(e.get("abandon_rate")),
            cap=_pct(e.get("abandon_cap")),
            window=e.get("abandon_window", "?"),
        )
    )
    if "nodes" in e:
        shared = _(
            "shared by {nodes} nodes: this one's part {part}, channels {channels}; campaign ready {ready}"
        )
        parts.append(
            shared.format(
                nodes=e["nodes"],
                part=_pct(e.get("node_share")),
                channels=e.get("node_max_channels", "-"),
                ready=e.get("campaign_ready", "-"),
            )
        )
    return _pacing_end(parts, e, age)


def _progressive_parts(campaign: str, view: PacingView) -> list[str]:
    """What progressive does: one call per ready operator, less the calls still without one."""
    e = view.explain
    return [
        _("{campaign} pacing on {node}: {mode}").format(campaign=campaign, node=view.node, mode=e["mode"])
        + " ("
        + _("one call per ready operator")
        + ")",
        _("operators ready {ready}, in wrap-up {wrapping}, talking {talking}").format(
            ready=e.get("ready", 0), wrapping=e.get("wrapping", "-"), talking=e.get("in_call", "-")
        ),
        _("calls without an operator yet {count}").format(count=e.get("in_flight", "-")),
        _("dial rate {rate}/min, placed {placed} last tick").format(
            rate=_num(e.get("dial_rate_per_min", 0)), placed=e.get("placed", 0)
        ),
    ]


def _pacing_end(parts: list[str], e: dict[str, object], age: float) -> str:
    """The line's parts, why nothing was placed if a reason was given, and how old it is."""
    if "reason" in e:
        parts.append(reasons.shown(str(e["reason"])))
    stale = " [" + _("not running") + "]" if age > STALE_PACING_S else ""
    return "; ".join(parts) + "; " + _("{seconds:.0f} s ago").format(seconds=age) + stale

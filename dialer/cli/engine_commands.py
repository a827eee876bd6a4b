"""The engine's commands: ``dialer run``, ``dialer status``, ``dialer operators ...``,
``dialer export attempts``. A thin shell over the library; ``cli.py`` registers them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dialer.cli.support import AMI_HELP, ami_settings, stderr, stdout, store, write_atomically
from dialer.engine.loop import DialEngine, EngineSettings, RunReport
from dialer.pbx.config import DEFAULT_WRAPUP_S
from dialer.services import operators as ops
from dialer.services.attempts_export import export_attempts
from dialer.services.status import StatusReport, collect_status
from dialer.store.nodes import DEFAULT_LEASE_S, NodeHealth
from dialer.store.pace import PacingView

log = logging.getLogger(__name__)


# --- dialer operators -------------------------------------------------------------

operators_app = typer.Typer(help="Add operators and change their state.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Operator name.")]


def _print_operator(view: ops.OperatorView) -> None:
    stdout.print(
        f"{escape(view.name)}: wants {view.desired_state}, queue says {view.state}"
        f" ({escape(view.interface)}; campaigns: {escape(', '.join(view.campaigns) or '-')})"
    )


@operators_app.command("add")
def operators_add(
    ctx: typer.Context,
    name: Name,
    interface: Annotated[str, typer.Option(help="Queue member interface, e.g. PJSIP/101.")],
    campaign: Annotated[list[str], typer.Option(help="Campaign the operator serves (repeatable).")],
) -> None:
    """Add an operator (a queue member) to one or more campaigns."""
    _print_operator(ops.add_operator(store(ctx), name, interface, campaign))


@operators_app.command("login")
def operators_login(ctx: typer.Context, name: Name) -> None:
    """Log in to the campaign queues, paused."""
    _print_operator(ops.login(store(ctx), name))


@operators_app.command("ready")
def operators_ready(ctx: typer.Context, name: Name) -> None:
    """Take calls."""
    _print_operator(ops.ready(store(ctx), name))


@operators_app.command("pause")
def operators_pause(ctx: typer.Context, name: Name) -> None:
    """Stop taking calls but stay logged in."""
    _print_operator(ops.pause(store(ctx), name))


@operators_app.command("logout")
def operators_logout(ctx: typer.Context, name: Name) -> None:
    """Leave the campaign queues."""
    _print_operator(ops.logout(store(ctx), name))


@operators_app.command("list")
def operators_list(ctx: typer.Context) -> None:
    """Every operator with the state asked for and the state the queue reports."""
    table = Table("operator", "interface", "wants", "queue says", "campaigns")
    for view in ops.list_operators(store(ctx)):
        table.add_row(view.name, view.interface, view.desired_state, view.state, ", ".join(view.campaigns))
    stdout.print(table)


# --- dialer run -------------------------------------------------------------------


def run_command(
    ctx: typer.Context,
    campaign: Annotated[
        list[str] | None, typer.Option(help="Campaign to dial (repeatable); default every active one.")
    ] = None,
    ami: Annotated[
        str | None,
        typer.Option(
            help=AMI_HELP,
            show_default=False,
        ),
    ] = None,
    until_done: Annotated[
        bool, typer.Option(help="Exit once no call is in flight and no lead is callable now.")
    ] = False,
    node: Annotated[
        str | None, typer.Option(help="This node's id (default: DIALER_NODE or host name).")
    ] = None,
    shutdown_deadline: Annotated[
        float, typer.Option(help="Seconds live calls may take to finish after SIGTERM.")
    ] = 30.0,
    wrapup: Annotated[
        float,
        typer.Option(min=0, help="The queues' wrapuptime: seconds after a call with no call offered."),
    ] = DEFAULT_WRAPUP_S,
) -> None:
    """Dial due leads and hand every answered call to a ready operator."""
    from dialer.ami.client import AmiTelephony  # the one place the AMI adapter is chosen

    target = ami_settings(ami)
    settings = EngineSettings(shutdown_deadline_s=shutdown_deadline, queue_wrapup_s=wrapup)
    if node:
        settings = replace(settings, node_id=node)
    engine_store = store(ctx)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def main() -> RunReport:
        telephony = await AmiTelephony.connect(target)
        log.info("connected to %s as node %s", target.masked_url, settings.node_id)
        engine = DialEngine(engine_store, telephony, settings, campaigns=campaign or ())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.stop)
        try:
            return await engine.run(until_done=until_done)
        finally:
            await telephony.close()

    report = asyncio.run(main())
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "none"
    stderr.print(f"placed {report.started} calls; outcomes: {outcomes}")
    if report.left:
        stderr.print(f"done for now: {escape(report.left)}")


# --- dialer status ----------------------------------------------------------------


def status_command(
    ctx: typer.Context,
    campaign: Annotated[list[str] | None, typer.Option(help="Only these campaigns (repeatable).")] = None,
) -> None:
    """Campaigns with leads left, calls in flight, operators by state, outcomes so far."""
    print_status(collect_status(store(ctx), campaign or ()))


def print_status(report: StatusReport) -> None:
    table = Table("campaign", "mode", "dialed by", "leads left", "no window", "in flight", "outcomes")
    for c in report.campaigns:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(c.outcomes.items())) or "-"
        table.add_row(
            c.name, c.mode, c.node or "-", str(c.leads_left), str(c.no_window), str(c.in_flight), outcomes
        )
    stdout.print(table)
    operators = ", ".join(f"{k} {v}" for k, v in sorted(report.operators.items())) or "none"
    stdout.print(f"calls in flight: {report.in_flight}; operators: {operators}")
    now = time.time()
    stdout.print(escape(engines_line(report.nodes, datetime.fromtimestamp(now, UTC))))
    for c in report.campaigns:
        for view in c.pacing:
            stdout.print(escape(pacing_line(c.name, view, now)))
    for c in report.campaigns:
        if c.no_window:
            stdout.print(
                f"[yellow]{escape(c.name)}: {c.no_window} leads can never be called in their calling window;"
                " set their time zone or region[/yellow]"
            )


def engines_line(engines: Sequence[NodeHealth], now: datetime) -> str:
    """Running engines and how recently each beat its heartbeat."""
    if not engines:
        return "engines: none running"
    parts = []
    for node in engines:
        silent = node.silent_for(now)
        if silent > DEFAULT_LEASE_S:
            parts.append(f"{node.name} (silent {silent:.0f} s: another engine will take it over)")
        else:
            parts.append(f"{node.name} (alive {silent:.0f} s ago)")
    return "engines: " + ", ".join(parts)


# An engine writes its explanation every few seconds: older than this, it is not dialing.
STALE_PACING_S = 30.0


def _pct(value: object) -> str:
    return f"{float(value) * 100:.1f}%" if isinstance(value, int | float) else "-"


def pacing_line(campaign: str, view: PacingView, now: float) -> str:
    """One engine's last pacing decision for a campaign, in one line."""
    e = view.explain
    age = view.age_s(now)
    mode = str(e.get("mode", "?"))
    if e.get("fallback"):
        mode += f" (fallen back to {e['fallback']}: abandon rate near the cap)"
    parts = [
        f"{campaign} pacing on {view.node}: {mode}",
        f"dial rate {e.get('dial_rate_per_min', 0)}/min, placed {e.get('placed', 0)} last tick",
        f"answer rate {_pct(e.get('answer_rate'))} over {e.get('answered_seen', 0)} answers",
        f"ring {e.get('ring_mean_s', '-')} s, talk {e.get('talk_mean_s', '-')} s",
        f"operators ready {e.get('ready', 0)} of {e.get('staffed', 0)}",
    ]
    if "free_expected" in e:
        parts.append(f"expected free {e['free_expected']}, expected answers {e.get('answers_expected', '-')}")
    parts.append(
        f"abandoned {e.get('abandoned', 0)}/{e.get('live_answers', 0)} = {_pct(e.get('abandon_rate'))}"
        f" (cap {_pct(e.get('abandon_cap'))} per {e.get('abandon_window', '?')})"
    )
    if "reason" in e:
        parts.append(str(e["reason"]))
    stale = " [not running]" if age > STALE_PACING_S else ""
    return "; ".join(parts) + f"; {age:.0f} s ago{stale}"


# --- dialer export attempts ---------------------------------------------------------


def export_attempts_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose attempts to export.")],
    output: Annotated[str, typer.Option("-o", "--output", help="File to write, or - for stdout.")],
) -> None:
    """Export every call attempt of a campaign with its outcome."""
    engine = store(ctx)
    if output == "-":
        export_attempts(engine, campaign, sys.stdout)
        return
    count = write_atomically(Path(output), lambda handle: export_attempts(engine, campaign, handle))
    stderr.print(f"exported {count} attempts to {escape(output)}")

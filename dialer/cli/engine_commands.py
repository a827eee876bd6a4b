"""The engine's commands: ``dialer run``, ``dialer status``, ``dialer operators ...``.
A thin shell over the library; ``cli.py`` registers them.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
from dataclasses import replace
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dialer.cli.support import AMI_HELP, ami_settings, stderr, stdout, store
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from dialer.engine.loop import DialEngine, EngineSettings, RunReport
from dialer.pbx.config import DEFAULT_WRAPUP_S
from dialer.services import operators as ops
from dialer.store.nodes import check_node

log = logging.getLogger(__name__)


# --- dialer operators -------------------------------------------------------------

operators_app = typer.Typer(help="Add operators and change their state.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Operator name.")]


def _print_operator(view: ops.OperatorView) -> None:
    stdout.print(
        f"{escape(view.name)}: {_('wants')} {view.desired_state}, {_('queue says')} {view.state}"
        f" ({escape(view.interface)}; {_('campaigns')}: {escape(', '.join(view.campaigns) or '-')})"
    )


@operators_app.command("add")
def operators_add(
    ctx: typer.Context,
    name: Name,
    interface: Annotated[str, typer.Option(help="Queue member interface, e.g. PJSIP/101.")],
    campaign: Annotated[list[str], typer.Option(help="Campaign the operator serves (repeatable).")],
    node: Annotated[
        str | None, typer.Option(help="The node whose Asterisk the phone is on (only it dials for them).")
    ] = None,
) -> None:
    """Add an operator (a queue member) to one or more campaigns."""
    _print_operator(ops.add_operator(store(ctx), name, interface, campaign, node))


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
    table = Table(_("operator"), _("interface"), _("wants"), _("queue says"), _("campaigns"))
    for view in ops.list_operators(store(ctx)):
        table.add_row(view.name, view.interface, view.desired_state, view.state, ", ".join(view.campaigns))
    stdout.print(table)


# --- dialer run -------------------------------------------------------------------


def run_command(
    ctx: typer.Context,
    campaign: Annotated[
        list[str] | None, typer.Option(help="Campaign to dial (repeatable); default every one not archived.")
    ] = None,
    ami: Annotated[
        str | None,
        typer.Option(
            help=AMI_HELP,
            show_default=False,
        ),
    ] = None,
    until_done: Annotated[
        bool, typer.Option(help="Exit once no call is in flight and no lead or callback is due now.")
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
    if not math.isfinite(shutdown_deadline) or not 0 <= shutdown_deadline <= 3600:
        raise InvalidInput(
            _("--shutdown-deadline {seconds:g}: expected 0 to 3600 seconds").format(seconds=shutdown_deadline)
        )
    if not math.isfinite(wrapup) or not 0 <= wrapup <= 3600:
        raise InvalidInput(_("--wrapup {seconds:g}: expected 0 to 3600 seconds").format(seconds=wrapup))
    settings = EngineSettings(shutdown_deadline_s=shutdown_deadline, queue_wrapup_s=wrapup)
    if node:
        settings = replace(settings, node_id=check_node(node))
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
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or _("none")
    stderr.print(
        _("placed {count} calls; outcomes: {outcomes}").format(count=report.started, outcomes=outcomes)
    )
    if report.left:
        stderr.print(_("done for now: {left}").format(left=escape(report.left)))

"""``dialer serve`` and ``dialer lists source ...``: the long-running service and its drop folders.
``cli.py`` registers them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dialer.cli.support import AMI_HELP, ami_settings, stderr, stdout, store
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from dialer.engine.loop import EngineSettings, RunReport
from dialer.service.http import parse_bind
from lists import sources

log = logging.getLogger(__name__)

# --- dialer lists source ---------------------------------------------------------------

source_app = typer.Typer(
    help="Drop folders whose files `dialer serve` imports by itself.", no_args_is_help=True
)


@source_app.command("add")
def source_add(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign the files' leads go to.")],
    folder: Annotated[Path, typer.Option(help="Folder to watch; done/ and failed/ are made inside it.")],
    pattern: Annotated[str, typer.Option(help="Which files to take (a glob on the name).")] = "*.csv",
    every: Annotated[str, typer.Option(help="How often to look: 30s, 5m, 1h.")] = "5m",
) -> None:
    """Watch a folder: each new file is imported into the campaign, then moved to done/ or failed/."""
    view = sources.add_source(store(ctx), campaign, folder, pattern, every)
    where = escape(f"{view.folder}/{view.pattern}")
    stdout.print(f"list source {view.id}: {where} into {escape(view.campaign)} every {view.every_s} s")


@source_app.command("list")
def source_list(ctx: typer.Context) -> None:
    """Every drop folder with its campaign, pattern and interval."""
    found = sources.list_sources(store(ctx))
    if not found:
        stdout.print("no list sources: dialer lists source add --campaign NAME --folder DIR")
        return
    table = Table("id", "campaign", "folder", "pattern", "every")
    for view in found:
        table.add_row(str(view.id), view.campaign, str(view.folder), view.pattern, f"{view.every_s} s")
    stdout.print(table)


@source_app.command("remove")
def source_remove(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Stop watching a folder (its files stay where they are)."""
    sources.remove_source(store(ctx), source_id)
    stdout.print(f"removed list source {source_id}")


# --- dialer serve -----------------------------------------------------------------------


def serve_command(
    ctx: typer.Context,
    campaign: Annotated[
        list[str] | None, typer.Option(help="Campaign to serve (repeatable); default every active one.")
    ] = None,
    ami: Annotated[str | None, typer.Option(help=AMI_HELP, show_default=False)] = None,
    node: Annotated[
        str | None, typer.Option(help="This node's id (default: DIALER_NODE or host name).")
    ] = None,
    shutdown_deadline: Annotated[
        float, typer.Option(help="Seconds live calls may take to finish after SIGTERM.")
    ] = 30.0,
    http: Annotated[
        str, typer.Option(help="Where /metrics and /healthz listen, HOST:PORT (loopback by default).")
    ] = "127.0.0.1:9300",
    no_http: Annotated[bool, typer.Option("--no-http", help="No HTTP endpoint.")] = False,
    console: Annotated[
        str, typer.Option(help="Where the operator console listens, HOST:PORT (loopback by default).")
    ] = "127.0.0.1:8080",
    no_console: Annotated[bool, typer.Option("--no-console", help="No operator console.")] = False,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Console session cookie only over HTTPS (behind TLS).")
    ] = False,
    sync: Annotated[float, typer.Option(help="Seconds between re-reads of the scheduled jobs.")] = 10.0,
) -> None:
    """Run the service: campaigns on schedule, scheduled jobs, metrics and health, the operator console."""
    from dialer.ami.client import AmiTelephony  # the one place the AMI adapter is chosen
    from dialer.service.serve import ServeSettings, Service, listen
    from dialer.web.app import create_app

    target = ami_settings(ami)
    bind = None if no_http else parse_bind(http)
    console_bind = None if no_console else parse_bind(console, "--console")
    if bind is not None and bind == console_bind:
        raise InvalidInput(
            _("--http and --console both ask for {bind}: give them different ports").format(bind=http)
        )
    engine_settings = EngineSettings(shutdown_deadline_s=shutdown_deadline)
    if node:
        engine_settings = replace(engine_settings, node_id=node)
    settings = ServeSettings(
        engine=engine_settings, campaigns=campaign or (), http=bind, sync_s=sync, console=console_bind
    )
    engine_store = store(ctx)
    app = create_app(engine_store, secure_cookies=secure_cookies) if console_bind else None
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # A taken port fails before anything else starts.
    socks = {name: listen(*where) for name, where in (("http", bind), ("console", console_bind)) if where}

    async def main() -> RunReport:
        telephony = await AmiTelephony.connect(target)
        log.info("connected to %s as node %s", target.masked_url, engine_settings.node_id)
        try:
            return await Service(engine_store, telephony, settings, app, socks).run()
        finally:
            await telephony.close()

    report = asyncio.run(main())
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "none"
    stderr.print(f"placed {report.started} calls; outcomes: {outcomes}")


def register(
    app: typer.Typer, campaign_app: typer.Typer, lists_app: typer.Typer, report_app: typer.Typer
) -> None:
    """Put the service's commands in the tree: serve, jobs, lists source, campaign (un)schedule, report."""
    from dialer.cli import jobs_commands, report_commands, schedule_commands

    app.command("serve")(serve_command)
    app.add_typer(jobs_commands.jobs_app, name="jobs")
    lists_app.add_typer(source_app, name="source")
    campaign_app.command("schedule")(schedule_commands.schedule_command)
    campaign_app.command("unschedule")(schedule_commands.unschedule_command)
    report_app.command("campaign")(report_commands.report_campaign_command)

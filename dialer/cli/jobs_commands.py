"""``dialer jobs ...``: the folder jobs ``dialer serve`` runs on a schedule (do-not-call refresh,
exports). ``dialer.cli.service_commands`` registers them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dialer.cli.support import stdout, store
from dialer.service import tasks

jobs_app = typer.Typer(
    help="Folder jobs `dialer serve` runs on a schedule: do-not-call refresh and exports.",
    no_args_is_help=True,
)


@jobs_app.command("add-dnc")
def add_dnc(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Option(help="Folder to read do-not-call files from; done/ and failed/ inside.")
    ],
    campaign: Annotated[
        str | None, typer.Option(help="Put the numbers on this campaign's list (default: the global list).")
    ] = None,
    pattern: Annotated[str, typer.Option(help="Which files to take (a glob on the name).")] = "*.csv",
    every: Annotated[str, typer.Option(help="How often to look: 30s, 5m, 1h, 1d.")] = "1h",
) -> None:
    """Refresh a do-not-call list from a folder: each new file's numbers are added, then it moves to done/."""
    view = tasks.add_dnc_task(store(ctx), folder, campaign, pattern, every)
    scope = f"campaign {view.campaign}" if view.campaign else "the global list"
    where = escape(f"{view.folder}/{view.pattern}")
    stdout.print(f"job {view.id}: do-not-call from {where} into {escape(scope)} every {view.every_s} s")


@jobs_app.command("add-export")
def add_export(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign to export.")],
    folder: Annotated[Path, typer.Option(help="Folder the files are written to.")],
    what: Annotated[
        str, typer.Option(help="attempts, leads, answers, report.html, report.xlsx (comma-separated) or all.")
    ] = "all",
    lang: Annotated[str, typer.Option(help="The report's labels: en or ru.")] = "ru",
    every: Annotated[str, typer.Option(help="How often: 1h, 1d ...")] = "1d",
) -> None:
    """Write a campaign's exports and report into a folder on a schedule, under time-stamped names."""
    view = tasks.add_export_task(store(ctx), folder, campaign, what, lang, every)
    outputs = ", ".join(view.outputs)
    stdout.print(
        f"job {view.id}: {escape(outputs)} of {escape(view.campaign or '')} to {escape(str(view.folder))} "
        f"every {view.every_s} s"
    )


@jobs_app.command("list")
def list_jobs(ctx: typer.Context) -> None:
    """Every folder job with its kind, campaign, folder and interval."""
    found = tasks.list_tasks(store(ctx))
    if not found:
        stdout.print("no folder jobs: dialer jobs add-dnc --folder DIR, dialer jobs add-export ...")
        return
    table = Table("id", "kind", "campaign", "folder", "what", "every")
    for view in found:
        what = view.pattern if view.kind == tasks.DNC else ",".join(view.outputs)
        campaign = view.campaign or ("(global)" if view.kind == tasks.DNC else "")
        table.add_row(str(view.id), view.kind, campaign, str(view.folder), what, f"{view.every_s} s")
    stdout.print(table)


@jobs_app.command("remove")
def remove_job(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="Job id.")]) -> None:
    """Stop running a folder job (the files it wrote or moved stay where they are)."""
    tasks.remove_task(store(ctx), job_id)
    stdout.print(f"removed job {job_id}")

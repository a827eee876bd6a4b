"""``dialer numbering``: load the Russian numbering-plan registry and show what is loaded.

A thin shell over ``lists.numbering``; ``cli.py`` registers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dialer.cli.support import stderr, stdout, store
from dialer.core import numbers
from dialer.core.i18n import _, ngettext
from lists.numbering import load_numbering, loaded_ranges, numbering_status

numbering_app = typer.Typer(
    help="The Russian numbering plan (ABC/DEF registry): a Russian number's region and time zone.",
    no_args_is_help=True,
)
_SHOWN_PROBLEMS = 5


@numbering_app.command("import")
def numbering_import(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="The registry's range files (ABC-3xx.csv, DEF-9xx.csv ...).")
    ],
) -> None:
    """Load the registry's range files, replacing the plan loaded before (all or nothing)."""
    load = load_numbering(store(ctx), files)
    for loaded in load.files:
        rows = numbers.integer(loaded.rows)
        stdout.print(f"{escape(loaded.name)}: {rows} {_('ranges')}" + _skipped(loaded.skipped))
    stdout.print(
        _("loaded: {ranges} ranges from {files} files").format(
            ranges=numbers.integer(load.rows), files=len(load.files)
        )
    )
    for problem in load.problems[:_SHOWN_PROBLEMS]:
        stderr.print(f"[yellow]warning:[/yellow] skipped {escape(problem)}")
    if len(load.problems) > _SHOWN_PROBLEMS:
        stderr.print(f"[yellow]warning:[/yellow] ... and {len(load.problems) - _SHOWN_PROBLEMS} more lines")
    if load.unknown_regions:
        names = ", ".join(load.unknown_regions[:_SHOWN_PROBLEMS])
        stderr.print(
            f"[yellow]warning:[/yellow] no time zone is known for {len(load.unknown_regions)} regions "
            f"({escape(names)}); their numbers keep the zones of their prefix"
        )


def _skipped(count: int) -> str:
    return (
        ", " + ngettext("{count} line skipped", "{count} lines skipped", count).format(count=count)
        if count
        else ""
    )


@numbering_app.command("status")
def numbering_status_command(ctx: typer.Context) -> None:
    """Show the loaded plan: files, ranges and dates."""
    engine = store(ctx)
    files = numbering_status(engine)
    if not files:
        stdout.print(_("no numbering plan loaded: Russian mobile numbers get every Russian time zone"))
        stdout.print(_("load the registry's files with: dialer numbering import ABC-3xx.csv DEF-9xx.csv ..."))
        return
    table = Table(_("file"), _("ranges"), _("skipped"), _("file date (UTC)"), _("loaded (UTC)"))
    for loaded in files:
        file_date = f"{loaded.modified_at:%Y-%m-%d %H:%M}" if loaded.modified_at else "-"
        table.add_row(
            escape(loaded.name),
            str(loaded.rows),
            str(loaded.skipped),
            file_date,
            f"{loaded.loaded_at:%Y-%m-%d %H:%M}",
        )
    stdout.print(table)
    loaded_at = f"{files[0].loaded_at:%Y-%m-%d %H:%M}"
    ranges = numbers.integer(loaded_ranges(engine))
    stdout.print(_("ranges: {ranges}, loaded {at} UTC").format(ranges=ranges, at=loaded_at))

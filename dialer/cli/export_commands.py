"""``dialer export leads|attempts|answers``: a campaign's rows as CSV, Excel-flavoured CSV or XLSX.

The format follows the output's name and the options (``lists.export_format``); every file is
written through the one safe writer, whole or not at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Annotated

import typer
from rich.markup import escape

from dialer.cli.support import FollowSymlinks, output_rules, stderr, store
from dialer.core import numbers
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from dialer.services import lead_edits, survey
from dialer.services.attempts_export import AttemptsRequest, attempts_table
from lists.export import leads_table
from lists.export_format import ExportFormat, check_tz, choose_format
from lists.export_writer import Table, write_export
from lists.safe_write import check_output

export_app = typer.Typer(help="Export leads and results as CSV or XLSX.", no_args_is_help=True)

Output = Annotated[
    str,
    typer.Option("-o", "--output", help="FILE.csv, FILE.xlsx, or - for stdout (CSV).", show_default=False),
]
Excel = Annotated[
    bool,
    typer.Option("--excel", help="CSV for Excel: UTF-8 with a BOM, ';' separators, formulas neutralised."),
]
Format = Annotated[
    str | None, typer.Option("--format", help="csv or xlsx: for a name with another extension, or stdout.")
]
Tz = Annotated[
    str, typer.Option("--tz", help="Show times in: local (each lead's own zone), UTC, or an IANA zone.")
]
Lang = Annotated[
    str | None,
    typer.Option(
        "--lang", help="Headers of Excel output (--excel or .xlsx): en or ru; default: the CLI's language."
    ),
]


def _export(
    ctx: typer.Context,
    output: str,
    fmt: Callable[[], ExportFormat],
    follow_symlinks: bool,
    table: Callable[[], Table],
) -> int | None:
    """Check the output, then the format, build the table (an unknown campaign leaves no file), write it."""
    rules = output_rules(ctx, follow_symlinks=follow_symlinks)
    check_output(output, rules)
    chosen = fmt()
    if output == "-" and chosen.kind == "xlsx" and sys.stdout.isatty():
        raise InvalidInput(
            _("-o -: a workbook is not for a terminal; redirect it to a file, or name the file")
        )
    count = write_export(output, chosen, table(), rules)
    return None if output == "-" else count


def _said(count: int | None, message: str, output: str) -> None:
    if count is not None:
        stderr.print(message.format(count=numbers.integer(count), file=escape(output)))


@export_app.command("leads")
def export_leads_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose leads to export.")],
    output: Output,
    excel: Excel = False,
    format: Format = None,
    tz: Tz = "local",
    lang: Lang = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Export a campaign's leads with their status and original columns."""
    fmt = partial(choose_format, output, format, excel, lang)
    zone = check_tz(tz)
    count = _export(ctx, output, fmt, follow_symlinks, lambda: leads_table(store(ctx), campaign, zone))
    _said(count, _("exported {count} leads to {file}"), output)


@export_app.command("attempts")
def export_attempts_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose attempts to export.")],
    output: Output,
    lead_columns: Annotated[
        str,
        typer.Option(
            "--lead-columns", help="The lead's own columns to add: all, or names separated by commas."
        ),
    ] = "",
    excel: Excel = False,
    format: Format = None,
    tz: Tz = "local",
    lang: Lang = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Export every call attempt of a campaign with its outcome, durations and operator."""
    fmt = partial(choose_format, output, format, excel, lang)
    request = AttemptsRequest(campaign, check_tz(tz), lead_columns)
    count = _export(ctx, output, fmt, follow_symlinks, lambda: attempts_table(store(ctx), request))
    _said(count, _("exported {count} attempts to {file}"), output)


@export_app.command("answers")
def export_answers_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose answers to export.")],
    output: Output,
    excel: Excel = False,
    format: Format = None,
    lang: Lang = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Export survey answers: one row per connected attempt, a column per question."""
    fmt = partial(choose_format, output, format, excel, lang)
    count = _export(ctx, output, fmt, follow_symlinks, lambda: survey.answers_table(store(ctx), campaign))
    _said(count, _("exported {count} attempts to {file}"), output)


@export_app.command("lead-edits")
def export_lead_edits_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose lead edits to export.")],
    output: Output,
    excel: Excel = False,
    format: Format = None,
    lang: Lang = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Export the audit of lead edits made in the console: who, when, field, old and new value."""
    fmt = partial(choose_format, output, format, excel, lang)
    count = _export(ctx, output, fmt, follow_symlinks, lambda: lead_edits.audit_table(store(ctx), campaign))
    _said(count, _("exported {count} lead edits to {file}"), output)

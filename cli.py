"""The ``dialer`` command: a thin shell over the library.

Each sub-app has its own section below. Commands parse options, call one
library function and print its result; the rules live in ``campaigns``,
``lists`` and ``dialer``. Every ``UserError`` becomes one red line on stderr and
exit code 2; exit code 1 means something unexpected. ``--db`` (or ``DIALER_DB``)
is accepted before the sub-command and on every command.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from campaigns import service
from dialer.cli import campaign_commands, demo, status_view
from dialer.cli import console_commands as cli_console
from dialer.cli import dnc_commands as cli_dnc
from dialer.cli import engine_commands as cli_engine
from dialer.cli import numbering_commands as cli_numbering
from dialer.cli import service_commands as cli_service
from dialer.cli import tool_commands as cli_tools
from dialer.cli.group import DB_HELP, DialerGroup
from dialer.cli.support import DB_KEY, FollowSymlinks, output_rules, stderr, stdout, store
from lists.export import export_leads
from lists.importer import ImportRequest, ImportSummary, import_leads, parse_mapping
from lists.safe_write import check_output, write_text

_PROGRESS_BYTES = 4 * 1024 * 1024  # files smaller than this import in about a second


app = typer.Typer(
    cls=DialerGroup,
    help="Outbound campaign dialer for Asterisk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"dialer {version('dialer')}")
        except PackageNotFoundError:
            typer.echo("dialer (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", envvar="DIALER_DB", metavar="URL", help=DB_HELP)] = None,
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Outbound campaign dialer for Asterisk: campaigns, lead lists, do-not-call lists, pacing."""
    if db is not None:
        ctx.meta[DB_KEY] = db


# --- dialer campaign (dialer/cli/campaign_commands.py) ----------------------------------

app.add_typer(campaign_commands.campaign_app, name="campaign")


# --- dialer lists ---------------------------------------------------------------------

lists_app = typer.Typer(help="Import lead lists.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")


@lists_app.command("import")
def lists_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file with a header row.")],
    campaign: Annotated[str, typer.Option(help="Campaign to add the leads to.")],
    region: Annotated[
        str | None, typer.Option(help="Country for numbers without a country code (default: the campaign's).")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="FIELD=COLUMN: which column holds phone, timezone or consent. Repeatable."
        ),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where to write rows not imported (default FILE.rejected.csv).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="File encoding (utf-8, utf-8-sig, cp1251) (default: detected).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter: , ; or tab (default: detected).")
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(help="Row number of the header, counting title rows above it (default: found)."),
    ] = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Import leads: normalise numbers to E.164, drop duplicates and do-not-call numbers, keep all columns."""
    request = ImportRequest(
        path=file,
        campaign=campaign,
        region=region,
        mapping=parse_mapping(map_ or []),
        rejects=rejects,
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_row,
        output_rules=output_rules(ctx, [file], follow_symlinks, label="--rejects"),
    )
    if _large(file):
        with _progress_bar(f"importing {file.name}") as advance:
            summary = import_leads(store(ctx), request, advance)
    else:
        summary = import_leads(store(ctx), request)
    _print_summary(summary)


def _large(path: Path) -> bool:
    try:
        return path.stat().st_size >= _PROGRESS_BYTES
    except OSError:
        return False


class _progress_bar:
    def __init__(self, label: str) -> None:
        self._progress = Progress(
            TextColumn(escape(label)),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None)

    def __enter__(self) -> Any:
        self._progress.start()
        return self._advance

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def _advance(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)


def _print_summary(summary: ImportSummary) -> None:
    stdout.print(f"read: {summary.read}")
    stdout.print(f"imported: {summary.imported}")
    stdout.print(f"duplicates: {summary.duplicates}")
    stdout.print(f"do-not-call: {summary.dnc}")
    stdout.print(f"invalid: {summary.invalid}")
    if summary.alternates:
        stdout.print(f"alternate numbers (several in one cell): {summary.alternates}")
    for reason, count in summary.numbers_left_out.most_common():
        stderr.print(
            f"[yellow]warning:[/yellow] {count} numbers left out of leads that kept another: {escape(reason)}"
        )
    if summary.rejects_path is not None:
        stdout.print(f"rejected rows: {escape(str(summary.rejects_path))}")
    for reason, count in summary.window_problems.most_common():
        stderr.print(f"[yellow]warning:[/yellow] {count} leads have {escape(reason)}; they were imported")
    _print_zones(summary)


def _print_zones(summary: ImportSummary) -> None:
    for kind, count in summary.service_numbers.most_common():
        stderr.print(
            f"[yellow]warning:[/yellow] service numbers ({escape(kind)}) imported: {count}; "
            "they reach a business line, not a person"
        )
    sources = ", ".join(f"{source.value} {count}" for source, count in summary.zone_sources.most_common())
    if sources:
        stdout.print(f"time zones from: {sources}")
    hours = summary.hours
    if hours is None or not hours.leads:
        return
    stdout.print(
        f"callable hours a day under the window ({hours.window_hours:g} h): "
        f"median lead {hours.median:.1f} h, fewest {hours.fewest:.1f} h, any lead {hours.any_lead:.1f} h"
    )
    if summary.strict_intersection:
        stderr.print(
            f"[yellow]warning:[/yellow] leads with only their number's candidate zones: "
            f"{summary.strict_intersection}; they are called only when the window is open in all of them"
        )
    if hours.is_short:
        stderr.print(
            f"[yellow]warning:[/yellow] leads callable less than half the window a day: {hours.short}; "
            "give them a time-zone, city or region column, or load the numbering plan "
            "(dialer numbering import)"
        )


# --- dialer dnc -----------------------------------------------------------------------

app.add_typer(cli_dnc.dnc_app, name="dnc")


# --- dialer export --------------------------------------------------------------------

export_app = typer.Typer(help="Export leads and results as CSV.", no_args_is_help=True)
app.add_typer(export_app, name="export")

Output = Annotated[str, typer.Option("-o", "--output", help="File to write, or - for stdout.")]


@export_app.command("leads")
def export_leads_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose leads to export.")],
    output: Output,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Export a campaign's leads with their status and original columns."""
    rules = output_rules(ctx, follow_symlinks=follow_symlinks)
    check_output(output, rules)
    service.get_campaign(store(ctx), campaign)  # an unknown campaign must not leave an empty file behind
    count = write_text(output, lambda handle: export_leads(store(ctx), campaign, handle), rules)
    if output != "-":
        stderr.print(f"exported {count} leads to {escape(output)}")


# --- engine and tools (their commands live beside the library they drive) ----------------

export_app.command("attempts")(cli_engine.export_attempts_command)
app.add_typer(cli_engine.operators_app, name="operators")
app.command("run")(cli_engine.run_command)
app.command("status")(status_view.status_command)
app.add_typer(cli_tools.pbx_app, name="pbx")
cli_service.register(app, campaign_commands.campaign_app, lists_app, cli_tools.report_app)
app.add_typer(cli_tools.report_app, name="report")
app.add_typer(cli_numbering.numbering_app, name="numbering")
app.command("simulate")(cli_tools.simulate_command)
app.command("demo")(demo.demo_command)
cli_console.register(app, export_app)  # console, users, pause-codes, dispositions, scripts, survey


if __name__ == "__main__":
    app()

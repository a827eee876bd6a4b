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

from dialer.cli import callback_commands as cli_callbacks
from dialer.cli import campaign_commands, demo, status_view
from dialer.cli import console_commands as cli_console
from dialer.cli import dnc_commands as cli_dnc
from dialer.cli import engine_commands as cli_engine
from dialer.cli import export_commands as cli_export
from dialer.cli import numbering_commands as cli_numbering
from dialer.cli import service_commands as cli_service
from dialer.cli import tool_commands as cli_tools
from dialer.cli.group import DB_HELP, DialerGroup
from dialer.cli.support import DB_KEY, FollowSymlinks, output_rules, stderr, stdout, store
from dialer.core import i18n, numbers, reasons
from dialer.core.i18n import N_, _
from lists.importer import ImportRequest, ImportSummary, import_leads, parse_mapping
from lists.lead_zones import ZoneSource

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
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", metavar="ru|en", help="Language of messages, tables and reports (default: the locale)."
        ),
    ] = None,
) -> None:
    """Outbound campaign dialer for Asterisk: campaigns, lead lists, do-not-call lists, pacing."""
    if lang is not None:
        i18n.use(lang)  # the root group restores the language when the command ends
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
        with _progress_bar(_("importing {file}").format(file=file.name)) as advance:
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
    figure = numbers.integer
    stdout.print(f"{_('read')}: {figure(summary.read)}")
    stdout.print(f"{_('imported')}: {figure(summary.imported)}")
    stdout.print(f"{_('duplicates')}: {figure(summary.duplicates)}")
    stdout.print(f"{_('do-not-call')}: {figure(summary.dnc)}")
    stdout.print(f"{_('invalid')}: {figure(summary.invalid)}")
    if summary.alternates:
        stdout.print(f"{_('alternate numbers (several in one cell)')}: {figure(summary.alternates)}")
    for reason, count in summary.numbers_left_out.most_common():
        problem = _("{count} numbers left out of leads that kept another: {reason}").format(
            count=count, reason=escape(reasons.shown(reason))
        )
        stderr.print(f"[yellow]{_('warning:')}[/yellow] {problem}")
    if summary.rejects_path is not None:
        stdout.print(f"{_('rejected rows')}: {escape(str(summary.rejects_path))}")
    for reason, count in summary.window_problems.most_common():
        problem = _("{count} leads have {reason}; they were imported").format(
            count=count, reason=escape(reasons.shown(reason))
        )
        stderr.print(f"[yellow]{_('warning:')}[/yellow] {problem}")
    _print_zones(summary)


ZONE_SOURCES = {  # how an import summary names where a lead's time zones came from
    ZoneSource.TZ_COLUMN: N_("time-zone column"),
    ZoneSource.PLACE: N_("city or region column"),
    ZoneSource.REGISTRY: N_("numbering plan"),
    ZoneSource.NUMBER: N_("number prefix"),
    ZoneSource.INTERSECTION: N_("number prefix, several zones"),
}


def _print_zones(summary: ImportSummary) -> None:
    for kind, count in summary.service_numbers.most_common():
        stderr.print(
            f"[yellow]{_('warning:')}[/yellow] "
            + _(
                "service numbers ({kind}) imported: {count}; they reach a business line, not a person"
            ).format(kind=escape(kind), count=count)
        )
    sources = ", ".join(
        f"{_(ZONE_SOURCES[source])} {count}" for source, count in summary.zone_sources.most_common()
    )
    if sources:
        stdout.print(_("time zones from: {sources}").format(sources=sources))
    hours = summary.hours
    if hours is None or not hours.leads:
        return
    stdout.print(
        _(
            "callable hours a day under the window ({window} h): "
            "median lead {median} h, fewest {fewest} h, any lead {any} h"
        ).format(
            window=numbers.compact(hours.window_hours),
            median=numbers.decimal(hours.median, 1),
            fewest=numbers.decimal(hours.fewest, 1),
            any=numbers.decimal(hours.any_lead, 1),
        )
    )
    if summary.strict_intersection:
        stderr.print(
            f"[yellow]{_('warning:')}[/yellow] "
            + _(
                "leads with only their number's candidate zones: {count}; "
                "they are called only when the window is open in all of them"
            ).format(count=summary.strict_intersection)
        )
    if hours.is_short:
        stderr.print(
            f"[yellow]{_('warning:')}[/yellow] "
            + _(
                "leads callable less than half the window a day: {count}; "
                "give them a time-zone, city or region column, or load the numbering plan "
                "(dialer numbering import)"
            ).format(count=hours.short)
        )


# --- dialer dnc -----------------------------------------------------------------------

app.add_typer(cli_dnc.dnc_app, name="dnc")


# --- dialer export --------------------------------------------------------------------

app.add_typer(cli_export.export_app, name="export")


# --- engine and tools (their commands live beside the library they drive) ----------------

app.add_typer(cli_engine.operators_app, name="operators")
app.command("run")(cli_engine.run_command)
app.command("status")(status_view.status_command)
app.add_typer(cli_tools.pbx_app, name="pbx")
cli_service.register(app, campaign_commands.campaign_app, lists_app, cli_tools.report_app)
app.add_typer(cli_tools.report_app, name="report")
app.add_typer(cli_numbering.numbering_app, name="numbering")
app.command("simulate")(cli_tools.simulate_command)
app.command("demo")(demo.demo_command)
cli_console.register(app)  # console, users, pause-codes, dispositions, scripts, survey
cli_callbacks.register(app)  # callbacks settings, list


if __name__ == "__main__":
    app()

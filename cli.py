"""The ``dialer`` command: a thin shell over the library.

Each sub-app has its own section below. Commands parse options, call one
library function and print its result; the rules live in ``campaigns``,
``lists`` and ``dialer``. Every ``UserError`` becomes one red line on stderr and
exit code 2; exit code 1 means something unexpected. ``--db`` (or ``DIALER_DB``)
is accepted before the sub-command and on every command.
"""

from __future__ import annotations

import copy
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from typer.core import TyperGroup

from campaigns import service
from campaigns.settings import DEFAULTS
from dialer.cli import demo
from dialer.cli import dnc_commands as cli_dnc
from dialer.cli import engine_commands as cli_engine
from dialer.cli import tool_commands as cli_tools
from dialer.cli.support import DB_KEY, stderr, stdout, store, write_atomically
from dialer.core.errors import UserError
from lists.export import export_leads
from lists.importer import ImportRequest, ImportSummary, import_leads, parse_mapping

_DB_HELP = "Store: a SQLAlchemy URL or a SQLite file path (default ./dialer.db)."
_PROGRESS_BYTES = 4 * 1024 * 1024  # files smaller than this import in about a second


def _remember_db(ctx: typer.Context, value: str | None) -> None:
    if value is not None:
        ctx.meta[DB_KEY] = value


def _db_option() -> Any:
    """A ``--db`` option object, built by Typer from a one-option command."""
    template = typer.Typer()

    @template.command()
    def _template(
        db: Annotated[
            str | None,
            typer.Option(
                "--db",
                envvar="DIALER_DB",
                metavar="URL",
                help=_DB_HELP,
                expose_value=False,
                callback=_remember_db,
            ),
        ] = None,
    ) -> None:
        pass

    return typer.main.get_command(template).params[0]


class DialerGroup(TyperGroup):
    """The root group: gives every command ``--db`` and turns user errors into one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        option = _db_option()
        for command in _leaf_commands(self):
            if not any("--db" in getattr(p, "opts", ()) for p in command.params):
                command.params.append(copy.copy(option))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            stderr.print(f"[red]error:[/red] {escape(_one_line(str(exc)))}")
            raise typer.Exit(2) from None


def _leaf_commands(group: TyperGroup) -> list[Any]:
    found: list[Any] = []
    for command in group.commands.values():
        if isinstance(command, TyperGroup):
            found.extend(_leaf_commands(command))
        else:
            found.append(command)
    return found


def _one_line(message: str) -> str:
    return " ".join(message.split())


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
    db: Annotated[str | None, typer.Option("--db", envvar="DIALER_DB", metavar="URL", help=_DB_HELP)] = None,
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Outbound campaign dialer for Asterisk: campaigns, lead lists, do-not-call lists, pacing."""
    if db is not None:
        ctx.meta[DB_KEY] = db


# --- dialer campaign ------------------------------------------------------------------

campaign_app = typer.Typer(help="Create and inspect campaigns.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("create")
def campaign_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name (unique).")],
    mode: Annotated[
        str, typer.Option(help="Pacing: progressive, predictive, ratio or preview.")
    ] = DEFAULTS.mode.value,
    ratio: Annotated[float | None, typer.Option(help="Lines per ready operator (--mode ratio only).")] = None,
    queue: Annotated[str, typer.Option(help="Asterisk queue that answered calls join.")] = "",
    dial_template: Annotated[
        str,
        typer.Option(help="Channel to originate: {number} = E.164 digits without +, {e164} = with +."),
    ] = "",
    caller_id: Annotated[str, typer.Option(help="Caller ID presented to the called person.")] = "",
    window: Annotated[
        str, typer.Option(help="Calling window in the lead's local time, HH:MM-HH:MM[,weekend HH:MM-HH:MM].")
    ] = DEFAULTS.calling_window,
    contact_limits: Annotated[
        str,
        typer.Option(
            help="Most conversations per number in rolling periods, N/PERIOD comma-separated "
            "(e.g. 1/1d,2/7d,8/31d; periods in h or d), counted over every campaign; "
            "profile ru-230fz. Empty: no limits.",
        ),
    ] = "",
    ring_timeout: Annotated[
        int, typer.Option(help="Seconds to ring before giving up (at least 15).")
    ] = DEFAULTS.ring_timeout_s,
    max_channels: Annotated[
        int, typer.Option(help="Most calls in progress at once.")
    ] = DEFAULTS.max_channels,
    originate_rate: Annotated[
        float, typer.Option(help="Most new calls per second.")
    ] = DEFAULTS.originate_rate,
    max_attempts: Annotated[
        int, typer.Option(help="Attempts per lead before it is exhausted.")
    ] = DEFAULTS.max_attempts,
    retry: Annotated[
        list[str] | None, typer.Option(help="OUTCOME=DURATION retry delay, repeatable (e.g. busy=15m).")
    ] = None,
    connect_limit: Annotated[
        float, typer.Option(help="Seconds to connect an answered call before it counts as abandoned (<= 2).")
    ] = DEFAULTS.connect_limit_s,
    abandon_cap: Annotated[
        float, typer.Option(help="Most abandoned calls as a fraction of answered.")
    ] = DEFAULTS.abandon_cap,
    abandon_window: Annotated[
        str, typer.Option(help="Period the abandon cap is measured over: 30d (US) or 24h (UK).")
    ] = DEFAULTS.abandon_window,
    amd: Annotated[bool, typer.Option("--amd/--no-amd", help="Answering-machine detection.")] = False,
    uk_abandon_rule: Annotated[
        bool,
        typer.Option(
            "--uk-abandon-rule/--no-uk-abandon-rule",
            help="No repeat call within 72 h after an abandoned call.",
        ),
    ] = False,
    region: Annotated[
        str, typer.Option(help="Default country for numbers without a country code.")
    ] = DEFAULTS.region,
    safe_harbour_sound: Annotated[
        str,
        typer.Option(
            help="Sound played when no operator takes an answered call within the connect limit: "
            "a name or path as Asterisk's Playback() sees it, without extension.",
        ),
    ] = DEFAULTS.safe_harbour_sound,
    machine_message: Annotated[
        str | None,
        typer.Option(help="Sound left on answering machines (with --amd), without extension; default none."),
    ] = None,
) -> None:
    """Create a campaign; every setting is checked before anything is stored."""
    spec = service.CampaignSpec.build(
        name,
        mode=mode,
        ratio=ratio,
        queue=queue,
        dial_template=dial_template,
        caller_id=caller_id,
        region=region,
        window=window,
        ring_timeout_s=ring_timeout,
        max_channels=max_channels,
        originate_rate=originate_rate,
        max_attempts=max_attempts,
        retry=retry or [],
        connect_limit_s=connect_limit,
        abandon_cap=abandon_cap,
        abandon_window=abandon_window,
        amd=amd,
        uk_abandon_rule=uk_abandon_rule,
        safe_harbour_sound=safe_harbour_sound,
        machine_message=machine_message,
        contact_limits=contact_limits,
    )
    campaign = service.create_campaign(store(ctx), spec)
    stdout.print(f"created campaign {escape(campaign.name)} (id {campaign.id})")


@campaign_app.command("list")
def campaign_list(ctx: typer.Context) -> None:
    """List campaigns with their mode, calling window and lead count."""
    campaigns = service.list_campaigns(store(ctx))
    if not campaigns:
        stdout.print("no campaigns yet: dialer campaign create NAME")
        return
    for campaign in campaigns:
        assert campaign.id is not None
        leads = sum(service.lead_counts(store(ctx), campaign.id).values())
        stdout.print(
            f"{escape(campaign.name)}\t{campaign.mode}\t{campaign.calling_window}\t{leads} leads",
            markup=True,
        )


@campaign_app.command("show")
def campaign_show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Campaign name.")]) -> None:
    """Show a campaign's settings and its leads by status."""
    campaign = service.get_campaign(store(ctx), name)
    assert campaign.id is not None
    for key, value in service.describe(campaign).items():
        stdout.print(f"{key}: {escape(str(value))}")
    counts = service.lead_counts(store(ctx), campaign.id)
    total = sum(counts.values())
    detail = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
    stdout.print(f"leads: {total}" + (f" ({detail})" if detail else ""))


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
    if summary.rejects_path is not None:
        stdout.print(f"rejected rows: {escape(str(summary.rejects_path))}")
    for reason, count in summary.window_problems.most_common():
        stderr.print(f"[yellow]warning:[/yellow] {count} leads have {escape(reason)}; they were imported")


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
) -> None:
    """Export a campaign's leads with their status and original columns."""
    service.get_campaign(store(ctx), campaign)  # an unknown campaign must not leave an empty file behind
    if output == "-":
        export_leads(store(ctx), campaign, sys.stdout)
        return
    count = write_atomically(Path(output), lambda handle: export_leads(store(ctx), campaign, handle))
    stderr.print(f"exported {count} leads to {escape(output)}")


# --- engine and tools (their commands live beside the library they drive) ----------------

export_app.command("attempts")(cli_engine.export_attempts_command)
app.add_typer(cli_engine.operators_app, name="operators")
app.command("run")(cli_engine.run_command)
app.command("status")(cli_engine.status_command)
app.add_typer(cli_tools.pbx_app, name="pbx")
app.add_typer(cli_tools.report_app, name="report")
app.command("simulate")(cli_tools.simulate_command)
app.command("demo")(demo.demo_command)


if __name__ == "__main__":
    app()

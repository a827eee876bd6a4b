"""Commands around the engine: ``dialer pbx``, ``dialer report``, ``dialer simulate``.

A thin shell over ``dialer.pbx``, ``dialer.services.compliance`` and ``dialer.sim``;
``cli.py`` registers them.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from campaigns import service
from dialer.cli.support import FollowSymlinks, ami_settings, output_rules, stderr, stdout, store
from dialer.core import numbers
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from dialer.pbx.config import DEFAULT_WRAPUP_S
from lists.safe_write import OutputRules, check_output, write_bytes, write_text

# --- dialer pbx ----------------------------------------------------------------------------

pbx_app = typer.Typer(
    help="Write and check the Asterisk configuration the dialer needs.", no_args_is_help=True
)

Campaigns = Annotated[
    list[str] | None,
    typer.Option("--campaign", help="Campaign whose queue to include (repeatable); default all."),
]


def _queues(ctx: typer.Context, names: list[str] | None) -> list[str]:
    """The queues of the chosen campaigns (default all); one whose name is no queue name is skipped."""
    from dialer.pbx.config import QUEUE_NAME

    campaigns = service.list_campaigns(store(ctx))
    if names:
        known = {c.name: c for c in campaigns}
        for name in names:
            if name not in known:
                service.get_campaign(store(ctx), name)  # raises NotFound with the known names
        campaigns = [known[name] for name in names]
    queues: set[str] = set()
    for campaign in campaigns:
        queue = campaign.queue or campaign.name
        if not QUEUE_NAME.fullmatch(queue):
            problem = _(
                "campaign {name!r} has no --queue and its name is not a valid queue name "
                "(letters, digits, '.', '_', '-'); create it again with --queue NAME"
            ).format(name=campaign.name)
            if names:
                raise InvalidInput(problem)
            stderr.print(f"[yellow]{_('warning:')}[/yellow] {escape(problem)}; {_('skipped')}")
            continue
        queues.add(queue)
    return sorted(queues)


@pbx_app.command("config")
def pbx_config(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the include files into.")],
    campaign: Campaigns = None,
    ami_user: Annotated[str, typer.Option(help="AMI user name to create.")] = "dialer",
    bind: Annotated[str, typer.Option(help="Address the AMI user may connect from.")] = "127.0.0.1",
    wrapup: Annotated[
        int, typer.Option(min=0, help="Operators' wrap-up seconds after each call (tell dialer run too).")
    ] = DEFAULT_WRAPUP_S,
) -> None:
    """Write manager_dialer.conf, extensions_dialer.conf and queues_dialer.conf to #include."""
    from dialer.pbx.config import QueueSpec, write_pbx_config

    queues = [QueueSpec(name, wrapup_s=wrapup) for name in _queues(ctx, campaign)]
    if not queues:
        raise InvalidInput(_("no campaigns yet: create one first (dialer campaign create)"))
    try:
        files = write_pbx_config(out, queues, ami_user=ami_user, ami_secret=None, bind=bind)
    except OSError as exc:
        raise InvalidInput(
            _("cannot write to {file}: {problem}").format(file=out, problem=exc.strerror)
        ) from None
    for path in (files.manager, files.extensions, files.queues, files.safe_harbour_sound):
        stdout.print(f"wrote {escape(str(path))}")
    stdout.print(
        f"queues: {', '.join(q.name for q in queues)}. The AMI user's generated secret is in "
        f"{escape(str(files.manager))} (mode 0600); give it to `dialer run` through DIALER_AMI_URL."
    )


@pbx_app.command("check")
def pbx_check(
    ctx: typer.Context,
    campaign: Campaigns = None,
    ami: Annotated[
        str | None,
        typer.Option(
            help="ami://user:secret@host:port. Prefer DIALER_AMI_URL: arguments are visible to others."
        ),
    ] = None,
) -> None:
    """Log in over AMI and name what is missing: rights, the dialer's context, the campaigns' queues."""
    from dialer.pbx.check import check_pbx

    target = ami_settings(ami)
    queues = _queues(ctx, campaign)
    problems = asyncio.run(check_pbx(target, queues))
    if problems:
        for problem in problems:
            stderr.print(f"[red]missing:[/red] {escape(problem)}")
        raise typer.Exit(1)
    stdout.print(
        f"[green]ok[/green]: {escape(target.masked_url)} is ready for queues {', '.join(queues) or '-'}"
    )


# --- dialer report --------------------------------------------------------------------------

report_app = typer.Typer(help="Reports on campaigns.", no_args_is_help=True)


@report_app.command("compliance")
def report_compliance(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign to report on.")],
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Also write the figures as CSV to this file (- for stdout)."),
    ] = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """The record a regulator asks for: abandon rates, 2-second connects, ring times, zero-counts."""
    from dialer.services.compliance import compliance_report, render, write_csv

    rules = output_rules(ctx, follow_symlinks=follow_symlinks)
    if output is not None:
        check_output(output, rules)
    with Session(store(ctx)) as session:
        report = compliance_report(session, campaign, datetime.now(UTC))
    if output != "-":
        stdout.print(render(report))
    if output is not None:
        write_text(output, lambda handle: write_csv(report, handle), rules)
        if output != "-":
            stderr.print(f"wrote {escape(output)}")


# --- dialer simulate --------------------------------------------------------------------------


def simulate_command(
    operators: Annotated[int, typer.Option(help="Operators logged in for the whole shift.")] = 20,
    answer_rate: Annotated[float, typer.Option(help="Share of calls a live person answers.")] = 0.3,
    ring_mean: Annotated[float, typer.Option(help="Mean seconds until a person answers.")] = 8.0,
    talk_mean: Annotated[float, typer.Option(help="Mean talk seconds of a connected call.")] = 120.0,
    wrap: Annotated[float, typer.Option(help="Wrap-up seconds after each call (queue's wrapuptime).")] = 10.0,
    hours: Annotated[float, typer.Option(help="Length of the shift in hours.")] = 8.0,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same shift.")] = 1,
    mode: Annotated[str, typer.Option(help="preview, progressive, ratio:N or predictive.")] = "predictive",
    busy_share: Annotated[float, typer.Option(help="Share of unanswered calls that are busy.")] = 0.15,
    no_answer_share: Annotated[float, typer.Option(help="Share of unanswered calls that ring out.")] = 0.6,
    machine_share: Annotated[float, typer.Option(help="Share of unanswered calls a machine answers.")] = 0.2,
    answer_profile: Annotated[
        str, typer.Option(help="Answer rate by hour: flat, realistic, or multipliers such as 0.8,1,1.2.")
    ] = "flat",
    schedule: Annotated[
        str, typer.Option(help="full (all logged in all shift) or realistic (waves, breaks, lunch).")
    ] = "full",
    quality_step: Annotated[
        str | None, typer.Option(help="HOUR:FACTOR: from that hour the answer rate is FACTOR times.")
    ] = None,
    start: Annotated[
        str, typer.Option(help="cold (no history) or warm (learnt from a day before).")
    ] = "cold",
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Draw the shift in 15-minute steps to this PNG: answers, utilisation, abandons, team."
        ),
    ] = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Simulate a shift with the product's own pacer, to plan staffing and compare modes."""
    from dialer.sim.day import DayPlan, parse_profile, parse_step
    from dialer.sim.params import SimParams
    from dialer.sim.simulator import run_simulation

    if output_format not in ("table", "json"):
        raise InvalidInput(_("--format {format!r}: use table or json").format(format=output_format))
    day = DayPlan(
        answer_profile=parse_profile(answer_profile),
        schedule=schedule.strip().lower(),
        quality_step=None if quality_step is None else parse_step(quality_step),
        start=start.strip().lower(),
    )
    try:
        params = SimParams(
            operators=operators,
            answer_rate=answer_rate,
            ring_mean=ring_mean,
            talk_mean=talk_mean,
            wrap=wrap,
            hours=hours,
            seed=seed,
            mode=mode,
            busy_share=busy_share,
            no_answer_share=no_answer_share,
            machine_share=machine_share,
            day=day,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    plot_rules = OutputRules(follow_symlinks=follow_symlinks, label="--plot")
    if plot is not None:
        if plot.suffix.lower() != ".png":
            raise InvalidInput(_("--plot: give a file name ending in .png"))
        check_output(plot, plot_rules)
    result = run_simulation(params)
    if plot is not None:
        write_bytes(plot, result.plot, plot_rules)
    if output_format == "json":
        sys.stdout.write(result.to_json() + "\n")
        return
    title = _("{mode}, {operators} operators, {hours} h, seed {seed}").format(
        mode=mode, operators=operators, hours=numbers.decimal(Decimal(f"{hours:g}")), seed=seed
    )
    table = Table(_("figure"), _("value"), title=title)
    table.add_row(_("utilisation (talk + wrap / logged in)"), numbers.percent(result.utilization))
    table.add_row(_("abandon rate (abandoned / live answers)"), numbers.percent(result.abandon_rate, 2))
    table.add_row(_("idle seconds per connect"), numbers.decimal(result.idle_seconds_per_connect, 1))
    table.add_row(_("connects per operator-hour"), numbers.decimal(result.connects_per_operator_hour, 1))
    table.add_row(_("calls placed"), numbers.integer(result.calls))
    table.add_row(_("worst 15 minutes (abandoned / answers)"), numbers.percent(result.worst_interval))
    stdout.print(table)
    if plot is not None:
        stdout.print(_("plot: {file}").format(file=escape(str(plot))))

"""``dialer report campaign``: a campaign report as HTML or XLSX. ``cli.py`` registers it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dialer.cli.support import output_rules, stderr, store
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _, check_lang, current
from lists.safe_write import check_output


def _instant(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            _("bad {option} {value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)").format(
                option=option, value=value
            )
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def report_campaign_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="FILE.html or FILE.xlsx.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="First instant, YYYY-MM-DD[THH:MM] UTC (default: the start).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="End instant, excluded (default: now).")] = None,
    lang: Annotated[
        str | None, typer.Option(help="Labels: en or ru (default: dialer --lang, else the locale).")
    ] = None,
) -> None:
    """Funnel, hours, abandon rate, operators, list penetration and answer rates of a campaign."""
    from dialer.reports.data import build_report

    checked = current() if lang is None else check_lang(lang)
    suffix = output.suffix.lower()
    if suffix not in (".html", ".xlsx"):
        raise InvalidInput(_("-o {file}: the report is written as .html or .xlsx").format(file=output))
    rules = output_rules(ctx, label="-o")
    check_output(output, rules)  # refused before the report is computed
    report = build_report(store(ctx), name, _instant("--from", from_), _instant("--to", to))
    if suffix == ".html":
        from dialer.reports.html import write_html

        write_html(report, output, checked, rules)
    else:
        from dialer.reports.xlsx import write_xlsx

        write_xlsx(report, output, checked, rules)
    stderr.print(
        _("wrote the report on {name} to {file}").format(name=escape(name), file=escape(str(output)))
    )

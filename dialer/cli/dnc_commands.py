"""``dialer dnc``: add, import, check and remove do-not-call numbers, globally or per campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dialer.cli.support import stderr, stdout, store
from dialer.core import reasons
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import _
from lists import dnc as dnc_lists

dnc_app = typer.Typer(
    help="Do-not-call lists: global, or per campaign with --campaign.", no_args_is_help=True
)
CampaignScope = Annotated[
    str | None, typer.Option("--campaign", help="The campaign's own list instead of the global one.")
]
Region = Annotated[str, typer.Option(help="Country for numbers without a country code.")]


@dnc_app.command("add")
def dnc_add(
    ctx: typer.Context,
    numbers: Annotated[list[str], typer.Argument(help="Numbers to block, in any common format.")],
    campaign: CampaignScope = None,
    region: Region = "RU",
) -> None:
    """Put numbers on a do-not-call list; exits 2 if any number could not be added."""
    change = dnc_lists.add_numbers(store(ctx), numbers, campaign, region)
    _print_dnc_change(change)
    if change.rejected:
        # A request not to be called that recorded nothing must not look like success.
        failed = ", ".join(repr(value) for value, _ in change.rejected[:5])
        more = (
            _(" and {count} more").format(count=len(change.rejected) - 5) if len(change.rejected) > 5 else ""
        )
        raise InvalidInput(
            _("{count} of {total} numbers not added: {failed}{more}").format(
                count=len(change.rejected), total=len(numbers), failed=failed, more=more
            )
        )


@dnc_app.command("import")
def dnc_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV/XLSX with a phone column, or a bare list of numbers.")],
    campaign: CampaignScope = None,
    region: Region = "RU",
    encoding: Annotated[str | None, typer.Option(help="File encoding (default: detected).")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: detected).")] = None,
) -> None:
    """Put every number in a file on a do-not-call list."""
    change = dnc_lists.import_file(store(ctx), file, campaign, region, encoding, delimiter)
    _print_dnc_change(change)


@dnc_app.command("check")
def dnc_check(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Number to look up.")],
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Check the global list and this campaign's list.")
    ] = None,
    region: Region = "RU",
) -> None:
    """Say which do-not-call lists a number is on."""
    phone = dnc_lists.normalize_or_fail(number, region)
    listings = dnc_lists.check_number(store(ctx), number, campaign, region)
    if not listings:
        stdout.print(_("{phone}: not on any do-not-call list").format(phone=phone))
    for listing in listings:
        where = _scope(listing.campaign)
        source = _(" (from {source})").format(source=escape(listing.source)) if listing.source else ""
        stdout.print(_("{phone}: on {where}").format(phone=phone, where=escape(where)) + source)


@dnc_app.command("remove")
def dnc_remove(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Number to unblock.")],
    campaign: CampaignScope = None,
    region: Region = "RU",
) -> None:
    """Take a number off a do-not-call list."""
    phone = dnc_lists.normalize_or_fail(number, region)
    removed = dnc_lists.remove_number(store(ctx), number, campaign, region)
    scope = _scope(campaign)
    if removed:
        stdout.print(_("removed {phone} from {scope}").format(phone=phone, scope=escape(scope)))
    else:
        raise NotFound(_("{phone} is not on {scope}").format(phone=phone, scope=scope))


def _scope(campaign: str | None) -> str:
    return _("the global list") if campaign is None else _("campaign {name}'s list").format(name=campaign)


def _print_dnc_change(change: dnc_lists.DncChange) -> None:
    stdout.print(f"{_('added')}: {change.added}")
    stdout.print(f"{_('already listed')}: {change.already}")
    stdout.print(f"{_('invalid')}: {len(change.rejected)}")
    for value, reason in change.rejected[:20]:
        stderr.print(f"[yellow]{_('skipped')}[/yellow] {escape(value)!r}: {escape(reasons.shown(reason))}")

"""``dialer campaign schedule`` and ``dialer campaign unschedule``: a campaign's opening hours.

``cli.py`` registers them on the ``campaign`` sub-app; ``campaign show`` prints the rules with
``print_rules``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.engine import Engine

from campaigns import schedules
from campaigns.schedule import build_rule, is_open, next_change
from dialer.cli.support import stdout, store
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _

ZONE_HELP = "Zone the hours are read in: the call centre's (default DIALER_TZ, else UTC)."


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            _("bad {option} {value}: use YYYY-MM-DD").format(option=option, value=repr(value))
        ) from None


def schedule_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    days: Annotated[str, typer.Option(help="Days: mon-fri, sat,sun, mon,wed-fri or daily.")],
    hours: Annotated[str, typer.Option(help="Hours HH:MM-HH:MM (end 24:00 = midnight).")],
    from_: Annotated[
        str | None, typer.Option("--from", help="First day YYYY-MM-DD (default: no limit).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day YYYY-MM-DD, included (default: none).")] = None,
    tz: Annotated[str | None, typer.Option(help=ZONE_HELP)] = None,
) -> None:
    """Add an opening-hours rule: the campaign dials only while one of its rules is open."""
    zone = tz or os.environ.get("DIALER_TZ") or "UTC"
    rule = build_rule(days, hours, zone, _date("--from", from_), _date("--until", until))
    stored = schedules.add_rule(store(ctx), name, rule)
    said = _("rule {id}: {rule}").format(id=stored.id, rule=escape(rule.describe()))
    stdout.print(_("campaign {name}: {said}").format(name=escape(name), said=said))


def unschedule_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    rule: Annotated[int | None, typer.Option(help="Rule number (campaign show lists them).")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Remove every rule: the campaign dials any time.")
    ] = False,
) -> None:
    """Remove a schedule rule, or all of them."""
    if (rule is None) == (not all_):
        raise InvalidInput(_("give either --rule N or --all"))
    removed = schedules.remove_rules(store(ctx), name, rule)
    stdout.print(
        _("campaign {name}: removed {count} schedule rule(s)").format(name=escape(name), count=removed)
    )


def print_rules(engine: Engine, name: str) -> None:
    """The campaign's rules and whether it is on schedule now, for ``campaign show``."""
    stored = schedules.list_rules(engine, name)
    if not stored:
        stdout.print(_("schedule: none (dials whenever it is active)"))
        return
    rules = [s.rule for s in stored]
    stdout.print(_("schedule:"))
    for item in stored:
        stdout.print("  " + _("rule {id}: {rule}").format(id=item.id, rule=escape(item.rule.describe())))
    now = datetime.now(UTC)
    change = next_change(rules, now)
    is_on = is_open(rules, now)
    state = _("open") if is_on else _("closed")
    at = f"{change.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if change else ""
    when = (_("; closes {at}") if is_on else _("; opens {at}")).format(at=at) if change else ""
    stdout.print("  " + _("now: {state}").format(state=state) + when)


def schedule_lines(engine: Engine, names: list[str]) -> list[str]:
    """For ``dialer status``: each scheduled campaign, open or closed now, its last opening or
    closing as the dialing node recorded it, and its next change."""
    from campaigns.service import list_campaigns

    campaigns = {
        c.id: c.name for c in list_campaigns(engine) if c.id is not None and (not names or c.name in names)
    }
    rules = schedules.rules_by_campaign(engine, list(campaigns))
    events = schedules.last_events(engine, list(rules))
    now = datetime.now(UTC)
    lines = []
    for cid, found in sorted(rules.items(), key=lambda item: campaigns[item[0]]):
        is_on = is_open(found, now)
        line = f"{campaigns[cid]}: " + (_("on schedule") if is_on else _("off schedule"))
        event = events.get(cid)
        if event is not None:
            at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
            said = _("; opened {at} on {node}") if event.kind == "open" else _("; closed {at} on {node}")
            line += said.format(at=f"{at:%Y-%m-%d %H:%M:%S} UTC", node=event.node)
        change = next_change(found, now)
        if change is not None:
            said = _("; closes {at}") if is_on else _("; opens {at}")
            line += said.format(at=f"{change.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")
        lines.append(line)
    return lines

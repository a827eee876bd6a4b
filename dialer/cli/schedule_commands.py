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

ZONE_HELP = "Zone the hours are read in: the call centre's (default DIALER_TZ, else UTC)."


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"bad {option} {value!r}: use YYYY-MM-DD") from None


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
    stdout.print(f"campaign {escape(name)}: rule {stored.id}: {escape(rule.describe())}")


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
        raise InvalidInput("give either --rule N or --all")
    removed = schedules.remove_rules(store(ctx), name, rule)
    stdout.print(f"campaign {escape(name)}: removed {removed} schedule rule(s)")


def print_rules(engine: Engine, name: str) -> None:
    """The campaign's rules and whether it is on schedule now, for ``campaign show``."""
    stored = schedules.list_rules(engine, name)
    if not stored:
        stdout.print("schedule: none (dials whenever it is active)")
        return
    rules = [s.rule for s in stored]
    stdout.print("schedule:")
    for item in stored:
        stdout.print(f"  rule {item.id}: {escape(item.rule.describe())}")
    now = datetime.now(UTC)
    change = next_change(rules, now)
    state = "open" if is_open(rules, now) else "closed"
    verb = "closes" if state == "open" else "opens"
    when = f"; {verb} {change.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if change else ""
    stdout.print(f"  now: {state}{when}")


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
        state = "on schedule" if is_open(found, now) else "off schedule"
        line = f"{campaigns[cid]}: {state}"
        event = events.get(cid)
        if event is not None:
            verb = "opened" if event.kind == "open" else "closed"
            at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
            line += f"; {verb} {at:%Y-%m-%d %H:%M:%S} UTC on {event.node}"
        change = next_change(found, now)
        if change is not None:
            verb = "closes" if state == "on schedule" else "opens"
            line += f"; {verb} {change.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        lines.append(line)
    return lines

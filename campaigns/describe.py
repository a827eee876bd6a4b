"""A campaign's settings as a user reads them (`campaign show`, the change list of `campaign edit`)."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from campaigns.settings import DEFAULT_SAFE_HARBOUR_SOUND
from dialer.core.i18n import _
from dialer.core.modes import PacingMode
from dialer.core.numbers import compact, percent


def describe(campaign: Campaign) -> dict[str, Any]:
    """The settings as a user sees them, in option order."""
    return {
        "name": campaign.name,
        "state": campaign.state,
        "mode": campaign.mode
        + (f" (ratio {compact(campaign.ratio)})" if campaign.mode == PacingMode.RATIO else ""),
        "queue": campaign.queue or _("(not set)"),
        "dial template": campaign.dial_template or _("(not set)"),
        "caller id": campaign.caller_id or _("(not set)"),
        "region": campaign.region,
        "calling window": campaign.calling_window,
        "ring timeout": f"{campaign.ring_timeout_s} s",
        "max channels": campaign.max_channels,
        "originate rate": f"{compact(campaign.originate_rate)}/s",
        "max attempts": campaign.max_attempts,
        "retry": ", ".join(f"{k}={_duration(v)}" for k, v in sorted(_retry_items(campaign))) or _("defaults"),
        "connect limit": f"{compact(campaign.connect_limit_s)} s",
        "abandon cap": _("{cap} per {window}").format(
            cap=percent(campaign.abandon_cap), window=campaign.abandon_window
        ),
        "amd": _("on") if campaign.amd else _("off"),
        "safe-harbour sound": campaign.safe_harbour_sound
        or _("{sound} (default)").format(sound=DEFAULT_SAFE_HARBOUR_SOUND),
        "machine message": campaign.machine_message or _("(none: hang up on machines)"),
        "uk abandon rule": _("on") if campaign.uk_abandon_rule else _("off"),
        "contact limits": campaign.contact_limits or _("(none)"),
        "caller-id name column": campaign.callerid_name_column or _("(a name-like column: ФИО, Имя, Name)"),
        "wrap-up": _("held until disposition, at most {limit} s, then {code}").format(
            limit=campaign.wrapup_limit_s, code=campaign.wrapup_code
        )
        if campaign.wrapup_limit_s
        else _("not held"),
        "shared": _("on: every node serving it dials it")
        if campaign.shared
        else _("off: one node at a time"),
    }


def _retry_items(campaign: Campaign) -> list[tuple[str, int]]:
    return [(str(k), int(v)) for k, v in campaign.retry_rules.items()]


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

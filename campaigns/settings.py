"""A stored campaign's settings read as pure values: its window, retry policy, limits, dial string.

No store access: these take the campaign row (or plain values) and return value
objects, so the pure dialing rules (``dialer.policy``) can use them without
loading the ORM or the database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from campaigns.contact_limits import ContactLimits, parse_limits
from campaigns.retry import RetryPolicy
from campaigns.window import CallingWindow
from dialer.core.modes import PacingMode

if TYPE_CHECKING:
    from campaigns.models import Campaign

# The default safe-harbour message: the sound `dialer pbx config` writes (dialer-safe-harbour.wav),
# named as Playback() finds it in Asterisk's sounds folder.
DEFAULT_SAFE_HARBOUR_SOUND = "dialer-safe-harbour"
MIN_RING_TIMEOUT_S = 15  # US TSR 310.4(b)(1)(iv): ring at least 15 s (or four rings) before giving up
LEGAL_CONNECT_LIMIT_S = 2.0  # an answered call not connected within 2 s counts as abandoned


@dataclass(frozen=True)
class CampaignDefaults:
    """A new campaign's settings when nothing else is asked: the table, the settings check and
    the ``dialer campaign create`` options all read them from ``DEFAULTS``."""

    mode: PacingMode = PacingMode.PROGRESSIVE
    ratio: float = 1.0  # lines per ready operator in ratio mode
    region: str = "RU"
    calling_window: str = "09:00-21:00"
    ring_timeout_s: int = 25
    max_channels: int = 10
    originate_rate: float = 5.0  # originates per second, at most
    max_attempts: int = 5
    connect_limit_s: float = LEGAL_CONNECT_LIMIT_S
    abandon_cap: float = 0.03
    abandon_window: str = "30d"
    safe_harbour_sound: str = DEFAULT_SAFE_HARBOUR_SOUND


DEFAULTS = CampaignDefaults()


def render_dial_template(template: str, e164: str) -> str:
    """The channel to originate for one E.164 number."""
    return template.format(number=e164.lstrip("+"), e164=e164)


def retry_policy(campaign: Campaign) -> RetryPolicy:
    """The retry rules a stored campaign asks for."""
    base = RetryPolicy(max_attempts=campaign.max_attempts, uk_abandon_rule=campaign.uk_abandon_rule)
    return RetryPolicy.parse_overrides([f"{k}={int(v)}s" for k, v in campaign.retry_rules.items()], base)


def calling_window(campaign: Campaign) -> CallingWindow:
    return CallingWindow.parse(campaign.calling_window)


def contact_limits(campaign: Campaign) -> ContactLimits:
    """The contact-frequency limits a stored campaign sets; empty when it sets none."""
    return parse_limits(campaign.contact_limits or "")

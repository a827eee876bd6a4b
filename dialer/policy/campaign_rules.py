"""A campaign's dialing rules, read once from its row into a value object.

The engine rebuilds these every second or so, so a changed setting takes effect
without a restart, and never reads the ORM row while deciding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from campaigns.contact_limits import ContactLimits
from campaigns.retry import RetryPolicy
from campaigns.settings import (
    MIN_RING_TIMEOUT_S,
    calling_window,
    contact_limits,
    render_dial_template,
    retry_policy,
)
from campaigns.window import CallingWindow
from dialer.core.errors import InvalidInput

if TYPE_CHECKING:
    from campaigns.models import Campaign

DEFAULT_DIAL_TEMPLATE = "PJSIP/{e164}"


@dataclass(frozen=True)
class CampaignRules:
    campaign_id: int
    name: str
    mode: str
    ratio: float
    queue: str
    dial_template: str
    caller_id: str
    window: CallingWindow
    retry: RetryPolicy
    ring_timeout_s: float
    max_channels: int
    originate_rate: float
    connect_limit_s: float
    amd: bool
    safe_harbour_sound: str
    machine_message: str
    contact_limits: ContactLimits = ()  # per number, counting contacts in every campaign
    callerid_name_column: str = ""  # the lead column shown as the caller's name; "": a name-like one
    wrapup_limit_s: float = 0.0  # wrap-up held until the disposition, at most this long; 0: not held
    wrapup_code: str = ""  # recorded when that limit expires

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> CampaignRules:
        if campaign.id is None:
            raise InvalidInput("campaign has no id: store it before dialing")
        try:
            window = calling_window(campaign)
            retry = retry_policy(campaign)
            limits = contact_limits(campaign)
        except ValueError as exc:
            raise InvalidInput(f"campaign {campaign.name}: {exc}") from None
        return cls(
            campaign_id=campaign.id,
            name=campaign.name,
            mode=campaign.mode,
            ratio=campaign.ratio,
            queue=campaign.queue or campaign.name,
            dial_template=campaign.dial_template or DEFAULT_DIAL_TEMPLATE,
            caller_id=campaign.caller_id,
            window=window,
            retry=retry,
            ring_timeout_s=max(float(MIN_RING_TIMEOUT_S), float(campaign.ring_timeout_s)),
            max_channels=max(0, campaign.max_channels),
            originate_rate=max(0.0, campaign.originate_rate),
            connect_limit_s=campaign.connect_limit_s,
            amd=campaign.amd,
            safe_harbour_sound=campaign.safe_harbour_sound or "",
            machine_message=campaign.machine_message or "",
            contact_limits=limits,
            callerid_name_column=campaign.callerid_name_column,
            wrapup_limit_s=float(max(0, campaign.wrapup_limit_s)),
            wrapup_code=campaign.wrapup_code,
        )

    def channel_for(self, phone: str) -> str:
        """The dial string: ``{e164}`` is the E.164 number, ``{number}`` the same without '+'."""
        return render_dial_template(self.dial_template, phone)

    @property
    def connect_timeout_arg(self) -> str:
        """Queue() takes whole seconds; round up so the operator gets at least the limit."""
        return str(max(1, math.ceil(self.connect_limit_s)))

"""Shared set-up for the console tests: a campaign, operators with accounts, connected calls."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from campaigns import service
from campaigns.models import CallAttempt, Lead, utcnow
from campaigns.store import session_scope
from dialer.services import accounts
from dialer.services.operators import add_operator

PASSWORD = "s3cret-Пароль-42"


def console_campaign(store: Engine, name: str = "spring", queue: str = "q1", **fields: object) -> int:
    spec = service.CampaignSpec.build(name, queue=queue, **fields)  # type: ignore[arg-type]
    campaign = service.create_campaign(store, spec)
    assert campaign.id is not None
    return campaign.id


def operator_account(store: Engine, user: str, operator: str, campaign: str, interface: str = "") -> None:
    add_operator(store, operator, interface or f"Local/{operator}@sim-operators/n", [campaign])
    accounts.add_user(store, user, "operator", PASSWORD, operator=operator, language="en")


def connected_call(
    store: Engine, campaign_id: int, operator: str, phone: str, **data: str
) -> tuple[str, int]:
    with session_scope(store) as session:
        lead = Lead(campaign_id=campaign_id, phone=phone, data=data, time_zones="Europe/Moscow")
        session.add(lead)
        session.flush()
        assert lead.id is not None
        attempt = CallAttempt(
            id=f"call{lead.id}",
            campaign_id=campaign_id,
            lead_id=lead.id,
            phone=phone,
            connected_at=utcnow(),
            operator=operator,
        )
        session.add(attempt)
        return attempt.id, lead.id


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" (?:content|value)="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)

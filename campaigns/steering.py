"""Steering a campaign after it was created: change its settings, pause, resume, stop, archive.

An edit is validated exactly as ``campaign create`` validates (``CampaignSpec.build`` on
the stored settings with the changes laid over them), so a campaign can never hold a
setting ``create`` would refuse. Every change raises the campaign's ``version``; a
running engine compares versions each tick and reloads the campaign when one moved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from campaigns.describe import describe
from campaigns.lifecycle import CampaignState, next_state, parse_state
from campaigns.models import CallAttempt, Campaign, DispositionCode
from campaigns.next_call import next_due as due_times
from campaigns.queue_sharing import check_queue_free, effective_queue, queue_partners
from campaigns.service import DEFAULT_SAFE_HARBOUR_SOUND, CampaignSpec, find_campaign
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput

# CampaignSpec.build's keyword arguments that `campaign edit` may change.
EDITABLE = (
    "mode",
    "ratio",
    "queue",
    "dial_template",
    "caller_id",
    "region",
    "window",
    "ring_timeout_s",
    "max_channels",
    "originate_rate",
    "max_attempts",
    "retry",
    "connect_limit_s",
    "abandon_cap",
    "abandon_window",
    "amd",
    "uk_abandon_rule",
    "safe_harbour_sound",
    "machine_message",
    "contact_limits",
    "callerid_name_column",
    "wrapup_limit_s",
    "wrapup_code",
)


@dataclass(frozen=True)
class Edit:
    """What an edit changed: setting -> (before, after), as ``campaign show`` words them."""

    name: str
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class StateChange:
    name: str
    before: CampaignState
    after: CampaignState


def stored_settings(campaign: Campaign) -> dict[str, Any]:
    """A stored campaign's settings as ``CampaignSpec.build`` takes them."""
    return {
        "mode": campaign.mode,
        "ratio": campaign.ratio if campaign.mode == "ratio" else None,
        "queue": campaign.queue,
        "dial_template": campaign.dial_template,
        "caller_id": campaign.caller_id,
        "region": campaign.region,
        "window": campaign.calling_window,
        "ring_timeout_s": campaign.ring_timeout_s,
        "max_channels": campaign.max_channels,
        "originate_rate": campaign.originate_rate,
        "max_attempts": campaign.max_attempts,
        "retry": [f"{k}={int(v)}s" for k, v in sorted(campaign.retry_rules.items())],
        "connect_limit_s": campaign.connect_limit_s,
        "abandon_cap": campaign.abandon_cap,
        "abandon_window": campaign.abandon_window,
        "amd": campaign.amd,
        "uk_abandon_rule": campaign.uk_abandon_rule,
        "safe_harbour_sound": campaign.safe_harbour_sound or DEFAULT_SAFE_HARBOUR_SOUND,
        "machine_message": campaign.machine_message,
        "contact_limits": campaign.contact_limits,
        "callerid_name_column": campaign.callerid_name_column,
        "wrapup_limit_s": campaign.wrapup_limit_s,
        "wrapup_code": campaign.wrapup_code,
    }


def merged_spec(campaign: Campaign, changes: dict[str, Any]) -> CampaignSpec:
    """The campaign's settings with ``changes`` laid over them, validated as ``create`` does.

    ``retry`` items add to the stored rules (a later one for the same outcome wins);
    leaving ratio mode drops the ratio; an empty ``machine_message`` removes it.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"cannot edit {', '.join(sorted(unknown))}")
    settings = stored_settings(campaign)
    if "mode" in changes and "ratio" not in changes:
        settings["ratio"] = settings["ratio"] if str(changes["mode"]).strip().lower() == "ratio" else None
    for key, value in changes.items():
        settings[key] = settings["retry"] + list(value) if key == "retry" else value
    return CampaignSpec.build(campaign.name, **settings)


def edit_campaign(engine: Engine, name: str, changes: dict[str, Any], share_queue: bool = False) -> Edit:
    """Change some of a campaign's settings; nothing is stored unless every setting is valid.

    ``changes["shared"]``: dialed by several nodes at once (PostgreSQL only), or by one.
    """
    if not changes:
        raise InvalidInput("nothing to change: give at least one option (dialer campaign edit --help)")
    changes = dict(changes)
    shared = changes.pop("shared", None)
    if shared and engine.dialect.name != "postgresql":
        raise InvalidInput("--shared: a campaign dialed by several nodes needs a PostgreSQL store")
    with session_scope(engine) as session:
        campaign = find_campaign(session, name)
        before = describe(campaign)
        if shared is not None:
            campaign.shared = bool(shared)
        spec = merged_spec(campaign, changes)
        if spec.wrapup_code and spec.wrapup_code != campaign.wrapup_code:
            _check_code_exists(session, campaign, spec.wrapup_code)
        old_queue = effective_queue(campaign.name, campaign.queue)
        if effective_queue(spec.name, spec.queue) != old_queue or share_queue:
            check_queue_free(session, spec.name, spec.queue, share_queue)
        for key, value in asdict(spec).items():
            if key != "name":
                setattr(campaign, key, value)
        after = describe(campaign)
        diff = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
        if diff:
            campaign.version += 1
            session.add(campaign)
        return Edit(campaign.name, diff)


def _check_code_exists(session: Session, campaign: Campaign, code: str) -> None:
    found = session.exec(
        select(DispositionCode.code).where(
            (col(DispositionCode.campaign_id) == campaign.id) | col(DispositionCode.campaign_id).is_(None),
            DispositionCode.code == code,
        )
    ).first()
    if found is None:
        raise InvalidInput(f"--wrapup-code {code!r}: not one of the campaign's disposition codes")


def change_state(engine: Engine, name: str, action: str) -> StateChange:
    """Pause, resume, stop or archive a campaign (``campaigns.lifecycle`` says which moves are allowed)."""
    with session_scope(engine) as session:
        campaign = find_campaign(session, name)
        before = parse_state(campaign.state)
        live = live_calls(session, campaign.id) if action == "archive" else 0
        after = next_state(campaign.name, before, action, live)
        campaign.state = after.value
        campaign.version += 1
        session.add(campaign)
        return StateChange(campaign.name, before, after)


def live_calls(session: Session, campaign_id: int | None) -> int:
    """Calls of the campaign in flight on any node (attempts not yet ended)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(CallAttempt)
            .where(col(CallAttempt.campaign_id) == campaign_id, col(CallAttempt.ended_at).is_(None))
        ).one()
    )


def queue_partners_of(engine: Engine, campaign: Campaign) -> list[str]:
    """The other campaigns sharing this campaign's queue."""
    with Session(engine) as session:
        return queue_partners(session, campaign)


def next_due(engine: Engine, campaign_id: int) -> datetime | None:
    """When the campaign's next lead is due, if it has one left."""
    with Session(engine) as session:
        return due_times(session, [campaign_id]).get(campaign_id)

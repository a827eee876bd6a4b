"""Preview and manual dial: calls an operator asks for, connected to that operator only.

Preview (campaigns in the ``preview`` mode): the operator takes the next due lead, which stays
reserved for them (the lead is claimed by ``preview:<operator>``) for the campaign's
``preview_hold_s``; then they choose Call (a request the engine places when they are ready) or
Skip (the lead goes back, due again after ``SKIP_DELAY``). A reservation left longer returns the
lead to the pool. Manual dial: the operator types a number; it is checked by the same rules as the
engine's calls (``dialer.store.lead_checks``), becomes a lead of the campaign if it is not one,
and the call is a request like a preview call (its lead held for the operator the same way),
recorded as an attempt when the engine places it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, DirectCall, Lead, Operator, OperatorCampaign, utcnow
from campaigns.retry import LeadStatus
from campaigns.store import session_scope
from campaigns.tables import LEAD_TABLE, table_of
from dialer.core import reasons
from dialer.core.clock import aware
from dialer.core.errors import FieldRejected, NotFound
from dialer.core.i18n import N_
from dialer.core.modes import PacingMode
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.gate import Verdict, zones_of
from dialer.services.callbacks import FieldProblem, settings_of
from dialer.store.claims import claim_due_leads
from dialer.store.direct import MANUAL, PREVIEW, reservation
from dialer.store.lead_checks import dial_verdict
from dialer.store.recorder import settle_unreached
from lists.lead_zones import LeadZones
from lists.numbering import NumberingPlan
from lists.phones import Phone, PhoneNormalizer
from lists.ru_regions import city_zones, subject_zones

SKIP_DELAY = timedelta(minutes=30)
RAN_OUT = N_("the reservation ran out: take the next lead")
SKIPPED = "skipped by the operator"  # a request called off (stored, as the engine's refusals)
_TRIES = 5  # due leads tried in one "next" before saying there is none


@dataclass(frozen=True)
class Reserved:
    """A lead reserved for an operator's preview (or their pending call to it)."""

    lead_id: int
    campaign: str
    phone: str
    columns: list[tuple[str, str]]
    until: datetime
    requested: bool  # Call pressed; waiting for the engine


def _operator(session: Session, name: str) -> Operator:
    op = session.exec(select(Operator).where(Operator.name == name)).first()
    if op is None or op.id is None:
        raise NotFound(f"no operator named {name!r}")
    return op


def _campaigns(session: Session, op: Operator, preview_only: bool) -> list[Campaign]:
    query = (
        select(Campaign)
        .join(OperatorCampaign, col(OperatorCampaign.campaign_id) == Campaign.id)
        .where(OperatorCampaign.operator_id == op.id, Campaign.state == "active")
        .order_by(col(Campaign.id))
    )
    if preview_only:
        query = query.where(Campaign.mode == PacingMode.PREVIEW.value)
    return list(session.exec(query).all())


def has_preview(store: Engine, operator: str) -> bool:
    """Does the operator serve an active campaign in the preview mode?"""
    with Session(store) as session:
        return bool(_campaigns(session, _operator(session, operator), preview_only=True))


def release_expired(store: Engine, now: datetime | None = None) -> int:
    """Give back every preview reservation older than its campaign's hold, unless Call was pressed.

    A request the engine has not placed within the hold (its operator was not ready) is dropped
    first, so a lead is never held for an operator who went away. The lead keeps whose reservation
    ran out, and when it was taken (``_ran_out``).
    """
    now = now or utcnow()
    lead, direct = LEAD_TABLE.c, table_of(DirectCall).c
    open_request = and_(direct.attempt_id.is_(None), direct.refused.is_(None))
    with Session(store) as session:
        reserved = set(session.exec(select(Lead.campaign_id).where(col(Lead.claimed_by).like("preview:%"))))
        waiting = set(session.exec(select(DirectCall.campaign_id).where(open_request)))
        holds = {cid: settings_of(session, cid).preview_hold_s for cid in reserved | waiting}
    pending = exists().where(and_(direct.lead_id == lead.id, open_request))
    released = 0
    with store.begin() as conn:
        for campaign_id, hold in holds.items():
            since = now - timedelta(seconds=hold)
            conn.execute(
                update(table_of(DirectCall))
                .where(direct.campaign_id == campaign_id, open_request, direct.requested_at < since)
                .values(refused="not placed in time: the operator was not ready")
            )
            released += conn.execute(
                update(LEAD_TABLE)
                .where(
                    lead.campaign_id == campaign_id,
                    lead.claimed_by.like("preview:%"),
                    lead.claimed_at < since,
                    ~pending,
                )
                .values(claimed_by=None, released_from=lead.claimed_by)
            ).rowcount
    return released


def current(store: Engine, operator: str) -> Reserved | None:
    """The lead reserved for ``operator`` now, if any. Their own reservation, once past its hold, is
    given back first; everyone else's by ``release_expired``, which the console runs now and then
    rather than on every operator's every read."""
    held = _held(store, operator)
    if held is not None and held.until <= utcnow():
        release_expired(store)
        held = _held(store, operator)
    return held


def _held(store: Engine, operator: str) -> Reserved | None:
    with Session(store) as session:
        lead = session.exec(select(Lead).where(Lead.claimed_by == reservation(operator))).first()
        return None if lead is None else _view(session, lead)


def _view(session: Session, lead: Lead) -> Reserved:
    assert lead.id is not None and lead.claimed_at is not None
    campaign = session.get(Campaign, lead.campaign_id)
    assert campaign is not None
    hold = settings_of(session, lead.campaign_id).preview_hold_s
    request = session.exec(
        select(DirectCall).where(DirectCall.lead_id == lead.id).order_by(col(DirectCall.id).desc()).limit(1)
    ).first()
    requested = request is not None and request.attempt_id is None and request.refused is None
    columns = [(k, "" if v is None else str(v)) for k, v in lead.data.items()]
    until = aware(lead.claimed_at) + timedelta(seconds=hold)
    return Reserved(lead.id, campaign.name, lead.phone, columns, until, requested)


def next_lead(store: Engine, operator: str) -> Reserved | None:
    """Reserve the next due lead of the operator's preview campaigns for them (or keep theirs)."""
    release_expired(store)  # every lead whose reservation ran out is in the pool again
    held = current(store, operator)
    if held is not None:
        return held
    now = utcnow()
    with Session(store) as session:
        campaigns = _campaigns(session, _operator(session, operator), preview_only=True)
    for campaign in campaigns:
        rules = CampaignRules.from_campaign(campaign)
        for _ in range(_TRIES):
            claimed = claim_due_leads(store, rules.campaign_id, reservation(operator), now, 1)
            if not claimed:
                break
            lead = claimed[0]
            verdict = dial_verdict(store, rules, lead.phone, lead.zones, now)
            if verdict.verdict is Verdict.DIAL:
                return current(store, operator)
            status = LeadStatus.DNC if verdict.verdict is Verdict.DNC else None
            settle_unreached(store, lead.lead_id, reservation(operator), status, verdict.next_at)
    return None


def _ran_out(
    claimed_by: str | None, claimed_at: datetime | None, released_from: str | None, operator: str
) -> bool:
    """Is the lead's last claim ``operator``'s reservation, given back because it ran out? Every
    other release of a claim clears ``claimed_at``; a release for running out keeps it."""
    return claimed_by is None and claimed_at is not None and released_from == reservation(operator)


def _reserved_lead(session: Session, operator: str, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is not None and _ran_out(lead.claimed_by, lead.claimed_at, lead.released_from, operator):
        raise FieldProblem("preview", RAN_OUT)  # given back a moment ago, by whoever saw it first
    if lead is None or lead.claimed_by != reservation(operator):
        raise NotFound("no such lead")  # another's, or never reserved: both look the same
    return lead


def _open_request(session: Session, lead_id: int) -> DirectCall | None:
    """The lead's call request the engine has neither placed nor refused yet."""
    return session.exec(
        select(DirectCall).where(
            DirectCall.lead_id == lead_id,
            col(DirectCall.attempt_id).is_(None),
            col(DirectCall.refused).is_(None),
        )
    ).first()


def _refuse_if_ran_out(store: Engine, operator: str, lead_id: int, now: datetime) -> None:
    """A reservation past its hold is given back now (or was, by ``release_expired``), and the
    Call or Skip pressed on it is refused at its button: the lead is no longer theirs."""
    with session_scope(store) as session:
        lead = _reserved_lead(session, operator, lead_id)
        assert lead.claimed_at is not None
        hold = timedelta(seconds=settings_of(session, lead.campaign_id).preview_hold_s)
        if aware(lead.claimed_at) + hold > now or _open_request(session, lead_id) is not None:
            return  # still held, or Call was pressed in time (then ``release_expired`` decides)
        lead.claimed_by, lead.released_from = None, lead.claimed_by  # as ``release_expired``
        session.add(lead)
    raise FieldProblem("preview", RAN_OUT)


def call_reserved(store: Engine, operator: str, lead_id: int, now: datetime | None = None) -> int:
    """Call: ask the engine for the call to the reserved lead, connected to this operator only."""
    _refuse_if_ran_out(store, operator, lead_id, now or utcnow())
    with session_scope(store) as session:
        op = _operator(session, operator)
        lead = _reserved_lead(session, operator, lead_id)
        open_request = _open_request(session, lead_id)
        if open_request is not None:
            return open_request.id or 0  # pressed twice: one call
        request = DirectCall(
            campaign_id=lead.campaign_id, lead_id=lead_id, operator_id=op.id or 0, kind=PREVIEW
        )
        session.add(request)
        session.flush()
        return request.id or 0


def skip_reserved(store: Engine, operator: str, lead_id: int, now: datetime | None = None) -> None:
    """Skip: the lead goes back to the pool, due again after ``SKIP_DELAY``; a Call pressed
    before, not placed yet, is called off.

    The lead first, then the request, as the engine takes them (``dialer.store.direct.take``):
    an engine that placed the call first has moved the lead on (nothing to skip), and one that
    comes after finds the request called off."""
    _refuse_if_ran_out(store, operator, lead_id, now or utcnow())
    lead, direct = LEAD_TABLE.c, table_of(DirectCall).c
    with store.begin() as conn:
        released = conn.execute(
            update(LEAD_TABLE)
            .where(lead.id == lead_id, lead.claimed_by == reservation(operator))
            .values(claimed_by=None, claimed_at=None, next_call_at=utcnow() + SKIP_DELAY)
        ).rowcount
        if released != 1:  # as ``_reserved_lead``: given back as it ran out, placed, or another's
            found = conn.execute(
                select(lead.claimed_by, lead.claimed_at, lead.released_from).where(lead.id == lead_id)
            ).first()
            if found is not None and _ran_out(found[0], found[1], found[2], operator):
                raise FieldProblem("preview", RAN_OUT)
            raise NotFound("no such lead")
        conn.execute(
            update(table_of(DirectCall))
            .where(direct.lead_id == lead_id, direct.attempt_id.is_(None), direct.refused.is_(None))
            .values(refused=SKIPPED)
        )


def manual_dial(
    store: Engine, operator: str, phone: str, campaign: str = "", place: str = "", now: datetime | None = None
) -> int:
    """Check ``phone`` as the engine would and ask for the call; ``FieldProblem`` names the field.

    A number new to the campaign gets its zones as an imported lead would (``manual_zones``);
    one already a lead keeps the zones its import gave it."""
    now = now or utcnow()
    with session_scope(store) as session:
        op = _operator(session, operator)
        choices = _campaigns(session, op, preview_only=False)
        chosen = next((c for c in choices if not campaign or c.name == campaign), None)
        if chosen is None or chosen.id is None:
            raise FieldProblem("campaign", N_("choose one of your active campaigns"))
        try:
            number = PhoneNormalizer(chosen.region).normalize(phone)
        except FieldRejected as exc:
            raise FieldProblem("phone", str(exc)) from None
        lead = session.exec(
            select(Lead).where(Lead.campaign_id == chosen.id, Lead.phone == number.e164)
        ).first()
        if lead is None:
            zones = manual_zones(session, number, place)
            data = {"source": "manual", **({"place": place.strip()[:100]} if place.strip() else {})}
            lead = Lead(campaign_id=chosen.id, phone=number.e164, time_zones=zones, data=data)
        if lead.claimed_by or lead.status == LeadStatus.IN_CALL.value:
            raise FieldProblem("phone", N_("this number is in a call or reserved now"))
        rules = CampaignRules.from_campaign(chosen)
        verdict = dial_verdict(store, rules, number.e164, zones_of(lead.time_zones), now)
        if verdict.verdict is not Verdict.DIAL:
            raise FieldProblem("phone", reasons.NOT_ALLOWED.format(why=verdict.reason))
        # Held for this operator until placed, so the campaign's own pacing cannot take it first.
        lead.claimed_by, lead.claimed_at = reservation(operator), now
        session.add(lead)
        session.flush()
        request = DirectCall(campaign_id=chosen.id, lead_id=lead.id or 0, operator_id=op.id or 0, kind=MANUAL)
        session.add(request)
        session.flush()
        return request.id or 0


def manual_zones(session: Session, number: Phone, place: str = "") -> str:
    """A typed number's zones, by the import's precedence: the place the operator typed (a city,
    else a region), then the numbering plan's range, then the number's prefix (``lists.lead_zones``).
    A place that names nothing known is refused at its field rather than passed over."""
    place = place.strip()
    if place and not (city_zones(place) or subject_zones(place)):
        raise FieldProblem(
            "place", N_("unknown city or region: write it as in an address (Москва, Приморский край)")
        )
    plan = NumberingPlan(session.connection())
    zones, _source = LeadZones(plan).resolve(number, "", place, place)
    return zones

"""Do-not-call lists: one global list and one per campaign, numbers kept in E.164.

A number on the global list is never dialed for any campaign; a number on a
campaign's list is never dialed for that campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import ColumnElement, delete, insert, or_, select
from sqlalchemy.engine import Connection, Engine

from campaigns.models import utcnow
from campaigns.service import find_campaign
from campaigns.tables import CAMPAIGN_TABLE, DNC_TABLE
from dialer.core.errors import FieldRejected, InvalidInput
from dialer.core.i18n import _
from lists.limits import shown, some
from lists.phones import PhoneNormalizer
from lists.reader import find_phone_column, open_table

_BATCH = 5000


@dataclass
class DncChange:
    """What an add or import did."""

    added: int = 0
    already: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (value, reason)


@dataclass(frozen=True)
class DncListing:
    phone: str
    campaign: str | None  # None: the global list
    source: str


def add_numbers(
    store: Engine,
    numbers: Iterable[str],
    campaign: str | None = None,
    region: str = "RU",
    source: str = "manual",
) -> DncChange:
    """Put numbers on the global list, or on ``campaign``'s; invalid ones are reported, not added."""
    normalizer = PhoneNormalizer(region)
    change = DncChange()
    with store.begin() as conn:
        campaign_id = _campaign_id(store, campaign)
        present = dnc_phones(conn, campaign_id, include_global=campaign_id is None)
        rows = []
        for raw in numbers:
            try:
                phone = normalizer.normalize(raw).e164
            except FieldRejected as exc:
                change.rejected.append((raw, str(exc)))
                continue
            if phone in present:
                change.already += 1
                continue
            present.add(phone)
            change.added += 1
            rows.append(
                {"phone": phone, "campaign_id": campaign_id, "source": source[:255], "added_at": utcnow()}
            )
            if len(rows) >= _BATCH:
                conn.execute(insert(DNC_TABLE), rows)
                rows = []
        if rows:
            conn.execute(insert(DNC_TABLE), rows)
    return change


def import_file(
    store: Engine,
    path: Path,
    campaign: str | None = None,
    region: str = "RU",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> DncChange:
    """Add every number in a CSV/XLSX file: its phone column, or the first column of a bare list."""
    table = open_table(path, encoding, delimiter)
    column = find_phone_column(table.columns)
    if column is None:
        if len(table.columns) == 1 or _looks_like_number(table.columns[0], region):
            table = open_table(path, encoding, delimiter, header=False)
            column = table.columns[0]
        else:
            wrong = _("{file}: no phone column among {columns}; name one phone, tel or телефон")
            raise InvalidInput(wrong.format(file=shown(path), columns=some(table.columns)))
    values: list[str] = []
    for chunk, _progress in table.chunks():
        values.extend(chunk[column].tolist())
    if not values:
        raise InvalidInput(_("{file} has no numbers").format(file=shown(path)))
    return add_numbers(store, values, campaign, region, source=path.name)


def check_number(
    store: Engine, number: str, campaign: str | None = None, region: str = "RU"
) -> list[DncListing]:
    """The lists a number is on: the global one and, with ``campaign``, that campaign's (else all)."""
    phone = normalize_or_fail(number, region)
    with store.connect() as conn:
        campaign_id = _campaign_id(store, campaign)
        query = (
            select(DNC_TABLE.c.phone, CAMPAIGN_TABLE.c.name, DNC_TABLE.c.source)
            .select_from(DNC_TABLE.outerjoin(CAMPAIGN_TABLE, DNC_TABLE.c.campaign_id == CAMPAIGN_TABLE.c.id))
            .where(DNC_TABLE.c.phone == phone)
        )
        if campaign_id is not None:
            query = query.where(
                or_(DNC_TABLE.c.campaign_id.is_(None), DNC_TABLE.c.campaign_id == campaign_id)
            )
        return [DncListing(p, c, s) for p, c, s in conn.execute(query)]


def remove_number(store: Engine, number: str, campaign: str | None = None, region: str = "RU") -> int:
    """Take a number off the global list (or ``campaign``'s); how many entries went."""
    phone = normalize_or_fail(number, region)
    with store.begin() as conn:
        campaign_id = _campaign_id(store, campaign)
        scope = (
            DNC_TABLE.c.campaign_id.is_(None)
            if campaign_id is None
            else DNC_TABLE.c.campaign_id == campaign_id
        )
        result = conn.execute(delete(DNC_TABLE).where(DNC_TABLE.c.phone == phone, scope))
        return int(result.rowcount or 0)


def dnc_phones(conn: Connection, campaign_id: int | None, include_global: bool = True) -> set[str]:
    """Numbers blocked for a campaign: the global list plus its own (or the global list alone)."""
    scopes: list[ColumnElement[bool]] = []
    if include_global:
        scopes.append(DNC_TABLE.c.campaign_id.is_(None))
    if campaign_id is not None:
        scopes.append(DNC_TABLE.c.campaign_id == campaign_id)
    if not scopes:
        return set()
    return set(conn.execute(select(DNC_TABLE.c.phone).where(or_(*scopes))).scalars())


def _campaign_id(store: Engine, name: str | None) -> int | None:
    if name is None:
        return None
    from sqlmodel import Session

    with Session(store) as session:
        return find_campaign(session, name).id


def normalize_or_fail(number: str, region: str = "RU") -> str:
    """The number in E.164, or ``InvalidInput`` saying why it is not one."""
    try:
        return PhoneNormalizer(region).normalize(number).e164
    except FieldRejected as exc:
        raise InvalidInput(f"{number[:40]!r}: {exc}") from None


def _looks_like_number(value: str, region: str) -> bool:
    try:
        PhoneNormalizer(region).normalize(value)
    except FieldRejected:
        return False
    return True

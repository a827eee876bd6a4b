"""Lead export: fixed columns, then the original ones; an import -> export round trip keeps every cell."""

from __future__ import annotations

import csv
import io
import itertools

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from campaigns.service import CampaignSpec, create_campaign
from lists.export import LEAD_COLUMNS, export_leads
from lists.importer import _AUTO_HEADERS as AUTO_HEADERS
from lists.importer import ImportRequest, import_leads
from lists.reader import PHONE_HEADERS, _header_key

pytestmark = pytest.mark.every_store
_campaign_numbers = itertools.count(1)

CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\t,;\"'"),
    max_size=20,
).map(lambda s: s.strip())
# Headers the importer gives a meaning (phone, time zone, city, region, consent), and the export's own.
_RESERVED = {
    *(name for names in AUTO_HEADERS.values() for name in names),
    *LEAD_COLUMNS,
    "phone",
    "tel",
    "number",
}


def _plain_header(h: str) -> bool:
    return bool(h) and h.lower() not in _RESERVED and _header_key(h) not in PHONE_HEADERS


HEADER = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдежз_ ", min_size=1, max_size=12)
    .map(str.strip)
    .filter(_plain_header)
)


@st.composite
def lead_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    headers = draw(st.lists(HEADER, min_size=0, max_size=4, unique_by=str.casefold))
    nationals = draw(st.lists(st.integers(900_000_0000, 999_999_9999), min_size=1, max_size=15, unique=True))
    rows = [[f"8 {n}", *(draw(CELL) for _ in headers)] for n in nationals]
    return ["Телефон", *headers], rows


def valid_e164(row: list[str]) -> str | None:
    number = phonenumbers.parse(row[0], "RU")
    return "+7" + row[0][2:] if phonenumbers.is_valid_number(number) else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    table=lead_tables(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_import_then_export_keeps_every_cell(
    store: Engine,
    tmp_path_factory: pytest.TempPathFactory,
    table: tuple[list[str], list[list[str]]],
    delimiter: str,
    encoding: str,
) -> None:
    headers, rows = table
    work = tmp_path_factory.mktemp("rt")
    path = work / "leads.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows([headers, *rows])
    campaign = f"rt-{next(_campaign_numbers)}"  # the store outlives one example: a campaign each
    create_campaign(store, CampaignSpec.build(campaign))
    expected = {e164: row[1:] for row in rows if (e164 := valid_e164(row))}
    if not expected:
        return
    import_leads(store, ImportRequest(path, campaign, delimiter=delimiter))
    out = io.StringIO()
    assert export_leads(store, campaign, out) == len(expected)
    exported = list(csv.reader(io.StringIO(out.getvalue())))
    assert exported[0] == [*LEAD_COLUMNS, *headers[1:]]
    got = {line[1]: line[len(LEAD_COLUMNS) :] for line in exported[1:]}
    assert got == expected
    zones = LEAD_COLUMNS.index("time_zones")
    assert all(line[2] == "new" and line[3] == "0" and line[zones] for line in exported[1:])


def test_export_of_an_empty_campaign_is_just_the_header(store: Engine) -> None:
    create_campaign(store, CampaignSpec.build("empty"))
    out = io.StringIO()
    assert export_leads(store, "empty", out) == 0
    assert out.getvalue().strip() == ",".join(LEAD_COLUMNS)

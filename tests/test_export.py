"""Lead export: fixed columns, then the original ones; an import -> export round trip keeps every cell."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import open_store
from lists.export import LEAD_COLUMNS, export_leads
from lists.importer import ImportRequest, import_leads

CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\t,;\"'"),
    max_size=20,
).map(lambda s: s.strip())
HEADER = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдежз_ ", min_size=1, max_size=12)
    .map(str.strip)
    .filter(
        lambda h: (
            h and h.lower() not in {"phone", "tel", "number", "timezone", "consent", "tz", *LEAD_COLUMNS}
        )
    )
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
    tmp_path_factory: object, table: tuple[list[str], list[list[str]]], delimiter: str, encoding: str
) -> None:
    headers, rows = table
    work = Path(str(tmp_path_factory.mktemp("rt")))  # type: ignore[attr-defined]
    path = work / "leads.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows([headers, *rows])
    engine = open_store(f"sqlite:///{work / 'dialer.db'}")
    try:
        create_campaign(engine, CampaignSpec.build("rt"))
        expected = {e164: row[1:] for row in rows if (e164 := valid_e164(row))}
        if not expected:
            return
        import_leads(engine, ImportRequest(path, "rt", delimiter=delimiter))
        out = io.StringIO()
        assert export_leads(engine, "rt", out) == len(expected)
    finally:
        engine.dispose()
    exported = list(csv.reader(io.StringIO(out.getvalue())))
    assert exported[0] == [*LEAD_COLUMNS, *headers[1:]]
    got = {line[1]: line[len(LEAD_COLUMNS) :] for line in exported[1:]}
    assert got == expected
    assert all(line[2] == "new" and line[3] == "0" and line[5] for line in exported[1:])


def test_export_of_an_empty_campaign_is_just_the_header(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    create_campaign(engine, CampaignSpec.build("empty"))
    out = io.StringIO()
    assert export_leads(engine, "empty", out) == 0
    assert out.getvalue().strip() == ",".join(LEAD_COLUMNS)
    engine.dispose()

"""Lead import into a real SQLite store: buckets, deduplication, rejects, atomicity, zones."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from campaigns.models import Lead, LeadList
from campaigns.service import CampaignSpec, create_campaign
from dialer.core.errors import InvalidInput, NotFound
from lists.dnc import add_numbers
from lists.importer import ImportRequest, import_leads, parse_mapping

pytestmark = pytest.mark.every_store

ROWS = [
    ["Имя", "Телефон", "Город"],
    ["Иван", "8 (916) 123-45-67", "Москва"],
    ["Пётр", "+7 916 123 45 67", "Тверь"],  # the same number as row 1
    ["Анна", "(495) 123-45-67", "Москва"],
    ["Олег", "123", "Казань"],  # invalid
    ["Мария", "7.91612E+10", "Казань"],  # scientific notation, digits lost
    ["Нина", "89161234570", "Омск"],  # on the do-not-call list
]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ";") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def campaign(store: Engine) -> str:
    create_campaign(store, CampaignSpec.build("spring"))
    return "spring"


def test_every_row_lands_in_exactly_one_bucket(store: Engine, campaign: str, tmp_path: Path) -> None:
    add_numbers(store, ["+79161234570"])
    path = write_csv(tmp_path / "leads.csv", ROWS)
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.read, summary.imported, summary.duplicates, summary.dnc, summary.invalid) == (
        6,
        2,
        1,
        1,
        2,
    )
    assert count(store, Lead) == 2


def test_rejects_file_names_each_row_and_keeps_its_columns(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    add_numbers(store, ["+79161234570"])
    path = write_csv(tmp_path / "leads.csv", ROWS)
    summary = import_leads(store, ImportRequest(path, campaign))
    assert summary.rejects_path == tmp_path / "leads.csv.rejected.csv"
    with summary.rejects_path.open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert list(rejects[0]) == ["row", "reason", "Имя", "Телефон", "Город"]
    by_row = {r["row"]: r for r in rejects}
    assert set(by_row) == {"2", "4", "5", "6"}
    assert by_row["2"]["reason"] == "duplicate of row 1"
    assert "digits were lost" in by_row["5"]["reason"]
    assert by_row["6"]["reason"] == "on the do-not-call list"
    assert by_row["4"]["Имя"] == "Олег"


def test_reimporting_the_same_file_adds_nothing(store: Engine, campaign: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", ROWS)
    first = import_leads(store, ImportRequest(path, campaign))
    again = import_leads(store, ImportRequest(path, campaign))
    assert again.imported == 0
    assert again.duplicates == first.imported + first.duplicates
    assert count(store, Lead) == first.imported


def test_leads_keep_extra_columns_zones_and_status(store: Engine, campaign: str, tmp_path: Path) -> None:
    import_leads(store, ImportRequest(write_csv(tmp_path / "leads.csv", ROWS[:4]), campaign))
    with store.connect() as conn:
        lead = conn.execute(select(Lead.__table__).where(Lead.__table__.c.phone == "+74951234567")).one()  # type: ignore[attr-defined]
    assert lead.data == {"Имя": "Анна", "Город": "Москва"}
    assert lead.time_zones == "Europe/Moscow"
    assert (lead.status, lead.attempts) == ("new", 0)


def test_campaign_dnc_list_blocks_only_that_campaign(store: Engine, campaign: str, tmp_path: Path) -> None:
    create_campaign(store, CampaignSpec.build("other"))
    add_numbers(store, ["+79161234567"], campaign="other")
    path = write_csv(tmp_path / "leads.csv", ROWS[:2])
    assert import_leads(store, ImportRequest(path, "other")).dnc == 1
    assert import_leads(store, ImportRequest(path, campaign)).imported == 1


def test_zero_valid_rows_fails_and_leaves_nothing(store: Engine, campaign: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [["phone"], ["abc"], ["123"]])
    with pytest.raises(InvalidInput, match="none of the 2 rows"):
        import_leads(store, ImportRequest(path, campaign))
    assert count(store, Lead) == 0
    assert count(store, LeadList) == 0
    assert not (tmp_path / "leads.csv.rejected.csv").exists()
    assert not [p for p in tmp_path.iterdir() if "reject" in p.name]


def test_a_failure_midway_rolls_back_everything(store: Engine, campaign: str, tmp_path: Path) -> None:
    good = [["phone"], *([f"8916{n:07d}"] for n in range(1000, 1100))]
    path = write_csv(tmp_path / "leads.csv", good)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('"unterminated,quote\n8916\n')
    with pytest.raises(InvalidInput):
        import_leads(store, ImportRequest(path, campaign))
    assert count(store, Lead) == 0


def test_header_only_file_is_rejected(store: Engine, campaign: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no data rows"):
        import_leads(store, ImportRequest(write_csv(tmp_path / "l.csv", [["phone", "name"]]), campaign))


def test_no_phone_column_is_a_user_error(store: Engine, campaign: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [["name", "city"], ["a", "b"]])
    with pytest.raises(InvalidInput, match="no phone column"):
        import_leads(store, ImportRequest(path, campaign))


def test_map_names_the_phone_column(store: Engine, campaign: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [["name", "contact"], ["a", "89161234567"]])
    summary = import_leads(store, ImportRequest(path, campaign, mapping=parse_mapping(["phone=contact"])))
    assert summary.imported == 1


@pytest.mark.parametrize("item", ["phone", "colour=red", "phone="])
def test_bad_map_items_are_user_errors(item: str) -> None:
    with pytest.raises(InvalidInput):
        parse_mapping([item])


def test_map_to_a_missing_column_is_a_user_error(store: Engine, campaign: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [["phone"], ["89161234567"]])
    with pytest.raises(InvalidInput, match="no column 'tel'"):
        import_leads(store, ImportRequest(path, campaign, mapping={"phone": "tel"}))


def test_unknown_campaign_is_not_found(store: Engine, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="unknown campaign"):
        import_leads(store, ImportRequest(write_csv(tmp_path / "l.csv", ROWS), "nope"))


def test_leads_without_common_calling_time_are_reported_and_imported(store: Engine, tmp_path: Path) -> None:
    # One hour a day in sixteen zones spread over ten hours never overlaps.
    create_campaign(store, CampaignSpec.build("narrow", window="09:00-10:00"))
    path = write_csv(tmp_path / "l.csv", [["phone"], ["89161234567"], ["84951234567"]])
    summary = import_leads(store, ImportRequest(path, "narrow"))
    assert summary.imported == 2
    assert summary.window_problems == {"no common calling time across their candidate zones": 1}


def test_own_time_zone_column_replaces_the_candidates(store: Engine, tmp_path: Path) -> None:
    create_campaign(store, CampaignSpec.build("narrow", window="09:00-10:00"))
    path = write_csv(
        tmp_path / "l.csv",
        [["phone", "timezone"], ["89161234567", "Asia/Omsk"], ["89161234568", "Mars/Base"]],
    )
    summary = import_leads(store, ImportRequest(path, "narrow"))
    assert (summary.imported, summary.invalid, summary.no_common_window) == (1, 1, 0)
    with store.connect() as conn:
        assert conn.execute(select(Lead.__table__.c.time_zones)).scalar_one() == "Asia/Omsk"  # type: ignore[attr-defined]


def test_consent_column_sets_the_flag(store: Engine, campaign: str, tmp_path: Path) -> None:
    rows = [
        ["phone", "consent"],
        ["89161234567", "да"],
        ["89161234568", "no"],
        ["89161234569", ""],
        ["89161234560", "?"],
    ]
    summary = import_leads(store, ImportRequest(write_csv(tmp_path / "l.csv", rows), campaign))
    assert (summary.imported, summary.invalid) == (3, 1)
    with store.connect() as conn:
        flags = dict(conn.execute(select(Lead.__table__.c.phone, Lead.__table__.c.consent)).all())  # type: ignore[attr-defined]
    assert flags == {"+79161234567": True, "+79161234568": False, "+79161234569": None}


def test_imported_leads_read_back_through_the_model(store: Engine, campaign: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session
    from sqlmodel import select as model_select

    before = datetime.now(UTC)
    import_leads(store, ImportRequest(write_csv(tmp_path / "l.csv", ROWS[:2]), campaign))
    with Session(store) as session:
        lead = session.exec(model_select(Lead)).one()
    assert lead.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= lead.created_at <= datetime.now(UTC)
    assert (lead.list_id, lead.status, lead.consent, lead.next_call_at) == (1, "new", None, None)

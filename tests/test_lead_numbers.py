"""Several numbers in one cell: the import keeps them as a lead's first and alternate numbers.

Against a real store (SQLite and PostgreSQL); the cells are written as Russian lists write them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.lead_numbers import lead_numbers
from campaigns.models import Lead
from campaigns.service import CampaignSpec, create_campaign
from lists.dnc import add_numbers
from lists.importer import ImportRequest, import_leads
from lists.phones import split_numbers

pytestmark = pytest.mark.every_store


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return path


def by_name(store: Engine) -> dict[str, Lead]:
    with Session(store) as session:
        return {str(lead.data["ФИО"]): lead for lead in session.exec(select(Lead)).all()}


def phones_of(lead: Lead) -> list[str]:
    return [n.phone for n in lead_numbers(lead.phone, lead.time_zones, lead.numbers)]


@pytest.fixture
def campaign(store: Engine) -> str:
    create_campaign(store, CampaignSpec.build("spring"))
    return "spring"


@pytest.mark.parametrize(
    ("cell", "parts"),
    [
        ("8 (903) 100-20-34; 8 (495) 200-30-44", ["8 (903) 100-20-34", "8 (495) 200-30-44"]),
        ("+7 903 100-20-34, +7 495 200-30-44", ["+7 903 100-20-34", "+7 495 200-30-44"]),
        ("89031002034/84952003044", ["89031002034", "84952003044"]),
        ("8 903 100 20 34\n8 495 200 30 44", ["8 903 100 20 34", "8 495 200 30 44"]),
        ("8 (903) 100-20-34;", ["8 (903) 100-20-34"]),
        ("8 (903) 100-20-34", ["8 (903) 100-20-34"]),
        ("7,9031002034E+10", ["7,9031002034E+10"]),  # a spreadsheet's decimal comma, one number
        ("79031002034,0", ["79031002034,0"]),
    ],
)
def test_a_cell_splits_into_its_numbers(cell: str, parts: list[str]) -> None:
    assert split_numbers(cell) == parts


def test_several_numbers_in_a_cell_become_first_and_alternates(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["ФИО", "Телефон"],
            ["Иванова Анна", "8 (903) 100-20-34; 8 (495) 200-30-44"],
            ["Петров Пётр", "+7 916 123-45-67, 8-343-310-20-30"],
            ["Сидоров Олег", "8 (912) 555-01-02"],
        ],
    )
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.read, summary.imported, summary.invalid, summary.alternates) == (3, 3, 0, 2)
    leads = by_name(store)
    anna = leads["Иванова Анна"]
    assert anna.phone == "+79031002034"
    assert phones_of(anna) == ["+79031002034", "+74952003044"]
    # Each number keeps its own zones: the Moscow landline is Moscow's; the Yekaterinburg one is not.
    petrov = lead_numbers(leads["Петров Пётр"].phone, "", leads["Петров Пётр"].numbers)
    assert petrov[1].phone == "+73433102030"
    assert petrov[1].zones == "Asia/Yekaterinburg"
    assert leads["Сидоров Олег"].numbers is None  # one number: nothing more is stored


def test_a_bad_number_beside_a_good_one_is_left_out_and_counted(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["ФИО", "Телефон"],
            ["Иванова Анна", "8 (9O3) 100-20-34; 8 (495) 200-30-44"],  # a Latin O among the digits
            ["Петров Пётр", "8 800 555-35-35 / 8 (916) 123-45-67"],  # a toll-free number first
            ["Сидоров Олег", "112; 8 (916) 765-43-21"],  # an emergency number
            ["Козлова Мария", "123; 45-67"],  # nothing usable at all
        ],
    )
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.imported, summary.invalid) == (3, 1)
    leads = by_name(store)
    assert phones_of(leads["Иванова Анна"]) == ["+74952003044"]
    assert phones_of(leads["Петров Пётр"]) == ["+78005553535", "+79161234567"]
    assert summary.service_numbers == {"toll-free (8-800)": 1}
    assert phones_of(leads["Сидоров Олег"]) == ["+79167654321"]
    reasons = " ".join(summary.numbers_left_out)
    assert "look-alike" in reasons and "emergency" in reasons
    assert sum(summary.numbers_left_out.values()) == 2
    assert summary.rejects_path is not None
    with summary.rejects_path.open(encoding="utf-8") as handle:
        (reject,) = list(csv.DictReader(handle))
    assert reject["row"] == "4" and reject["reason"].startswith("no usable number")


def test_do_not_call_and_duplicates_apply_to_every_number(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    add_numbers(store, ["+74952003044", "+79161112233"])
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["ФИО", "Телефон"],
            ["Иванова Анна", "8 (903) 100-20-34; 8 (495) 200-30-44"],  # the alternate is on the DNC list
            ["Петров Пётр", "8 (916) 111-22-33"],  # on the DNC list
            ["Сидоров Олег", "8 (916) 765-43-21; 8 (903) 100-20-34"],  # the second is Anna's
            ["Козлова Мария", "8 (903) 100-20-34 / 8 (916) 111-22-33"],  # Anna's, then DNC
        ],
    )
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.imported, summary.dnc, summary.duplicates) == (2, 2, 0)
    leads = by_name(store)
    assert phones_of(leads["Иванова Анна"]) == ["+79031002034"]
    assert phones_of(leads["Сидоров Олег"]) == ["+79167654321"]
    assert summary.numbers_left_out == {"on the do-not-call list": 1, "another lead's number": 1}
    # An alternate is a number of the campaign: a later list's lead with it is a duplicate.
    again = write_csv(tmp_path / "more.csv", [["ФИО", "Телефон"], ["Новая", "+7 903 100-20-34"]])
    later = import_leads(store, ImportRequest(again, campaign))
    assert (later.imported, later.duplicates) == (0, 1)

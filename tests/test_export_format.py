"""The export's pure parts: the extension rule, --tz, neutralising, cause names, and that any text
goes through the Excel-flavoured CSV and the workbook as text, never as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.core.errors import InvalidInput
from dialer.core.hangup_causes import cause_name
from dialer.services.attempts_export import pick_lead_columns
from lists.export_columns import Column, Kind
from lists.export_format import ExportFormat, check_tz, choose_format
from lists.export_writer import Table, neutralise, write_csv, write_xlsx


@pytest.mark.parametrize(
    ("output", "fmt", "excel", "expected"),
    [
        ("a.xlsx", None, False, ExportFormat("xlsx")),
        ("A.XLSX", None, False, ExportFormat("xlsx")),
        ("a.csv", None, False, ExportFormat("csv")),
        ("a.csv", None, True, ExportFormat("csv", excel=True)),
        ("a.txt", None, False, ExportFormat("csv")),
        ("/dev/stdout", None, False, ExportFormat("csv")),
        ("-", None, False, ExportFormat("csv")),
        ("-", "xlsx", False, ExportFormat("xlsx")),
        ("a.data", "xlsx", False, ExportFormat("xlsx")),
        ("a.tsv", "csv", True, ExportFormat("csv", excel=True)),
    ],
)
def test_the_name_and_the_options_choose_the_format(
    output: str, fmt: str | None, excel: bool, expected: ExportFormat
) -> None:
    assert choose_format(output, fmt, excel) == expected


@pytest.mark.parametrize(
    ("output", "fmt", "excel", "lang"),
    [
        ("a.xls", None, False, "en"),
        ("a.xlsm", "xlsx", False, "en"),
        ("a.ods", "csv", False, "en"),
        ("a.json", None, False, "en"),
        ("a.csv", "xlsx", False, "en"),
        ("a.xlsx", "csv", False, "en"),
        ("a.xlsx", None, True, "en"),
        ("a.csv", None, False, "ru"),
        ("a.csv", None, True, "de"),
        ("a.csv", "ods", False, "en"),
    ],
)
def test_a_format_the_name_contradicts_is_refused(
    output: str, fmt: str | None, excel: bool, lang: str
) -> None:
    with pytest.raises(InvalidInput):
        choose_format(output, fmt, excel, lang)


def test_tz_is_local_utc_or_an_iana_zone() -> None:
    assert check_tz("local").name == "local" and check_tz("utc").name == "UTC"
    assert check_tz("Asia/Novosibirsk").zone("Europe/Moscow")[0] == "Asia/Novosibirsk"
    local = check_tz("local")
    assert local.zone("Asia/Novosibirsk,Asia/Omsk")[0] == "Asia/Novosibirsk"
    assert local.zone("")[0] == "UTC" and local.zone("Not/AZone")[0] == "UTC"
    for bad in ("Mars/Base", "", "../etc/passwd", "x" * 100):
        with pytest.raises(InvalidInput):
            check_tz(bad)


def test_cause_names() -> None:
    assert [cause_name(c) for c in (16, 17, 19, 21, 1, 34)] == [
        "Normal clearing",
        "User busy",
        "No answer",
        "Call rejected",
        "Unallocated number",
        "No circuit available",
    ]
    assert cause_name(None) == "" and cause_name(250) == "cause 250"


def test_lead_columns_all_some_or_a_clear_error() -> None:
    have = ["ФИО", "Город"]
    assert pick_lead_columns("", have) == [] and pick_lead_columns("all", have) == have
    assert pick_lead_columns(" фио , ФИО", have) == ["ФИО"]
    with pytest.raises(InvalidInput, match="Возраст"):
        pick_lead_columns("ФИО,Возраст", have)


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@given(TEXT)
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    safe = neutralise(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)


@settings(max_examples=40, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_every_text_is_a_text_cell_in_the_workbook_and_the_excel_csv(values: list[str]) -> None:
    columns = [Column("phone"), Column("n", Kind.INT), Column("t", Kind.TIME)] + [
        Column(f"c{i}") for i in range(len(values))
    ]
    row: list[object] = ["+79161234567", 7, datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), *values]
    book = io.BytesIO()
    write_xlsx(Table("x", columns, [row]), book)
    cells = list(openpyxl.load_workbook(io.BytesIO(book.getvalue()))["x"].iter_rows())[1]
    assert all(c.data_type != "f" for c in cells)
    assert cells[0].value == "+79161234567" and cells[1].value == 7
    assert cells[2].value == datetime(2026, 1, 2, 3, 4, 5)
    for cell, text in zip(cells[3:], values, strict=True):
        kept = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)
        kept = kept.replace("\r\n", "\n").replace("\r", "\n")  # XML reads every line end as \n
        assert (cell.value or "") == kept and (cell.value is None or cell.data_type == "s")
    out = io.StringIO()
    write_csv(Table("x", columns, [row]), out, ExportFormat(excel=True))
    read = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))[1]
    assert read[2] == "2026-01-02 03:04:05"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in read)

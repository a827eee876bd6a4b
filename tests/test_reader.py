"""Reading lead tables: encodings, delimiters, quoting, XLSX cells, the phone column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from dialer.core.errors import InvalidInput
from lists.reader import cell_text, detect_delimiter, detect_encoding, find_phone_column, open_table

TEXT = 'Имя;Телефон;Комментарий\nИван;8 916 123-45-67;"многострочный\nкомментарий; с разделителем"\n'


def read_all(path: Path, **kwargs: str) -> list[list[str]]:
    table = open_table(path, **kwargs)
    rows: list[list[str]] = []
    for chunk, _ in table.chunks():
        rows.extend(chunk.astype(str).values.tolist())
    return rows


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251")]
)
def test_encoding_is_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(TEXT.encode(encoding))
    assert detect_encoding(path.read_bytes()) == expected
    table = open_table(path)
    assert table.columns == ["Имя", "Телефон", "Комментарий"]
    assert read_all(path)[0][2] == "многострочный\nкомментарий; с разделителем"


def test_utf8_sample_cut_mid_character_is_still_utf8() -> None:
    data = "Телефон\n".encode()
    assert detect_encoding(data[:-2]) == "utf-8"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["name", "phone", "city"])
        + "\n"
        + delimiter.join(['"A, B; C"', "89161234567", "Тверь"])
        + "\n"
    )
    assert detect_delimiter(text) == delimiter
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    assert read_all(path) == [["A, B; C", "89161234567", "Тверь"]]


def test_overrides_win_over_detection(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("a|phone\nx|89161234567\n".encode("cp1251"))
    assert read_all(path, delimiter="|", encoding="cp1251") == [["x", "89161234567"]]


def test_unknown_encoding_override_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("phone\n1\n")
    with pytest.raises(InvalidInput, match="unknown encoding"):
        open_table(path, encoding="klingon")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\x00\x01\x02\xff" * 100, "binary"), (bytes(range(256)) * 20, "binary")],
)
def test_unusable_files_are_user_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        open_table(path)


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        open_table(tmp_path / "absent.csv")


def test_xlsx_numbers_read_as_written(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Телефон", "Сумма", "Имя"])
    sheet.append([79161234567, 1500.0, "Иван"])
    sheet.append([89161234568.0, 12.5, None])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    assert read_all(path) == [["79161234567", "1500", "Иван"], ["89161234568", "12.5", ""]]


def test_cell_text_keeps_non_integral_floats() -> None:
    assert cell_text(7.5) == "7.5"
    assert cell_text(None) == ""


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["name", "Phone Number", "city"], "Phone Number"),
        (["ФИО", "Телефон"], "Телефон"),
        (["ФИО", "Мобильный телефон", "Номер"], "Мобильный телефон"),
        (["id", "TEL"], "TEL"),
        (["id", "name"], None),
    ],
)
def test_phone_column_is_found_by_name(headers: list[str], expected: str | None) -> None:
    assert find_phone_column(headers) == expected


TITLED = (
    "Выгрузка клиентов от 01.11.2026\n"
    "\n"
    "Организация: ООО Ромашка;;\n"
    "ФИО;Телефон;Город\n"
    "Иван;8 (916) 123-45-67;Москва\n"
    "Анна;8 913 050 00 01;Новосибирск\n"
)


def test_title_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "1c.csv"
    path.write_bytes(TITLED.encode("cp1251"))
    table = open_table(path)
    assert (table.skip, table.columns, table.format.delimiter) == (3, ["ФИО", "Телефон", "Город"], ";")
    assert read_all(path) == [
        ["Иван", "8 (916) 123-45-67", "Москва"],
        ["Анна", "8 913 050 00 01", "Новосибирск"],
    ]


def test_the_header_row_can_be_named(tmp_path: Path) -> None:
    path = tmp_path / "named.csv"
    path.write_text("Отчёт\nИмя;Номер клиента\nИван;89161234567\n", encoding="utf-8")
    assert open_table(path).columns == ["Отчёт"]  # no header names a phone column: the first row
    table = open_table(path, header_row=2)
    assert (table.skip, table.columns) == (1, ["Имя", "Номер клиента"])
    with pytest.raises(InvalidInput, match="numbered from 1"):
        open_table(path, header_row=0)
    with pytest.raises(InvalidInput, match="empty at row 9"):
        open_table(path, header_row=9)


def test_title_rows_above_an_xlsx_header_are_skipped(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (
        ["Выгрузка из 1С", None, None],
        [None, None, None],
        ["ФИО", "Телефон", "Город"],
        ["Иван", "8 (916) 123-45-67", "Москва"],
        ["Итого", 1, None],
    ):
        sheet.append(row)
    path = tmp_path / "1c.xlsx"
    book.save(path)
    table = open_table(path)
    assert (table.skip, table.columns) == (2, ["ФИО", "Телефон", "Город"])
    assert read_all(path) == [["Иван", "8 (916) 123-45-67", "Москва"], ["Итого", "1", ""]]
    assert open_table(path, header_row=3).columns == table.columns


@pytest.mark.parametrize(
    ("rows", "line"),
    [
        # The first data row too long: pandas would take its first field as an index and shift the table.
        ("+7 916 123-45-67; Иванов; ООО\n+7 916 123-45-68;Петров\n", 4),
        # A later row too long: pandas's own tokenizer error, said the same way.
        ("+7 916 123-45-68;Петров\n+7 916 123-45-67; Иванов; ООО\n", 5),
    ],
)
def test_an_unquoted_delimiter_in_a_value_is_named_with_its_line(
    tmp_path: Path, rows: str, line: int
) -> None:
    path = tmp_path / "semicolon.csv"
    path.write_text("Выгрузка клиентов\n\nТелефон;Имя\n" + rows, encoding="utf-8")
    expected = f"line {line} has more fields than the header \\(2\\): a value containing ';' must be in"
    with pytest.raises(InvalidInput, match=expected):
        read_all(path)


def test_a_quoted_delimiter_in_a_value_is_one_field(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('Телефон;Имя\n+7 916 123-45-67;"Иванов; ООО"\n', encoding="utf-8")
    assert read_all(path) == [["+7 916 123-45-67", "Иванов; ООО"]]

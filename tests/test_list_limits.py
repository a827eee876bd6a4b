"""Bounded list input: hostile XLSX and CSV files are refused fast, in little memory, with one line."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from dialer.core.errors import InvalidInput
from lists.limits import ReadLimits
from lists.reader import open_table

ROOT = Path(__file__).parent.parent
MEMORY_LIMIT = 1536 * 1024 * 1024  # address space for the whole interpreter, pandas and openpyxl
SECONDS = 30  # far more than any check takes; a bomb that gets through takes minutes

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="leads" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    "</Relationships>"
)


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(path: Path, rows: list[str], dimension: str | None = None) -> Path:
    """A minimal workbook written by hand, so the test controls every byte openpyxl would see."""
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{head}<sheetData>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(sheet.encode())
            for row in rows:
                out.write(row.encode())
            out.write(b"</sheetData></worksheet>")
    return path


def header_row() -> str:
    return f'<row r="1">{cell("A1", "phone")}{cell("B1", "name")}</row>'


def import_in_a_small_box(
    tmp_path: Path, list_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dialer lists import`` in a child with a memory limit; a bomb must fail, not swap or hang."""
    db = tmp_path / "dialer.db"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    base = {**os.environ, "DIALER_DB": str(db), **(env or {})}
    command = [sys.executable, "-c", "from cli import app; app()"]
    if not db.exists():
        create = [*command, "campaign", "create", "spring"]
        created = subprocess.run(create, cwd=ROOT, env=base, capture_output=True)
        assert created.returncode == 0, created.stderr
    return subprocess.run(
        [*command, "lists", "import", str(list_path), "--campaign", "spring"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        preexec_fn=limit_memory,
    )


def assert_refused(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr[-2000:]
    assert fragment in lines[0] and len(lines[0]) < 400, lines[0]


def test_a_small_workbook_imports_inside_the_same_box(tmp_path: Path) -> None:
    rows = [header_row(), f'<row r="2">{cell("A2", "+79161234567")}{cell("B2", "Анна")}</row>']
    result = import_in_a_small_box(tmp_path, write_xlsx(tmp_path / "ok.xlsx", rows, "A1:B2"))
    assert result.returncode == 0, result.stderr
    assert "imported: 1" in result.stdout


def test_one_row_two_hundred_million_lines_down_is_refused(tmp_path: Path) -> None:
    rows = [header_row(), f'<row r="200000000">{cell("A200000000", "+79161234567")}</row>']
    path = write_xlsx(tmp_path / "far.xlsx", rows)
    assert path.stat().st_size < 10_000
    assert_refused(import_in_a_small_box(tmp_path, path), "DIALER_MAX_ROWS")


def test_a_declared_dimension_past_the_limits_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "wide.xlsx", [header_row()], dimension="A1:XFD3")
    assert_refused(import_in_a_small_box(tmp_path, path), "DIALER_MAX_COLUMNS")
    path = write_xlsx(tmp_path / "tall.xlsx", [header_row()], dimension="A1:B200000000")
    assert_refused(import_in_a_small_box(tmp_path, path), "DIALER_MAX_ROWS")


def test_a_megabyte_that_expands_to_a_gigabyte_cell_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            out.write(b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
            block = b"7" * (16 * 1024 * 1024)
            for _ in range(64):  # 1 GiB of one cell
                out.write(block)
            out.write(b"</t></is></c></row></sheetData></worksheet>")
    assert path.stat().st_size < 2 * 1024 * 1024
    assert_refused(import_in_a_small_box(tmp_path, path), "decompression bomb")


def test_a_cell_over_the_limit_is_refused_even_when_it_compresses_like_text(tmp_path: Path) -> None:
    text = "".join(f"{i:07d} " for i in range(200_000))  # 1.6 MB, compresses only about 4:1
    rows = [header_row(), f'<row r="2">{cell("A2", "+79161234567")}{cell("B2", text)}</row>']
    path = write_xlsx(tmp_path / "big-cell.xlsx", rows)
    assert_refused(import_in_a_small_box(tmp_path, path), "DIALER_MAX_CELL_KB")


def test_a_workbook_past_the_expanded_size_limit_is_refused(tmp_path: Path) -> None:
    rows = [header_row()] + [
        f'<row r="{i}">{cell(f"A{i}", f"+7916{i:07d}")}{cell(f"B{i}", "x" * 40)}</row>'
        for i in range(2, 20_000)
    ]
    path = write_xlsx(tmp_path / "many.xlsx", rows)
    result = import_in_a_small_box(tmp_path, path, {"DIALER_MAX_XLSX_MB": "1"})
    assert_refused(result, "DIALER_MAX_XLSX_MB")


def test_a_200_megabyte_csv_line_is_refused_with_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with path.open("wb") as out:
        out.write(b"phone,name\n+79161234567,")
        block = b"a" * (8 * 1024 * 1024)
        for _ in range(25):
            out.write(block)
        out.write(b"\n")
    assert_refused(import_in_a_small_box(tmp_path, path), "DIALER_MAX_CELL_KB")


def test_limits_are_changed_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("phone\n" + "".join(f"+7916{i:07d}\n" for i in range(10)), encoding="utf-8")
    result = import_in_a_small_box(tmp_path, path, {"DIALER_MAX_ROWS": "5"})
    assert_refused(result, "DIALER_MAX_ROWS")
    wide = tmp_path / "wide.csv"
    header = ",".join(["phone", *(f"c{i}" for i in range(120))])
    wide.write_text(header + "\n+79161234567\n", encoding="utf-8")
    assert_refused(import_in_a_small_box(tmp_path, wide), "DIALER_MAX_COLUMNS")
    result = import_in_a_small_box(tmp_path, path, {"DIALER_MAX_ROWS": "many"})
    assert_refused(result, "DIALER_MAX_ROWS")


def test_rows_past_the_limit_fail_the_whole_import(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("phone\n" + "".join(f"+7916{i:07d}\n" for i in range(10)), encoding="utf-8")
    table = open_table(path, limits=ReadLimits(max_rows=5))
    with pytest.raises(InvalidInput, match="more than 5 data rows"):
        list(table.chunks(3))


def test_a_fifo_is_refused_at_once_not_read_or_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "leads.csv"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer() -> None:  # would unblock a reader that opened the pipe; none should
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        opened.set()
        os.close(fd)

    with pytest.raises(InvalidInput, match="not a regular file"):
        open_table(fifo)
    writer()
    assert not opened.is_set()


def test_messages_quote_only_a_little_of_the_input(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    headers = [f"column {i} " + "x" * 5000 for i in range(50)]
    path.write_text(",".join(headers) + "\n" + ",".join("1" for _ in headers) + "\n", encoding="utf-8")
    from lists.dnc import import_file

    with pytest.raises(InvalidInput) as info:
        import_file(None, path)  # type: ignore[arg-type]  # refused before the store is used
    assert "no phone column" in str(info.value) and len(str(info.value)) < 600

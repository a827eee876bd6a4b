"""Exports an analyst opens in Excel, through the CLI on SQLite and PostgreSQL: XLSX read back with
openpyxl and pandas, the Excel-flavoured CSV, formula-carrying leads, local times, durations, cause
names, the lead's columns and the operator's name, and the extension rule."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns.models import CallAttempt
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import session_scope
from campaigns.tables import LEAD_TABLE
from cli import app
from dialer.services.operators import add_operator
from lists.export_columns import ATTEMPTS, LEADS
from lists.importer import ImportRequest, import_leads

pytestmark = pytest.mark.every_store
runner = CliRunner()

HYPERLINK = '=HYPERLINK("http://x","click")'
AT = datetime(2026, 11, 30, 7, 0, 0, 250000, tzinfo=UTC)
MOSCOW, NOVOSIBIRSK = "+79161234567", "+79131234567"
OP = "Local/op104@sim-operators/n"


def dialer(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def seed(store: Engine, tmp_path: Path) -> None:
    """Two leads (Moscow, Novosibirsk) whose names are formulas, and one attempt each."""
    create_campaign(store, CampaignSpec.build("autumn"))
    source = tmp_path / "list.csv"
    source.write_text(
        f"ФИО;Телефон;Комментарий\n{HYPERLINK};8 (916) 123-45-67;-5\n@SUM(1+1);8 913 123 45 67;+tel\n",
        encoding="utf-8",
    )
    import_leads(store, ImportRequest(source, "autumn"))
    add_operator(store, "Анна", OP, ["autumn"])
    with session_scope(store) as session:
        conn = session.connection()
        for phone, zone in ((MOSCOW, "Europe/Moscow"), (NOVOSIBIRSK, "Asia/Novosibirsk,Asia/Omsk")):
            conn.execute(
                update(LEAD_TABLE)
                .where(LEAD_TABLE.c.phone == phone)
                .values(time_zones=zone, next_call_at=AT + timedelta(hours=2))
            )
        ids = dict(
            conn.execute(LEAD_TABLE.select().with_only_columns(LEAD_TABLE.c.phone, LEAD_TABLE.c.id)).all()
        )
        cid = conn.execute(LEAD_TABLE.select().with_only_columns(LEAD_TABLE.c.campaign_id)).scalar()
        session.add(
            CallAttempt(
                id="a1",
                campaign_id=cid,
                lead_id=ids[MOSCOW],
                phone=MOSCOW,
                started_at=AT,
                ringing_at=AT + timedelta(seconds=1),
                answered_at=AT + timedelta(seconds=9),
                connected_at=AT + timedelta(seconds=11),
                ended_at=AT + timedelta(seconds=71),
                disposed_at=AT + timedelta(seconds=86),
                outcome="connected",
                hangup_cause=16,
                operator=OP,
                disposition="sale",
                note="=1+1",
            )
        )
        session.add(
            CallAttempt(
                id="a2",
                campaign_id=cid,
                lead_id=ids[NOVOSIBIRSK],
                phone=NOVOSIBIRSK,
                started_at=AT + timedelta(minutes=5),
                ended_at=AT + timedelta(minutes=5, seconds=3),
                outcome="busy",
                hangup_cause=17,
            )
        )


def _csv(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_attempts_xlsx_reads_back_typed_with_text_phones_and_no_formulas(
    store: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(store, tmp_path)
    path = tmp_path / "attempts.xlsx"
    code, _, err = dialer(
        db_url, "export", "attempts", "--campaign", "autumn", "--lead-columns", "all", "-o", str(path)
    )
    assert code == 0, err
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["attempts"]
    sheet = book["attempts"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert header == [*(c.key for c in ATTEMPTS), "ФИО", "Комментарий"]
    assert all(c.data_type != "f" for row in rows for c in row)
    first = {h: c for h, c in zip(header, rows[1], strict=True)}
    assert first["phone"].value == MOSCOW and first["phone"].data_type == "s"
    assert first["ФИО"].value == HYPERLINK and first["ФИО"].data_type == "s"
    assert first["note"].value == "=1+1" and first["note"].data_type == "s"
    assert first["Комментарий"].value == "-5" and first["Комментарий"].data_type == "s"
    assert first["started_at"].value == datetime(2026, 11, 30, 10, 0, 0)  # Moscow, to the second
    assert first["started_at_utc"].value == datetime(2026, 11, 30, 7, 0, 0)
    assert first["talk_s"].value == 60 and first["talk_s"].data_type == "n"
    assert first["hangup_cause"].value == 16 and first["hangup_cause"].data_type == "n"
    assert (first["operator"].value, first["operator_interface"].value) == ("Анна", OP)
    assert sheet.column_dimensions["A"].width > 8

    frame = pd.read_excel(path, dtype={"phone": str})
    assert list(frame["phone"]) == [MOSCOW, NOVOSIBIRSK]
    assert pd.api.types.is_datetime64_any_dtype(frame["started_at"])
    assert pd.api.types.is_numeric_dtype(frame["ring_s"]) and pd.api.types.is_numeric_dtype(
        frame["hangup_cause"]
    )
    assert list(frame["ФИО"]) == [HYPERLINK, "@SUM(1+1)"]


def test_leads_xlsx_has_local_and_utc_times_and_text_lead_values(
    store: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(store, tmp_path)
    path = tmp_path / "leads.xlsx"
    code, _, err = dialer(db_url, "export", "leads", "--campaign", "autumn", "-o", str(path))
    assert code == 0, err
    sheet = openpyxl.load_workbook(path)["leads"]
    assert sheet.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [*(c.key for c in LEADS), "ФИО", "Комментарий"]
    by_phone = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    moscow, novosibirsk = by_phone[MOSCOW], by_phone[NOVOSIBIRSK]
    assert (moscow["zone"], moscow["next_call_at"]) == ("Europe/Moscow", datetime(2026, 11, 30, 12, 0, 0))
    assert (novosibirsk["zone"], novosibirsk["next_call_at"]) == (
        "Asia/Novosibirsk",
        datetime(2026, 11, 30, 16, 0),
    )
    assert novosibirsk["next_call_at_utc"] == datetime(2026, 11, 30, 9, 0, 0)
    assert novosibirsk["ФИО"] == "@SUM(1+1)" and moscow["Комментарий"] == "-5"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_excel_csv_has_a_bom_semicolons_and_neutralised_text(
    store: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(store, tmp_path)
    path = tmp_path / "attempts.csv"
    args = ("export", "attempts", "--campaign", "autumn", "--lead-columns", "ФИО", "--excel", "-o", str(path))
    assert dialer(db_url, *args)[0] == 0
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = _csv(raw.decode("utf-8-sig"), ";")
    first, second = rows
    assert first["ФИО"] == "'" + HYPERLINK and second["ФИО"] == "'@SUM(1+1)"
    assert first["phone"] == "'" + MOSCOW and first["note"] == "'=1+1"
    assert first["started_at"] == "2026-11-30 10:00:00" and first["started_at_utc"] == "2026-11-30 07:00:00"
    assert second["started_at"] == "2026-11-30 14:05:00"  # Novosibirsk, UTC+7
    assert (first["ring_s"], first["wait_s"], first["talk_s"], first["wrapup_s"]) == ("8", "2", "60", "15")


def test_plain_csv_is_byte_faithful(store: Engine, db_url: str, tmp_path: Path) -> None:
    seed(store, tmp_path)
    code, out, _ = dialer(db_url, "export", "leads", "--campaign", "autumn", "-o", "-")
    assert code == 0 and not out.startswith("\ufeff")
    rows = _csv(out)
    assert [r["ФИО"] for r in rows] == [HYPERLINK, "@SUM(1+1)"]
    assert [r["Комментарий"] for r in rows] == ["-5", "+tel"]
    assert rows[0]["next_call_at"] == "2026-11-30T12:00:00.250000+03:00"
    assert pd.read_csv(io.StringIO(out), dtype={"phone": str})["phone"].tolist() == [MOSCOW, NOVOSIBIRSK]


def test_durations_cause_names_and_the_chosen_zone(store: Engine, db_url: str, tmp_path: Path) -> None:
    seed(store, tmp_path)
    code, out, _ = dialer(db_url, "export", "attempts", "--campaign", "autumn", "--tz", "UTC", "-o", "-")
    assert code == 0
    connected, busy = _csv(out)
    assert (connected["ring_s"], connected["wait_s"], connected["talk_s"], connected["wrapup_s"]) == (
        "8.0",
        "2.0",
        "60.0",
        "15.0",
    )
    assert (connected["hangup_cause"], connected["hangup_cause_name"]) == ("16", "Normal clearing")
    assert (busy["hangup_cause"], busy["hangup_cause_name"]) == ("17", "User busy")
    assert (busy["ring_s"], busy["wait_s"], busy["talk_s"], busy["wrapup_s"]) == ("3.0", "", "", "")
    assert busy["zone"] == "UTC" and busy["started_at"] == "2026-11-30T07:05:00.250000+00:00"
    assert (busy["operator"], busy["note"]) == ("", "")
    code, out, _ = dialer(
        db_url, "export", "attempts", "--campaign", "autumn", "--tz", "Asia/Novosibirsk", "-o", "-"
    )
    assert _csv(out)[0]["started_at"].startswith("2026-11-30T14:00:00")


def test_russian_headers_for_excel_only(store: Engine, db_url: str, tmp_path: Path) -> None:
    seed(store, tmp_path)
    path = tmp_path / "a.xlsx"
    assert (
        dialer(db_url, "export", "attempts", "--campaign", "autumn", "--lang", "ru", "-o", str(path))[0] == 0
    )
    header = [c.value for c in next(openpyxl.load_workbook(path)["attempts"].iter_rows())]
    assert header[:3] == ["ID попытки", "ID контакта", "Телефон"]
    code, _, err = dialer(db_url, "export", "leads", "--campaign", "autumn", "--lang", "ru", "-o", "-")
    assert code == 2 and "--lang" in err


@pytest.mark.parametrize(
    ("name", "options", "fragment"),
    [
        ("out.xls", (), "only .xlsx"),
        ("out.ods", ("--format", "xlsx"), "only .xlsx"),
        ("out.json", (), "--format"),
        ("out.csv", ("--format", "xlsx"), "the name says csv"),
        ("out.xlsx", ("--format", "csv"), "the name says xlsx"),
        ("out.xlsx", ("--excel",), "--excel"),
        ("out.csv", ("--tz", "Mars/Base"), "--tz"),
        ("out.csv", ("--format", "pdf"), "--format"),
        ("out.csv", ("--lead-columns", "Возраст"), "Возраст"),
    ],
)
def test_a_mismatch_is_one_line_and_leaves_the_file_alone(
    store: Engine, db_url: str, tmp_path: Path, name: str, options: tuple[str, ...], fragment: str
) -> None:
    seed(store, tmp_path)
    path = tmp_path / name
    path.write_text("old", encoding="utf-8")
    command = "attempts" if "--lead-columns" in options else "leads"
    code, _, err = dialer(db_url, "export", command, "--campaign", "autumn", *options, "-o", str(path))
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], err
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_another_extension_with_format_is_written(store: Engine, db_url: str, tmp_path: Path) -> None:
    seed(store, tmp_path)
    path = tmp_path / "answers.data"
    assert (
        dialer(db_url, "export", "leads", "--campaign", "autumn", "--format", "xlsx", "-o", str(path))[0] == 0
    )
    with path.open("rb") as handle:
        assert openpyxl.load_workbook(handle).sheetnames == ["leads"]

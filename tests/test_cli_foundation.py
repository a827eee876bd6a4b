"""The ``dialer`` command: campaign, lists, dnc, export; every bad input is one line and exit code 2."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

pytestmark = pytest.mark.every_store

runner = CliRunner()


def dialer(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, out: str, err: str, fragment: str) -> None:
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert fragment in lines[0]


@pytest.fixture
def leads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text(
        "Имя;Телефон;Город\nИван;8 (916) 123-45-67;Москва\nПётр;+7 916 123 45 67;Тверь\n"
        "Анна;(495) 123-45-67;Москва\nОлег;12;Казань\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def campaign(db_url: str) -> str:
    code, _, err = dialer(db_url, "campaign", "create", "spring", "--dial-template", "PJSIP/{number}@trunk")
    assert code == 0, err
    return "spring"


def test_create_list_and_show_a_campaign(db_url: str) -> None:
    code, out, _ = dialer(
        db_url, "campaign", "create", "spring", "--mode", "ratio", "--ratio", "1.5",
        "--window", "10:00-19:00", "--retry", "busy=10m", "--retry", "no_answer=1h",
        "--ring-timeout", "30", "--amd", "--abandon-window", "24h",
    )  # fmt: skip
    assert code == 0 and "created campaign spring" in out
    code, out, _ = dialer(db_url, "campaign", "list")
    assert code == 0 and "spring" in out and "10:00-19:00" in out
    code, out, _ = dialer(db_url, "campaign", "show", "spring")
    assert code == 0
    assert "mode: ratio (ratio 1.5)" in out
    assert "retry: busy=10m, no_answer=1h" in out
    assert "ring timeout: 30 s" in out
    assert "abandon cap: 3.0% per 24h" in out
    assert "amd: on" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--mode", "turbo"], "--mode"),
        (["--ratio", "2"], "--ratio applies only"),
        (["--ring-timeout", "10"], "legal minimum"),
        (["--window", "21:00-09:00"], "--window"),
        (["--window", "nine to five"], "--window"),
        (["--retry", "busy=soon"], "--retry"),
        (["--retry", "connected=1h"], "final"),
        (["--dial-template", "PJSIP/trunk"], "{number} or {e164}"),
        (["--dial-template", "PJSIP/{number}@{host}"], "unknown placeholder {host}"),
        (["--dial-template", "PJSIP/{number}\r\nAction: Command"], "CR, LF or NUL"),
        (["--caller-id", "x\ny"], "CR, LF or NUL"),
        (["--connect-limit", "5"], "--connect-limit"),
        (["--abandon-window", "7d"], "--abandon-window"),
        (["--region", "XX"], "--region"),
        (["--max-attempts", "0"], "--max-attempts"),
    ],
)
def test_bad_campaign_settings_are_one_line_errors(db_url: str, args: list[str], fragment: str) -> None:
    assert_one_line_error(*dialer(db_url, "campaign", "create", "c1", *args), fragment)


def test_duplicate_and_unknown_campaigns_are_one_line_errors(db_url: str, campaign: str) -> None:
    assert_one_line_error(*dialer(db_url, "campaign", "create", campaign), "already exists")
    assert_one_line_error(*dialer(db_url, "campaign", "show", "nope"), "unknown campaign 'nope'")


def test_import_prints_the_summary(db_url: str, campaign: str, leads_csv: Path) -> None:
    code, out, _ = dialer(db_url, "lists", "import", str(leads_csv), "--campaign", campaign)
    assert code == 0
    for line in ["read: 4", "imported: 2", "duplicates: 1", "do-not-call: 0", "invalid: 1"]:
        assert line in out
    assert f"rejected rows: {leads_csv}.rejected.csv" in out.replace("\n", "")


def test_import_with_map_rejects_path_and_overrides(db_url: str, campaign: str, tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes("кто|контакт\nИван|89161234567\nx|1\n".encode("cp1251"))
    rejects = tmp_path / "bad.csv"
    code, out, err = dialer(
        db_url, "lists", "import", str(path), "--campaign", campaign, "--map", "phone=контакт",
        "--encoding", "cp1251", "--delimiter", "|", "--rejects", str(rejects), "--region", "RU",
    )  # fmt: skip
    assert code == 0, err
    assert "imported: 1" in out
    assert rejects.read_text(encoding="utf-8").splitlines()[0] == "row,reason,кто,контакт"


def test_import_reports_leads_without_common_calling_time(db_url: str, tmp_path: Path) -> None:
    assert dialer(db_url, "campaign", "create", "narrow", "--window", "09:00-10:00")[0] == 0
    path = tmp_path / "l.csv"
    path.write_text("phone\n89161234567\n")
    code, out, err = dialer(db_url, "lists", "import", str(path), "--campaign", "narrow")
    assert code == 0 and "imported: 1" in out
    assert "1 leads have no common calling time across their candidate zones" in err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"name;city\nA;B\n", "no phone column"),
        (b"phone\nabc\n12\n", "none of the 2 rows"),
        (b"phone;name\n", "no data rows"),
        (b"PK\x03\x04not really a workbook", "XLSX"),
    ],
)
def test_bad_import_files_are_one_line_errors(
    db_url: str, campaign: str, tmp_path: Path, content: bytes | None, fragment: str
) -> None:
    path = tmp_path / "leads.csv"
    if content is not None:
        path.write_bytes(content)
    assert_one_line_error(*dialer(db_url, "lists", "import", str(path), "--campaign", campaign), fragment)
    code, out, _ = dialer(db_url, "export", "leads", "--campaign", campaign, "-o", "-")
    assert code == 0 and len(out.strip().splitlines()) == 1  # nothing half-written


def test_import_into_unknown_campaign_is_a_one_line_error(db_url: str, leads_csv: Path) -> None:
    assert_one_line_error(
        *dialer(db_url, "lists", "import", str(leads_csv), "--campaign", "nope"), "unknown campaign"
    )


def test_bad_map_is_a_one_line_error(db_url: str, campaign: str, leads_csv: Path) -> None:
    args = ["lists", "import", str(leads_csv), "--campaign", campaign, "--map", "colour=Город"]
    assert_one_line_error(*dialer(db_url, *args), "unknown field")


def test_dnc_add_check_remove(db_url: str, campaign: str) -> None:
    code, out, _ = dialer(db_url, "dnc", "add", "8 916 123-45-67", "+79161234568")
    assert code == 0 and "added: 2" in out
    code, out, _ = dialer(db_url, "dnc", "check", "89161234567")
    assert code == 0 and "+79161234567: on the global list" in out
    code, out, _ = dialer(db_url, "dnc", "add", "89161234569", "--campaign", campaign)
    assert code == 0 and "added: 1" in out
    code, out, _ = dialer(db_url, "dnc", "check", "89161234569", "--campaign", campaign)
    assert "on campaign spring's list" in out
    code, out, _ = dialer(db_url, "dnc", "remove", "+7 916 123 45 67")
    assert code == 0 and "removed +79161234567" in out
    code, out, _ = dialer(db_url, "dnc", "check", "89161234567")
    assert "not on any do-not-call list" in out
    assert_one_line_error(*dialer(db_url, "dnc", "remove", "89161234567"), "not on the global list")
    assert_one_line_error(*dialer(db_url, "dnc", "check", "12"), "not a")
    assert_one_line_error(*dialer(db_url, "dnc", "add", "1", "--campaign", "nope"), "unknown campaign")


def test_dnc_add_of_a_number_it_cannot_read_fails_and_names_it(db_url: str) -> None:
    code, _, err = dialer(db_url, "dnc", "add", "not-a-number")
    assert code == 2 and "1 of 1 numbers not added: 'not-a-number'" in err
    code, out, err = dialer(db_url, "dnc", "add", "89161234567", "12", "garbage")
    assert code == 2 and "added: 1" in out
    assert "2 of 3 numbers not added: '12', 'garbage'" in err
    code, out, _ = dialer(db_url, "dnc", "check", "89161234567")
    assert code == 0 and "on the global list" in out  # the valid number was still recorded


def test_dnc_import_then_lead_import_skips_those_numbers(
    db_url: str, campaign: str, leads_csv: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "dnc.csv"
    blocked.write_text("89161234567\n")
    code, out, _ = dialer(db_url, "dnc", "import", str(blocked))
    assert code == 0 and "added: 1" in out
    code, out, _ = dialer(db_url, "lists", "import", str(leads_csv), "--campaign", campaign)
    assert "do-not-call: 2" in out and "imported: 1" in out
    assert_one_line_error(*dialer(db_url, "dnc", "import", str(tmp_path / "none.csv")), "no such file")


def test_export_leads_to_file_and_stdout(db_url: str, campaign: str, leads_csv: Path, tmp_path: Path) -> None:
    dialer(db_url, "lists", "import", str(leads_csv), "--campaign", campaign)
    target = tmp_path / "out.csv"
    code, _, _ = dialer(db_url, "export", "leads", "--campaign", campaign, "-o", str(target))
    assert code == 0
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["phone"] for r in rows] == ["+79161234567", "+74951234567"]
    assert list(rows[0]) == [
        "lead_id",
        "phone",
        "status",
        "attempts",
        "last_outcome",
        "zone",
        "next_call_at",
        "next_call_at_utc",
        "time_zones",
        "Имя",
        "Город",
    ]
    code, out, _ = dialer(db_url, "export", "leads", "--campaign", campaign, "-o", "-")
    assert list(csv.DictReader(io.StringIO(out))) == rows


def test_export_of_unknown_campaign_leaves_no_file(db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert_one_line_error(*dialer(db_url, "export", "leads", "--campaign", "x", "-o", str(target)), "unknown")
    assert not target.exists()


def test_db_option_works_after_the_command_and_from_the_environment(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    assert runner.invoke(app, ["campaign", "create", "one", "--db", str(first)]).exit_code == 0
    result = runner.invoke(app, ["campaign", "list"], env={"DIALER_DB": f"sqlite:///{first}"})
    assert "one" in result.stdout
    result = runner.invoke(app, ["campaign", "list", "--db", str(second)])
    assert "no campaigns yet" in result.stdout


def test_unusable_store_url_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", "nosuchdialect://x", "campaign", "list"])
    assert_one_line_error(result.exit_code, result.stdout, result.stderr, "store URL")


def test_version(db_url: str) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("dialer ")


def test_contact_limits_are_set_by_profile_and_shown(db_url: str) -> None:
    code, out, err = dialer(
        db_url, "campaign", "create", "collect", "--window", "ru-230fz", "--contact-limits", "ru-230fz"
    )
    assert code == 0, err
    code, out, _ = dialer(db_url, "campaign", "show", "collect")
    assert code == 0 and "contact limits: 1/1d,2/7d,8/31d" in out
    code, out, _ = dialer(db_url, "campaign", "create", "hours", "--contact-limits", "3/12h, 1/24h")
    assert code == 0
    assert "contact limits: 3/12h,1/1d" in dialer(db_url, "campaign", "show", "hours")[1]
    assert dialer(db_url, "campaign", "create", "plain")[0] == 0
    assert "contact limits: (none)" in dialer(db_url, "campaign", "show", "plain")[1]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("twice a day", "not N/PERIOD"), ("0/1d", "expected 1 to"), ("1/0h", "more than 0"), ("1/1w", "1w")],
)
def test_bad_contact_limits_are_one_line_errors(db_url: str, value: str, fragment: str) -> None:
    code, out, err = dialer(db_url, "campaign", "create", "c1", "--contact-limits", value)
    assert_one_line_error(code, out, err, "--contact-limits")
    assert fragment in err
    assert "unknown campaign" in dialer(db_url, "campaign", "show", "c1")[2]  # nothing was stored

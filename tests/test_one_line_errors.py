"""Every mistake and every unusable store ends in one red line and exit code 2, never a traceback."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import campaigns.store
from cli import app

runner = CliRunner()


def dialer(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIALER_DB", raising=False)
    return tmp_path


# --- the store ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"garbage, not a database\n" * 10, "not a usable SQLite database"),
        (bytes(range(256)) * 32, "not a usable SQLite database"),
    ],
)
def test_a_corrupt_store_is_one_line(here: Path, content: bytes, fragment: str) -> None:
    (here / "bad.db").write_bytes(content)
    code, _, err = dialer("--db", "bad.db", "campaign", "list")
    assert_one_line_error(code, err, fragment)
    assert (here / "bad.db").read_bytes() == content


def test_a_foreign_sqlite_file_is_refused_and_left_alone(here: Path) -> None:
    with sqlite3.connect(here / "crm.db") as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    code, _, err = dialer("--db", "crm.db", "campaign", "create", "spring")
    assert_one_line_error(code, err, "something else", "customers")
    with sqlite3.connect(here / "crm.db") as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert tables == ["customers"]


def test_a_read_only_store_is_one_line(here: Path) -> None:
    code, _, err = dialer("campaign", "create", "spring")
    assert code == 0, err
    readonly = f"sqlite:///file:{here / 'dialer.db'}?mode=ro&uri=true"
    code, out, err = dialer("--db", readonly, "campaign", "list")
    assert code == 0 and "spring" in out, err
    code, _, err = dialer("--db", readonly, "campaign", "create", "autumn")
    assert_one_line_error(code, err, "read-only")


def test_a_store_locked_by_another_process_names_the_busy_timeout(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = dialer("campaign", "create", "spring")
    assert code == 0, err
    holder = (
        "import sqlite3, sys, time\n"
        "conn = sqlite3.connect('dialer.db', isolation_level=None)\n"
        "conn.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    monkeypatch.setattr(campaigns.store, "BUSY_TIMEOUT_S", 0.5)
    with subprocess.Popen(
        [sys.executable, "-c", holder], cwd=here, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "locked"
        code, _, err = dialer("campaign", "create", "autumn")
        child.stdin.write("\n")
        child.stdin.flush()
    assert_one_line_error(code, err, "locked by another process", "0.5 s busy timeout")


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://dialer:Tr0ub4dor@h:abc/db", "postgresql+psycopg://dialer:Tr0ub4dor@h:9999999/db"],
)
def test_a_bad_store_url_is_one_line_without_its_password(here: Path, url: str) -> None:
    code, _, err = dialer("--db", url, "campaign", "list")
    line = assert_one_line_error(code, err, "store")
    assert "Tr0ub4dor" not in line


@pytest.mark.parametrize("db", [":memory:", "sqlite://", "sqlite:///:memory:"])
def test_a_store_in_memory_is_refused(here: Path, db: str) -> None:
    code, _, err = dialer("--db", db, "campaign", "create", "spring")
    assert_one_line_error(code, err, "memory")


# --- settings and files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["campaign", "create", "b", "--retry", "busy=99999999999d"], "--retry"),
        (["campaign", "create", "b", "--retry", "busy=" + "9" * 40 + "d"], "--retry"),
        (["campaign", "create", "b", "--contact-limits", "1/99999999999999d"], "--contact-limits"),
        (["campaign", "create", "b", "--dial-template", "PJSIP/{number}@" + "x" * 250], "at most 200"),
        (["campaign", "create", "b", "--ratio", "nan", "--mode", "ratio"], "--ratio"),
        (["run", "--node", "n" * 65], "--node"),
        (["run", "--node", "node\n1"], "--node"),
        (["run", "--shutdown-deadline", "nan"], "--shutdown-deadline"),
        (["simulate", "--hours", "nan"], "--hours"),
        (["simulate", "--hours", "inf"], "--hours"),
        (["simulate", "--hours", "1e9"], "--hours"),
        (["simulate", "--answer-rate", "2"], "--answer-rate"),
        (["simulate", "--ring-mean", "0"], "--ring-mean"),
        (["simulate", "--talk-mean", "inf"], "--talk-mean"),
        (["simulate", "--busy-share", "0.6", "--no-answer-share", "0.6"], "add up to more than 1"),
        (["simulate", "--mode", "ratio:1e308"], "ratio"),
        (["simulate", "--mode", "ratio:nan"], "ratio"),
        (["simulate", "--operators", "100000000"], "--operators"),
        (["simulate", "--operators", "1e8"], "--operators"),
        (["simulate", "--plot", "x.txt"], "--plot"),
        (["simulate", "--answer-profile", "1,x"], "--answer-profile"),
        (["simulate", "--answer-profile", "1,nan"], "--answer-profile"),
        (["simulate", "--answer-profile", "-1"], "--answer-profile"),
        (["simulate", "--schedule", "nights"], "--schedule"),
        (["simulate", "--quality-step", "4"], "--quality-step"),
        (["simulate", "--quality-step", "inf:0.5"], "--quality-step"),
        (["simulate", "--quality-step", "4:99"], "--quality-step"),
        (["simulate", "--start", "hot"], "--start"),
        (["campaign", "create"], "Missing argument"),
        (["export", "leads", "--nosuch"], "No such option"),
    ],
)
def test_bad_settings_are_one_line(
    here: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragment: str
) -> None:
    monkeypatch.setenv("DIALER_AMI_URL", "ami://dialer@127.0.0.1:1")
    monkeypatch.setenv("DIALER_AMI_SECRET", "s3cret")
    code, _, err = dialer(*args)
    line = assert_one_line_error(code, err, fragment)
    assert len(line) < 400


def test_run_against_an_unreachable_ami_is_one_line(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DIALER_AMI_URL", f"ami://dialer@127.0.0.1:{port}")
    monkeypatch.setenv("DIALER_AMI_SECRET", "s3cret")
    code, _, err = dialer("campaign", "create", "spring")
    assert code == 0, err
    code, _, err = dialer("run", "--until-done")
    line = assert_one_line_error(code, err, "cannot reach AMI")
    assert "s3cret" not in line


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "rot13", "base64", "hex", "cp037", "nosuch"])
def test_an_encoding_that_cannot_read_a_list_is_one_line(here: Path, encoding: str) -> None:
    (here / "leads.csv").write_text("phone\n+79161234567\n", encoding="utf-8")
    code, _, err = dialer("campaign", "create", "spring")
    assert code == 0, err
    code, _, err = dialer("lists", "import", "leads.csv", "--campaign", "spring", "--encoding", encoding)
    assert_one_line_error(code, err, "encoding")


def test_time_zones_that_are_folders_or_too_long_reject_their_rows_only(here: Path) -> None:
    long_zone = "Europe/" + "x" * 300
    (here / "leads.csv").write_text(
        "phone,timezone\n+79161234567,Europe\n+79161234568," + long_zone + "\n+79161234569,Europe/Moscow\n",
        encoding="utf-8",
    )
    code, _, err = dialer("campaign", "create", "spring")
    assert code == 0, err
    code, out, err = dialer("lists", "import", "leads.csv", "--campaign", "spring")
    assert code == 0, err
    assert "imported: 1" in out and "invalid: 2" in out
    rejects = (here / "leads.csv.rejected.csv").read_text(encoding="utf-8")
    assert "unknown time zone 'Europe'" in rejects
    assert max(len(line) for line in rejects.splitlines()) < 400 + len(long_zone)


@pytest.mark.every_store
def test_a_value_over_its_column_is_refused_the_same_on_every_store(db_url: str) -> None:
    template = "PJSIP/{number}@" + "x" * 250
    code, _, err = dialer("--db", db_url, "campaign", "create", "spring", "--dial-template", template)
    assert_one_line_error(code, err, "--dial-template: at most 200 characters")
    code, out, _ = dialer("--db", db_url, "campaign", "list")
    assert code == 0 and "spring" not in out

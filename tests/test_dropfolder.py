"""Drop folders on SQLite and PostgreSQL: good files imported and moved to done/, bad ones to
failed/ with a reason, growing ones left alone, the same file twice adds nothing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from campaigns.models import Campaign, Lead, LeadList
from campaigns.store import session_scope
from cli import app
from dialer.core.errors import InvalidInput
from lists.dropfolder import poll
from lists.sources import SourceView, add_source, list_sources

pytestmark = pytest.mark.every_store

GOOD = "Имя;Телефон\nИван;8 (916) 123-45-67\nПётр;+7 916 123 45 67\nАнна;(495) 123-45-67\nОлег;12\n"


@pytest.fixture
def source(store: Engine, tmp_path: Path) -> SourceView:
    with session_scope(store) as session:
        session.add(Campaign(name="spring"))
    folder = tmp_path / "drop"
    folder.mkdir()
    return add_source(store, "spring", folder, "*.csv", "5m")


def count(store: Engine, model: type[Lead] | type[LeadList]) -> int:
    with Session(store) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_good_file_is_imported_and_moved_to_done_with_its_rejects(
    store: Engine, source: SourceView
) -> None:
    (source.folder / "crm.csv").write_text(GOOD, encoding="utf-8")
    report = poll(store, source, settle_s=0.1)
    assert report.imported == {"crm.csv": 2}
    assert not (source.folder / "crm.csv").exists()
    assert (source.folder / "done" / "crm.csv").read_text(encoding="utf-8") == GOOD
    rejects = (source.folder / "done" / "crm.csv.rejected.csv").read_text(encoding="utf-8")
    assert "duplicate" in rejects and "Олег" in rejects
    assert count(store, Lead) == 2


def test_a_bad_file_goes_to_failed_with_its_reason_and_nothing_is_imported(
    store: Engine, source: SourceView
) -> None:
    (source.folder / "broken.csv").write_text("name;city\nИван;Москва\n", encoding="utf-8")
    report = poll(store, source, settle_s=0.1)
    assert list(report.failed) == ["broken.csv"]
    assert (source.folder / "failed" / "broken.csv").exists()
    reason = (source.folder / "failed" / "broken.csv.reason.txt").read_text(encoding="utf-8")
    assert "phone" in reason.lower()
    assert count(store, Lead) == 0 and count(store, LeadList) == 0


def test_a_file_still_being_written_waits_until_it_is_complete(store: Engine, source: SourceView) -> None:
    path = source.folder / "growing.csv"
    path.write_text("phone\n", encoding="utf-8")
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            with path.open("a", encoding="utf-8") as handle:
                handle.write(f"+7916{1000000 + n}\n")
            n += 1
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = poll(store, source, settle_s=0.5)
    finally:
        stop.set()
        thread.join()
    assert report.waiting == ["growing.csv"] and report.imported == {}
    assert path.exists() and count(store, Lead) == 0
    lines = len(path.read_text(encoding="utf-8").splitlines()) - 1
    report = poll(store, source, settle_s=0.2)
    assert report.imported == {"growing.csv": lines}


def test_the_same_file_dropped_twice_adds_nothing(store: Engine, source: SourceView) -> None:
    (source.folder / "crm.csv").write_text(GOOD, encoding="utf-8")
    poll(store, source, settle_s=0.1)
    lists = count(store, LeadList)
    (source.folder / "crm.csv").write_text(GOOD, encoding="utf-8")
    report = poll(store, source, settle_s=0.1)
    assert report.repeated == ["crm.csv"] and report.imported == {}
    assert count(store, Lead) == 2 and count(store, LeadList) == lists
    assert len(list((source.folder / "done").glob("*crm.csv"))) == 2


def test_files_not_matching_or_of_our_own_are_left_alone(store: Engine, source: SourceView) -> None:
    (source.folder / "notes.txt").write_text("phone\n+79161234567\n", encoding="utf-8")
    (source.folder / ".hidden.csv").write_text("phone\n+79161234567\n", encoding="utf-8")
    report = poll(store, source, settle_s=0.1)
    assert report.summary().startswith("imported 0 files")
    assert (source.folder / "notes.txt").exists() and (source.folder / ".hidden.csv").exists()


def test_bad_source_settings_are_one_line_errors(
    store: Engine, source: SourceView, db_url: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        add_source(store, "spring", tmp_path / "missing", "*.csv", "5m")
    with pytest.raises(InvalidInput, match="--every"):
        add_source(store, "spring", source.folder, "*.csv", "often")
    with pytest.raises(InvalidInput, match="pattern"):
        add_source(store, "spring", source.folder, "../*.csv", "5m")
    result = CliRunner().invoke(
        app,
        [
            "--db",
            db_url,
            "lists",
            "source",
            "add",
            "--campaign",
            "spring",
            "--folder",
            str(tmp_path / "nope"),
        ],
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "does not exist" in result.stderr
    assert len(list_sources(store)) == 1


def test_sources_are_listed_and_removed_from_the_command_line(db_url: str, source: SourceView) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["--db", db_url, "lists", "source", "list"])
    assert listed.exit_code == 0 and "spring" in listed.stdout and "*.csv" in listed.stdout
    removed = runner.invoke(app, ["--db", db_url, "lists", "source", "remove", str(source.id)])
    assert removed.exit_code == 0
    again = runner.invoke(app, ["--db", db_url, "lists", "source", "remove", str(source.id)])
    assert again.exit_code == 2 and "no list source" in again.stderr

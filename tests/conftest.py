"""Shared fixtures: a fresh store per test, and the sandbox Asterisk (tests.asterisk_fixtures).

The store is SQLite; in a module marked ``every_store`` each test runs on SQLite and again on a
throwaway PostgreSQL (tests.postgres_fixtures).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from campaigns.store import open_store
from tests.store_closing import close_store

pytest_plugins = ["tests.asterisk_fixtures", "tests.postgres_fixtures", "tests.browser_fixtures"]


@pytest.fixture(autouse=True)
def english_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read English messages, whatever the machine's locale, unless one sets its own."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(autouse=True)
def collect_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test on PostgreSQL, collect garbage: a connection it left open warns in its own
    teardown, not at a random later test."""
    yield
    if "postgres_cluster" in request.fixturenames:
        gc.collect()


@pytest.fixture
def db_url(tmp_path: Path, store_backend: str, request: pytest.FixtureRequest) -> str:
    if store_backend == "postgresql":
        return str(request.getfixturevalue("postgres_db_url"))
    return f"sqlite:///{tmp_path / 'dialer.db'}"


@pytest.fixture
def statements(store: Engine) -> Iterator[list[str]]:
    """Every SQL statement the store runs during the test, in order."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        seen.append(sql)

    event.listen(store, "before_cursor_execute", note)
    yield seen
    event.remove(store, "before_cursor_execute", note)


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    engine = open_store(db_url)
    yield engine
    close_store(engine)

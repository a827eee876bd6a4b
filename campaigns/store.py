"""Opening the store: one SQLAlchemy URL, migrated to the newest schema on open.

SQLite (``./dialer.db``) by default, any SQLAlchemy URL through ``--db`` or
``DIALER_DB`` (PostgreSQL: ``postgresql+psycopg://user@host/db``). The only
dialect-specific code here sets up each new connection: SQLite's WAL, busy
timeout and foreign keys, so that the CLI and a running engine can share one
file; PostgreSQL's session time zone, pinned to UTC. The schema itself stays portable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from dialer.core.errors import InvalidInput

DEFAULT_URL = "sqlite:///dialer.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(db: str | None) -> str:
    """The store URL: the ``--db`` value, else ``DIALER_DB``, else ``./dialer.db``.

    A bare file path is taken as a SQLite file.
    """
    url = db or os.environ.get("DIALER_DB") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    # PostgreSQL hands timestamptz values back in the session's zone and reads naive ones in it,
    # and that zone is the server's default. Pinned to UTC, every node reads and writes the same
    # clock as SQLite does, whatever the server was set up with.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction that is later rolled back would not stick


def make_store(url: str) -> Engine:
    try:
        store = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise InvalidInput(f"cannot use store URL {_mask(url)}: {exc}") from None
    if store.dialect.name == "sqlite":
        event.listen(store, "connect", _tune_sqlite)
    elif store.dialect.name == "postgresql":
        event.listen(store, "connect", _utc_session)
    return store


def migrate(store: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_store(db: str | None = None) -> Engine:
    """Resolve, connect and migrate; raise ``InvalidInput`` with one clear line on failure."""
    url = resolve_url(db)
    store = make_store(url)
    try:
        migrate(store)
    except OperationalError as exc:
        raise InvalidInput(f"cannot open store {_mask(url)}: {exc.orig}") from None
    return store


@contextmanager
def session_scope(store: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: nothing half-written."""
    with Session(store, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _mask(url: str) -> str:
    """The URL with any password replaced, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"

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
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session, create_engine

from dialer.core.errors import InvalidInput

DEFAULT_URL = "sqlite:///dialer.db"
MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30  # how long SQLite waits for another process's write lock before giving up


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
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    # PostgreSQL hands timestamptz values back in the session's zone and reads naive ones in it,
    # and that zone is the server's default. Pinned to UTC, every node reads and writes the same
    # clock as SQLite does, whatever the server was set up with.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    # The server's side of the keepalives (``KEEPALIVES``): a vanished node's session ends in seconds.
    for setting, value in (("idle", 5), ("interval", 2), ("count", 3)):
        cursor.execute(f"SET tcp_keepalives_{setting} = {value}")
    cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction that is later rolled back would not stick


# A server that vanished (host down, cable cut) is noticed in seconds, not after the system's
# default two hours; the server side ends a vanished node's session the same way
# (``dialer.store.locks``: the node's advisory locks go with it).
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 15000,
}


def make_store(url: str) -> Engine:
    try:
        postgres = url.startswith(("postgresql", "postgres"))
        store = create_engine(url, pool_pre_ping=True, connect_args=KEEPALIVES if postgres else {})
    except (ArgumentError, ImportError, ValueError) as exc:
        # The parser's message may quote the password; name only what is wrong.
        why = (
            "not a valid URL (is the port a number? %-escape '@', ':' and '/' in the password)"
            if isinstance(exc, ValueError)
            else str(exc)[:80]
        )
        raise InvalidInput(f"cannot use store URL {_mask(url)}: {why}") from None
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
        _refuse_foreign(store, url)
        migrate(store)
    except DBAPIError as exc:
        store.dispose()
        raise InvalidInput(store_problem(exc, url)) from None
    return store


def _refuse_foreign(store: Engine, url: str) -> None:
    """A SQLite file that holds another application's tables is not ours to add tables to."""
    if store.dialect.name != "sqlite":
        return
    tables = set(inspect(store).get_table_names())
    if tables and "alembic_version" not in tables:
        names = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
        raise InvalidInput(
            f"store {_mask(url)} is a SQLite database of something else (tables {names[:80]}): "
            "give the dialer a file of its own"
        )


def store_problem(exc: DBAPIError, url: str | None = None) -> str:
    """One line for a store that cannot be used: damaged, locked, read-only or unreachable."""
    where = f"store {_mask(url)}" if url else "the store"
    text = " ".join(str(exc.orig).split())[:120]
    lowered = text.lower()
    if "file is not a database" in lowered or "malformed" in lowered:
        return f"{where} is not a usable SQLite database ({text}): damaged, or another kind of file"
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{where} is locked by another process: gave up after the {BUSY_TIMEOUT_S:g} s busy timeout; "
            "try again when the other command has finished"
        )
    if "readonly" in lowered or "read-only" in lowered:
        return f"{where} is read-only ({text}): the dialer must be able to write its store and its folder"
    return f"cannot use {where}: {text}"


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
        return make_url(url).render_as_string(hide_password=True)[:80]
    except (ArgumentError, ValueError):
        scheme, sep, rest = url.partition("://")
        if not sep:
            return "<invalid URL>"
        userinfo, at, host = rest.rpartition("@")
        user = userinfo.split(":", 1)[0] + ":***@" if at else ""
        return f"{scheme[:30]}://{user}{host}"[:80]

"""Putting many leads into the store fast: one compiled ``insert()`` through the driver's executemany.

On SQLite and PostgreSQL the insert skips a number the campaign already has (ON CONFLICT DO
NOTHING on the (campaign, phone) unique constraint): two imports racing for one number never fail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

from campaigns.models import utcnow
from campaigns.retry import LeadStatus
from campaigns.tables import LEAD_TABLE

_INSERT_BATCH = 10_000
_SQLITE_CACHE_KIB = 32 * 1024


def widen_sqlite_cache(conn: Connection) -> None:
    """Give SQLite a page cache larger than its 2 MB default, but bounded.

    A cache sized to hold the lead indexes (256 MB was tried) keeps every page an import
    touches in the process: peak memory then grows with the list until the cache is full.
    32 MB keeps the index pages near the insert point; the rest come from the operating
    system's file cache. Other databases size their own caches.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")


class LeadInserter:
    """Batched executemany of one compiled Core ``insert()``.

    A million parameter sets through ``Connection.execute`` spend most of their
    time rebuilding the same parameter dictionaries. Here the statement is compiled
    once for the connection's dialect, each column's own bind processor (the
    dialect's JSON and datetime handling) is applied exactly as SQLAlchemy would,
    constants are processed once, and the parameter sets go to the driver's
    ``executemany`` — still bound parameters only, on any dialect.
    """

    _COLUMNS = (
        "campaign_id",
        "list_id",
        "phone",
        "time_zones",
        "data",
        "status",
        "attempts",
        "consent",
        "import_row",
        "created_at",
        "numbers",
        "phone_turn",
    )

    def __init__(self, dialect: Dialect, campaign_id: int, list_id: int) -> None:
        compiled = _skipping_known(dialect).compile(dialect=dialect, column_keys=list(self._COLUMNS))
        self._sql = str(compiled)
        names = list(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        self._names = names
        # dialect_impl: the processor SQLAlchemy itself would use (e.g. SQLite's datetime format).
        process = {
            c: LEAD_TABLE.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in self._COLUMNS
        }

        def apply(column: str, value: Any) -> Any:
            processor = process[column]
            return processor(value) if processor is not None and value is not None else value

        self._constants = {
            "campaign_id": apply("campaign_id", campaign_id),
            "list_id": apply("list_id", list_id),
            "status": apply("status", LeadStatus.NEW.value),
            "attempts": apply("attempts", 0),
            "phone_turn": apply("phone_turn", 0),
            "created_at": apply("created_at", utcnow()),
        }
        self._data = process["data"]
        self._consent = process["consent"]
        self._numbers = process["numbers"]
        order = names or list(self._COLUMNS)
        unknown = set(order) - set(self._COLUMNS)
        if unknown:
            raise RuntimeError(f"unexpected insert parameters {sorted(unknown)}")
        self._order = order

    def insert(self, conn: Connection, leads: list[dict[str, Any]]) -> None:
        for start in range(0, len(leads), _INSERT_BATCH):
            batch = [self._params(lead) for lead in leads[start : start + _INSERT_BATCH]]
            if batch:
                conn.exec_driver_sql(self._sql, batch)

    def _params(self, lead: dict[str, Any]) -> Any:
        values = dict(self._constants)
        values["phone"] = lead["phone"]
        values["time_zones"] = lead["time_zones"]
        values["import_row"] = lead.get("import_row")
        data = lead["data"]
        values["data"] = self._data(data) if self._data is not None else data
        consent = lead["consent"]
        values["consent"] = (
            self._consent(consent) if self._consent is not None and consent is not None else consent
        )
        numbers = lead.get("numbers")  # None (one number) stays SQL NULL, never JSON null
        values["numbers"] = self._numbers(numbers) if self._numbers is not None and numbers else None
        if self._names is not None:
            return tuple(values[name] for name in self._order)
        return values


def _skipping_known(dialect: Dialect) -> Insert:
    keys = ["campaign_id", "phone"]
    if dialect.name == "postgresql":
        return postgresql.insert(LEAD_TABLE).on_conflict_do_nothing(index_elements=keys).inline()
    if dialect.name == "sqlite":
        return sqlite.insert(LEAD_TABLE).on_conflict_do_nothing(index_elements=keys).inline()
    return insert(LEAD_TABLE).inline()

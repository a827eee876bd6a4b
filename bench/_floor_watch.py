"""What PostgreSQL did while the floor dialed, slice by slice: CPU by process, checkpoints, autovacuum.

Every ``TICK_S`` the watcher reads the CPU (utime + stime, /proc) of every process the
postmaster started and names it from ``pg_stat_activity``: the client backends (the
engines' connections), the checkpointer, the WAL writer, an autovacuum worker by the
table it is working on, and so on. A tick's CPU goes to the name seen at that tick; a
process that ended since the last tick is paid for by the postmaster's reaped-children
CPU (cutime + cstime), less what was already counted of it: that remainder is
``ended``. The watcher's own connection is ``bench``, left out of the database's cost.

At every slice boundary it reads the server's counters: ``pg_stat_bgwriter``
(PostgreSQL 15-16) or ``pg_stat_checkpointer`` (17 and later), ``pg_stat_user_tables``'
autovacuum and autoanalyze counts, and the WAL position. A tick where the checkpointer
is not waiting for its next round (its ``wait_event`` is not ``CheckpointerMain``)
counts as a second of checkpoint work.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

TICK_S = 1.0
_TICKS = os.sysconf("SC_CLK_TCK")
_BGWRITER = (
    "SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time,"
    " buffers_checkpoint, buffers_clean, buffers_backend FROM pg_stat_bgwriter"
)
_CHECKPOINTER = (
    "SELECT num_timed, num_requested, write_time, sync_time, buffers_written, 0, 0 FROM pg_stat_checkpointer"
)
_CHECKPOINT_KEYS = (
    "timed",
    "requested",
    "write ms",
    "sync ms",
    "buffers",
    "bgwriter buffers",
    "backend buffers",
)
_LOG_ENTRY = re.compile(r"(checkpoint starting|checkpoint complete|automatic (vacuum|analyze) of table)")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children(postmaster: int) -> dict[int, float]:
    """CPU seconds so far of every live process the postmaster started."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # ended in between
        if int(fields[1]) == postmaster:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return found


def _kind(backend_type: str, query: str) -> str:
    if backend_type == "client backend":
        return "backends"
    if backend_type == "autovacuum worker":
        target = query.removeprefix("autovacuum: ").strip()
        return f"autovacuum worker: {target}" if target else "autovacuum worker"
    return backend_type or "other"


@dataclass
class Watch:
    """Running sums since the watcher started; ``snapshot`` copies them at a slice boundary."""

    conn: Connection
    postmaster: int = 0
    own_pid: int = 0
    seen: dict[int, float] = field(default_factory=dict)
    reaped: float = 0.0
    cpu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    busy: Counter[str] = field(default_factory=Counter)  # ticks a process kind was at work

    def start(self) -> None:
        self.own_pid = int(self.conn.scalar(text("SELECT pg_backend_pid()")) or 0)
        self.conn.commit()
        self.postmaster = int(_stat(self.own_pid)[1])
        self.seen = _children(self.postmaster)
        self.cpu["postmaster"], self.reaped = self._postmaster()

    def _postmaster(self) -> tuple[float, float]:
        """The postmaster's own CPU seconds, and those of the children it reaped."""
        fields = _stat(self.postmaster)
        return (int(fields[11]) + int(fields[12])) / _TICKS, (int(fields[13]) + int(fields[14])) / _TICKS

    def tick(self) -> None:
        """One reading of every server process's CPU, each paid to what it was doing."""
        rows = self.conn.execute(
            text("SELECT pid, backend_type, coalesce(query, ''), wait_event FROM pg_stat_activity")
        ).all()
        self.conn.commit()
        names = {int(pid): _kind(str(kind or ""), str(query)) for pid, kind, query, _wait in rows}
        names[self.own_pid] = "bench"
        for _pid, kind, _query, wait in rows:
            if kind == "checkpointer" and wait != "CheckpointerMain":
                self.busy["checkpoint"] += 1
        now = _children(self.postmaster)
        for pid, spent in now.items():
            name = names.get(pid, "other")
            self.cpu[name] += spent - self.seen.get(pid, 0.0)
            if name.startswith("autovacuum worker"):
                self.busy[name] += 1
        gone = sum(spent for pid, spent in self.seen.items() if pid not in now)
        self.cpu["postmaster"], reaped = self._postmaster()
        self.cpu["ended"] += reaped - self.reaped - gone
        self.seen, self.reaped = now, reaped

    def snapshot(self) -> dict[str, Any]:
        """The sums so far, with the server's checkpoint, table and WAL counters."""
        newer = int(self.conn.scalar(text("SHOW server_version_num")) or 0) >= 170000
        checkpoints = self.conn.execute(text(_CHECKPOINTER if newer else _BGWRITER)).one()
        tables = self.conn.execute(
            text("SELECT relname, autovacuum_count, autoanalyze_count FROM pg_stat_user_tables")
        ).all()
        wal = self.conn.scalar(text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"))
        self.conn.commit()
        return {
            "cpu": dict(self.cpu),
            "busy": dict(self.busy),
            "checkpoints": dict(zip(_CHECKPOINT_KEYS, map(float, checkpoints), strict=True)),
            "autovacuum": {str(name): int(count) for name, count, _ in tables},
            "autoanalyze": {str(name): int(count) for name, _, count in tables},
            "wal bytes": float(wal or 0),
        }


def between(first: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """What happened between two snapshots: CPU and busy ticks by kind, counters' growth."""

    def grown(key: str) -> dict[str, float]:
        keys = set(first[key]) | set(last[key])
        change = {name: last[key].get(name, 0) - first[key].get(name, 0) for name in keys}
        return {name: round(value, 3) for name, value in sorted(change.items()) if value}

    return {
        "cpu s": grown("cpu"),
        "busy ticks": grown("busy"),
        "checkpoints": grown("checkpoints"),
        "autovacuums": grown("autovacuum"),
        "autoanalyzes": grown("autoanalyze"),
        "wal bytes": last["wal bytes"] - first["wal bytes"],
    }


def database_cpu_s(change: dict[str, Any]) -> float:
    """The database's CPU in a slice: every server process but the watcher's own connection."""
    return float(sum(value for name, value in change["cpu s"].items() if name != "bench"))


def log_path(conn: Connection) -> Path:
    """Where the throwaway cluster (``tests/postgres_fixtures.py``) writes its log: beside its data."""
    path = Path(str(conn.scalar(text("SHOW data_directory")))).parent / "server.log"
    conn.commit()
    return path


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def log_entries(path: Path, offset: int) -> list[str]:
    """The log's checkpoint and autovacuum entries (with their indented lines) written after ``offset``."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
    except OSError:
        return []
    entries: list[str] = []
    keep = False
    for line in lines:
        if line.startswith(("\t", " ")):
            if keep:
                entries[-1] += "\n" + line.strip()
            continue
        keep = bool(_LOG_ENTRY.search(line))
        if keep:
            entries.append(line)
    return entries


def tune(conn: Connection, full_page_writes: bool) -> None:
    """Log every checkpoint and autovacuum; full-page writes on if asked (a throwaway cluster only)."""
    conn.execute(text("ALTER SYSTEM SET log_checkpoints = on"))
    conn.execute(text("ALTER SYSTEM SET log_autovacuum_min_duration = 0"))
    conn.execute(text("ALTER SYSTEM SET log_timezone = 'UTC'"))
    if full_page_writes:
        conn.execute(text("ALTER SYSTEM SET full_page_writes = on"))
    conn.execute(text("SELECT pg_reload_conf()"))


def unmarked_due(conn: Connection, campaign_ids: list[int]) -> dict[int, int]:
    """Per campaign, the unclaimed retries due now that no claim has marked yet (``claims._promote``)."""
    rows = conn.execute(
        text(
            "SELECT campaign_id, count(*) FROM lead WHERE campaign_id IN :ids"
            " AND status IN ('new', 'scheduled') AND claimed_by IS NULL"
            " AND next_call_at IS NOT NULL AND next_call_at <= now()"
            " AND (ready_for IS NULL OR ready_for <> next_call_at) GROUP BY campaign_id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": campaign_ids},
    ).all()
    found = {int(cid): int(count) for cid, count in rows}
    return {cid: found.get(cid, 0) for cid in campaign_ids}


def log_events(entries: list[str], origin: datetime) -> list[dict[str, Any]]:
    """Each log entry with its instant in seconds from ``origin`` (log lines stamped in UTC, see ``tune``)."""
    events: list[dict[str, Any]] = []
    for entry in entries:
        try:
            stamp = datetime.strptime(entry[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        except ValueError:
            events.append({"at s": None, "entry": entry})
            continue
        events.append({"at s": round((stamp - origin).total_seconds(), 1), "entry": entry})
    return events


def headline(entry: str) -> str:
    """An entry's message in a few words: ``checkpoint starting: time``, ``automatic vacuum of ...``."""
    message = entry.split("\n", 1)[0].split("LOG:", 1)[-1].strip()
    return message.split(": index scans", 1)[0].split(": wrote", 1)[0].replace('"', "")

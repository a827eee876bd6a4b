"""Claim benchmark: ``claim_due_leads(limit=10)`` in stores of ten thousand to ten million leads.

    python bench/claims.py [--leads 10000,1000000] [--stores sqlite,postgresql]
                           [--claims 500] [--pg-url URL] [--markdown FILE] [--json FILE]

Each store holds ``--leads`` leads in three campaigns of a third of that size each:

- **early**: just started, every lead fresh;
- **late**: 90% dialed. Of those, in id order as they were dialed, 60 in 100 are over,
  39 wait for a retry later today and 1 is a retry that is due now; the last 10% of the
  list is still fresh. Reading leads in id order would step over all the waiting ones.
- **behind**: 90% dialed, 60 in 100 of them over. The retries of the first 80% of the list
  wait for later today, those of the next 10% are all due now (at 10,000 leads: 1,067
  retries not due, then 133 due; at 1,000,000: 106,667 then 13,333), the last 10% fresh.
  A walk of the retries in id order would pass every waiting one before the first due.

Every claim's first measured figure (``first claim``) is taken apart: the store as
generated has never been claimed from, so that claim is the first to see the due retries.
Then come the **drain** claims, unmeasured by the percentiles but counted and timed apart:
while due retries are left that no claim has marked (the late and behind campaigns start
with all theirs unmarked, as a campaign resumed after a long pause would), each claim marks
500 and takes the slower path. The measured claims follow, ``--step`` seconds apart on the
claim's clock (0.1 s: a claim of 10 every 0.1 s is 100 calls a second), from a minute after
the store's instant, when the waiting retries begin to fall due: each claim marks those that
fell due since the one before, as in a campaign claiming all day. On SQLite the claims run
with the log checkpointed by a thread of its own, as the engine runs them (``dialer.store.wal``).

Rows are generated in the database (a recursive CTE on SQLite, ``generate_series`` on
PostgreSQL) with the lead table's indexes dropped, then the indexes are rebuilt from
their own definitions (the schema the migrations made) and the tables analysed
(PostgreSQL: ``VACUUM ANALYZE``, which autovacuum would do; SQLite: nothing, as the
product never runs ``ANALYZE``).

Each measured claim is the product's own ``claim_due_leads`` (its candidate SELECTs,
the claiming UPDATE and the read of what it won, one transaction) for one node at one
instant; ``release_claims`` then gives the leads back, timed separately, so every
claim sees the same store. Times are wall-clock (``time.perf_counter``) in this
process, after 20 unmeasured claims. PostgreSQL runs in a throwaway cluster on
127.0.0.1 (``tests/postgres_fixtures.py``: fsync off) unless ``--pg-url`` names one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _engine_setup import percentile
from sqlalchemy import event, func, or_, text
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine

from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import open_store
from campaigns.tables import LEAD_TABLE
from dialer.store.claims import DIALABLE, claim_due_leads, release_claims
from dialer.store.wal import WalCheckpointer

ROOT = Path(__file__).resolve().parent.parent
NODE = "bench-node"
WARM_UP = 20
STEADY_AFTER_S = 60  # the measured claims begin when the first waiting retries fall due
EARLY, LATE, BEHIND = 1, 2, 3

# One lead row per number i, for a campaign whose ids run from :first; j is the lead's place
# in its campaign. Status and next call by place: see the module docstring. :due_from is the
# first place whose retries are all due (behind), else the number of leads (none of them).
_LATE_STATUS = "CASE WHEN j >= :dialed THEN 'new' WHEN j % 100 < 60 THEN 'done' ELSE 'scheduled' END"
_SQLITE_INSERT = """
INSERT INTO lead (id, campaign_id, phone, time_zones, data, status, attempts, next_call_at,
                  created_at)
WITH RECURSIVE n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n WHERE j + 1 < :count)
SELECT :first + j, :campaign, '+7' || (9000000000 + :first + j), 'Europe/Moscow', '{}',
       STATUS, CASE WHEN j >= :dialed THEN 0 ELSE 1 END,
       CASE WHEN j >= :dialed OR j % 100 < 60 THEN NULL
            WHEN j % 100 = 99 OR j >= :due_from
                 THEN strftime('%Y-%m-%d %H:%M:%f000', :now, '-' || (j % 3600) || ' seconds')
            ELSE strftime('%Y-%m-%d %H:%M:%f000', :now, '+' || (60 + j % 86400) || ' seconds') END,
       :now
FROM n
"""
_POSTGRES_INSERT = """
INSERT INTO lead (id, campaign_id, phone, time_zones, data, status, attempts, next_call_at,
                  created_at)
SELECT :first + j, :campaign, '+7' || (9000000000 + :first + j), 'Europe/Moscow', '{}'::json,
       STATUS, CASE WHEN j >= :dialed THEN 0 ELSE 1 END,
       CASE WHEN j >= :dialed OR j % 100 < 60 THEN NULL
            WHEN j % 100 = 99 OR j >= :due_from
                 THEN CAST(:now AS timestamptz) - make_interval(secs => j % 3600)
            ELSE CAST(:now AS timestamptz) + make_interval(secs => 60 + j % 86400) END,
       CAST(:now AS timestamptz)
FROM generate_series(0, :count - 1) AS j
"""


def lead_indexes(store: Engine) -> dict[str, str]:
    """The lead table's indexes that are not constraints, with the DDL that makes each."""
    with store.connect() as conn:
        if store.dialect.name == "sqlite":
            rows = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'lead' AND type = 'index'")
            ).all()
            return {name: sql for name, sql in rows if sql}
        rows = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'lead'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        ).all()
        return dict(rows)


def fill(store: Engine, leads: int, now: datetime) -> float:
    """``leads`` leads in the early and the late campaign; seconds it took."""
    return fill_campaigns(store, [("early", False), ("late", True)], leads // 2, now)


def fill_campaigns(
    store: Engine, campaigns: Sequence[tuple[str, bool | str]], each: int, now: datetime
) -> float:
    """``each`` leads in every campaign, ids 1, 2, ... in this order; seconds.

    A campaign's shape: False (early), True or "late", or "behind" (see the module docstring).
    """
    started = time.perf_counter()
    for name, _late in campaigns:
        create_campaign(store, CampaignSpec.build(name))
    indexes = lead_indexes(store)
    sqlite = store.dialect.name == "sqlite"
    insert = _SQLITE_INSERT if sqlite else _POSTGRES_INSERT
    with store.begin() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA cache_size = -1000000")
        else:
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
        for name in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        for place, (_name, late) in enumerate(campaigns):
            status = _LATE_STATUS if late else "'new'"
            dialed = each * 9 // 10 if late else 0
            due_from = each * 8 // 10 if late == "behind" else each
            values: dict[str, Any] = {"first": 1 + place * each, "campaign": 1 + place, "count": each}
            values["due_from"] = due_from
            values |= {"dialed": dialed, "now": now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now}
            conn.execute(text(insert.replace("STATUS", status)), values)
        for sql in indexes.values():
            conn.exec_driver_sql(sql)
    if not sqlite:
        with store.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def unmarked_due(store: Engine, campaign: int, now: datetime) -> int:
    """Due retries no claim has marked yet (``dialer.store.claims``): the drain still to go."""
    lead = LEAD_TABLE.c
    with store.connect() as conn:
        count = conn.scalar(
            core_select(func.count()).where(
                lead.campaign_id == campaign,
                lead.status.in_(DIALABLE),
                lead.claimed_by.is_(None),
                lead.next_call_at <= now,
                or_(lead.ready_for.is_(None), lead.ready_for != lead.next_call_at),
            )
        )
    return int(count or 0)


def _timed(store: Engine, campaign: int, now: datetime) -> tuple[float, float, int]:
    """One claim of 10 and the release of what it took: their milliseconds and the leads taken."""
    t0 = time.perf_counter()
    won = claim_due_leads(store, campaign, NODE, now, 10)
    t1 = time.perf_counter()
    release_claims(store, NODE)
    t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000, len(won)


def measure(store: Engine, campaign: int, claims: int, now: datetime, step_s: float) -> dict[str, Any]:
    """The first claim; the drain (claims until every due retry is marked); then the measured ones.

    The measured claims come ``step_s`` apart on the claim's clock, starting ``STEADY_AFTER_S``
    after the store's instant: retries that wait fall due as that clock moves, and each claim
    marks those that fell due since the one before, as in a campaign claiming all day.
    """
    first_ms = _timed(store, campaign, now)[0]
    drain_ms: list[float] = []
    while unmarked_due(store, campaign, now):
        drain_ms.append(_timed(store, campaign, now)[0])
    claim_ms: list[float] = []
    release_ms: list[float] = []
    taken = 0
    start = now + timedelta(seconds=STEADY_AFTER_S)
    for i in range(WARM_UP + claims):
        claim, release, won = _timed(store, campaign, start + timedelta(seconds=i * step_s))
        if i >= WARM_UP:
            claim_ms.append(claim)
            release_ms.append(release)
            taken += won
    return {
        "claims": claims,
        "step s": step_s,
        "leads per claim": taken / claims,
        "first claim ms": first_ms,
        "drain claims": len(drain_ms),
        "drain p50 ms": percentile(drain_ms, 50) if drain_ms else None,
        "drain max ms": max(drain_ms) if drain_ms else None,
        "drain s": sum(drain_ms) / 1000,
        "claim p50 ms": percentile(claim_ms, 50),
        "claim p99 ms": percentile(claim_ms, 99),
        "claim max ms": max(claim_ms),
        "release p50 ms": percentile(release_ms, 50),
        "release p99 ms": percentile(release_ms, 99),
    }


def pages_read(store: Engine, campaign: int, now: datetime) -> int:
    """PostgreSQL only: buffer pages one claim's statements touch (``EXPLAIN (ANALYZE, BUFFERS)``).

    Unlike a time, a page count does not depend on how busy the machine is. The claim's
    own statements are caught as it runs, then each is explained, executed inside a
    transaction that is rolled back; its leads are then given back.
    """
    sent: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    event.listen(store, "before_cursor_execute", catch)
    try:
        claim_due_leads(store, campaign, NODE, now, 10)
    finally:
        event.remove(store, "before_cursor_execute", catch)
    release_claims(store, NODE)
    pages = 0
    with store.connect() as conn:
        for statement, parameters in sent:
            explained = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
            ).scalar_one()
            top = explained[0]["Plan"]
            pages += int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
        conn.rollback()
    return pages


@contextmanager
def postgres(url: str | None) -> Iterator[Callable[[str], str]]:
    """A function that makes an empty database and returns its URL."""
    if url:
        yield lambda _name: url
        return
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine
    from sqlalchemy.engine import URL
    from sqlalchemy.pool import NullPool

    from tests.postgres_fixtures import PostgresCluster, _Server, find_server_bindir

    bindir = find_server_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries: run scripts/install-postgres.sh")
    server = _Server(bindir)
    try:
        server.initdb()
        port = server.start()
        admin = create_engine(
            URL.create(
                "postgresql+psycopg",
                username="dialer",
                password=server.password,
                host="127.0.0.1",
                port=port,
                database="postgres",
            ),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        yield PostgresCluster(port, server.password, admin).create_database
        admin.dispose()
    finally:
        server.stop()


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="dialer-claims-") as workdir, postgres(args.pg_url) as make_db:
        for store_name in args.stores:
            for leads in args.leads:
                if store_name == "sqlite":
                    url = f"sqlite:///{Path(workdir) / f'claims-{leads}.db'}"
                else:
                    url = make_db(f"claims_{leads}")
                store = open_store(url)
                checkpointer = WalCheckpointer(store)
                try:
                    shapes: list[tuple[str, bool | str]] = [
                        ("early", False),
                        ("late", True),
                        ("behind", "behind"),
                    ]
                    seconds = fill_campaigns(store, shapes, leads // 3, now)
                    print(f"{store_name}: {leads:,} leads generated in {seconds:.0f} s", flush=True)
                    checkpointer.start()  # as the engine runs the claims on SQLite (nothing on PostgreSQL)
                    for label, campaign in (("early", EARLY), ("late", LATE), ("behind", BEHIND)):
                        row = {"store": store_name, "leads": leads, "campaign": label}
                        row |= measure(store, campaign, args.claims, now, args.step)
                        if store_name == "postgresql":
                            row["pages per claim"] = pages_read(store, campaign, now)
                        print(json.dumps(row), flush=True)
                        results.append(row)
                finally:
                    checkpointer.stop()
                    store.dispose()
                    if store_name == "sqlite":
                        for suffix in ("", "-wal", "-shm"):
                            Path(workdir, f"claims-{leads}.db{suffix}").unlink(missing_ok=True)
    return results


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    load = os.getloadavg()
    return {
        "cpus": str(os.cpu_count()),
        "cpu model": cpu,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "load average (1, 5, 15 min) at the end": ", ".join(f"{x:.1f}" for x in load),
    }


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} ms"


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| store | leads | campaign | first claim | drain claims | drain p50 | drain max | claim p50"
        " | claim p99 | claim max | release p50 | release p99 | pages per claim |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['leads']:,} | {r['campaign']} | {_ms(r['first claim ms'])}"
            f" | {r['drain claims']} | {_ms(r['drain p50 ms'])} | {_ms(r['drain max ms'])}"
            f" | {_ms(r['claim p50 ms'])} | {_ms(r['claim p99 ms'])} | {_ms(r['claim max ms'])}"
            f" | {_ms(r['release p50 ms'])} | {_ms(r['release p99 ms'])}"
            f" | {r.get('pages per claim', '')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    # A TERM stops the run through the same clean-up as Ctrl-C: the throwaway cluster goes too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", default="10000,1000000", help="store sizes, comma-separated")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--claims", type=int, default=500, help="measured claims per campaign")
    parser.add_argument("--step", type=float, default=0.1, help="seconds between measured claims' clocks")
    parser.add_argument("--pg-url", default=None, help="an empty PostgreSQL database to use")
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.leads = [int(x) for x in args.leads.split(",")]
    args.stores = [s.strip() for s in args.stores.split(",")]
    results = run(args)
    print(markdown(results))
    if args.markdown:
        args.markdown.write_text(markdown(results), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

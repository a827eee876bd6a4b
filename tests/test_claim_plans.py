"""Release and the in-flight queries read their indexes on SQLite and PostgreSQL; claims keep their limit.

Each check runs the product's own function, catches the SQL it sends with its bound
values, and asks the database for that statement's plan: SQLite's ``EXPLAIN QUERY
PLAN``, PostgreSQL's ``EXPLAIN`` after ``VACUUM ANALYZE`` (what autovacuum keeps up to
date). PostgreSQL is also asked for the generic plan of each statement, the one a
prepared statement may settle on after a few runs (psycopg prepares a statement once
a connection has run it five times): a partial index whose condition only the bound
values proved would be lost there.

The store holds an old campaign that is over, one late in its run (most leads dialed,
many retries not due yet, a few due, a few fresh) and one that has just started.
How fast the claims are is measured in ``bench/claims.py``, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from campaigns.models import CallAttempt, Campaign, Lead
from dialer.services.console import current_attempt, current_card
from dialer.services.status import collect_status
from dialer.store import claims
from dialer.store.claims import claim_due_leads, due_count, release_claims
from dialer.store.recorder import unfinished_attempts
from tests.engine_helpers import make_campaign, make_leads, phones_by_digit
from tests.postgres_fixtures import PostgresCluster

pytestmark = pytest.mark.every_store

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OLD, LATE, EARLY, BACKLOG, BEHIND = 1, 2, 3, 4, 5
NODE = "node-a"


def _lead(lead_id: int, campaign_id: int, status: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": lead_id,
        "campaign_id": campaign_id,
        "phone": f"+7916{lead_id:07d}",
        "time_zones": "Europe/Moscow",
        "data": {},
        "status": status,
        "attempts": 0,
        "next_call_at": None,
        "claimed_by": None,
        "claimed_at": None,
        "created_at": NOW - timedelta(days=30),
    }
    return row | fields


def _leads() -> Iterator[dict[str, Any]]:
    """ids in the order a store fills up: the old campaign first, then the late one, then the early one."""
    ids = iter(range(1, 1_000_000))
    for _ in range(20_000):
        yield _lead(next(ids), OLD, "done", attempts=2)
    # Late in its run: most leads over, retries spread over the next day, a few due, a few fresh.
    # The due ones have the highest ids: reading in id order would step over all the others.
    for _ in range(15_000):
        yield _lead(next(ids), LATE, "done", attempts=1)
    for i in range(10_000):
        later = NOW + timedelta(seconds=10 + i * 8)
        yield _lead(next(ids), LATE, "scheduled", attempts=1, next_call_at=later)
    for i in range(5):
        yield _lead(next(ids), LATE, "scheduled", attempts=1, next_call_at=NOW - timedelta(minutes=5 - i))
    for _ in range(300):
        yield _lead(next(ids), LATE, "new")
    for _ in range(40):
        yield _lead(next(ids), LATE, "in_call", claimed_by=NODE, claimed_at=NOW)
    for _ in range(3):
        yield _lead(next(ids), LATE, "new", claimed_by=NODE, claimed_at=NOW)
    for _ in range(5_000):
        yield _lead(next(ids), EARLY, "new")
    # Many retries due at once (every fourth of 3,000, far more than a claim's window), none fresh.
    for i in range(3_000):
        when = NOW - timedelta(seconds=1 + i) if i % 4 == 3 else NOW + timedelta(seconds=10 + i)
        yield _lead(next(ids), BACKLOG, "scheduled", attempts=1, next_call_at=when)
    # Due retries behind more retries not due yet than a walk in id order passes.
    for i in range(1_500):
        yield _lead(next(ids), BEHIND, "scheduled", attempts=1, next_call_at=NOW + timedelta(minutes=1 + i))
    for i in range(200):
        yield _lead(next(ids), BEHIND, "scheduled", attempts=1, next_call_at=NOW - timedelta(seconds=1 + i))


def _attempts() -> Iterator[dict[str, Any]]:
    for i in range(6_000):
        ended = i >= 40  # the first 40 are the late campaign's calls in flight
        yield {
            "id": f"a{i:039d}",
            "campaign_id": LATE if i < 3_000 else OLD,
            "lead_id": 1 + i,
            "phone": f"+7916{1 + i:07d}",
            "node": NODE if i % 2 == 0 else "node-b",
            "started_at": NOW - timedelta(minutes=1 + i),
            "ended_at": NOW - timedelta(minutes=i) if ended else None,
            "outcome": "no_answer" if ended else None,
            "abandoned": False,
            "safe_harbour": False,
        }


@pytest.fixture
def filled(store: Engine) -> Engine:
    with store.begin() as conn:
        conn.execute(
            insert(Campaign.__table__),  # type: ignore[attr-defined]
            [
                {"id": cid, "name": name, "retry_rules": {}, "created_at": NOW, **_campaign_defaults()}
                for cid, name in (
                    (OLD, "old"),
                    (LATE, "late"),
                    (EARLY, "early"),
                    (BACKLOG, "backlog"),
                    (BEHIND, "behind"),
                )
            ],
        )
        conn.execute(insert(Lead.__table__), list(_leads()))  # type: ignore[attr-defined]
        conn.execute(insert(CallAttempt.__table__), list(_attempts()))  # type: ignore[attr-defined]
    if store.dialect.name == "postgresql":
        with store.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
            # The ids were given explicitly: move the sequence past them for any later insert.
            conn.execute(text("SELECT setval('lead_id_seq', (SELECT max(id) FROM lead))"))
            conn.commit()
    return store


def _campaign_defaults() -> dict[str, Any]:
    defaults = Campaign(name="x")
    return {
        column: getattr(defaults, column)
        for column in Campaign.model_fields
        if column not in ("id", "name", "retry_rules", "created_at")
    }


Statement = tuple[str, Any]


def sent_by(store: Engine, action: Callable[[], object]) -> list[Statement]:
    """The statements ``action`` sends to the store, with their bound values."""
    seen: list[Statement] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
            seen.append((statement, parameters))

    event.listen(store, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(store, "before_cursor_execute", capture)
    return seen


def plan(store: Engine, statement: Statement) -> str:
    """The plan the database chooses for one statement with its values, as one text."""
    sql, parameters = statement
    with store.connect() as conn:
        if store.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        raw = conn.connection.driver_connection
        assert raw is not None
        import psycopg

        with psycopg.ClientCursor(raw) as cursor:  # the values as constants: the custom plan
            cursor.execute(f"EXPLAIN {sql}", parameters)
            found = "\n".join(row[0] for row in cursor.fetchall())
        conn.rollback()
    return found


def generic_plan(store: Engine, statement: Statement) -> str:
    """PostgreSQL's plan for the statement prepared with its values unknown."""
    sql, parameters = statement
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    prepared = re.sub(r"%\((\w+)\)s", number, sql)
    with store.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        import psycopg

        with psycopg.ClientCursor(raw) as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE claim_check AS {prepared}")
            values = ", ".join(["%s"] * len(names))
            cursor.execute(f"EXPLAIN EXECUTE claim_check({values})", [parameters[n] for n in names])
            found = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("DEALLOCATE claim_check")
        conn.rollback()
    return found


def plans(store: Engine, statement: Statement) -> list[str]:
    """Every plan the statement may run with: the custom one and, on PostgreSQL, the generic one."""
    found = [plan(store, statement)]
    if store.dialect.name == "postgresql":
        found.append(generic_plan(store, statement))
    return found


def assert_reads_index(store: Engine, statement: Statement, *indexes: str) -> None:
    """The statement reads one of ``indexes`` and neither scans a whole table nor sorts."""
    for found in plans(store, statement):
        assert any(re.search(rf"\b{i}\b", found) for i in indexes), (
            f"none of {indexes} used:\n{statement[0]}\n{found}"
        )
        if store.dialect.name == "sqlite":
            assert not re.search(r"\bSCAN (lead|call_attempt)\b(?! USING)", found), found
            assert "TEMP B-TREE" not in found, found
        else:
            # The few lists being imported may be read whole; the leads and attempts never.
            assert not re.search(r"Seq Scan on (lead|call_attempt)\b", found), found
            assert "Sort" not in found, found


def assert_claims_by_id(store: Engine, statement: Statement) -> None:
    """The claiming UPDATE goes by the candidates' ids, never through the campaign's leads."""
    assert statement[0].lstrip().upper().startswith("UPDATE LEAD SET CLAIMED_BY")
    for found in plans(store, statement):
        assert re.search(r"INTEGER PRIMARY KEY|lead_pkey", found), found
        assert not re.search(r"\bSCAN lead\b|Seq Scan|ix_lead_due", found), found


def test_releasing_a_nodes_claims_reads_only_the_claimed_leads(filled: Engine) -> None:
    [release] = sent_by(filled, lambda: release_claims(filled, NODE))
    assert_reads_index(filled, release, "ix_lead_claimed")
    assert release_claims(filled, NODE) == 0  # the three held outside a call were given back


def assert_reads_due_leads(store: Engine, statement: Statement) -> None:
    """Reads a claim index, or ix_lead_due bounded by the due instant: only leads that are due."""
    assert_reads_index(store, statement, "ix_lead_waiting", "ix_lead_ready", "ix_lead_fresh", "ix_lead_due")
    for found in plans(store, statement):
        bounds = [line for line in found.splitlines() if "Index Cond" in line or "USING" in line]
        assert any("next_call_at" in line for line in bounds) or "ix_lead_fresh" in found, found


def test_a_nodes_calls_in_flight_are_found_without_reading_ended_attempts(filled: Engine) -> None:
    [query] = sent_by(filled, lambda: unfinished_attempts(filled, NODE))
    assert_reads_index(filled, query, "ix_attempt_open_node")
    assert len(unfinished_attempts(filled, NODE)) == 20


def test_the_status_counts_calls_in_flight_without_reading_ended_attempts(filled: Engine) -> None:
    sent = sent_by(filled, lambda: collect_status(filled, ["late"]))
    [in_flight] = [s for s in sent if "call_attempt" in s[0] and "ended_at IS NULL" in s[0]]
    assert_reads_index(filled, in_flight, "ix_attempt_open")
    [late] = collect_status(filled, ["late"]).campaigns
    assert late.in_flight == 40


def test_the_pop_reads_only_the_operators_calls_awaiting_a_disposition(filled: Engine) -> None:
    # Every pop runs it: it must not read the attempts of the last hours of every operator.
    [card] = sent_by(filled, lambda: current_card(filled, "Анна"))
    [attempt] = sent_by(filled, lambda: current_attempt(filled, "Анна"))
    for query in (card, attempt):
        assert_reads_index(filled, query, "ix_attempt_awaiting")
    assert current_card(filled, "Анна") is None


def _index_definitions(engine: Engine) -> dict[str, str]:
    """Every index of the schema as the database itself writes it back, by name."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master"
                    " WHERE type = 'index' AND tbl_name <> 'alembic_version'"
                )
            )
        else:
            rows = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                )
            )
        return {str(name): " ".join(str(sql).split()) for name, sql in rows}


def test_the_migrations_build_the_indexes_the_models_declare(
    store: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Alembic's autogenerate comparison does not look at a partial index's condition:
    # compare what the database made of each, migrated and created from the models.
    if store.dialect.name == "sqlite":
        models = create_engine(f"sqlite:///{tmp_path / 'models.db'}")
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        models = create_engine(cluster.create_database("dialer_models"))
    try:
        SQLModel.metadata.create_all(models)
        migrated, declared = _index_definitions(store), _index_definitions(models)
    finally:
        models.dispose()
        if store.dialect.name == "postgresql":
            cluster.drop_database("dialer_models")
    assert {"ix_lead_waiting", "ix_lead_ready"} <= set(migrated)
    assert migrated == declared


def test_a_claim_takes_no_more_than_its_limit_and_leaves_the_rest_to_the_next(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    ids = make_leads(store, cid, phones_by_digit([0] * 8))
    first = claim_due_leads(store, cid, "node-a", NOW, 3)
    second = claim_due_leads(store, cid, "node-b", NOW, 2)
    assert [lead.lead_id for lead in first] == ids[:3]
    assert [lead.lead_id for lead in second] == ids[3:5]
    assert due_count(store, [cid], NOW) == 3


def assert_reads_due_range(
    store: Engine, statement: Statement, indexes: str = "ix_lead_waiting|ix_lead_due"
) -> None:
    """Reads one of ``indexes`` up to the due instant, never the retries not due yet.

    Entry by entry, so that its LIMIT stops the read: no bitmap of every due retry first.
    """
    for found in plans(store, statement):
        assert "Bitmap" not in found, found
        assert re.search(rf"\b({indexes})\b", found), found
        bounds = [line for line in found.splitlines() if "Index Cond" in line or "USING" in line]
        assert any("next_call_at" in line for line in bounds), found
        assert not re.search(r"\bSCAN lead\b(?! USING)|Seq Scan", found), found


def assert_marks_the_newly_due(store: Engine, probe: Statement, mark: Statement) -> None:
    """Reads ix_lead_waiting up to now, stopping at its window, then marks the rows found by id."""
    # Not ix_lead_due: it holds the retries marked before, however many.
    assert_reads_due_range(store, probe, "ix_lead_waiting")
    assert_reads_index(store, probe, "ix_lead_waiting")
    assert re.search(r"LIMIT \d+", probe[0])
    assert mark[0].lstrip().upper().startswith("UPDATE LEAD SET READY_FOR")
    for found in plans(store, mark):
        assert re.search(r"INTEGER PRIMARY KEY|lead_pkey", found), found
        assert not re.search(r"\bSCAN lead\b|Seq Scan", found), found


def assert_reads_ready_in_id_order(store: Engine, statement: Statement) -> None:
    """The marked retries off ix_lead_ready in id order: a LIMIT that stops after the few wanted."""
    assert_reads_index(store, statement, "ix_lead_ready")
    assert re.search(r"LIMIT \d+", statement[0])


def assert_claims_in_one_statement(store: Engine, statement: Statement) -> None:
    """Once every due retry is marked, one UPDATE claims: the lowest ids of the fresh leads off
    ix_lead_fresh and of the marked retries off ix_lead_ready, each read in id order under its
    LIMIT, then each row by its primary key. Nothing is sorted but the few ids those LIMITs let
    through, and no lead is read any other way."""
    assert statement[0].lstrip().upper().startswith("UPDATE LEAD SET CLAIMED_BY")
    assert len(re.findall(r"LIMIT \d+", statement[0])) == 3
    for found in plans(store, statement):
        reads = [index for index, _bounds in lead_index_reads(found)]
        assert sorted(reads) == ["ix_lead_fresh", "ix_lead_ready"], found
        assert re.search(r"INTEGER PRIMARY KEY|lead_pkey", found), found
        assert not re.search(r"\bSCAN lead\b|Seq Scan on lead\b|ix_lead_due\b", found), found
        if store.dialect.name == "sqlite":  # a sort only of what each limited read gave
            sorts = re.findall(r"SCAN (\w+)\nUSE TEMP B-TREE|(USE TEMP B-TREE)", found)
            assert all(name in ("fresh", "marked") for name, _ in sorts), found
        else:  # one sort, of the two reads' few rows appended
            assert found.count("Sort Key") == 1 and re.search(r"Sort Key: fresh\.id", found), found


def test_a_claim_with_few_retries_due_marks_them_then_takes_the_lowest_ids(filled: Engine) -> None:
    sent = sent_by(filled, lambda: claim_due_leads(filled, LATE, NODE, NOW, 10))
    probe, mark, claim = sent
    # The five retries that fell due: off the due range of those not marked yet, then marked.
    assert_marks_the_newly_due(filled, probe, mark)
    # Fresh leads and marked retries in their indexes' own order, claimed in the same statement.
    assert_claims_in_one_statement(filled, claim)


def test_due_retries_behind_many_not_due_are_taken_in_id_order_without_reading_those(
    filled: Engine,
) -> None:
    # 1,500 retries not due yet, then 200 due: more than a walk in id order would pass.
    with filled.connect() as conn:
        ids = list(
            conn.scalars(text("SELECT id FROM lead WHERE campaign_id = :c ORDER BY id"), {"c": BEHIND})
        )
    first = sent_by(filled, lambda: claim_due_leads(filled, BEHIND, NODE, NOW, 10))
    probe, mark, claim = first
    assert_marks_the_newly_due(filled, probe, mark)
    assert_claims_in_one_statement(filled, claim)
    # The next claim finds nothing newly due and reads the marked ones alone.
    second = sent_by(filled, lambda: claim_due_leads(filled, BEHIND, NODE, NOW, 10))
    probe, claim = second
    assert_reads_due_range(filled, probe, "ix_lead_waiting")
    assert_claims_in_one_statement(filled, claim)
    taken = [lead.lead_id for lead in claim_due_leads(filled, BEHIND, NODE, NOW, 10)]
    assert taken == ids[1_520:1_530]  # the first twenty went to the two claims above
    assert due_count(filled, [BEHIND], NOW) == 170


def test_a_claim_with_many_retries_due_walks_them_in_id_order(filled: Engine) -> None:
    sent = sent_by(filled, lambda: claim_due_leads(filled, BACKLOG, NODE, NOW, 10))
    probe, mark, fresh, walk, pick, claim = sent  # 750 fell due at once: more than one claim marks
    assert_marks_the_newly_due(filled, probe, mark)
    assert_reads_index(filled, fresh, "ix_lead_fresh")
    # The walk: ix_lead_retry_id in id order, stopping at its window or the tenth due retry, no sort.
    assert_reads_index(filled, walk, "ix_lead_retry_id")
    assert re.search(r"LIMIT 1000\b", walk[0]) and re.search(r"LIMIT 10\b", walk[0])
    for found in plans(filled, pick):
        assert re.search(r"INTEGER PRIMARY KEY|lead_pkey", found), found
    assert_claims_by_id(filled, claim)


def test_a_walk_that_finds_too_few_in_its_window_reads_the_due_range(
    filled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims, "WALK_WINDOW", 10)  # two due retries among the first ten
    sent = sent_by(filled, lambda: claim_due_leads(filled, BACKLOG, NODE, NOW, 10))
    _probe, _mark, _fresh, walk, lowest, _pick, _claim = sent
    assert_reads_index(filled, walk, "ix_lead_retry_id")
    for found in plans(filled, lowest):  # the due range only, then sorted by id
        assert re.search(r"\bix_lead_due\b", found), found
        bounds = [line for line in found.splitlines() if "Index Cond" in line or "USING" in line]
        assert any("next_call_at" in line for line in bounds), found
        assert not re.search(r"\bSCAN lead\b(?! USING)|Seq Scan", found), found


def _put_off(store: Engine, due: dict[int, datetime]) -> None:
    lead = Lead.__table__.c  # type: ignore[attr-defined]
    with store.begin() as conn:
        for lead_id, at in due.items():
            update = Lead.__table__.update().where(lead.id == lead_id)  # type: ignore[attr-defined]
            conn.execute(update.values(status="scheduled", next_call_at=at))


def test_a_claim_takes_the_lowest_due_ids_whichever_way_it_reads_the_retries(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = make_campaign(store, "spring")
    ids = make_leads(store, cid, phones_by_digit([0] * 12))
    # All retries; every third not due yet, the due ones fell due in the reverse of id order.
    later = NOW + timedelta(hours=1)
    _put_off(store, {i: later if p % 3 == 0 else NOW - timedelta(minutes=p) for p, i in enumerate(ids)})
    wanted = [lead_id for place, lead_id in enumerate(ids) if place % 3 != 0]
    # More due than a claim marks: too few of them in the walk's window, found in the due
    # range; then found by the walk; then all marked and read in id order.
    for promote, walk in ((4, 2), (4, 1000), (500, 1000)):
        monkeypatch.setattr(claims, "PROMOTE_WINDOW", promote)
        monkeypatch.setattr(claims, "WALK_WINDOW", walk)
        taken = [lead.lead_id for lead in claim_due_leads(store, cid, "node-a", NOW, 3)]
        assert taken == wanted[:3]
        assert release_claims(store, "node-a") == 3


def test_a_marked_retry_put_off_again_waits_for_its_new_instant(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    ids = make_leads(store, cid, phones_by_digit([0] * 4))
    _put_off(store, dict.fromkeys(ids, NOW - timedelta(minutes=1)))
    assert [lead.lead_id for lead in claim_due_leads(store, cid, "node-a", NOW, 1)] == ids[:1]
    # Called and put off again: the mark of its old instant no longer holds it among the due.
    _put_off(store, {ids[0]: NOW + timedelta(hours=1)})
    with store.begin() as conn:
        conn.execute(text("UPDATE lead SET claimed_by = NULL WHERE id = :i"), {"i": ids[0]})
    assert [lead.lead_id for lead in claim_due_leads(store, cid, "node-a", NOW, 2)] == ids[1:3]
    soon = NOW + timedelta(hours=2)
    assert [lead.lead_id for lead in claim_due_leads(store, cid, "node-a", soon, 2)] == [ids[0], ids[3]]


def test_a_claim_takes_due_leads_in_list_order_whether_fresh_or_put_off(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    ids = make_leads(store, cid, phones_by_digit([0] * 6))
    later, earlier = NOW + timedelta(hours=1), NOW - timedelta(minutes=1)
    with store.begin() as conn:
        for lead_id, due in ((ids[0], later), (ids[1], earlier), (ids[3], earlier), (ids[4], later)):
            conn.execute(
                Lead.__table__.update()  # type: ignore[attr-defined]
                .where(Lead.__table__.c.id == lead_id)  # type: ignore[attr-defined]
                .values(status="scheduled", next_call_at=due)
            )
    claimed = claim_due_leads(store, cid, "node-a", NOW, 3)
    assert [lead.lead_id for lead in claimed] == [ids[1], ids[2], ids[3]]
    assert [lead.lead_id for lead in claim_due_leads(store, cid, "node-a", NOW, 3)] == [ids[5]]


def lead_index_reads(found: str) -> list[tuple[str, str]]:
    """Each read of a lead index in a plan: the index and the bounds it reads it with."""
    if found.startswith(("SEARCH", "SCAN")) or "\nSEARCH" in found:  # SQLite: one line per read
        lines = re.findall(r"SEARCH lead USING (?:COVERING )?INDEX (\w+) \((.*)\)", found)
        return [(index, bounds) for index, bounds in lines]
    rows = found.splitlines()
    reads = []
    for at, row in enumerate(rows):
        match = re.search(r"Index (?:Only )?Scan (?:using|on) (ix_lead\w+)", row)
        if match:
            cond = next((r for r in rows[at + 1 : at + 3] if "Index Cond" in r), "")
            reads.append((match.group(1), cond))
    return reads


def test_counting_the_due_leads_reads_only_leads_that_may_be_dialed(filled: Engine) -> None:
    [count] = [s for s in sent_by(filled, lambda: due_count(filled, [LATE], NOW)) if "count" in s[0].lower()]
    for found in plans(filled, count):
        reads = lead_index_reads(found)
        assert len(reads) == 2, found  # the fresh leads, then the due retries
        # Fresh leads: their own index, or ix_lead_due's leads with no next call.
        assert reads[0][0] == "ix_lead_fresh" or "next_call_at" in reads[0][1], found
        # Due retries, marked or not: a range up to now, never the retries not due yet.
        assert reads[1][0] == "ix_lead_due" and "next_call_at" in reads[1][1], found
        assert not re.search(r"\bSCAN lead\b(?! USING)|Seq Scan on lead\b", found), found
    assert due_count(filled, [LATE], NOW) == 305  # five retries due and 300 fresh leads
    claim_due_leads(filled, LATE, NODE, NOW, 1)  # marks the five, takes the first of them
    assert due_count(filled, [LATE], NOW) == 304

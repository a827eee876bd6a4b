"""Failover benchmark: SIGKILL of the node dialing a campaign, to the first call by another node.

    python bench/failover.py [--runs 3] [--pg-url URL] [--json FILE]

Two node processes (``DialEngine`` over ``SimTelephony``, the in-memory phone system)
share one PostgreSQL store and one campaign of 2,000 leads with 20 ready operators.
Node A starts first and dials; node B starts and waits (the campaign's lock is A's).
Once A has placed 20 calls it is killed with SIGKILL. The figure is the time from the
kill to the first attempt row node B writes (``started_at``, both processes on this
machine's clock). Afterwards the store is checked: no lead has two attempts at once
and every one of A's attempts is ended or B's. Engine settings are the defaults
except ``tick_s`` 0.1; the campaign reload (2 s) and the takeover check (2 s) bound
the figure. PostgreSQL runs in a throwaway cluster on 127.0.0.1
(``tests/postgres_fixtures.py``) unless ``--pg-url`` names an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from claims import postgres
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import open_store
from campaigns.tables import ATTEMPT_TABLE
from dialer.services.operators import add_operator, ready

ROOT = Path(__file__).resolve().parent.parent
LEADS = 2_000
OPERATORS = 20


def node_main(node: str) -> None:
    """One node process: dial the campaign until killed (or 120 s)."""
    from dialer.engine.loop import DialEngine, EngineSettings
    from dialer.sim.telephony import SimTelephony

    store = open_store(os.environ["DIALER_DB"])
    engine = DialEngine(store, SimTelephony(talk_s=1.0), EngineSettings(node_id=node, tick_s=0.1))

    async def go() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(120, engine.stop)
        loop.add_signal_handler(signal.SIGINT, engine.stop)
        await engine.run()

    asyncio.run(go())


def prepare(store: Engine) -> int:
    from sqlalchemy import insert

    from campaigns.models import Lead

    spec = CampaignSpec(
        name="failover",
        queue="q-fail",
        mode="progressive",
        calling_window="00:00-24:00",
        dial_template="Local/{number}@sim-customers",
    )
    cid = create_campaign(store, spec).id
    assert cid is not None
    with store.begin() as conn:
        conn.execute(
            insert(Lead.__table__),  # type: ignore[attr-defined]
            [
                {"campaign_id": cid, "phone": f"+7916{i:07d}", "time_zones": "Etc/UTC", "data": {}}
                for i in range(LEADS)
            ],
        )
    for n in range(OPERATORS):
        add_operator(store, f"op{n}", f"Local/op{n}@sim-operators/n", ["failover"])
        ready(store, f"op{n}")
    return cid


def count(store: Engine, node: str) -> int:
    a = ATTEMPT_TABLE.c
    with store.connect() as conn:
        return int(conn.scalar(select(func.count()).where(a.node == node)) or 0)


def first_start(store: Engine, node: str) -> float | None:
    a = ATTEMPT_TABLE.c
    with store.connect() as conn:
        found = conn.scalar(select(func.min(a.started_at)).where(a.node == node))
    return None if found is None else found.replace(tzinfo=UTC).timestamp()


def spawn(node: str, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIALER_DB": url, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    return subprocess.Popen([sys.executable, __file__, "--node", node], env=env, cwd=ROOT)


def one_run(url: str) -> dict[str, Any]:
    store = open_store(url)
    try:
        cid = prepare(store)
        a = spawn("node-a", url)
        until = time.time() + 60
        while count(store, "node-a") < 20:
            if time.time() > until:
                raise SystemExit("node-a placed no calls")
            time.sleep(0.05)
        b = spawn("node-b", url)
        time.sleep(3.0)  # node B up and waiting for the campaign
        assert count(store, "node-b") == 0, "node B dialed a campaign node A held"
        killed_at = time.time()
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        first = None
        while first is None and time.time() < killed_at + 60:
            first = first_start(store, "node-b")
            time.sleep(0.02)
        b.send_signal(signal.SIGINT)
        b.wait(60)
        return {"failover s": None if first is None else first - killed_at, **check(store, cid)}
    finally:
        store.dispose()


def check(store: Engine, campaign_id: int) -> dict[str, Any]:
    from sqlalchemy import text

    with store.connect() as conn:
        twice = conn.scalar(
            text(
                "SELECT count(*) FROM call_attempt x JOIN call_attempt y ON x.lead_id = y.lead_id"
                " AND x.id < y.id AND x.started_at < coalesce(y.ended_at, now())"
                " AND y.started_at < coalesce(x.ended_at, now()) WHERE x.campaign_id = :c"
            ),
            {"c": campaign_id},
        )
        open_a = conn.scalar(
            text("SELECT count(*) FROM call_attempt WHERE node = 'node-a' AND ended_at IS NULL")
        )
    return {"leads dialed twice at once": int(twice or 0), "node-a attempts left open": int(open_a or 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.node:
        node_main(args.node)
        return
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    results = []
    with postgres(args.pg_url) as make_db:
        for i in range(args.runs):
            row = one_run(make_db(f"failover{i}"))
            print(row, flush=True)
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

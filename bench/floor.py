"""A simulated floor: 1,000 operators on four engine processes and one PostgreSQL of 10M leads.

    python bench/floor.py [--leads 10000000] [--nodes 4] [--operators 1000]
                          [--seconds 150] [--talk 10] [--pg-url URL] [--json FILE]

The store holds ``--leads`` leads split evenly over two campaigns per node, generated
as ``bench/claims.py`` does: one campaign just started (every lead fresh) and one 90%
dialed (retries waiting, a few due, the last tenth fresh). Each
node process dials its own two campaigns (one campaign runs on one node) with a
``DialEngine`` over ``SimTelephony``, the in-memory phone system: ratio mode, 2 lines
per ready operator, 100 originates a second at most per campaign, customers answering,
busy, not answering and so on by their number's last digit, operators talking
``--talk`` seconds with no wrap-up. The operators are split evenly over the campaigns.

Measured over the run after the first ``SETTLE_S`` seconds: attempts started a second
(the attempt rows' ``started_at``), the CPU seconds of every PostgreSQL process (the
postmaster and its children: backends, WAL writer, checkpointer, autovacuum; utime +
stime from /proc, read at both ends) and of each engine process, and the machine's
load average. The database's CPU per attempt is its CPU over the attempts; one core
would carry 1 s / that many attempts a second. At the end: no lead had two attempts
at once. PostgreSQL is a throwaway cluster on 127.0.0.1 (``tests/postgres_fixtures.py``:
fsync off) unless ``--pg-url`` names an empty database.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _engine_setup import process_cpu_s
from claims import fill_campaigns, postgres
from sqlalchemy import text, update
from sqlalchemy.engine import Engine

from campaigns.models import Campaign
from campaigns.store import open_store
from dialer.services.operators import add_operator, ready

ROOT = Path(__file__).resolve().parent.parent
SETTLE_S = 20.0
PER_NODE = 2  # campaigns a node dials: one early, one late


def node_main(node: str, campaigns: list[str], seconds: float, talk: float) -> None:
    """One engine process: dial its campaigns for ``seconds``."""
    from dialer.engine.loop import DialEngine, EngineSettings
    from dialer.sim.telephony import SimTelephony

    store = open_store(os.environ["DIALER_DB"])
    settings = EngineSettings(node_id=node, shutdown_deadline_s=5.0)
    engine = DialEngine(store, SimTelephony(talk_s=talk), settings, campaigns=campaigns)

    async def go() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(seconds, engine.stop)
        loop.add_signal_handler(signal.SIGINT, engine.stop)
        await engine.run()

    asyncio.run(go())
    store.dispose()


def prepare(store: Engine, names: list[str], operators: int) -> None:
    """Every campaign dialable all day on the simulated phone system, its share of operators ready."""
    for place, name in enumerate(names):
        with store.begin() as conn:
            conn.execute(
                update(Campaign)
                .where(Campaign.name == name)  # type: ignore[arg-type]
                .values(
                    mode="ratio",
                    ratio=2.0,
                    abandon_cap=1.0,  # a load test: no abandon guard holding the rate back
                    queue=f"q-{name}",
                    dial_template="Local/{number}@sim-customers",
                    calling_window="00:00-23:59",
                    originate_rate=100.0,
                    max_channels=400,
                    ring_timeout_s=5,
                    max_attempts=10,
                )
            )
        for n in range(place, operators, len(names)):
            add_operator(store, f"op{n}", f"Local/op{n}@sim-operators/n", [name])
            ready(store, f"op{n}")


def postgres_cpu_s(store: Engine) -> float:
    """CPU seconds so far of the server's postmaster and every process it started (Linux /proc)."""
    with store.connect() as conn:
        backend = int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)
    postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    total = process_cpu_s(postmaster)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += process_cpu_s(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # a process that ended in between
    return total


def attempts_between(store: Engine, since: datetime, until: datetime) -> int:
    with store.connect() as conn:
        found = conn.scalar(
            text("SELECT count(*) FROM call_attempt WHERE started_at >= :s AND started_at < :u"),
            {"s": since, "u": until},
        )
    return int(found or 0)


def dialed_twice(store: Engine) -> int:
    """Pairs of attempts of one lead that overlapped in time."""
    with store.connect() as conn:
        found = conn.scalar(
            text(
                "SELECT count(*) FROM call_attempt x JOIN call_attempt y ON x.lead_id = y.lead_id"
                " AND x.id < y.id AND x.started_at < coalesce(y.ended_at, now())"
                " AND y.started_at < coalesce(x.ended_at, now())"
            )
        )
    return int(found or 0)


def spawn(url: str, node: str, names: list[str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIALER_DB": url, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    command = [sys.executable, __file__, "--node", node, "--campaigns", ",".join(names)]
    command += ["--seconds", str(args.seconds), "--talk", str(args.talk)]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def floor(url: str, args: argparse.Namespace) -> dict[str, Any]:
    store = open_store(url)
    try:
        layout = [(f"n{n}-{kind}", kind == "late") for n in range(args.nodes) for kind in ("early", "late")]
        generated = fill_campaigns(store, layout, args.leads // len(layout), datetime.now(UTC))
        print(f"{args.leads:,} leads generated in {generated:.0f} s", flush=True)
        names = [name for name, _late in layout]
        prepare(store, names, args.operators)
        started = datetime.now(UTC)
        nodes = [
            spawn(url, f"floor-{n}", names[n * PER_NODE : (n + 1) * PER_NODE], args)
            for n in range(args.nodes)
        ]
        time.sleep(SETTLE_S)
        since, load_start = datetime.now(UTC), os.getloadavg()
        db0, engines0 = postgres_cpu_s(store), [process_cpu_s(p.pid) for p in nodes]
        time.sleep(args.seconds - SETTLE_S - 5.0)  # stop measuring before the nodes stop
        until, load_end = datetime.now(UTC), os.getloadavg()
        db1, engines1 = postgres_cpu_s(store), [process_cpu_s(p.pid) for p in nodes]
        for node in nodes:
            node.wait(120)
        window = (until - since).total_seconds()
        attempts = attempts_between(store, since, until)
        db_ms = (db1 - db0) * 1000 / max(attempts, 1)
        return {
            "leads": args.leads,
            "nodes": args.nodes,
            "operators": args.operators,
            "talk s": args.talk,
            "started": started.isoformat(timespec="seconds"),
            "window s": round(window, 1),
            "attempts": attempts,
            "attempts per s": attempts / window,
            "database cpu s": db1 - db0,
            "database cores busy": (db1 - db0) / window,
            "database cpu ms per attempt": db_ms,
            "attempts per s one database core carries": 1000 / db_ms if db_ms else None,
            "engine cores busy": [(b - a) / window for a, b in zip(engines0, engines1, strict=True)],
            "load average at start, end": [load_start[0], load_end[0]],
            "attempts in the whole run": attempts_between(store, started, datetime.now(UTC)),
            "leads dialed twice at once": dialed_twice(store),
        }
    finally:
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--campaigns", default="", help=argparse.SUPPRESS)
    parser.add_argument("--leads", type=int, default=10_000_000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--operators", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=150.0, help="how long the nodes dial")
    parser.add_argument("--talk", type=float, default=10.0, help="seconds an operator talks")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.node:
        node_main(args.node, args.campaigns.split(","), args.seconds, args.talk)
        return
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with postgres(args.pg_url) as make_db:
        row = floor(make_db("floor"), args)
    print(json.dumps(row, indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

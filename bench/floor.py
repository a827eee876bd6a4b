"""A simulated floor: 1,000 operators on four engine processes and one PostgreSQL of 10M leads.

    python bench/floor.py [--leads 10000000] [--nodes 4] [--operators 1000]
                          [--seconds 150] [--talk 10] [--slice 60] [--full-page-writes]
                          [--pg-url URL] [--json FILE]

The store holds ``--leads`` leads split evenly over two campaigns per node, generated
as ``bench/claims.py`` does: one campaign just started (every lead fresh) and one 90%
dialed (retries waiting, a few due, the last tenth fresh). Each
node process dials its own two campaigns (one campaign runs on one node) with a
``DialEngine`` over ``SimTelephony``, the in-memory phone system: ratio mode, 2 lines
per ready operator, 100 originates a second at most per campaign, customers answering,
busy, not answering and so on by their number's last digit, operators talking
``--talk`` seconds with no wrap-up. The operators are split evenly over the campaigns.

Measured over the run after the first ``SETTLE_S`` seconds, whole and in ``--slice``
second slices (the settling is a slice of its own): attempts started a second (the
attempt rows' ``started_at``), the CPU seconds of every PostgreSQL process by what it
was doing, the checkpoints, autovacuums and WAL of each slice (``bench/_floor_watch.py``:
/proc and the server's statistics, read every second through a connection of its own,
whose cost is left out), each engine process's CPU and the machine's load average.
The database's CPU per attempt is its CPU over the attempts; one core would carry
1 s / that many attempts a second. From the start, every second until each late
campaign has fewer than a claim's window of them: the due retries no claim has marked
yet (``dialer.store.claims``), and the server log's checkpoint and autovacuum entries
(every autovacuum logged). At the end: no lead had two attempts at once. PostgreSQL is
a throwaway cluster on 127.0.0.1 (``tests/postgres_fixtures.py``: fsync and full-page
writes off, ``--full-page-writes`` turns the latter on after the leads are generated)
unless ``--pg-url`` names an empty database.
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
from _floor_watch import (
    TICK_S,
    Watch,
    between,
    database_cpu_s,
    headline,
    log_entries,
    log_events,
    log_path,
    log_size,
    tune,
    unmarked_due,
)
from claims import fill_campaigns, postgres
from sqlalchemy import text, update
from sqlalchemy.engine import Engine

from campaigns.models import Campaign
from campaigns.store import open_store
from dialer.services.operators import add_operator, ready
from dialer.store.claims import PROMOTE_WINDOW

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
                    calling_window="00:00-24:00",
                    originate_rate=100.0,
                    max_channels=400,
                    ring_timeout_s=5,
                    max_attempts=10,
                )
            )
        for n in range(place, operators, len(names)):
            add_operator(store, f"op{n}", f"Local/op{n}@sim-operators/n", [name])
            ready(store, f"op{n}")


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


class Run:
    """The watcher's readings while the nodes dial: a snapshot at every slice boundary, the claim drain."""

    def __init__(self, watch: Watch, nodes: list[subprocess.Popen[bytes]], late: list[int]) -> None:
        self.watch, self.nodes, self.late = watch, nodes, late
        self.marks: list[tuple[datetime, dict[str, Any]]] = []
        self.drain: list[tuple[float, dict[int, int]]] = []

    def mark(self) -> None:
        state = self.watch.snapshot()
        state["engines"] = [process_cpu_s(p.pid) for p in self.nodes]
        state["load"] = os.getloadavg()[0]
        self.marks.append((datetime.now(UTC), state))

    def follow(self, started: float, bounds: list[float]) -> None:
        """Tick until the last boundary; the unmarked due retries each tick until all drop below a window."""
        for bound in bounds:
            while (now := time.monotonic()) < bound:
                self.watch.tick()
                if self.late and (not self.drain or max(self.drain[-1][1].values()) >= PROMOTE_WINDOW):
                    self.drain.append((now - started, unmarked_due(self.watch.conn, self.late)))
                time.sleep(max(0.0, min(TICK_S, bound - time.monotonic())))
            self.watch.tick()
            self.mark()


def slice_row(store: Engine, run: Run, first: int, last: int, origin: datetime) -> dict[str, Any]:
    """One slice between two snapshots: attempts, the database's CPU by process, its events."""
    (since, before), (until, after) = run.marks[first], run.marks[last]
    seconds = (until - since).total_seconds()
    attempts = attempts_between(store, since, until)
    change = between(before, after)
    cpu = database_cpu_s(change)
    return {
        "from s": round((since - origin).total_seconds(), 1),
        "seconds": round(seconds, 1),
        "attempts": attempts,
        "attempts per s": attempts / seconds,
        "database cpu s": cpu,
        "database cores busy": cpu / seconds,
        "database cpu ms per attempt": cpu * 1000 / max(attempts, 1),
        "engine cores busy": [
            (b - a) / seconds for a, b in zip(before["engines"], after["engines"], strict=True)
        ],
        "load average at start, end": [before["load"], after["load"]],
        **change,
    }


def drain_summary(run: Run) -> dict[str, Any]:
    """The late campaigns' unmarked due retries from the start, and when each fell below a claim's window."""
    caught: dict[int, float | None] = dict.fromkeys(run.late)
    for at, counts in run.drain:
        for cid, count in counts.items():
            if caught[cid] is None and count < PROMOTE_WINDOW:
                caught[cid] = round(at, 1)
    return {
        "promote window": PROMOTE_WINDOW,
        "seconds to below the window, by campaign id": caught,
        "samples (s, {campaign id: unmarked due})": [(round(at, 1), counts) for at, counts in run.drain],
    }


def dial(store: Engine, url: str, names: list[str], late: list[int], args: argparse.Namespace) -> Run:
    """Start the nodes and watch them: one snapshot at the start, after the settling, then every slice."""
    conn = store.connect().execution_options(isolation_level="AUTOCOMMIT")
    watch = Watch(conn)
    watch.start()
    measured = args.seconds - SETTLE_S - 5.0  # stop measuring before the nodes stop
    slices = max(1, int(measured // args.slice))
    nodes = [
        spawn(url, f"floor-{n}", names[n * PER_NODE : (n + 1) * PER_NODE], args) for n in range(args.nodes)
    ]
    run = Run(watch, nodes, late)
    started = time.monotonic()
    run.drain.append((0.0, unmarked_due(conn, late)))
    run.mark()
    bounds = [started + SETTLE_S + k * measured / slices for k in range(slices + 1)]
    try:
        run.follow(started, bounds)
        for node in nodes:
            node.wait(120)
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
        conn.close()
    return run


def floor(url: str, args: argparse.Namespace) -> dict[str, Any]:
    store = open_store(url)
    try:
        layout = [(f"n{n}-{kind}", kind == "late") for n in range(args.nodes) for kind in ("early", "late")]
        generated = fill_campaigns(store, layout, args.leads // len(layout), datetime.now(UTC))
        print(f"{args.leads:,} leads generated in {generated:.0f} s", flush=True)
        names = [name for name, _late in layout]
        late = [place + 1 for place, (_name, is_late) in enumerate(layout) if is_late]
        prepare(store, names, args.operators)
        log = Path("/nonexistent")
        if args.pg_url is None:  # the throwaway cluster: ours to configure, its log beside its data
            with store.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                tune(conn, args.full_page_writes)
                log = log_path(conn)
        offset = log_size(log)
        run = dial(store, url, names, late, args)
        origin = run.marks[0][0]
        events = log_events(log_entries(log, offset), origin)
        slices = [slice_row(store, run, k, k + 1, origin) for k in range(len(run.marks) - 1)]
        for part in slices:
            start, end = part["from s"], part["from s"] + part["seconds"]
            part["server log"] = [
                headline(e["entry"]) for e in events if e["at s"] is not None and start <= e["at s"] < end
            ]
        whole = slice_row(store, run, 1, len(run.marks) - 1, origin)
        return {
            "leads": args.leads,
            "nodes": args.nodes,
            "operators": args.operators,
            "talk s": args.talk,
            "full page writes": args.full_page_writes or None,
            "leads generated in s": round(generated, 1),
            "started": origin.isoformat(timespec="seconds"),
            "after the settling": whole,
            "attempts per s one database core carries": 1000 / whole["database cpu ms per attempt"],
            "slices": slices,
            "claim drain": drain_summary(run),
            "server log": events,
            "attempts in the whole run": attempts_between(store, origin, datetime.now(UTC)),
            "leads dialed twice at once": dialed_twice(store),
        }
    finally:
        store.dispose()


def table(row: dict[str, Any]) -> str:
    """The slices as a Markdown table."""
    lines = [
        "| from s | attempts/s | DB cores | DB ms/attempt | checkpoint s | autovacuum s | WAL kB/attempt"
        " | server log |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for part in row["slices"]:
        busy = part["busy ticks"]
        vacuum = sum(v for name, v in busy.items() if name.startswith("autovacuum worker"))
        done = "; ".join(part["server log"])
        wal = part["wal bytes"] / 1000 / max(part["attempts"], 1)
        lines.append(
            f"| {part['from s']:.0f} | {part['attempts per s']:.1f} | {part['database cores busy']:.3f}"
            f" | {part['database cpu ms per attempt']:.2f} | {busy.get('checkpoint', 0):g} | {vacuum:g}"
            f" | {wal:.1f} | {done} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--campaigns", default="", help=argparse.SUPPRESS)
    parser.add_argument("--leads", type=int, default=10_000_000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--operators", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=150.0, help="how long the nodes dial")
    parser.add_argument("--talk", type=float, default=10.0, help="seconds an operator talks")
    parser.add_argument("--slice", type=float, default=60.0, help="seconds per reported slice")
    parser.add_argument(
        "--full-page-writes", action="store_true", help="turn the cluster's on (fixture: off)"
    )
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
    print(table(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

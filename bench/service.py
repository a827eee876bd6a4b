"""``dialer serve`` benchmark on the real (sandbox) Asterisk: hand-off with and without a big
drop-folder import running, in one run.

    python bench/service.py [--calls 30] [--operators 40] [--leads 400] [--import-rows 1000000]
                            [--store sqlite|postgresql] [--markdown FILE]

Each hand-off phase has its own store and its own ``Service`` (engine + scheduler, no HTTP):
every customer answers, so ``--calls`` answered calls meet the queue at once, as in
``bench/engine.py``. Hand-off = ``answered_at`` -> ``connected_at`` of each attempt as recorded.
In the second phase a CSV of ``--import-rows`` leads for another campaign is moved into that
campaign's drop folder as the calls start; the service imports it on a worker thread while the
engine dials. The import's own start and end come from its ``job_run`` row. ``--store postgresql``
runs both phases on a throwaway local PostgreSQL cluster (the test suite's, ``fsync`` off).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _engine_setup import (
    add_ready_operators,
    attempt_rows,
    import_numbers,
    make_campaign,
    median,
    noon_zone,
    numbers,
    observed_ready,
    open_bench_store,
    percentile,
)
from sqlalchemy.engine import Engine

from campaigns.store import open_store
from dialer.ami.client import AmiTelephony
from dialer.core.clock import to_ts
from dialer.engine.loop import EngineSettings
from dialer.pbx.sandbox import Sandbox, SimTuning
from dialer.service import runs
from dialer.service.jobs import source_job_id
from dialer.service.serve import ServeSettings, Service
from lists.sources import add_source


@dataclass
class Phase:
    name: str
    gaps: list[float]
    attempts: int
    import_s: float | None  # the import's run, from its job_run row
    overlap: bool  # did the import run while calls were being handed off?
    wall_s: float


def write_big_csv(path: Path, rows: int) -> None:
    zone = noon_zone()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["phone", "timezone", "name", "city"])
        for i in range(rows):
            writer.writerow([f"+7916{i:07d}", zone, f"Lead {i}", "Москва"])


async def phase(
    box: Sandbox, store: Engine, workdir: Path, args: argparse.Namespace, big: Path | None
) -> Phase:
    name = "with-import" if big else "plain"
    cid = make_campaign(
        store, "handoff", "bench-handoff", max_channels=args.calls, originate_rate=float(args.calls)
    )
    make_campaign(store, "bulk", "bench-rate")
    folder = workdir / f"drop-{name}"
    folder.mkdir()
    # Looked at every 2 s: on a quiet machine the first look can come before the file is moved in.
    source = add_source(store, "bulk", folder, "*.csv", "2s")
    operators = add_ready_operators(store, "handoff", args.operators, prefix="op1")
    phones = numbers([i % 5 for i in range(args.leads)], rings=[1, 2, 3, 4, 5])
    telephony = await AmiTelephony.connect(box)
    settings = ServeSettings(
        engine=EngineSettings(node_id=f"bench-{name}"), http=None, sync_s=0.5, settle_s=0.5
    )
    service = Service(store, telephony, settings)
    started = time.monotonic()
    try:
        run = asyncio.create_task(service.run())
        deadline = time.monotonic() + 60
        while observed_ready(store, operators) < len(operators):
            if time.monotonic() > deadline:
                raise TimeoutError("operators not ready")
            await asyncio.sleep(0.05)
        if big is not None:
            big.replace(folder / big.name)  # one rename: the file appears whole
        import_numbers(store, "handoff", phones, workdir)
        deadline = time.monotonic() + 300
        while sum(service.engine.outcomes.values()) < len(phones) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        calls_end = datetime.now(UTC)
        deadline = time.monotonic() + 900  # the import may outlast the calls on a loaded machine
        if big is not None:
            while not (folder / "done" / big.name).exists() and not (folder / "failed").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the import did not finish")
                await asyncio.sleep(0.2)
        service.stop()
        await asyncio.wait_for(run, 120)
    finally:
        service.stop()
        await telephony.close()
    rows = attempt_rows(store, cid)
    gaps = [
        to_ts(r.connected_at) - to_ts(r.answered_at)
        for r in rows
        if r.answered_at is not None and r.connected_at
    ]
    import_s, overlap = None, False
    done = runs.runs_of(store, source_job_id(source.id))
    if big is not None and done and done[-1].finished_at is not None:
        start = done[-1].started_at.replace(tzinfo=UTC)
        end = done[-1].finished_at.replace(tzinfo=UTC)
        import_s = (end - start).total_seconds()
        first_call = min(r.started_at for r in rows).replace(tzinfo=UTC)
        overlap = start < calls_end and end > first_call
    return Phase(name, gaps, len(rows), import_s, overlap, time.monotonic() - started)


def start_postgres() -> tuple[Any, Any]:
    """A throwaway cluster, started as the test suite starts its own."""
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from sqlalchemy import URL, create_engine
    from sqlalchemy.pool import NullPool

    from tests.postgres_fixtures import _USER, PostgresCluster, _Server, find_server_bindir

    bindir = find_server_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server found: run scripts/install-postgres.sh")
    server = _Server(bindir)
    server.initdb()
    port = server.start()
    url = URL.create(
        "postgresql+psycopg",
        username=_USER,
        password=server.password,
        host="127.0.0.1",
        port=port,
        database="postgres",
    )
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    return server, PostgresCluster(port, server.password, admin)


def ms(value: float) -> str:
    return f"{1000 * value:.0f} ms"


def summary(values: Sequence[float], op: float) -> str:
    if not values:
        return "no connected calls"
    return (
        f"p50 {ms(median(values))}, p99 {ms(percentile(values, 99))}, max {ms(max(values))};"
        f" p99 over the {op:g} s answer delay: {ms(percentile(values, 99) - op)}"
    )


async def main_async(args: argparse.Namespace) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="dialer-bench-service-"))
    handler = logging.FileHandler(workdir / "service.log")
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    sim = SimTuning(impatient_s=1.0, op_answer_s=args.op_answer, talk_s=args.talk)
    big = workdir / "bulk.csv"
    write_big_csv(big, args.import_rows)
    results = []
    cluster = start_postgres() if args.store == "postgresql" else None
    try:
        with Sandbox(["bench-handoff", "bench-rate"], sim=sim) as box:
            for with_import in (False, True):
                label = "with" if with_import else "plain"
                if cluster is None:
                    store = open_bench_store(workdir, label)
                else:
                    store = open_store(cluster[1].create_database(f"bench_{label}"))
                results.append(await phase(box, store, workdir, args, big if with_import else None))
                store.dispose()
                print(f"{results[-1].name}: {summary(results[-1].gaps, args.op_answer)}", file=sys.stderr)
    finally:
        if cluster is not None:
            cluster[1].admin.dispose()
            cluster[0].stop()
    lines = [
        f"hand-off under `dialer serve`, {args.calls} calls at once, {args.leads} leads, "
        f"{args.operators} operators, operator answer delay {args.op_answer:g} s, store {args.store};"
        f" import: {args.import_rows:,} rows",
        "",
        "| phase | attempts | hand-off | import run | import overlapped the calls |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        imp = "-" if r.import_s is None else f"{r.import_s:.1f} s"
        lines.append(f"| {r.name} | {r.attempts} | {summary(r.gaps, args.op_answer)} | {imp} | {r.overlap} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--operators", type=int, default=40)
    parser.add_argument("--leads", type=int, default=400)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--op-answer", type=float, default=0.3)
    parser.add_argument("--talk", type=float, default=1.0)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--markdown", type=Path)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    text = asyncio.run(main_async(args))
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

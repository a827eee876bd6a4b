"""Screen-pop latency: from the engine's receipt of Asterisk's AgentConnect to the lead on the page.

Runs a real sandbox Asterisk, `dialer run` and `dialer console` as separate processes on one
SQLite store, and one headless Chromium page per operator (Debian's chromium, through Playwright).
Every operator logs in and goes ready; then the leads arrive and every customer answers. For each
connected call the latency is the page's wall clock when the new lead was put in the DOM
(``performance.timeOrigin + performance.now()``) minus the attempt's ``connected_at``, which the
engine takes from its clock when the AgentConnect event arrives over AMI. Same host, same clock.

The pop is also split into its parts, each a difference of two clocks on this host: ``write``
(AgentConnect to the connection's ``console_event`` row, its ``at``), ``feed`` (that row to the
moment the operator's event stream was woken by the console's hub), ``render`` (the stream reading
the screen from the store and rendering it, until sent), ``deliver`` (sent to received by the page's
EventSource) and ``draw`` (received to the lead put in the DOM). With them, the engine's CPU per
attempt while the console serves the pages: the ``dialer run`` process's user + system CPU from the
leads' import until every call ended, over the attempts (all connected: every customer answers).

Wall-clock figures grow with whatever else the machine runs, so two figures that do not are given
too: ``render_cpu_ms``, the CPU time the console's thread spent reading and rendering each pop (its
``thread_time``, sent with the pop), and ``console_cpu_ms_per_call``, the console process's user +
system CPU over the same span as the engine's, over the connected calls (every page's every
update included). The load average before and after the run is recorded with them.

``cpu_by_group`` accounts for the rest of the host over the same span (``bench/_cpu_groups.py``):
the sandbox Asterisk, every Chromium process by type (browser, renderers, GPU, utility), the
Playwright driver, the benchmark itself, the whole machine (``/proc/stat``) and ``other`` (the
machine's CPU outside these: other users' work). Per connected call over the span; per second for
``IDLE_S`` before the leads come (every page ready, no call: the pages' and services' idle work);
and per second in the three busiest seconds of the span (sampled every 0.1 s), with the number of
calls connected in each.

    python -m bench.console_pop --operators 50 --calls 100 [--postgres]

Chromium runs as an operator's browser would: unable to raise its own threads' priority. As root
(as here), Chromium puts its compositor and I/O threads at nice -8, ahead of the console, the engine
and Asterisk; an operator's browser, an ordinary user's process, cannot. So the pages' Chromium
starts without ``CAP_SYS_NICE`` (``setpriv``; its threads stay at the services' priority, nice 0).
``--browser-may-raise-priority`` keeps the capability, as the runs before this change did.

``--split-cpus`` puts Asterisk, the console, the engine and the bench on CPU 0 and the pages'
Chromium on CPU 1, so that the load (the 50 browsers, which an operator's own PC would run) does
not take the CPU of what it measures; ``docs/benchmarks.md`` judges the target on this set-up.

``--postgres`` runs the same on a throwaway PostgreSQL cluster (the test suite's helpers;
``scripts/install-postgres.sh`` installs the server), where NOTIFY wakes the console at once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from itertools import pairwise
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from sqlmodel import Session, col, select

from bench._cpu_groups import CpuGroups
from bench._engine_setup import make_campaign, noon_zone, percentile
from campaigns.models import CallAttempt, ConsoleEvent
from campaigns.store import open_store
from dialer.pbx.sandbox import Sandbox, SimTuning, free_port
from dialer.services.accounts import add_user
from dialer.services.operators import add_operator
from lists.importer import ImportRequest, import_leads

DIALER = Path(sys.executable).with_name("dialer")
PASSWORD = "bench-password-1"
RESULTS = Path(__file__).parent / "results"
IDLE_S = 5.0  # the pages' idle CPU is measured this long, every page ready, before the leads come
CHROMIUM = "/usr/bin/chromium"


def _chromium(workdir: Path, may_raise_priority: bool, browser_cpu: int | None) -> str:
    """The browser to launch: Chromium itself, or a script that starts it without ``CAP_SYS_NICE``
    and/or on one CPU (``browser_cpu``)."""
    prefix = [] if may_raise_priority else ["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice"]
    if browser_cpu is not None:
        prefix += ["taskset", "-c", str(browser_cpu)]
    if not prefix:
        return CHROMIUM
    script = workdir / "chromium-wrapped"
    script.write_text(f'#!/bin/sh\nexec {" ".join(prefix)} {CHROMIUM} "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def _wait_http(url: str, timeout: float = 30) -> None:
    until = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > until:
                raise
            time.sleep(0.2)


def _setup(db_url: str, workdir: Path, operators: int, box: Sandbox) -> list[str]:
    store = open_store(db_url)
    make_campaign(
        store,
        "pop",
        "qpop",
        max_channels=operators * 2,
        originate_rate=20.0,
        safe_harbour_sound=box.safe_harbour_sound,
    )
    names = []
    for i in range(operators):
        name = f"op{101 + i}"
        add_operator(store, name, f"Local/{name}@sim-operators/n", ["pop"])
        add_user(store, f"user{101 + i}", "operator", PASSWORD, operator=name, language="en")
        names.append(name)
    store.dispose()
    return names


def _leads(path: Path, calls: int) -> None:
    zone = noon_zone()
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "timezone", "name", "city"])
        for i in range(calls):
            writer.writerow([f"+7901{i:05d}10", zone, f"Lead {i}", "Kazan"])


def _log_in(browser: Any, url: str, user: str) -> Any:
    page = browser.new_context().new_page()
    page.set_default_timeout(60_000)
    page.goto(url + "/login")
    page.fill("#name", user)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")
    page.click("#go-ready")
    return page


def _import(db_url: str, path: Path) -> None:
    """The leads, through the importer ``dialer lists import`` runs, in this process: the command's
    own start-up (about 2 s of CPU, an interpreter and its imports) would share the cores with the
    first pops; the engine sees the same rows either way."""
    store = open_store(db_url)
    summary = import_leads(store, ImportRequest(path=path, campaign="pop", mapping={"timezone": "timezone"}))
    store.dispose()
    if not summary.imported:
        raise RuntimeError(f"no lead imported: {summary}")


def _wait_calls_ended(db_url: str, calls: int, timeout: float) -> None:
    store = open_store(db_url)
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        with Session(store) as session:
            ended = session.exec(select(CallAttempt).where(col(CallAttempt.ended_at).is_not(None))).all()
        if len(ended) >= calls:
            break
        time.sleep(1.0)
    store.dispose()
    time.sleep(2.0)


def _browse(
    url: str,
    env: dict[str, str],
    workdir: Path,
    operators: int,
    calls: int,
    talk_s: float,
    fixed: dict[int, str],
    chromium: str,
) -> tuple[dict[str, list[float]], CpuGroups, CpuGroups]:
    """Log every operator in, make them ready, feed the leads; each attempt's pop time (epoch s), the
    CPU by group of processes for ``IDLE_S`` with every page ready before the leads, and from the
    import of the leads until the calls ended (``bench._cpu_groups``; ``fixed`` names pids)."""
    pops: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        pages = [_log_in(browser, url, f"user{101 + i}") for i in range(operators)]
        for page in pages:
            page.wait_for_selector("#observed[data-state=ready]")
        _leads(workdir / "leads.csv", calls)
        idle = CpuGroups(os.getpid(), fixed).start()
        time.sleep(IDLE_S)
        idle.stop()
        span = CpuGroups(os.getpid(), fixed).start()
        _import(env["DIALER_DB"], workdir / "leads.csv")
        _wait_calls_ended(env["DIALER_DB"], calls, 60 + calls * (talk_s + 2) / max(1, operators) * 2)
        span.stop()
        for page in pages:
            for attempt, drawn_ms, woke, sent, received_ms, *rest in json.loads(
                page.get_attribute("body", "data-pops") or "[]"
            ):
                render_cpu_ms = rest[0] if rest and rest[0] is not None else float("nan")
                pops.setdefault(attempt, [drawn_ms / 1000.0, woke, sent, received_ms / 1000.0, render_cpu_ms])
        browser.close()
    return pops, idle, span


def _aware_ts(value: Any) -> float:
    return float((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


def _summary(db_url: str, operators: int, pops: dict[str, list[float]]) -> dict[str, Any]:
    store = open_store(db_url)
    with Session(store) as session:
        rows = session.exec(select(CallAttempt).where(col(CallAttempt.connected_at).is_not(None))).all()
        written = {
            e.attempt_id: _aware_ts(e.at)
            for e in session.exec(select(ConsoleEvent).where(ConsoleEvent.kind == "connected")).all()
        }
    store.dispose()
    parts: dict[str, list[float]] = {k: [] for k in ("total", "write", "feed", "render", "deliver", "draw")}
    render_cpu: list[float] = []
    for row in rows:
        if row.id not in pops or row.id not in written or row.connected_at is None:
            continue
        drawn, woke, sent, received, render_cpu_ms = pops[row.id]
        if render_cpu_ms == render_cpu_ms:  # not NaN
            render_cpu.append(render_cpu_ms)
        marks = [_aware_ts(row.connected_at), written[row.id], woke, sent, received, drawn]
        parts["total"].append((drawn - marks[0]) * 1000.0)
        for name, (a, b) in zip(list(parts)[1:], pairwise(marks), strict=True):
            parts[name].append((b - a) * 1000.0)
    latencies = parts["total"]
    figures = {f"p{q}_ms": round(percentile(latencies, q), 1) if latencies else None for q in (50, 95, 99)}
    breakdown = {
        name: {f"p{q}": round(percentile(values, q), 1) for q in (50, 99)} if values else None
        for name, values in parts.items()
        if name != "total"
    }
    return {
        "operators": operators,
        "calls_connected": len(rows),
        "pops_seen": len(latencies),
        **figures,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "min_ms": round(min(latencies), 1) if latencies else None,
        "parts_ms": breakdown,
        "render_cpu_ms": {f"p{q}": round(percentile(render_cpu, q), 2) for q in (50, 99)}
        if render_cpu
        else None,
        "connected_at": sorted(_aware_ts(row.connected_at) for row in rows if row.connected_at is not None),
    }


@contextmanager
def _store_url(workdir: Path, use_postgres: bool) -> Iterator[str]:
    """A SQLite file in ``workdir``, or an empty database on a throwaway PostgreSQL cluster."""
    if not use_postgres:
        yield f"sqlite:///{workdir / 'pop.db'}"
        return
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
        yield PostgresCluster(port, server.password, admin).create_database("console_pop")
        admin.dispose()
    finally:
        server.stop()


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(
    operators: int,
    calls: int,
    talk_s: float,
    use_postgres: bool = False,
    may_raise: bool = False,
    split_cpus: bool = False,
) -> dict[str, Any]:
    if split_cpus:  # the services (and this process) on CPU 0, the browsers on CPU 1
        os.sched_setaffinity(0, {0})
    workdir = Path(tempfile.mkdtemp(prefix="console-pop-"))
    load_before = os.getloadavg()
    with _store_url(workdir, use_postgres) as db_url:
        box = Sandbox(["qpop"], sim=SimTuning(impatient_s=5.0, op_answer_s=0.3, talk_s=talk_s)).start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            _setup(db_url, workdir, operators, box)
            env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": box.ami_url}
            port = free_port()
            with open(workdir / "processes.log", "wb") as log:
                for command in (
                    ["console", "--port", str(port)],
                    ["run", "--campaign", "pop", "--node", "bench"],
                ):
                    procs.append(subprocess.Popen([str(DIALER), *command], env=env, stdout=log, stderr=log))
                _wait_http(f"http://127.0.0.1:{port}/login")
                assert box.pid is not None
                fixed = {procs[0].pid: "console", procs[1].pid: "engine", box.pid: "asterisk"}
                pops, idle, span = _browse(
                    f"http://127.0.0.1:{port}",
                    env,
                    workdir,
                    operators,
                    calls,
                    talk_s,
                    fixed,
                    _chromium(workdir, may_raise, 1 if split_cpus else None),
                )
        finally:
            _stop(procs)
            box.stop()
        summary = _summary(db_url, operators, pops)
    connected = max(1, summary["calls_connected"])
    by_call = span.report(connected, "call")
    return {
        "store": "postgresql" if use_postgres else "sqlite",
        "browser_may_raise_priority": may_raise,
        "split_cpus": split_cpus,
        **{k: v for k, v in summary.items() if k != "connected_at"},
        "engine_cpu_ms_per_attempt": by_call["cpu_ms_per_call"]["engine"],
        "console_cpu_ms_per_call": by_call["cpu_ms_per_call"]["console"],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_by_group": {
            "calls": by_call,
            "idle_before_calls": idle.report(idle.span_s, "s"),
            "busiest_seconds": span.busiest(marks=summary["connected_at"]),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", type=int, default=10)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--talk", type=float, default=2.0, help="seconds each simulated call lasts")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL store, not SQLite")
    parser.add_argument(
        "--browser-may-raise-priority",
        action="store_true",
        help="let Chromium (as root) raise its threads above the services, as before",
    )
    parser.add_argument(
        "--split-cpus",
        action="store_true",
        help="the services (and the bench) on CPU 0, the pages' Chromium on CPU 1",
    )
    args = parser.parse_args()
    if args.split_cpus and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("--split-cpus needs two CPUs")
    result = run(
        args.operators, args.calls, args.talk, args.postgres, args.browser_may_raise_priority, args.split_cpus
    )
    RESULTS.mkdir(exist_ok=True)
    name = "console_pop_postgres.json" if args.postgres else "console_pop.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

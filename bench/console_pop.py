"""Screen-pop latency: from the engine's receipt of Asterisk's AgentConnect to the lead on the page.

Runs a real sandbox Asterisk, `dialer run` and `dialer console` as separate processes on one
SQLite store, and one headless Chromium page per operator (Debian's chromium, through Playwright).
Every operator logs in and goes ready; then the leads arrive and every customer answers. For each
connected call the latency is the page's wall clock when the new lead was put in the DOM
(``performance.timeOrigin + performance.now()``) minus the attempt's ``connected_at``, which the
engine takes from its clock when the AgentConnect event arrives over AMI. Same host, same clock.

    python bench/console_pop.py --operators 10 --calls 60
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
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from sqlmodel import Session, col, select

from bench._engine_setup import make_campaign, noon_zone, percentile
from campaigns.models import CallAttempt
from campaigns.store import open_store
from dialer.pbx.sandbox import Sandbox, SimTuning, free_port
from dialer.services.accounts import add_user
from dialer.services.operators import add_operator

DIALER = Path(sys.executable).with_name("dialer")
PASSWORD = "bench-password-1"
RESULTS = Path(__file__).parent / "results"


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


def run(operators: int, calls: int, talk_s: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="console-pop-"))
    db_url = f"sqlite:///{workdir / 'pop.db'}"
    box = Sandbox(["qpop"], sim=SimTuning(impatient_s=5.0, op_answer_s=0.3, talk_s=talk_s)).start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        _setup(db_url, workdir, operators, box)
        env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": box.ami_url}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(workdir / "processes.log", "wb")  # noqa: SIM115
        procs.append(
            subprocess.Popen([str(DIALER), "console", "--port", str(port)], env=env, stdout=log, stderr=log)
        )
        procs.append(
            subprocess.Popen(
                [str(DIALER), "run", "--campaign", "pop", "--node", "bench"], env=env, stdout=log, stderr=log
            )
        )
        _wait_http(url + "/login")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            pages = [_log_in(browser, url, f"user{101 + i}") for i in range(operators)]
            for page in pages:
                page.wait_for_selector("#observed[data-state=ready]")
            _leads(workdir / "leads.csv", calls)
            subprocess.run(
                [
                    str(DIALER),
                    "lists",
                    "import",
                    str(workdir / "leads.csv"),
                    "--campaign",
                    "pop",
                    "--map",
                    "timezone=timezone",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            store = open_store(db_url)
            until = time.monotonic() + 60 + calls * (talk_s + 2) / max(1, operators) * 2
            while time.monotonic() < until:
                with Session(store) as session:
                    ended = session.exec(
                        select(CallAttempt).where(col(CallAttempt.ended_at).is_not(None))
                    ).all()
                if len(ended) >= calls:
                    break
                time.sleep(1.0)
            time.sleep(2.0)
            pops: dict[str, float] = {}
            for page in pages:
                for attempt, at_ms in json.loads(page.get_attribute("body", "data-pops") or "[]"):
                    pops.setdefault(attempt, at_ms / 1000.0)
            browser.close()
        with Session(store) as session:
            rows = session.exec(select(CallAttempt).where(col(CallAttempt.connected_at).is_not(None))).all()
        store.dispose()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        box.stop()
    latencies = []
    for row in rows:
        assert row.connected_at is not None
        connected = (
            row.connected_at.timestamp()
            if row.connected_at.tzinfo
            else row.connected_at.replace(tzinfo=__import__("datetime").UTC).timestamp()
        )
        if row.id in pops:
            latencies.append((pops[row.id] - connected) * 1000.0)
    return {
        "operators": operators,
        "calls_connected": len(rows),
        "pops_seen": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "min_ms": round(min(latencies), 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", type=int, default=10)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--talk", type=float, default=2.0, help="seconds each simulated call lasts")
    args = parser.parse_args()
    result = run(args.operators, args.calls, args.talk)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console_pop.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

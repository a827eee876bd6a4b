"""Console load: one `dialer console` process holding N logged-in operator sessions, each with its
event stream (SSE) open, while pops arrive at a steady rate.

The store is SQLite in a temporary folder. Every operator logs in over HTTP (argon2 check, session
cookie) and opens ``/events``. Then, for ``--seconds``, this process writes a connected call and its
``console_event`` row for a random operator ``--rate`` times a second, as the engine writes them.
Measured: the streams that stayed open, the pops each operator's stream delivered, the latency from
the event row's commit to the stream's message arriving here (one host, one clock), and the console
process's CPU (user + system, from /proc) and memory during the pop phase.

    python -m bench.console_load --sessions 200 --rate 5 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from bench._engine_setup import percentile, process_cpu_s
from campaigns.models import CallAttempt, Lead, utcnow
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import open_store, session_scope
from dialer.pbx.sandbox import free_port
from dialer.services.accounts import add_user
from dialer.services.operators import add_operator
from dialer.store import console_events

DIALER = Path(sys.executable).with_name("dialer")
PASSWORD = "bench-password-1"
RESULTS = Path(__file__).parent / "results"


def _setup(db_url: str, sessions: int) -> int:
    store = open_store(db_url)
    campaign = create_campaign(store, CampaignSpec.build("load", queue="qload"))
    assert campaign.id is not None
    for i in range(sessions):
        add_operator(store, f"op{1000 + i}", f"Local/op{1000 + i}@sim-operators/n", ["load"])
        add_user(store, f"user{1000 + i}", "operator", PASSWORD, operator=f"op{1000 + i}", language="en")
    store.dispose()
    return campaign.id


def _log_in(url: str, user: str) -> str:
    """The session cookie of a fresh login."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(url + "/login").read().decode()
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"name": user, "password": PASSWORD, "csrf": found.group(1)}).encode()
    opener.open(url + "/login", data=form).read()
    return next(c.value for c in jar if c.name == "dialer_session")


async def _stream(port: int, token: str, seen: dict[str, float], opened: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: dialer_session={token}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    try:
        while line := await reader.readline():
            if line.startswith(b"data: "):
                opened.set()
                attempt = json.loads(line[6:]).get("attempt") or ""
                if attempt:
                    seen.setdefault(attempt, time.time())
    finally:
        writer.close()


def _pop(store: Any, campaign_id: int, operator: str, n: int) -> tuple[str, float]:
    with session_scope(store) as session:
        lead = Lead(campaign_id=campaign_id, phone=f"+7902{n:07d}", data={"name": f"Lead {n}"})
        session.add(lead)
        session.flush()
        assert lead.id is not None
        attempt = CallAttempt(
            id=f"load{n}", campaign_id=campaign_id, lead_id=lead.id, phone=lead.phone, operator=operator
        )
        attempt.connected_at = utcnow()
        session.add(attempt)
        session.flush()
        console_events.write_events(session.connection(), [(console_events.CONNECTED, operator, attempt.id)])
    return attempt.id, time.time()


async def _drive(
    port: int, pid: int, tokens: list[str], db_url: str, cid: int, rate: float, seconds: float
) -> dict[str, Any]:
    seen: dict[str, float] = {}
    opens = [asyncio.Event() for _ in tokens]
    tasks = [asyncio.create_task(_stream(port, t, seen, o)) for t, o in zip(tokens, opens, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opens)), 120)
    store = open_store(db_url)
    written: dict[str, float] = {}
    cpu0, t0 = process_cpu_s(pid), time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds:
        aid, at = await asyncio.to_thread(_pop, store, cid, f"op{1000 + random.randrange(len(tokens))}", n)
        written[aid] = at
        n += 1
        await asyncio.sleep(max(0.0, t0 + n / rate - time.monotonic()))
    await asyncio.sleep(3.0)
    cpu = process_cpu_s(pid) - cpu0
    wall = time.monotonic() - t0
    rss_kb = int(
        next(
            line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS")
        ).split()[1]
    )
    alive = sum(1 for t in tasks if not t.done())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    store.dispose()
    latencies = [(seen[a] - w) * 1000.0 for a, w in written.items() if a in seen]
    return {
        "sessions": len(tokens),
        "streams_open_at_end": alive,
        "pops_written": len(written),
        "pops_delivered": len(latencies),
        **{f"p{q}_ms": round(percentile(latencies, q), 1) for q in (50, 95, 99) if latencies},
        "console_cpu_share_of_one_core": round(cpu / wall, 3),
        "console_rss_mb": round(rss_kb / 1024, 1),
    }


def run(sessions: int, rate: float, seconds: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="console-load-"))
    db_url = f"sqlite:///{workdir / 'load.db'}"
    cid = _setup(db_url, sessions)
    port = free_port()
    env = {**os.environ, "DIALER_DB": db_url}
    with open(workdir / "console.log", "wb") as log:
        proc = subprocess.Popen(
            [str(DIALER), "console", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/login", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        started = time.monotonic()
        tokens = [_log_in(url, f"user{1000 + i}") for i in range(sessions)]
        login_s = time.monotonic() - started
        result = asyncio.run(_drive(port, proc.pid, tokens, db_url, cid, rate, seconds))
        return {**result, "rate_per_s": rate, "seconds": seconds, "logins_s": round(login_s, 1)}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="pops per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    result = run(args.sessions, args.rate, args.seconds)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console_load.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

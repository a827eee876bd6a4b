"""Event-loop lag of the dial engine while it claims and dials 100 calls a second.

    python bench/loop_lag.py [--leads 1000000] [--stores sqlite,postgresql]
                             [--campaign early|late] [--seconds 20] [--rate 100]
                             [--pg-url URL] [--markdown FILE]

The store is filled as ``bench/claims.py`` fills it (half the leads in a campaign that
has just started, half in one 90% dialed). One ``DialEngine`` dials the chosen campaign
over ``SimTelephony`` (the in-memory phone system, real time): ratio mode, 10 lines per
ready operator, 100 operators talking 0.5 s, ``--rate`` originates a second, 400 channels,
a 5 s ring timeout, no abandon cap holding the rate back; customers answer, are busy, do
not answer and so on by their number's last digit. All in this one process and loop, as
``dialer run`` runs.

A probe task in the same loop asks to wake every 10 ms and records how late it wakes:
that lateness is how long anything else (an AMI event, a hang-up, a tick) would have
waited. Figures cover the dialing phase only (after the first 2 s, until the stop).
The originate rate is the attempts started in that phase divided by its length.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _engine_setup import percentile
from claims import EARLY, LATE, fill, postgres
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from campaigns.models import CallAttempt, Campaign
from campaigns.store import open_store
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import add_operator, ready
from dialer.sim.telephony import SimTelephony

OPERATORS = 100
PROBE_S = 0.01
SETTLE_S = 2.0


class LagProbe:
    """Wakes every ``period`` seconds and records how late each wake-up was, in ms."""

    def __init__(self, period: float = PROBE_S) -> None:
        self.period = period
        self.lags: list[tuple[float, float]] = []  # (when, lag ms)

    async def run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.period)
            woke = time.perf_counter()
            self.lags.append((woke, (woke - asked - self.period) * 1000))


def prepare(store: Engine, campaign: int, rate: float) -> str:
    name = "early" if campaign == EARLY else "late"
    with store.begin() as conn:
        conn.execute(
            update(Campaign)
            .where(Campaign.id == campaign)  # type: ignore[arg-type]
            .values(
                mode="ratio",
                ratio=10.0,
                abandon_cap=1.0,  # a load test: no abandon guard holding the rate back
                queue="q-bench",
                dial_template="Local/{number}@sim-customers",
                calling_window="00:00-24:00",
                originate_rate=rate,
                max_channels=400,
                ring_timeout_s=5,
                max_attempts=10,
            )
        )
    for n in range(OPERATORS):
        add_operator(store, f"op{n}", f"Local/op{n}@sim-operators/n", [name])
        ready(store, f"op{n}")
    return name


async def dial(store: Engine, name: str, seconds: float) -> dict[str, Any]:
    telephony = SimTelephony(talk_s=0.5)
    settings = EngineSettings(node_id="bench", shutdown_deadline_s=3.0)
    engine = DialEngine(store, telephony, settings, campaigns=[name])
    probe = LagProbe()
    prober = asyncio.create_task(probe.run())
    started = time.perf_counter()
    wall_start = datetime.now(UTC)
    asyncio.get_running_loop().call_later(seconds, engine.stop)
    await engine.run()
    prober.cancel()
    phase = [lag for when, lag in probe.lags if started + SETTLE_S <= when <= started + seconds]
    since, until = wall_start + timedelta(seconds=SETTLE_S), wall_start + timedelta(seconds=seconds)
    with store.connect() as conn:
        attempts = conn.scalar(
            select(func.count()).where(
                col(CallAttempt.started_at) >= since, col(CallAttempt.started_at) < until
            )
        )
    return {
        "attempts": int(attempts or 0),
        "calls per s": int(attempts or 0) / (seconds - SETTLE_S),
        "lag p50 ms": percentile(phase, 50),
        "lag p99 ms": percentile(phase, 99),
        "lag max ms": max(phase),
        "probes": len(phase),
    }


def main() -> None:
    # A TERM stops the run through the same clean-up as Ctrl-C: the throwaway cluster goes too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--campaign", choices=("early", "late"), default="early")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    now = datetime.now(UTC).replace(microsecond=0)
    campaign = EARLY if args.campaign == "early" else LATE
    with tempfile.TemporaryDirectory(prefix="dialer-lag-") as workdir, postgres(args.pg_url) as make_db:
        for store_name in args.stores.split(","):
            url = f"sqlite:///{Path(workdir) / 'lag.db'}" if store_name == "sqlite" else make_db("lag")
            store = open_store(url)
            try:
                seconds = fill(store, args.leads, now)
                print(f"{store_name}: {args.leads:,} leads generated in {seconds:.0f} s", flush=True)
                name = prepare(store, campaign, args.rate)
                row = {"store": store_name, "leads": args.leads, "campaign": args.campaign}
                row |= asyncio.run(dial(store, name, args.seconds))
                print(row, flush=True)
                rows.append(row)
            finally:
                store.dispose()
    table = [
        "| store | leads | campaign | calls/s | lag p50 | lag p99 | lag max |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        table.append(
            f"| {r['store']} | {r['leads']:,} | {r['campaign']} | {r['calls per s']:.1f}"
            f" | {r['lag p50 ms']:.1f} ms | {r['lag p99 ms']:.1f} ms | {r['lag max ms']:.1f} ms |"
        )
    print("\n".join(table))
    if args.markdown:
        args.markdown.write_text("\n".join(table) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

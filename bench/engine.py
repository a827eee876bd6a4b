"""Dial engine benchmark on the real (sandbox) Asterisk.

    python bench/engine.py [--calls 50] [--operators 60] [--rate 60] [--seconds 40]
                           [--stretch-rate 100] [--markdown FILE]

Three phases, each with its own SQLite store and its own ``DialEngine`` and AMI
connection, against one sandbox Asterisk (``dialer.pbx.sandbox``):

1. hand-off: a progressive campaign with ``--calls`` channels and ``--operators``
   ready operators; every customer answers, so ``--calls`` answered calls meet
   the queue at once. Hand-off = ``answered_at`` -> ``connected_at`` of each
   attempt, as the engine recorded it; Asterisk's own event timestamps
   (``timestampevents``), read by a witness process, split it into the PBX's
   part and the engine's lag. The operator's own answer delay is SIM_OP_ANSWER.
2. rate: a ratio:10 campaign with ``--rate`` originates/s and 200 channels whose
   customers are busy (digit 5) or congested (7), for ``--seconds``. Achieved
   originates/s from the attempts' ``started_at``; "no lost events" means every
   attempt row ended with the outcome its number scripts.
3. stretch: the same at ``--stretch-rate`` for 20 s, to see where it breaks.

Engine CPU is ``time.process_time()`` of this process around ``DialEngine.run``
(the engine, the AMI adapter and SQLite all run here; Asterisk and the witness
run in other processes and are excluded). The engine logs at INFO into a file,
as ``dialer run`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from _engine_report import Handoff, Rate, RatePlan, measure_rate, report, summary
from _engine_setup import (
    add_ready_operators,
    attempt_rows,
    import_numbers,
    machine,
    make_campaign,
    numbers,
    observed_ready,
    open_bench_store,
    process_cpu_s,
)

from campaigns.models import CallAttempt
from dialer.ami.client import AmiTelephony
from dialer.core.clock import to_ts
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox, SimTuning

SETTINGS = EngineSettings(node_id="bench-node")


class WarningCount(logging.Handler):
    """Counts warnings and worse by message, so a lost AMI link or a presumed-lost call shows up."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[str(record.msg)] += 1


WARNINGS = WarningCount()
WITNESS_EVENTS = ("Newstate", "QueueCallerJoin", "AgentConnect")
LINK_LOST = "connection to the phone system lost; %d calls in flight"  # the engine's warning


# --- the witness: a separate process that records Asterisk's event timestamps ------------


def witness_main(out_path: str) -> int:
    """Read AMI credentials as one JSON line on stdin; write one line per event of interest."""
    creds = json.loads(sys.stdin.readline())
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    conn = socket.create_connection((creds["host"], creds["port"]))
    conn.settimeout(0.2)
    conn.sendall(
        f"Action: Login\r\nUsername: {creds['username']}\r\nSecret: {creds['secret']}\r\n\r\n".encode()
    )
    buffer = b""
    with open(out_path, "w", encoding="utf-8") as out:
        print("ready", flush=True)
        while not stopping:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            received = time.time()
            buffer += chunk
            *blocks, buffer = buffer.split(b"\r\n\r\n")
            for raw in blocks:
                block = dict(
                    line.partition(": ")[::2] for line in raw.decode("utf-8", "replace").split("\r\n")
                )
                name = block.get("Event", "")
                if name in WITNESS_EVENTS and (name != "Newstate" or block.get("ChannelState") == "6"):
                    out.write(
                        f"{name}\t{block.get('Uniqueid', '')}\t{block.get('Timestamp', '')}\t{received}\n"
                    )
    return 0


class Witness:
    def __init__(self, box: Sandbox, workdir: Path) -> None:
        self.path = workdir / "witness.tsv"
        self._box = box
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--witness", str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        creds = {"host": self._box.host, "port": self._box.port}
        creds |= {"username": self._box.username, "secret": self._box.secret}
        self._proc.stdin.write(json.dumps(creds) + "\n")  # never in argv
        self._proc.stdin.flush()
        if self._proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the AMI witness did not start")

    def stop(self) -> dict[str, dict[str, float]]:
        """Asterisk's timestamp of each event kind, per Uniqueid."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            self._proc.wait(timeout=10)
        seen: dict[str, dict[str, float]] = {name: {} for name in WITNESS_EVENTS}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            name, uid, stamp, _received = line.split("\t")
            if stamp:
                seen[name].setdefault(uid, float(stamp))
        return seen


def enable_event_timestamps(box: Sandbox) -> None:
    """Benchmark only: make Asterisk stamp each AMI event with its own clock (the engine ignores it)."""
    assert box.workdir is not None
    conf = box.workdir / "etc/manager.conf"
    conf.write_text(conf.read_text().replace("[general]\n", "[general]\ntimestampevents = yes\n", 1))
    box.cli("manager reload")


# --- phases ------------------------------------------------------------------------------


async def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def set_sim(telephony: AmiTelephony, **values: float) -> None:
    for name, value in values.items():
        await telephony.action("Setvar", {"Variable": name, "Value": f"{value:g}"})


async def handoff_phase(box: Sandbox, workdir: Path, args: argparse.Namespace) -> Handoff:
    store = open_bench_store(workdir, "handoff")
    cid = make_campaign(
        store, "handoff", "bench-handoff", max_channels=args.calls, originate_rate=float(args.calls)
    )
    operators = add_ready_operators(store, "handoff", args.operators, prefix="op1")
    # Every customer answers after 0.1-0.5 s of ringing.
    phones = numbers([i % 5 for i in range(args.handoff_leads)], rings=[1, 2, 3, 4, 5])
    witness = Witness(box, workdir)
    witness.start()
    telephony = await AmiTelephony.connect(box)
    await set_sim(telephony, SIM_OP_ANSWER=args.op_answer, SIM_TALK=args.talk)
    engine = DialEngine(store, telephony, SETTINGS, campaigns=["handoff"])
    peak = 0
    try:
        run = asyncio.create_task(engine.run())
        await _until(lambda: observed_ready(store, operators) == len(operators), 60, "operators ready")
        # Leads arrive only once every operator is ready, so the first wave is --calls wide.
        import_numbers(store, "handoff", phones, workdir)
        cpu0 = time.process_time()
        deadline = time.monotonic() + 120
        while sum(engine.outcomes.values()) < len(phones) and time.monotonic() < deadline:
            peak = max(peak, engine.live_calls)
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu0
        engine.stop()
        await asyncio.wait_for(run, 60)
    finally:
        engine.stop()
        await telephony.close()
        seen = witness.stop()
    rows = sorted(attempt_rows(store, cid), key=lambda r: r.started_at)
    store.dispose()
    done = [r for r in rows if r.answered_at is not None and r.connected_at is not None]
    wave = {r.id for r in rows[: args.calls]}

    def gap(r: CallAttempt) -> float:
        assert r.answered_at is not None and r.connected_at is not None
        return to_ts(r.connected_at) - to_ts(r.answered_at)

    up, agent = seen["Newstate"], seen["AgentConnect"]
    both = [r for r in done if r.id in up and r.id in agent]
    return Handoff(
        attempts=len(rows),
        outcomes=Counter(r.outcome or "unfinished" for r in rows),
        op_answer_s=args.op_answer,
        engine_s=[gap(r) for r in done],
        first_wave_s=[gap(r) for r in done if r.id in wave],
        pbx_s=[agent[r.id] - up[r.id] for r in both],
        engine_lag_s=[to_ts(r.connected_at) - agent[r.id] for r in both if r.connected_at is not None],
        peak_live=peak,
        cpu_s=cpu,
    )


async def rate_phase(box: Sandbox, workdir: Path, plan: RatePlan) -> Rate:
    store = open_bench_store(workdir, plan.name)
    names = [f"{plan.name}{i}" for i in range(plan.campaigns)]
    cids = []
    per_campaign = int(plan.rate * plan.seconds)
    for i, name in enumerate(names):
        cids.append(
            make_campaign(
                store,
                name,
                "bench-rate",
                mode="ratio",
                ratio=10.0,
                max_channels=plan.channels,
                originate_rate=plan.rate,
            )
        )
        group = plan.operator_group * 10 + i
        add_ready_operators(store, name, math.ceil(plan.channels / 10), prefix=f"op{group}")
        phones = numbers([5 if n % 2 == 0 else 7 for n in range(per_campaign)], rings=[0])
        import_numbers(store, name, phones, workdir)
    total = per_campaign * plan.campaigns
    telephony = await AmiTelephony.connect(box)
    engine = DialEngine(store, telephony, SETTINGS, campaigns=names)
    peak = 0
    lost_links = WARNINGS.seen[LINK_LOST]

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, engine.live_calls)
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    assert box.pid is not None
    ast0, cpu0, wall0 = process_cpu_s(box.pid), time.process_time(), time.monotonic()
    try:
        await asyncio.wait_for(engine.run(until_done=True), plan.seconds * 3 + 60)
    finally:
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        ast = process_cpu_s(box.pid) - ast0
        sampler.cancel()
        engine.stop()
        await telephony.close()
    rows = [row for cid in cids for row in attempt_rows(store, cid)]
    store.dispose()
    disconnects = WARNINGS.seen[LINK_LOST] - lost_links
    return measure_rate(rows, plan, total, peak, wall, cpu, ast, disconnects)


async def main_async(args: argparse.Namespace) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="dialer-bench-engine-"))
    handler = logging.FileHandler(workdir / "engine.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler, WARNINGS])
    sim = SimTuning(impatient_s=1.0, op_answer_s=args.op_answer, talk_s=args.talk)
    with Sandbox(["bench-handoff", "bench-rate"], sim=sim) as box:
        assert box.install is not None
        host = machine(box.install)
        enable_event_timestamps(box)
        print(f"sandbox Asterisk up; work files in {workdir}", file=sys.stderr)
        hand = await handoff_phase(box, workdir, args)
        print(f"hand-off: {summary(hand.engine_s)}", file=sys.stderr)
        plans = [RatePlan("rate", args.rate, args.seconds, args.channels, 1, 2)]
        if args.stretch_rate > 0:
            channels = int(args.stretch_rate * 2.5)
            plans.append(RatePlan("stretch", args.stretch_rate, 20.0, channels, 1, 3))
            plans.append(RatePlan("twin", args.stretch_rate, 20.0, channels, 2, 4))
        rates = []
        for plan in plans:
            rates.append(await rate_phase(box, workdir, plan))
            print(f"{plan.name}: {rates[-1].achieved:.1f}/s, lost {rates[-1].lost}", file=sys.stderr)
    return report(host, hand, rates, args)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--calls", type=int, default=50, help="concurrent answered calls in the hand-off phase"
    )
    parser.add_argument("--operators", type=int, default=60)
    parser.add_argument("--handoff-leads", type=int, default=1000)
    parser.add_argument("--op-answer", type=float, default=0.3, help="SIM_OP_ANSWER, seconds")
    parser.add_argument("--talk", type=float, default=1.0, help="SIM_TALK, seconds")
    parser.add_argument("--rate", type=float, default=60.0, help="originate_rate of the rate phase")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument(
        "--stretch-rate",
        type=float,
        default=100.0,
        help="0 skips the stretch phase (100 is the product maximum)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    text = asyncio.run(main_async(args))
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--witness":
        sys.exit(witness_main(sys.argv[2]))
    sys.exit(main())

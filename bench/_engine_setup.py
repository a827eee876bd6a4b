"""Set-up for the engine benchmark: store, campaigns, leads and operators, through the product's own API.

Campaigns are created with ``campaigns.service``, leads come in through the lead
importer from a CSV written here, operators through ``dialer.services.operators``: the
benchmark dials what a user's setup would dial. Numbers follow the sandbox's
simulated network (``dialer.pbx.sandbox``): the last digit picks the outcome,
the digit before it the ring time in tenths of a second.
"""

from __future__ import annotations

import csv
import os
import platform
import re
import statistics
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Operator
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import open_store
from dialer.pbx.install import AsteriskInstall
from dialer.services.operators import add_operator, ready
from lists.importer import ImportRequest, import_leads

# Leads are dialable around the clock in this zone and window, whatever the time of the run.
ALWAYS_OPEN = "00:00-24:00"


def noon_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is now about midday, far from the window's edges."""
    offset = (12 - (now or datetime.now(UTC)).hour + 12) % 24 - 12  # in [-12, 11]
    # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def open_bench_store(workdir: Path, name: str) -> Engine:
    return open_store(f"sqlite:///{workdir / (name + '.db')}")


def make_campaign(store: Engine, name: str, queue: str, **options: Any) -> int:
    spec = CampaignSpec.build(
        name,
        queue=queue,
        dial_template="Local/{number}@sim-customers",
        window=ALWAYS_OPEN,
        ring_timeout_s=15,
        **options,
    )
    campaign = create_campaign(store, spec)
    assert campaign.id is not None
    return campaign.id


def numbers(outcomes: Sequence[int], rings: Sequence[int], start: int = 0) -> list[str]:
    """Distinct Russian mobile numbers ending in ``ring`` then ``outcome`` digits."""
    return [f"+7900{start + i:05d}{rings[i % len(rings)]}{outcome}" for i, outcome in enumerate(outcomes)]


def import_numbers(store: Engine, campaign: str, phones: Sequence[str], workdir: Path) -> int:
    path = workdir / f"{campaign}-leads.csv"
    zone = noon_zone()
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "timezone", "name"])
        for i, phone in enumerate(phones):
            writer.writerow([phone, zone, f"Lead {i}"])
    summary = import_leads(store, ImportRequest(path=path, campaign=campaign))
    if summary.imported != len(phones):
        raise RuntimeError(f"imported {summary.imported} of {len(phones)} leads: {summary}")
    return summary.imported


def add_ready_operators(store: Engine, campaign: str, count: int, prefix: str) -> list[str]:
    """``count`` simulated operators (``Local/<name>@sim-operators/n``), all asking to be ready."""
    names = []
    for i in range(count):
        name = f"{prefix}{101 + i}"
        add_operator(store, name, f"Local/{name}@sim-operators/n", [campaign])
        ready(store, name)
        names.append(name)
    return names


def observed_ready(store: Engine, names: Sequence[str]) -> int:
    with Session(store) as session:
        rows = session.exec(select(Operator.state).where(col(Operator.name).in_(list(names)))).all()
    return sum(1 for state in rows if state == "ready")


def attempt_rows(store: Engine, campaign_id: int) -> list[CallAttempt]:
    with Session(store) as session:
        query = select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)
        return list(session.exec(query).all())


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100): always one of the measured values."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def machine(install: AsteriskInstall) -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
                break
    return {
        "cpus": str(os.cpu_count() or 0),
        "cpu model": cpu,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": _os_name(),
        "python": platform.python_version(),
        "asterisk": install.version,
        "sqlalchemy store": "SQLite (WAL, synchronous=NORMAL), file on local disk",
    }


def _os_name() -> str:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return platform.platform()
    match = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', text, re.M)
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True, check=False).stdout.strip()
    return f"{match.group(1) if match else platform.system()}, kernel {kernel}"

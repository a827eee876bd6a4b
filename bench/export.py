"""Exports on a large campaign: time and peak memory of the XLSX and CSV exports, at two sizes.

    python bench/export.py [--sizes 10000,100000] [--markdown FILE]

For each size N, fills a fresh SQLite store with one campaign, N leads in four zones (each with
three columns of its own, as an imported list has) and one finished attempt per lead, then runs
``dialer export attempts --lead-columns all`` to XLSX, to ``--excel`` CSV, and
``dialer export leads`` to XLSX, each in its own process, so that each peak memory is its own.
Streaming holds when the peak memory stays about the same from the small size to the large one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from campaigns.models import Campaign, LeadList
from campaigns.store import open_store, session_scope
from campaigns.tables import ATTEMPT_TABLE, LEAD_TABLE

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok")
BATCH = 20_000
ROOT = Path(__file__).resolve().parent.parent


def fill(url: str, n: int) -> None:
    store = open_store(url)
    with session_scope(store) as session:
        campaign = Campaign(name="big")
        session.add(campaign)
        session.flush()
        cid = campaign.id
        session.add(LeadList(campaign_id=cid, name="list.csv", columns=["ФИО", "Город", "Сумма"]))
    start = datetime(2026, 11, 1, 6, tzinfo=UTC)
    with store.begin() as conn:
        for first in range(0, n, BATCH):
            ids = range(first, min(n, first + BATCH))
            conn.execute(insert(LEAD_TABLE), [
                {"id": i + 1, "campaign_id": cid, "phone": f"+7916{i:07d}", "time_zones": ZONES[i % 4],
                 "data": {"ФИО": f"Иванов Иван {i}", "Город": "Москва", "Сумма": str(i % 9000)},
                 "status": "done", "attempts": 1, "created_at": start}
                for i in ids
            ])  # fmt: skip
            conn.execute(insert(ATTEMPT_TABLE), [
                {"id": f"a{i:09d}", "campaign_id": cid, "lead_id": i + 1, "phone": f"+7916{i:07d}",
                 "started_at": start + timedelta(seconds=i), "ringing_at": start + timedelta(seconds=i + 1),
                 "answered_at": start + timedelta(seconds=i + 9),
                 "connected_at": start + timedelta(seconds=i + 10),
                 "ended_at": start + timedelta(seconds=i + 70), "outcome": "connected", "hangup_cause": 16,
                 "operator": "Local/op101@sim-operators/n"}
                for i in ids
            ])  # fmt: skip
    store.dispose()


_CHILD = (
    "import atexit, resource, sys, cli\n"
    "peak = lambda: print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "sys.argv = ['dialer', *sys.argv[1:]]\n"
    "cli.app()\n"
)


def measure(url: str, args: list[str], out: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS in MB, and the output's size, of one ``dialer`` command in its own process."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "--db", url, *args, "-o", str(out)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    peak_kb = int(next(line for line in done.stderr.splitlines() if line.startswith("peak ")).split()[1])
    return seconds, peak_kb / 1024, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args()
    lines = ["| rows | export | time | peak memory (max RSS) | file |", "|---|---|---|---|---|"]
    for n in (int(s) for s in options.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/big.db"
            fill(url, n)
            runs = [
                (
                    "attempts .xlsx",
                    ["export", "attempts", "--campaign", "big", "--lead-columns", "all"],
                    "a.xlsx",
                ),
                ("attempts --excel .csv", ["export", "attempts", "--campaign", "big", "--excel"], "a.csv"),
                ("leads .xlsx", ["export", "leads", "--campaign", "big"], "l.xlsx"),
            ]
            for label, args, name in runs:
                seconds, peak, size = measure(url, args, Path(folder) / name)
                lines.append(f"| {n:,} | {label} | {seconds:.1f} s | {peak:.0f} MB | {size / 2**20:.1f} MB |")
                print(lines[-1], flush=True)
    if options.markdown:
        options.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Report time on a large campaign: ``dialer report campaign`` over ``--attempts`` attempts.

    python bench/report.py [--attempts 1000000] [--markdown FILE]

Fills a fresh SQLite store with one campaign, ``--attempts`` / 4 leads in four zones and four
attempts per lead spread over 30 days (outcomes and operators in fixed proportions), then times
the report's three steps: reading and computing the tables, writing the XLSX, writing the HTML.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, insert

from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.store import open_store, session_scope
from dialer.reports.data import build_report
from dialer.reports.html import write_html
from dialer.reports.xlsx import write_xlsx

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok")
OUTCOMES = ("connected", "no_answer", "busy", "abandoned", "machine", "congestion")
WEIGHTS = (40, 30, 15, 2, 8, 5)
BATCH = 20_000


def fill(store_url: str, attempts: int) -> None:
    store = open_store(store_url)
    with session_scope(store) as session:
        campaign = Campaign(name="big")
        session.add(campaign)
        session.flush()
        cid = campaign.id
    leads_table: Table = Lead.__table__  # type: ignore[attr-defined]
    attempts_table: Table = CallAttempt.__table__  # type: ignore[attr-defined]
    n_leads = attempts // 4
    rng = random.Random(7)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with store.begin() as conn:
        for first in range(0, n_leads, BATCH):
            conn.execute(insert(leads_table), [
                {"campaign_id": cid, "phone": f"+7916{i:07d}", "time_zones": ZONES[i % 4], "data": {},
                 "status": "done", "attempts": 4, "created_at": start}
                for i in range(first, min(n_leads, first + BATCH))
            ])  # fmt: skip
        for first in range(0, attempts, BATCH):
            rows = []
            for i in range(first, min(attempts, first + BATCH)):
                outcome = rng.choices(OUTCOMES, WEIGHTS)[0]
                began = start + timedelta(seconds=rng.randrange(30 * 86400))
                picked_up = outcome in ("connected", "abandoned", "machine")
                answered = began + timedelta(seconds=8) if picked_up else None
                connected = answered + timedelta(seconds=1) if outcome == "connected" and answered else None
                rows.append({
                    "id": f"a{i}", "campaign_id": cid, "lead_id": 1 + i // 4, "phone": "+7916", "node": "n",
                    "started_at": began, "answered_at": answered,
                    "connected_at": connected,
                    "ended_at": began + timedelta(seconds=90), "outcome": outcome,
                    "operator": f"op{i % 50}" if outcome == "connected" else None,
                    "abandoned": outcome == "abandoned", "safe_harbour": False,
                })  # fmt: skip
            conn.execute(insert(attempts_table), rows)
    store.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="dialer-bench-report-"))
    url = f"sqlite:///{workdir / 'report.db'}"
    t0 = time.perf_counter()
    fill(url, args.attempts)
    t1 = time.perf_counter()
    store = open_store(url)
    report = build_report(store, "big", None, None)
    t2 = time.perf_counter()
    write_xlsx(report, workdir / "big.xlsx", "en")
    t3 = time.perf_counter()
    write_html(report, workdir / "big.html", "en")
    t4 = time.perf_counter()
    store.dispose()
    text = (
        f"report on {args.attempts:,} attempts (SQLite; filling the store took {t1 - t0:.1f} s)\n\n"
        "| step | time |\n|---|---|\n"
        f"| read the attempts and compute the tables | {t2 - t1:.1f} s |\n"
        f"| write the XLSX | {t3 - t2:.1f} s |\n| write the HTML | {t4 - t3:.1f} s |\n"
        f"| total (one format: tables + its file) | xlsx {t3 - t1:.1f} s, html {t2 - t1 + t4 - t3:.1f} s |\n"
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

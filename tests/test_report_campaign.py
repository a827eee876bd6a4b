"""``dialer report campaign`` on SQLite and PostgreSQL: the XLSX read back with pandas agrees with
the attempts and leads exports; the HTML is one self-contained file with every chart.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns.models import CallAttempt, Lead
from campaigns.store import session_scope
from cli import app
from dialer.services.attempts_export import export_attempts
from lists.export import export_leads
from tests.engine_helpers import make_campaign, make_leads, phones_by_digit

pytestmark = pytest.mark.every_store
runner = CliRunner()
DAY = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
# (zone, outcome, minutes after DAY, operator)
PLAN = [
    ("Europe/Moscow", "connected", 0, "op101"),
    ("Europe/Moscow", "connected", 30, "op102"),
    ("Asia/Yekaterinburg", "abandoned", 65, None),
    ("Asia/Yekaterinburg", "no_answer", 70, None),
    ("Europe/Moscow", "busy", 130, None),
    ("Asia/Vladivostok", "connected", 1500, "op101"),  # the next day
    ("", "machine", 1510, None),
]


def dialer(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def seed(store: Engine) -> int:
    cid = make_campaign(store, "autumn", abandon_cap=0.03)
    ids = make_leads(store, cid, phones_by_digit([0] * len(PLAN) + [1, 2]))
    with session_scope(store) as session:
        for lead_id, (zone, outcome, minutes, operator) in zip(ids, PLAN, strict=False):
            lead = session.get(Lead, lead_id)
            assert lead is not None
            lead.time_zones, lead.attempts, lead.status = (
                zone,
                1,
                "done" if outcome == "connected" else "scheduled",
            )
            started = DAY + timedelta(minutes=minutes)
            answered = (
                started + timedelta(seconds=8) if outcome in ("connected", "abandoned", "machine") else None
            )
            connected = answered + timedelta(seconds=1) if outcome == "connected" and answered else None
            session.add(CallAttempt(
                id=f"att{lead_id}", campaign_id=cid, lead_id=lead_id, phone=lead.phone, started_at=started,
                answered_at=answered, connected_at=connected, ended_at=started + timedelta(seconds=100),
                outcome=outcome, operator=operator, abandoned=outcome == "abandoned",
            ))  # fmt: skip
    return cid


def test_the_xlsx_report_agrees_with_the_exports(store: Engine, db_url: str, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "autumn.xlsx"
    code, _, err = dialer(db_url, "report", "campaign", "autumn", "-o", str(out))
    assert code == 0, err
    sheets = pd.read_excel(out, sheet_name=None)
    assert {
        "funnel",
        "hourly",
        "abandon",
        "operators",
        "leads_status",
        "leads_attempts",
        "answer_rate",
    } <= set(sheets)

    buffer = io.StringIO()
    export_attempts(store, "autumn", buffer)
    attempts = pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)
    funnel = dict(zip(sheets["funnel"]["step"], sheets["funnel"]["count"], strict=True))
    assert funnel["dialed"] == len(attempts) == len(PLAN)
    assert funnel["answered"] == int((attempts.answered_at != "").sum()) == 5
    assert funnel["connected"] == int((attempts.outcome == "connected").sum()) == 3
    for outcome, n in attempts.outcome.value_counts().items():
        assert funnel[f"outcome: {outcome}"] == n

    hourly = sheets["hourly"]
    assert len(hourly) == 24 and hourly.attempts.sum() == len(attempts)
    assert hourly.set_index("hour").loc[9, "attempts"] == 2  # 06:00 and 06:30 UTC are 09:xx in Moscow

    abandon = sheets["abandon"].set_index("day")
    assert abandon.loc["2026-11-27", "abandoned"] == 1 and abandon.loc["2026-11-27", "live_answers"] == 3
    assert abandon.loc["2026-11-27", "rate"] == pytest.approx(1 / 3)
    assert set(abandon.cap) == {0.03}

    operators = sheets["operators"].set_index("operator")
    assert (
        operators.connects.to_dict()
        == attempts[attempts.outcome == "connected"].operator.value_counts().to_dict()
    )
    assert operators.loc["op101", "talk_s"] == pytest.approx(2 * 91)

    leads_csv = io.StringIO()
    export_leads(store, "autumn", leads_csv)
    leads = pd.read_csv(io.StringIO(leads_csv.getvalue()), dtype=str, keep_default_na=False)
    by_status = dict(zip(sheets["leads_status"]["status"], sheets["leads_status"]["leads"], strict=True))
    assert by_status == leads.status.value_counts().to_dict()
    rates = sheets["answer_rate"].set_index(["zone", "hour"])
    assert rates.loc[("Asia/Yekaterinburg", 12), "answer_rate"] == 0.5
    assert rates.loc[("unknown", 7), "answers"] == 1


def test_the_html_report_is_self_contained_with_every_chart(
    store: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(store)
    out = tmp_path / "autumn.html"
    code, _, err = dialer(db_url, "report", "campaign", "autumn", "-o", str(out), "--lang", "ru")
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    charts = re.findall(r"<figure data-chart='(\w+)'><svg", html)
    assert charts == ["funnel", "hourly", "abandon", "leads_status", "answer_rate"]
    assert "<script" not in html and "<link" not in html and " src=" not in html
    refs = re.findall(r'href="([^"]*)"', html)
    assert all(h.startswith(("#", "data:")) for h in refs), "an external reference"
    assert "Воронка исходов" in html and "Работа операторов" in html


def test_a_period_limits_the_attempts(store: Engine, db_url: str, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "day1.xlsx"
    code, _, err = dialer(
        db_url, "report", "campaign", "autumn", "-o", str(out), "--from", "2026-11-27", "--to", "2026-11-28"
    )
    assert code == 0, err
    funnel = pd.read_excel(out, sheet_name="funnel").set_index("step")["count"]
    assert funnel["dialed"] == 5


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "r.html"], "no call attempts"),
        (["-o", "r.pdf"], ".html or .xlsx"),
        (["-o", "r.html", "--lang", "de"], "unknown --lang"),
        (["-o", "r.html", "--from", "yesterday"], "bad --from"),
    ],
)
def test_bad_requests_and_an_empty_campaign_are_one_line(
    store: Engine, db_url: str, tmp_path: Path, args: list[str], fragment: str
) -> None:
    make_campaign(store, "empty")
    args = [str(tmp_path / a) if a.startswith("r.") else a for a in args]
    code, out, err = dialer(db_url, "report", "campaign", "empty", *args)
    assert code == 2 and "Traceback" not in out + err
    assert err.strip().count("\n") == 0 and fragment in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("r.", ".r."))], (
        "a refused report left a file"
    )

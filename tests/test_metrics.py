"""/metrics read from the store (SQLite and PostgreSQL), and the dashboard and docs name only
metrics the service exports.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from campaigns.models import CallAttempt
from campaigns.store import session_scope
from dialer.service.metrics import NodeState, build_registry
from tests.engine_helpers import make_campaign, make_leads, phones_by_digit

pytestmark = pytest.mark.every_store
DOCS = Path(__file__).parent.parent / "docs"


def scrape(
    store: Engine, state: NodeState | None = None
) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = generate_latest(build_registry(store, state or NodeState("n1"))).decode()
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        found.setdefault(family.name, {})
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_counts_come_from_the_attempts_table(store: Engine) -> None:
    cid = make_campaign(store, "m1", abandon_cap=0.05)
    lead_ids = make_leads(store, cid, phones_by_digit([0, 1, 2, 3, 8]))
    now = datetime.now(UTC)
    outcomes = ["connected", "connected", "abandoned", None, "busy"]
    with session_scope(store) as session:
        for i, (lead, outcome) in enumerate(zip(lead_ids, outcomes, strict=True)):
            ended = None if outcome is None else now - timedelta(seconds=5)
            answered = now - timedelta(seconds=20) if outcome in ("connected", "abandoned") else None
            started = now - timedelta(seconds=30)
            session.add(CallAttempt(
                id=f"a{i}", campaign_id=cid, lead_id=lead, phone="+7900", started_at=started,
                answered_at=answered, ended_at=ended, outcome=outcome, abandoned=outcome == "abandoned",
            ))  # fmt: skip
    got = scrape(store)
    assert got["dialer_originates_total"] == {(("campaign", "m1"),): 5.0}
    assert got["dialer_outcomes_total"] == {
        (("campaign", "m1"), ("outcome", "connected")): 2.0,
        (("campaign", "m1"), ("outcome", "abandoned")): 1.0,
        (("campaign", "m1"), ("outcome", "busy")): 1.0,
    }
    assert got["dialer_calls_in_flight"] == {(("campaign", "m1"),): 1.0}
    assert got["dialer_abandon_rate"][(("campaign", "m1"), ("window", "30d"))] == pytest.approx(1 / 3)
    assert got["dialer_abandon_cap"][(("campaign", "m1"), ("window", "30d"))] == 0.05
    assert got["dialer_store_up"] == {(("node", "n1"),): 1.0}


def test_an_unreadable_store_is_counted_not_raised(store: Engine, tmp_path: Path) -> None:
    from sqlmodel import create_engine

    broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    state = NodeState("n1")
    got = scrape(broken, state)
    assert got["dialer_store_up"] == {(("node", "n1"),): 0.0}
    assert got["dialer_store_errors_total"] == {(("node", "n1"),): 1.0}


def test_the_dashboard_and_docs_name_only_exported_metrics(store: Engine) -> None:
    exported = {n.removesuffix("_total") for n in scrape(store)}  # a counter's family drops _total
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    used = {n.removesuffix("_total") for n in re.findall(r"dialer_[a-z_]+", exprs)}
    assert used and used <= exported, sorted(used - exported)
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    documented = {n.removesuffix("_total") for n in re.findall(r"`(dialer_[a-z_]+)`", text)}
    assert documented == {n for n in exported if n.startswith("dialer_")}

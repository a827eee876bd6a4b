"""``/metrics``: Prometheus text built at scrape time from the store and this node's service.

The store is the source of truth for per-campaign counts, so every node reports the same
totals whichever node placed the calls; what only this process knows (the phone link, its own
placed calls, its scheduler) is labelled by node. Names follow Prometheus conventions:
``_total`` counters, ``_seconds`` timestamps, ratios in 0..1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from campaigns.models import CallAttempt, Campaign, Operator, OperatorCampaign
from dialer.policy.abandon import window_length
from dialer.store.abandon import stored_abandon_stats
from dialer.store.pace import load_explains

PACER_FIELDS = {
    "dial_rate_per_min": "dialer_pacer_dial_rate_per_minute",
    "answer_rate": "dialer_pacer_answer_rate",
    "ring_mean_s": "dialer_pacer_ring_mean_seconds",
    "talk_mean_s": "dialer_pacer_talk_mean_seconds",
    "free_expected": "dialer_pacer_operators_free_expected",
    "answers_expected": "dialer_pacer_answers_expected",
}


@dataclass
class NodeState:
    """What this process knows and the store does not; callables read it at scrape time."""

    node: str
    phone_link_up: Callable[[], bool] = lambda: False
    placed: Callable[[], int] = lambda: 0
    on_schedule: Callable[[], dict[str, bool]] = dict
    schedule_changes: Callable[[], dict[str, datetime | None]] = dict
    next_runs: Callable[[], dict[str, datetime]] = dict
    job_runs: Callable[[], dict[str, int]] = dict
    store_errors: list[int] = field(default_factory=lambda: [0])


class DialerCollector(Collector):
    def __init__(self, store: Engine, state: NodeState) -> None:
        self._store = store
        self._state = state

    def collect(self) -> Iterator[Metric]:
        yield from self._node_metrics()
        try:
            families = self._store_metrics()
        except SQLAlchemyError:
            self._state.store_errors[0] += 1
            families = []
        up = GaugeMetricFamily(
            "dialer_store_up", "1 if the last scrape could read the store", labels=["node"]
        )
        up.add_metric([self._state.node], 1.0 if families else 0.0)
        errors = CounterMetricFamily(
            "dialer_store_errors", "Scrapes that could not read the store", labels=["node"]
        )
        errors.add_metric([self._state.node], self._state.store_errors[0])
        yield from [up, errors, *families]

    def _node_metrics(self) -> Iterator[Metric]:
        s, node = self._state, [self._state.node]
        yield _gauge(
            "dialer_ami_up", "1 while the link to Asterisk is up", ["node"], [(node, s.phone_link_up())]
        )
        placed = CounterMetricFamily(
            "dialer_node_calls_placed", "Calls this node placed since start", labels=["node"]
        )
        placed.add_metric(node, s.placed())
        yield placed
        yield _gauge(
            "dialer_campaign_on_schedule",
            "1 while the campaign's schedule is open",
            ["campaign"],
            [([name], v) for name, v in s.on_schedule().items()],
        )
        yield _gauge(
            "dialer_schedule_next_change_timestamp_seconds",
            "When the campaign's schedule next opens or closes",
            ["campaign"],
            [([name], at.timestamp()) for name, at in s.schedule_changes().items() if at is not None],
        )
        yield _gauge(
            "dialer_scheduler_next_run_timestamp_seconds",
            "Next run of each scheduled job",
            ["job"],
            [([job], at.timestamp()) for job, at in s.next_runs().items()],
        )
        runs = CounterMetricFamily(
            "dialer_job_runs", "Scheduled job runs by this node", labels=["node", "result"]
        )
        for result, n in s.job_runs().items():
            runs.add_metric([s.node, result], n)
        yield runs

    def _store_metrics(self) -> list[Metric]:
        with Session(self._store) as session:
            campaigns = {c.id: c for c in session.exec(select(Campaign)).all() if c.id is not None}
            outcomes = session.exec(
                select(CallAttempt.campaign_id, CallAttempt.outcome, func.count())
                .where(col(CallAttempt.outcome).is_not(None))
                .group_by(col(CallAttempt.campaign_id), col(CallAttempt.outcome))
            ).all()
            placed = session.exec(
                select(CallAttempt.campaign_id, func.count()).group_by(col(CallAttempt.campaign_id))
            ).all()
            live = session.exec(
                select(CallAttempt.campaign_id, func.count())
                .where(col(CallAttempt.ended_at).is_(None))
                .group_by(col(CallAttempt.campaign_id))
            ).all()
            operators = session.exec(
                select(OperatorCampaign.campaign_id, Operator.state, func.count())
                .where(OperatorCampaign.operator_id == Operator.id)
                .group_by(col(OperatorCampaign.campaign_id), col(Operator.state))
            ).all()
        name = {cid: c.name for cid, c in campaigns.items()}
        originates = CounterMetricFamily(
            "dialer_originates", "Calls placed (attempts started)", labels=["campaign"]
        )
        for cid, n in placed:
            originates.add_metric([name[cid]], n)
        ended = CounterMetricFamily(
            "dialer_outcomes", "Attempts ended, by outcome", labels=["campaign", "outcome"]
        )
        for cid, outcome, n in outcomes:
            ended.add_metric([name[cid], str(outcome)], n)
        in_flight = {cid: 0 for cid in campaigns} | {cid: n for cid, n in live}
        families: list[Metric] = [
            originates,
            ended,
            _gauge(
                "dialer_calls_in_flight",
                "Attempts not ended yet",
                ["campaign"],
                [([name[cid]], n) for cid, n in in_flight.items()],
            ),
            _gauge(
                "dialer_operators",
                "Operators serving the campaign, by observed state",
                ["campaign", "state"],
                [([name[cid], str(state)], n) for cid, state, n in operators],
            ),
        ]
        families += self._abandon(campaigns)
        families += self._pacer(name)
        return families

    def _abandon(self, campaigns: dict[int, Campaign]) -> list[Metric]:
        now = time.time()
        rate, cap = [], []
        for cid, c in campaigns.items():
            stats = stored_abandon_stats(self._store, cid, window_length(c.abandon_window), now)
            rate.append(([c.name, c.abandon_window], stats.rate))
            cap.append(([c.name, c.abandon_window], c.abandon_cap))
        return [
            _gauge(
                "dialer_abandon_rate",
                "Abandoned / live answers over the cap's window",
                ["campaign", "window"],
                rate,
            ),
            _gauge("dialer_abandon_cap", "The campaign's abandon-rate cap", ["campaign", "window"], cap),
        ]

    def _pacer(self, name: dict[int, str]) -> list[Metric]:
        views = load_explains(self._store, list(name))
        families: list[Metric] = []
        for key, metric in PACER_FIELDS.items():
            samples = []
            for cid, found in views.items():
                value = found[0].explain.get(key) if found else None
                if isinstance(value, int | float):
                    samples.append(([name[cid], found[0].node], float(value)))
            families.append(
                _gauge(
                    metric, f"The pacer's last {key} (from its explanation)", ["campaign", "node"], samples
                )
            )
        return families


def _gauge(
    name: str, doc: str, labels: list[str], samples: list[tuple[list[str], float]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(values, float(value))
    return family


def build_registry(store: Engine, state: NodeState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DialerCollector(store, state))
    return registry

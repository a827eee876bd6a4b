"""The real-day grid of the pacing benchmark (``python bench/pacing.py --grid day``).

A day: 8 hours from 9:00 with the realistic answer-rate profile (``dialer.sim.day``),
operators logging in and out in waves, a 15-minute break every two hours and a
45-minute lunch, a cold start. Each cell also runs a stationary day for the same team
(everyone logged in all shift) at the day's mean answer rate, the yardstick of the
utilisation target, and the limit (``_pacing_limit``).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace

from _pacing_limit import ClairvoyantPacer

from dialer.pacing import PredictivePacer, ProgressivePacer
from dialer.sim import SimParams, run_simulation
from dialer.sim.day import REALISTIC_PROFILE, DayPlan

CAP = 0.03
INTERVAL_CAP = 0.10
STATIONARY_GAP = 0.03
REAL_DAY = DayPlan(answer_profile=REALISTIC_PROFILE, schedule="realistic")
DAY_METHODS = ("predictive", "progressive", "limit", "stationary")


@dataclass(frozen=True)
class DayJob:
    method: str  # predictive, progressive, limit, or stationary (predictive on a stationary day)
    operators: int
    answer_rate: float
    talk_mean: float
    seed: int
    hours: float

    @property
    def scenario(self) -> tuple[int, float, float]:
        return (self.operators, self.answer_rate, self.talk_mean)

    def params(self) -> SimParams:
        base = SimParams(
            operators=self.operators,
            answer_rate=self.answer_rate,
            talk_mean=self.talk_mean,
            wrap=10.0,
            hours=self.hours,
            seed=self.seed,
            day=REAL_DAY,
        )
        if self.method != "stationary":
            return base
        mean_rate = self.answer_rate * REAL_DAY.mean_answer_factor(self.hours)
        return replace(base, answer_rate=mean_rate, day=DayPlan())


def run_day_job(job: DayJob) -> tuple[DayJob, dict[str, float]]:
    pacers = {"progressive": ProgressivePacer, "limit": ClairvoyantPacer}
    pacer = pacers.get(job.method, PredictivePacer)()
    started = time.perf_counter()
    result = run_simulation(job.params(), pacer)  # type: ignore[arg-type]
    return job, {
        **result.to_dict(),
        "worst_interval": result.worst_interval,
        "seconds": time.perf_counter() - started,
    }


def summarise_day(results: list[tuple[DayJob, dict[str, float]]]) -> list[dict[str, object]]:
    groups: dict[tuple[int, float, float], dict[str, list[dict[str, float]]]] = {}
    for job, r in results:
        groups.setdefault(job.scenario, {}).setdefault(job.method, []).append(r)
    rows: list[dict[str, object]] = []
    for (ops, p, talk), methods in sorted(groups.items()):
        row: dict[str, object] = {"operators": ops, "answer_rate": p, "talk_mean": talk}
        for method, runs in methods.items():
            row[f"{method}_utilization"] = statistics.fmean(r["utilization"] for r in runs)
            row[f"{method}_abandon_max"] = max(r["abandon_rate"] for r in runs)
            row[f"{method}_worst_interval"] = max(r["worst_interval"] for r in runs)
            row[f"{method}_seeds"] = len(runs)
        rows.append(row)
    return rows


def _f(row: dict[str, object], key: str) -> float | None:
    value = row.get(key)
    return None if value is None else float(str(value))


def check_day_targets(rows: list[dict[str, object]]) -> list[str]:
    lines = []
    for row in rows:
        name = f"{row['operators']} operators, talk {row['talk_mean']} s"
        ab, worst = _f(row, "predictive_abandon_max"), _f(row, "predictive_worst_interval")
        util, still = _f(row, "predictive_utilization"), _f(row, "stationary_utilization")
        limit, prog = _f(row, "limit_utilization"), _f(row, "progressive_utilization")
        if ab is not None:
            lines.append(
                f"{'met' if ab <= CAP else 'MISSED'}: {name}: day abandon (worst seed) {ab:.2%} <= 3%"
            )
        if worst is not None:
            ok = worst <= INTERVAL_CAP
            lines.append(
                f"{'met' if ok else 'MISSED'}: {name}: worst 15 minutes {worst:.1%} <= 10% of answers"
            )
        if util is not None and still is not None:
            ok = still - util <= STATIONARY_GAP
            lines.append(
                f"{'met' if ok else 'MISSED'}: {name}: utilisation {util:.1%} vs stationary day {still:.1%} "
                "(within 3 points)"
            )
        if util is not None and prog is not None:
            ok = util >= prog
            lines.append(
                f"{'met' if ok else 'MISSED'}: {name}: predictive {util:.1%} >= progressive {prog:.1%}"
            )
        if util is not None and limit is not None:
            lines.append(f"distance to the limit: {name}: {100 * (limit - util):.1f} points ({limit:.1%})")
    return lines


def markdown_day(rows: list[dict[str, object]]) -> list[str]:
    out = [
        "| operators | talk s | predictive | abandon (max) | worst 15 min | progressive | stationary day "
        "| limit | limit abandon (max) | seeds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def pct(row: dict[str, object], key: str, digits: int = 1) -> str:
        value = _f(row, key)
        return "-" if value is None else f"{100 * value:.{digits}f}%"

    for r in rows:
        out.append(
            f"| {r['operators']} | {float(str(r['talk_mean'])):g} | {pct(r, 'predictive_utilization')} "
            f"| {pct(r, 'predictive_abandon_max', 2)} | {pct(r, 'predictive_worst_interval')} "
            f"| {pct(r, 'progressive_utilization')} | {pct(r, 'stationary_utilization')} "
            f"| {pct(r, 'limit_utilization')} | {pct(r, 'limit_abandon_max', 2)} "
            f"| {r.get('predictive_seeds', '-')} |"
        )
    return out

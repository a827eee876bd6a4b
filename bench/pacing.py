"""Pacing benchmark: the product's pacers against other dialers' published rules.

Every method runs in the same seeded simulator (``dialer.sim``) on the grid
operators x answer rate x mean talk time, wrap-up 10 s, 8-hour shifts, several
seeds. The baselines below are written from the public descriptions of each
dialer's pacing rule (see docs/benchmarks.md, "Pacing"); they live here, not in the
product.

    python bench/pacing.py                     # the full grid (minutes, 2 workers)
    python bench/pacing.py --seeds 2 --hours 1 --ops 5,20   # a quick look
    python bench/pacing.py --grid day          # the real-day grid (_pacing_day.py)

Every cell also has the "limit" row: a pacer told which calls in flight a person will
answer and when, and when each operator will be free (``_pacing_limit.py``).
``--methods fixed-risk-0.01,fixed-risk-0.02,...`` runs the product's forecast at a fixed
allowed risk, without its controller (``_pacing_fixed.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _pacing_day import DAY_METHODS, DayJob, check_day_targets, markdown_day, run_day_job, summarise_day
from _pacing_fixed import fixed_risk_pacer, frontier_lines, is_fixed_risk, risk_of
from _pacing_limit import ClairvoyantPacer

from dialer.pacing import Pacer, PacingDecision, PacingSnapshot, PredictivePacer, ProgressivePacer
from dialer.pacing.base import within_caps
from dialer.sim import SimParams, run_simulation

CAP = 0.03


# --- baselines -----------------------------------------------------------------------


@dataclass
class VicidialAdaptHardLimit:
    """VICIdial ADAPT_HARD_LIMIT: a dial level adapted every 15 s, dropped to 1.0 over the drop limit."""

    max_level: float = 3.0
    damping: float = 0.5  # our reading of the "intensity" setting at its default
    drop_limit: float = 0.03
    level: float = 1.0
    _next_adjust: float = 0.0
    _minute: list[tuple[float, int, int]] = field(default_factory=list)

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        if snap.staffed == 0:
            return PacingDecision(0)
        stats = snap.abandon
        self._minute = [m for m in self._minute if m[0] > snap.now - 60] + [
            (snap.now, stats.abandoned, stats.live_answers)
        ]
        if snap.now >= self._next_adjust:
            self._next_adjust = snap.now + 15.0
            change = (snap.ready - snap.waiting) / max(snap.staffed, 1)
            self.level = min(self.max_level, max(1.0, self.level * (1 + self.damping * change)))
            _, ab0, live0 = self._minute[0]
            recent_live, recent_ab = stats.live_answers - live0, stats.abandoned - ab0
            if recent_live > 20 and recent_ab > recent_live / 2:
                self.level = max(1.0, self.level / 2)
        if stats.live_answers >= 50 and stats.rate > self.drop_limit:
            self.level = 1.0
        lines = math.floor(self.level * snap.staffed) - snap.channels_in_use
        return PacingDecision(within_caps(snap, lines), {"level": self.level})


@dataclass
class OmniDialer:
    """OMniDialer: (free + expected - ringing x P_hit) / P_hit x gamma, with a latch into progressive."""

    d_max: float = 0.03
    alpha: float = 0.1
    floor: float = 0.05
    warmup_answers: int = 50
    p_hit: float = 0.5
    latched: bool = False
    _over_ticks: int = 0
    _seen_resolved: int = 0
    _seen_answered: int = 0

    def _learn(self, snap: PacingSnapshot) -> None:
        est = snap.estimates
        resolved = est.resolved - self._seen_resolved
        answered = est.answered - self._seen_answered
        self._seen_resolved, self._seen_answered = est.resolved, est.answered
        if resolved > 0:
            keep = (1 - self.alpha) ** resolved
            self.p_hit = max(self.floor, keep * self.p_hit + (1 - keep) * answered / resolved)

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        self._learn(snap)
        if snap.staffed == 0:
            return PacingDecision(0)
        rate = snap.abandon.rate
        self._over_ticks = self._over_ticks + 1 if rate > self.d_max else 0
        if self._over_ticks >= 5:
            self.latched = True
        elif self.latched and rate < 0.8 * self.d_max:
            self.latched = False
        if self.latched or snap.estimates.answered < self.warmup_answers:
            return ProgressivePacer().decide(snap)
        gamma = 1.0 if rate <= 0.5 * self.d_max else max(0.0, (self.d_max - rate) / (0.5 * self.d_max))
        talk_mean = snap.estimates.talk.mean
        expected = len(snap.in_wrap) + len(snap.wrap_left) + sum(1 for e in snap.in_call if e >= talk_mean)
        calls = (snap.ready + expected - len(snap.ringing) * self.p_hit) / self.p_hit * gamma
        return PacingDecision(within_caps(snap, math.floor(calls)), {"p_hit": self.p_hit})


@dataclass(frozen=True)
class WombatBoost:
    """Wombat: free operators x boost factor calls in flight."""

    boost: float = 1.3

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        if snap.ready == 0:
            return PacingDecision(0)
        return PacingDecision(within_caps(snap, math.floor(snap.ready * self.boost) - snap.in_flight))


METHODS: dict[str, Callable[[], Pacer]] = {
    "predictive": PredictivePacer,
    "progressive": ProgressivePacer,
    "vicidial-adapt-hard-limit": VicidialAdaptHardLimit,
    "omnidialer": OmniDialer,
    "wombat-boost-1.3": WombatBoost,
    "limit": ClairvoyantPacer,
    # The two halves of the limit, for measuring where its lead comes from.
    "limit-answers": lambda: ClairvoyantPacer(knows_free=False),
    "limit-free": lambda: ClairvoyantPacer(knows_answers=False),
}


def pacer_factory(method: str) -> Callable[[], Pacer]:
    return fixed_risk_pacer(method) if is_fixed_risk(method) else METHODS[method]


def _known(method: str, day: bool) -> bool:
    """A method of the real-day grid (some, like "stationary", are no pacer), or one with a pacer."""
    if day:
        return method in DAY_METHODS
    try:
        pacer_factory(method)
    except (KeyError, ValueError):
        return False
    return True


def unknown_methods(methods: list[str], day: bool) -> list[str]:
    return [m for m in methods if not _known(m, day)]


def method_order(method: str) -> tuple[int, float, str]:
    if is_fixed_risk(method):
        return (len(METHODS), risk_of(method), method)
    return (list(METHODS).index(method), 0.0, method)


# --- running the grid -------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    method: str
    operators: int
    answer_rate: float
    talk_mean: float
    seed: int
    hours: float

    @property
    def scenario(self) -> tuple[int, float, float]:
        return (self.operators, self.answer_rate, self.talk_mean)


def run_job(job: Job) -> tuple[Job, dict[str, float]]:
    params = SimParams(
        operators=job.operators,
        answer_rate=job.answer_rate,
        talk_mean=job.talk_mean,
        wrap=10.0,
        hours=job.hours,
        seed=job.seed,
        mode="predictive",
    )
    started = time.perf_counter()
    result = run_simulation(params, pacer_factory(job.method)())
    return job, {**result.to_dict(), "seconds": time.perf_counter() - started}


def summarise(results: list[tuple[Job, dict[str, float]]]) -> list[dict[str, object]]:
    groups: dict[tuple[tuple[int, float, float], str], list[dict[str, float]]] = {}
    for job, r in results:
        groups.setdefault((job.scenario, job.method), []).append(r)
    rows: list[dict[str, object]] = []
    for (scenario, method), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], method_order(kv[0][1]))):
        ops, p, talk = scenario
        rows.append(
            {
                "operators": ops,
                "answer_rate": p,
                "talk_mean": talk,
                "method": method,
                "seeds": len(runs),
                "utilization_mean": statistics.fmean(r["utilization"] for r in runs),
                "abandon_rate_max": max(r["abandon_rate"] for r in runs),
                "abandon_rate_mean": statistics.fmean(r["abandon_rate"] for r in runs),
                "idle_seconds_per_connect": statistics.fmean(r["idle_seconds_per_connect"] for r in runs),
                "connects_per_operator_hour": statistics.fmean(r["connects_per_operator_hour"] for r in runs),
                "seconds_per_run": statistics.fmean(r["seconds"] for r in runs),
            }
        )
    return rows


def check_targets(rows: list[dict[str, object]]) -> list[str]:
    """The claims the product makes about its predictive pacer, each marked met or not."""
    lines = []
    by_scenario: dict[tuple[object, object, object], dict[str, dict[str, object]]] = {}
    for row in rows:
        key = (row["operators"], row["answer_rate"], row["talk_mean"])
        by_scenario.setdefault(key, {})[str(row["method"])] = row
    for (ops, p, talk), methods in by_scenario.items():
        pred = methods.get("predictive")
        if pred is None:
            continue
        u, ab = float(str(pred["utilization_mean"])), float(str(pred["abandon_rate_max"]))
        name = f"{ops} operators, answer rate {p}, talk {talk} s"
        lines.append(f"{'met' if ab <= CAP else 'MISSED'}: {name}: predictive max abandon {ab:.2%} <= 3%")
        if p == 0.15:
            rivals = [
                (m, float(str(r["utilization_mean"])))
                for m, r in methods.items()
                if m != "predictive"
                and not m.startswith("limit")
                and not is_fixed_risk(m)
                and float(str(r["abandon_rate_max"])) <= CAP
            ]
            if rivals:
                best_m, best_u = max(rivals, key=lambda x: x[1])
                ok = u - best_u >= 0.05
                lines.append(
                    f"{'met' if ok else 'MISSED'}: {name}: predictive {u:.1%} vs best compliant "
                    f"baseline {best_m} {best_u:.1%} (needs +5 points)"
                )
        prog = methods.get("progressive")
        if prog is not None:
            pu = float(str(prog["utilization_mean"]))
            lines.append(
                f"{'met' if u >= pu else 'MISSED'}: {name}: predictive {u:.1%} >= progressive {pu:.1%}"
            )
        limit = methods.get("limit")
        if limit is not None:
            lu = float(str(limit["utilization_mean"]))
            lines.append(f"distance to the limit: {name}: {100 * (lu - u):.1f} points ({lu:.1%})")
    return lines


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": model, "python": platform.python_version()}


def markdown(rows: list[dict[str, object]], targets: list[str], meta: dict[str, object]) -> str:
    out = [
        "| operators | answer rate | talk s | method | utilisation (mean) | abandon (max) | abandon (mean) "
        "| idle s / connect | connects / op-hour |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['operators']} | {r['answer_rate']} | {r['talk_mean']:g} | {r['method']} "
            f"| {float(str(r['utilization_mean'])):.1%} | {float(str(r['abandon_rate_max'])):.2%} "
            f"| {float(str(r['abandon_rate_mean'])):.2%} | {float(str(r['idle_seconds_per_connect'])):.1f} "
            f"| {float(str(r['connects_per_operator_hour'])):.1f} |"
        )
    out += ["", "Targets:", ""] + [f"- {t}" for t in targets]
    out += ["", f"Run: {json.dumps(meta)}"]
    return "\n".join(out) + "\n"


def run_all(jobs: list[Any], run: Callable[[Any], tuple[Any, dict[str, float]]], workers: int) -> list[Any]:
    results: list[tuple[Any, dict[str, float]]] = []
    with multiprocessing.Pool(workers) as pool:
        for i, res in enumerate(pool.imap_unordered(run, jobs), 1):
            results.append(res)
            print(f"\r{i}/{len(jobs)} runs", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", choices=("issue", "day"), default="issue")
    ap.add_argument("--ops", default=None, help="default 5,20,100 (issue grid) or 10,30,100 (day grid)")
    ap.add_argument("--answer-rates", default="0.15,0.35")
    ap.add_argument("--talk", default="60,180")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed-start", type=int, default=0)
    ap.add_argument("--methods", default=None, help="default: every method of the grid")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args(argv)
    day = args.grid == "day"
    ops = args.ops or ("10,30,100" if day else "5,20,100")
    rates = "0.25" if day and args.answer_rates == "0.15,0.35" else args.answer_rates
    methods = args.methods or ",".join(DAY_METHODS if day else METHODS)
    make = DayJob if day else Job
    if unknown := unknown_methods(methods.split(","), day):
        ap.error(f"unknown methods: {', '.join(unknown)}")
    jobs = [
        make(m, int(o), float(p), float(t), s, args.hours)
        for o in ops.split(",")
        for p in rates.split(",")
        for t in args.talk.split(",")
        for m in methods.split(",")
        for s in range(args.seed_start, args.seed_start + args.seeds)
    ]
    # Biggest first so the two workers finish together.
    jobs.sort(key=lambda j: -j.operators / j.talk_mean)
    started = time.perf_counter()
    load = os.getloadavg()
    results = run_all(jobs, run_day_job if day else run_job, args.workers)
    meta: dict[str, object] = {
        **machine(),
        "grid": args.grid,
        "seeds": f"{args.seed_start}-{args.seed_start + args.seeds - 1}",
        "hours": args.hours,
        "workers": args.workers,
        "load_average_at_start": [round(x, 2) for x in load],
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    if day:
        rows = summarise_day(results)
        targets = check_day_targets(rows)
        text = "\n".join([*markdown_day(rows), "", "Targets:", "", *[f"- {t}" for t in targets]])
        text += f"\n\nRun: {json.dumps(meta)}\n"
    else:
        rows = summarise(results)
        targets = check_targets(rows) + frontier_lines(rows)
        text = markdown(rows, targets, meta)
    print(text)
    stem = "pacing-day" if day else "pacing"
    args.json = args.json or Path(f"bench/results/{stem}.json")
    args.markdown = args.markdown or Path(f"bench/results/{stem}.md")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "rows": rows, "targets": targets}, indent=1))
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

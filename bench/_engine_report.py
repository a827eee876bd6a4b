"""The engine benchmark's figures: what each phase measured, and the Markdown report of them."""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from _engine_setup import median, percentile

from campaigns.models import CallAttempt
from dialer.core.clock import to_ts

EXPECTED = {5: "busy", 7: "congestion"}  # last digit -> the outcome the sandbox scripts


@dataclass
class Handoff:
    attempts: int
    outcomes: Counter[str]
    op_answer_s: float
    engine_s: list[float]  # answered_at -> connected_at, engine records
    first_wave_s: list[float]
    pbx_s: list[float]  # Asterisk: channel Up -> AgentConnect
    engine_lag_s: list[float]  # Asterisk's AgentConnect -> engine's connected_at
    peak_live: int
    cpu_s: float


@dataclass
class Rate:
    asked: float  # originates/s over all campaigns
    campaigns: int
    seconds: float
    leads: int
    attempts: int
    outcomes: Counter[str]
    lost: int  # leads not dialed, dialed twice, or whose attempt did not end as their number scripts
    achieved: float  # originates/s after the first second's burst
    per_second: list[int]
    settle_p50: float
    settle_p99: float
    settle_last_p50: float  # the last fifth of the run: does the event backlog grow?
    peak_live: int
    wall_s: float
    cpu_s: float
    asterisk_cpu_s: float
    disconnects: int
    per_attempt_ms: float = field(init=False)

    def __post_init__(self) -> None:
        self.per_attempt_ms = 1000 * self.cpu_s / self.attempts if self.attempts else math.nan


@dataclass(frozen=True)
class RatePlan:
    name: str
    rate: float  # originates/s of each campaign
    seconds: float
    channels: int  # max_channels of each campaign
    campaigns: int = 1
    operator_group: int = 2  # operators are op<group><n>: the sandbox's sim-operators matches _op.


def measure_rate(
    rows: list[CallAttempt],
    plan: RatePlan,
    total: int,
    peak: int,
    wall: float,
    cpu: float,
    ast: float,
    disconnects: int,
) -> Rate:
    """The figures of one rate phase, from its attempt rows and what was sampled around the run."""
    starts = sorted(to_ts(r.started_at) for r in rows)
    first = starts[0]
    steady = [t for t in starts if t > first + 1.0]
    span = starts[-1] - (first + 1.0)
    bins = Counter(int(t - first) for t in starts)
    full = [bins[s] for s in range(1, int(starts[-1] - first))]
    settle = [
        (to_ts(r.ended_at) - to_ts(r.started_at), to_ts(r.started_at)) for r in rows if r.ended_at is not None
    ]
    late = [s for s, at in settle if at >= first + 0.8 * (starts[-1] - first)]
    wrong = sum(1 for r in rows if r.ended_at is None or r.outcome != EXPECTED.get(int(r.phone[-1]), "?"))
    dialed = {(r.campaign_id, r.lead_id) for r in rows}
    return Rate(
        asked=plan.rate * plan.campaigns,
        campaigns=plan.campaigns,
        seconds=plan.seconds,
        leads=total,
        attempts=len(rows),
        outcomes=Counter(r.outcome or "unfinished" for r in rows),
        lost=wrong + (total - len(dialed)) + (len(rows) - len(dialed)),
        achieved=(len(steady) - 1) / span if span > 0 and len(steady) > 1 else math.nan,
        per_second=full,
        settle_p50=median([s for s, _ in settle]),
        settle_p99=percentile([s for s, _ in settle], 99),
        settle_last_p50=median(late) if late else math.nan,
        peak_live=peak,
        wall_s=wall,
        cpu_s=cpu,
        asterisk_cpu_s=ast,
        disconnects=disconnects,
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(values: Sequence[float], minus: float = 0.0) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {ms(percentile(values, 50) - minus)}, p99 {ms(percentile(values, 99) - minus)}, "
        f"max {ms(max(values) - minus)} (n={len(values)})"
    )


def report(host: dict[str, str], hand: Handoff, rates: list[Rate], args: argparse.Namespace) -> str:
    lines = _handoff_lines(host, hand, args) + _rate_lines(rates) + _target_lines(hand, rates)
    return "\n".join(lines) + "\n"


def _handoff_lines(host: dict[str, str], hand: Handoff, args: argparse.Namespace) -> list[str]:
    op = hand.op_answer_s
    lines = ["## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in host.items()]
    lines += ["", "## Hand-off: customer answer to operator connected", ""]
    lines += [
        f"{args.calls} channels, {args.operators} ready operators (Local members) answering after "
        f"SIM_OP_ANSWER = {op:g} s, talk {args.talk:g} s; {hand.attempts} attempts "
        f"({', '.join(f'{k} {v}' for k, v in sorted(hand.outcomes.items()))}); "
        f"peak {hand.peak_live} calls in flight.",
        "",
        "| measure | hand-off | minus the operator's answer delay |",
        "|---|---|---|",
        f"| engine records, all calls | {summary(hand.engine_s)} | {summary(hand.engine_s, op)} |",
        f"| engine records, first wave ({args.calls} at once) | {summary(hand.first_wave_s)} "
        f"| {summary(hand.first_wave_s, op)} |",
        f"| Asterisk timestamps: channel Up -> AgentConnect | {summary(hand.pbx_s)} "
        f"| {summary(hand.pbx_s, op)} |",
        f"| engine lag: Asterisk's AgentConnect -> engine's connected_at | {summary(hand.engine_lag_s)} | |",
        "",
        f"Engine CPU in this phase: {hand.cpu_s:.2f} s for {hand.attempts} answered-and-connected "
        f"attempts = {1000 * hand.cpu_s / max(1, hand.attempts):.1f} ms per attempt.",
        "",
        "## Originate rate and engine CPU",
        "",
        "| asked | run | attempts | achieved after the first second | per full second min / median / max "
        "| lost events | originate -> final event p50 / p99 (last fifth p50) | peak in flight "
        "| engine CPU | engine CPU per attempt | Asterisk CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    return lines


def _rate_lines(rates: list[Rate]) -> list[str]:
    lines = []
    for r in rates:
        per = r.per_second or [0]
        lines.append(
            f"| {r.campaigns} x {r.asked / r.campaigns:g}/s | {r.wall_s:.1f} s | {r.attempts} of {r.leads} "
            f"| {r.achieved:.1f}/s "
            f"| {min(per)} / {median(per):g} / {max(per)} | {r.lost} "
            f"| {ms(r.settle_p50)} / {ms(r.settle_p99)} ({ms(r.settle_last_p50)}) | {r.peak_live} "
            f"| {r.cpu_s:.2f} s | {r.per_attempt_ms:.2f} ms | {r.asterisk_cpu_s:.2f} s |"
        )
    lines.append("")
    for r in rates:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items()))
        lines.append(
            f"- {r.campaigns} x {r.asked / r.campaigns:g}/s: outcomes {outcomes}; "
            f"AMI connection lost {r.disconnects} times."
        )
    return lines


def _target_lines(hand: Handoff, rates: list[Rate]) -> list[str]:
    op = hand.op_answer_s
    p99_over = percentile(hand.engine_s, 99) - op if hand.engine_s else math.inf
    main = rates[0]
    cpu_attempts = sum(r.attempts for r in rates)
    cpu_ms = 1000 * sum(r.cpu_s for r in rates) / cpu_attempts if cpu_attempts else math.inf
    hand_ms = 1000 * hand.cpu_s / max(1, hand.attempts)
    met = [
        (
            "hand-off p99 within 200 ms of the operator's answer delay",
            p99_over <= 0.200,
            f"p99 {ms(p99_over)} over the {op:g} s answer delay",
        ),
        (
            "50 originates/s sustained with no lost events",
            main.achieved >= 50 and main.lost == 0,
            f"{main.achieved:.1f}/s over {main.seconds:g} s, {main.lost} lost",
        ),
        (
            "at most 10 ms of engine CPU per attempt: busy/congested calls",
            cpu_ms <= 10,
            f"{cpu_ms:.2f} ms over {cpu_attempts} attempts",
        ),
        (
            "at most 10 ms of engine CPU per attempt: answered and connected calls",
            hand_ms <= 10,
            f"{hand_ms:.2f} ms over {hand.attempts} attempts",
        ),
    ]
    lines = ["", "## Targets", "", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if ok else 'NO'} | {value} |" for name, ok, value in met]
    return lines

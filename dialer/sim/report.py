"""What a simulated shift measured, and a picture of it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from dialer.sim.params import SimParams


@dataclass(frozen=True)
class SeriesPoint:
    """One bucket of the shift (``start_s`` to ``start_s`` + bucket)."""

    start_s: float
    utilization: float  # talk + wrap-up over logged-in time, within this bucket
    abandon_rate: float  # abandoned / live answers since the shift began
    answer_rate: float = 0.0  # calls placed in this bucket that a person answered
    operators: float = 0.0  # operators logged in (not on a break), on average over the bucket
    live_answers: int = 0  # in this bucket
    abandoned: int = 0  # in this bucket

    @property
    def abandoned_share(self) -> float:
        """Abandoned calls over live answers within this bucket alone."""
        return self.abandoned / self.live_answers if self.live_answers else 0.0


@dataclass(frozen=True)
class SimResult:
    params: SimParams
    utilization: float  # talk + wrap-up over logged-in time, whole shift
    abandon_rate: float  # abandoned / live answers, whole shift
    idle_seconds_per_connect: float
    connects_per_operator_hour: float
    calls: int  # calls placed
    connects: int
    live_answers: int
    abandoned: int
    series: tuple[SeriesPoint, ...]

    @property
    def worst_interval(self) -> float:
        """The largest share of answers abandoned within one bucket of the shift."""
        return max((p.abandoned_share for p in self.series), default=0.0)

    def to_dict(self) -> dict[str, float | int]:
        """The headline figures (the keys ``dialer simulate --json`` prints)."""
        return {
            "utilization": self.utilization,
            "abandon_rate": self.abandon_rate,
            "idle_seconds_per_connect": self.idle_seconds_per_connect,
            "connects_per_operator_hour": self.connects_per_operator_hour,
            "calls": self.calls,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    def plot(self, out: BinaryIO) -> None:
        """Draw the shift step by step as a PNG into ``out``: answer rate, utilisation,
        abandons and operators logged in."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        hours = [p.start_s / 3600.0 for p in self.series]
        width = self.params.bucket_s / 3600.0
        fig, axes = plt.subplots(4, 1, figsize=(9, 9), sharex=True)
        panels = [
            ("answer rate, %", [100 * p.answer_rate for p in self.series], "tab:green"),
            ("utilisation, %", [100 * p.utilization for p in self.series], "tab:blue"),
            ("abandoned, % of answers", [100 * p.abandoned_share for p in self.series], "tab:red"),
            ("operators logged in", [p.operators for p in self.series], "tab:gray"),
        ]
        for ax, (label, values, color) in zip(axes, panels, strict=True):
            ax.step(hours, values, where="post", color=color)
            ax.set_ylabel(label)
            ax.set_ylim(0, max(1.0, max(values, default=0.0) * 1.15))
        axes[2].axhline(3.0, color="tab:red", linestyle="--", linewidth=0.8)
        axes[2].plot(hours, [100 * p.abandon_rate for p in self.series], color="tab:red", linewidth=0.8)
        axes[-1].set_xlabel(f"hours into the shift ({width * 60:g}-minute steps)")
        p = self.params
        axes[0].set_title(
            f"{p.mode}: {p.operators} operators, answer rate {p.answer_rate:g}, talk {p.talk_mean:g} s; "
            f"day {self.utilization:.1%} busy, {self.abandon_rate:.2%} abandoned"
        )
        fig.tight_layout()
        fig.savefig(out, format="png")
        plt.close(fig)


@dataclass
class Tally:
    """Counters the simulator fills while it runs (mutable)."""

    shift_s: float
    bucket_s: float
    operators: int
    calls: int = 0
    connects: int = 0
    live_answers: int = 0
    abandoned: int = 0
    busy_s: float = 0.0

    present_s: float = 0.0

    def __post_init__(self) -> None:
        n = max(1, math.ceil(self.shift_s / self.bucket_s))
        self.bucket_busy = [0.0] * n
        self.bucket_present = [0.0] * n
        self.bucket_live = [0] * n
        self.bucket_abandoned = [0] * n
        self.bucket_calls = [0] * n
        self.bucket_answered = [0] * n

    def _bucket(self, at: float) -> int:
        return min(len(self.bucket_busy) - 1, max(0, int(at // self.bucket_s)))

    def _spread(self, buckets: list[float], start: float, end: float) -> float:
        end = min(end, self.shift_s)
        if end <= start:
            return 0.0
        total = end - start
        b = self._bucket(start)
        while start < end:
            edge = min(end, (b + 1) * self.bucket_s)
            buckets[b] += edge - start
            start, b = edge, b + 1
        return total

    def busy(self, start: float, end: float) -> None:
        """An operator was busy (talking or wrapping up) from ``start`` to ``end``."""
        self.busy_s += self._spread(self.bucket_busy, start, end)

    def present(self, start: float, end: float) -> None:
        """An operator was logged in (and not on a break) from ``start`` to ``end``."""
        self.present_s += self._spread(self.bucket_present, start, end)

    def placed(self, at: float) -> None:
        self.calls += 1
        self.bucket_calls[self._bucket(at)] += 1

    def answered(self, dialed: float) -> None:
        """A person answered a call placed at ``dialed``."""
        self.bucket_answered[self._bucket(dialed)] += 1

    def live_answer(self, at: float, abandoned: bool) -> None:
        self.live_answers += 1
        b = self._bucket(at)
        self.bucket_live[b] += 1
        if abandoned:
            self.abandoned += 1
            self.bucket_abandoned[b] += 1
        else:
            self.connects += 1

    def result(self, params: SimParams) -> SimResult:
        logged_in = self.present_s
        series: list[SeriesPoint] = []
        live = abandoned = 0
        for i, busy in enumerate(self.bucket_busy):
            width = min(self.bucket_s, self.shift_s - i * self.bucket_s)
            present = self.bucket_present[i]
            live += self.bucket_live[i]
            abandoned += self.bucket_abandoned[i]
            calls = self.bucket_calls[i]
            series.append(
                SeriesPoint(
                    start_s=i * self.bucket_s,
                    utilization=min(1.0, busy / present) if present > 0 else 0.0,
                    abandon_rate=abandoned / live if live else 0.0,
                    answer_rate=self.bucket_answered[i] / calls if calls else 0.0,
                    operators=present / width if width > 0 else 0.0,
                    live_answers=self.bucket_live[i],
                    abandoned=self.bucket_abandoned[i],
                )
            )
        idle = max(0.0, logged_in - self.busy_s)
        return SimResult(
            params=params,
            utilization=self.busy_s / logged_in if logged_in else 0.0,
            abandon_rate=self.abandoned / self.live_answers if self.live_answers else 0.0,
            idle_seconds_per_connect=idle / self.connects if self.connects else idle,
            connects_per_operator_hour=self.connects / (logged_in / 3600.0) if logged_in else 0.0,
            calls=self.calls,
            connects=self.connects,
            live_answers=self.live_answers,
            abandoned=self.abandoned,
            series=tuple(series),
        )


def summary(result: SimResult) -> dict[str, Any]:
    """The headline figures plus the counts behind them, for reports."""
    return {
        **result.to_dict(),
        "connects": result.connects,
        "live_answers": result.live_answers,
        "abandoned": result.abandoned,
    }

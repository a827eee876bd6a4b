"""What a simulated shift measured, and a picture of it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from dialer.sim.simulator import SimParams


@dataclass(frozen=True)
class SeriesPoint:
    """One bucket of the shift (``start_s`` to ``start_s`` + bucket)."""

    start_s: float
    utilization: float  # talk + wrap-up over logged-in time, within this bucket
    abandon_rate: float  # abandoned / live answers since the shift began


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
        """Draw utilisation and abandon rate over the shift as a PNG into ``out``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        hours = [p.start_s / 3600.0 for p in self.series]
        fig, ax_util = plt.subplots(figsize=(9, 4.5))
        ax_util.plot(hours, [100 * p.utilization for p in self.series], color="tab:blue", label="utilisation")
        ax_util.set_xlabel("hours into the shift")
        ax_util.set_ylabel("operator utilisation, %", color="tab:blue")
        ax_util.set_ylim(0, 105)
        ax_ab = ax_util.twinx()
        ax_ab.plot(hours, [100 * p.abandon_rate for p in self.series], color="tab:red", label="abandon rate")
        ax_ab.axhline(3.0, color="tab:red", linestyle="--", linewidth=0.8)
        ax_ab.set_ylabel("abandon rate since shift start, %", color="tab:red")
        ax_ab.set_ylim(0, max(5.0, 100 * max((p.abandon_rate for p in self.series), default=0) * 1.2))
        p = self.params
        ax_util.set_title(
            f"{p.mode}: {p.operators} operators, answer rate {p.answer_rate:g}, talk {p.talk_mean:g} s"
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

    def __post_init__(self) -> None:
        n = max(1, math.ceil(self.shift_s / self.bucket_s))
        self.bucket_busy = [0.0] * n
        self.bucket_live = [0] * n
        self.bucket_abandoned = [0] * n

    def _bucket(self, at: float) -> int:
        return min(len(self.bucket_busy) - 1, max(0, int(at // self.bucket_s)))

    def busy(self, start: float, end: float) -> None:
        """An operator was busy (talking or wrapping up) from ``start`` to ``end``."""
        end = min(end, self.shift_s)
        if end <= start:
            return
        self.busy_s += end - start
        b = self._bucket(start)
        while start < end:
            edge = min(end, (b + 1) * self.bucket_s)
            self.bucket_busy[b] += edge - start
            start, b = edge, b + 1

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
        logged_in = self.operators * self.shift_s
        series: list[SeriesPoint] = []
        live = abandoned = 0
        for i, busy in enumerate(self.bucket_busy):
            width = min(self.bucket_s, self.shift_s - i * self.bucket_s)
            live += self.bucket_live[i]
            abandoned += self.bucket_abandoned[i]
            series.append(
                SeriesPoint(
                    start_s=i * self.bucket_s,
                    utilization=busy / (self.operators * width) if width > 0 else 0.0,
                    abandon_rate=abandoned / live if live else 0.0,
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

"""CPU time by group of processes over a span, from /proc (Linux), for the benchmarks.

The processes are the descendants of one root (the benchmark itself): a few are named by pid
(``fixed``: the sandbox Asterisk, the engine, the console), each with its own descendants; every
Chromium process (``comm`` starting ``chrom``) is ``chromium:<type>`` after its ``--type=`` switch
(``renderer``, ``gpu-process``, ``zygote``, ``utility``; the browser process has none; a
renderer of the browser's own WebUI is ``renderer-webui``), and any other
descendant is ``driver`` (Playwright's node process). The root itself is ``bench``; the children it
has reaped during the span are ``reaped``. The whole machine is ``/proc/stat``:
``busy`` (user, nice, system, irq, softirq of every CPU) and ``steal``; ``other`` is what the machine
ran besides the groups (other users' work, kernel threads).

A thread samples the groups and the machine every ``every_s`` seconds, so the busiest windows of
the span can be told apart from its average. The processes are found once at the start and once at
the end (one that appeared between is counted whole, from its start; one that ended between is
lost, but for reaped children of the root).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class _Proc:
    ppid: int
    comm: str
    ticks: int  # utime + stime
    reaped: int  # cutime + cstime


@dataclass(frozen=True)
class Sample:
    at: float  # epoch seconds
    busy: int  # machine ticks, every CPU
    steal: int
    groups: dict[str, int]  # ticks by group


def _parse(text: str) -> _Proc:
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return _Proc(int(fields[1]), comm, int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))


def _read_proc(pid: int) -> _Proc | None:
    try:
        return _parse(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def _machine() -> tuple[int, int]:
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def _chromium_type(pid: int) -> str:
    # Chromium rewrites its command line into one string, its arguments joined by spaces.
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return "chromium:?"
    kind = next((a[7:].decode(errors="replace") for a in args if a.startswith(b"--type=")), "browser")
    return f"chromium:{kind}-webui" if b"--top-chrome-webui" in args else f"chromium:{kind}"


def classify(root: int, fixed: Mapping[int, str]) -> dict[int, str]:
    """Every live descendant of ``root`` (and ``root``) with its group."""
    procs = {int(d): p for d in os.listdir("/proc") if d.isdigit() and (p := _read_proc(int(d))) is not None}
    children: dict[int, list[int]] = defaultdict(list)
    for pid, proc in procs.items():
        children[proc.ppid].append(pid)
    labels = {root: "bench"}
    todo = [(child, "") for child in children[root]]
    while todo:
        pid, inherited = todo.pop()
        label = fixed.get(pid) or inherited
        if not label and procs[pid].comm.startswith("chrom"):
            label = "chromium"
        labels[pid] = _chromium_type(pid) if label == "chromium" else (label or "driver")
        todo += [(child, label) for child in children[pid]]
    return labels


class CpuGroups:
    """Sample the groups of ``root``'s descendants from ``start()`` to ``stop()``."""

    def __init__(self, root: int, fixed: Mapping[int, str], every_s: float = 0.1) -> None:
        self.root, self.fixed, self.every_s = root, dict(fixed), every_s
        self.samples: list[Sample] = []
        self.totals: dict[str, int] = {}  # ticks by group over the span
        self._labels: dict[int, str] = {}
        self._first: dict[int, _Proc] = {}
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-groups", daemon=True)

    def _sample(self) -> Sample:
        groups: dict[str, int] = defaultdict(int)
        for pid, label in self._labels.items():
            proc = _read_proc(pid)
            if proc is not None:
                groups[label] += proc.ticks
                if pid == self.root:
                    groups["reaped"] += proc.reaped
        busy, steal = _machine()
        return Sample(time.time(), busy, steal, dict(groups))

    def _run(self) -> None:
        while not self._halt.wait(self.every_s):
            self.samples.append(self._sample())

    def start(self) -> CpuGroups:
        self._labels = classify(self.root, self.fixed)
        self._first = {pid: p for pid in self._labels if (p := _read_proc(pid)) is not None}
        self.samples.append(self._sample())
        self._thread.start()
        return self

    def stop(self) -> CpuGroups:
        self._halt.set()
        self._thread.join()
        self.samples.append(self._sample())
        totals: dict[str, int] = defaultdict(int)
        for pid, label in classify(self.root, self.fixed).items():
            proc = _read_proc(pid)
            if proc is None:
                continue
            first = self._first.get(pid)
            totals[label] += proc.ticks - (first.ticks if first else 0)
            if pid == self.root and first is not None:
                totals["reaped"] += proc.reaped - first.reaped
        self.totals = dict(totals)
        return self

    @property
    def span_s(self) -> float:
        return self.samples[-1].at - self.samples[0].at

    def report(self, per: float, unit: str) -> dict[str, Any]:
        """CPU ms of each group, of Chromium in all, of the machine and of ``other``, over ``per``."""
        first, last = self.samples[0], self.samples[-1]
        figures = _grouped(self.totals, last.busy - first.busy, last.steal - first.steal)
        return {"span_s": round(self.span_s, 2), f"cpu_ms_per_{unit}": _scaled(figures, 1 / per)}

    def busiest(
        self, count: int = 3, window_s: float = 1.0, marks: Sequence[float] = ()
    ) -> list[dict[str, Any]]:
        """The ``count`` busiest windows of the machine that do not overlap, busiest first: each
        group's CPU ms per second in it, and how many ``marks`` (epoch seconds) fall in it."""
        spans = []
        for i, start in enumerate(self.samples):
            end = next((s for s in self.samples[i + 1 :] if s.at - start.at >= window_s * 0.999), None)
            if end is not None:
                spans.append((end.busy - start.busy, start, end))
        chosen: list[tuple[Sample, Sample]] = []
        for _, start, end in sorted(spans, key=lambda span: -span[0]):
            if len(chosen) < count and all(end.at <= a.at or start.at >= b.at for a, b in chosen):
                chosen.append((start, end))
        return [self._window(start, end, marks) for start, end in chosen]

    def _window(self, start: Sample, end: Sample, marks: Sequence[float]) -> dict[str, Any]:
        # A reaped child's CPU lands whole when it is reaped, not when it ran: here it is in ``other``.
        ticks = {k: end.groups.get(k, 0) - start.groups.get(k, 0) for k in end.groups if k != "reaped"}
        figures = _grouped(ticks, end.busy - start.busy, end.steal - start.steal)
        return {
            "from_s": round(start.at - self.samples[0].at, 2),
            "pops_connected": sum(1 for m in marks if start.at <= m < end.at),
            "cpu_ms_per_s": _scaled(figures, 1 / (end.at - start.at)),
        }


def _grouped(ticks: Mapping[str, int], busy: int, steal: int) -> dict[str, float]:
    out = {label: float(value) for label, value in sorted(ticks.items())}
    out["chromium"] = sum(v for k, v in ticks.items() if k.startswith("chromium:"))
    out["machine_busy"], out["machine_steal"] = busy, steal
    out["other"] = busy - sum(ticks.values())
    return out


def _scaled(figures: Mapping[str, float], factor: float) -> dict[str, float]:
    return {k: round(v * TICK_MS * factor, 1) for k, v in figures.items()}

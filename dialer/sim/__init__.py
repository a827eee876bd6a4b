"""The simulated phone world.

world.py       simulated customers and operators (seeded draws)
simulator.py   a discrete-event campaign shift on a virtual clock: ``run_simulation``
report.py      ``SimResult``: utilisation, abandon rate, a plot
telephony.py   ``SimTelephony``: the Telephony port in real time, in memory
"""

from __future__ import annotations

from dialer.sim.params import SimParams
from dialer.sim.report import SeriesPoint, SimResult
from dialer.sim.simulator import run_simulation

__all__ = ["SeriesPoint", "SimParams", "SimResult", "run_simulation"]

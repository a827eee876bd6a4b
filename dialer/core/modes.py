"""The pacing modes a campaign runs in: the one list the settings check, the pacers and the CLI read."""

from __future__ import annotations

from enum import StrEnum


class PacingMode(StrEnum):
    PREVIEW = "preview"  # an operator asks for each call; the engine never dials on its own
    PROGRESSIVE = "progressive"  # one call per ready operator
    RATIO = "ratio"  # a fixed number of lines per ready operator (``ratio:N`` names the pacer)
    PREDICTIVE = "predictive"  # as many calls as the abandonment controller allows

    @property
    def spelling(self) -> str:
        """How a pacer is named for this mode (``make_pacer``, ``dialer simulate --mode``)."""
        return "ratio:N" if self is PacingMode.RATIO else self.value


# Modes whose pacer may place more calls than ready operators: ``dialer status`` explains them.
PACED_MODES = frozenset({PacingMode.PREDICTIVE, PacingMode.RATIO})
# Modes whose pacing ``dialer status`` shows: the paced ones, and progressive (one call per ready operator).
EXPLAINED_MODES = PACED_MODES | {PacingMode.PROGRESSIVE}

"""Pacing: how many calls to place now.

base.py         PacingSnapshot -> Pacer.decide -> PacingDecision (the extension point)
progressive.py  preview, progressive, fixed ratio
predictive.py   predictive pacing
controller.py   the abandonment controller the predictive pacer obeys
estimates.py    answer rate and duration fits learned from a campaign's calls
"""

from __future__ import annotations

from dialer.core.errors import InvalidInput
from dialer.core.modes import PacingMode
from dialer.pacing.base import (
    AbandonStats,
    DialCaps,
    Pacer,
    PacingDecision,
    PacingSnapshot,
    within_caps,
)
from dialer.pacing.controller import AbandonController, AbandonPolicy, Steering
from dialer.pacing.estimates import Estimates, EstimatesTracker, LogNormal, Priors
from dialer.pacing.predictive import PredictivePacer, PredictiveSettings
from dialer.pacing.progressive import PreviewPacer, ProgressivePacer, RatioPacer

MODES = tuple(mode.spelling for mode in PacingMode)


def make_pacer(mode: str, policy: AbandonPolicy | None = None) -> Pacer:
    """The pacer for a mode name: ``preview``, ``progressive``, ``ratio:N`` or ``predictive``."""
    name, _, arg = mode.strip().lower().partition(":")
    if name == PacingMode.PREVIEW and not arg:
        return PreviewPacer()
    if name == PacingMode.PROGRESSIVE and not arg:
        return ProgressivePacer()
    if name == PacingMode.PREDICTIVE and not arg:
        return PredictivePacer(policy)
    if name == PacingMode.RATIO:
        try:
            lines = float(arg)
        except ValueError:
            raise InvalidInput(f"ratio needs a number of lines, as in ratio:2.5, got {mode!r}") from None
        if not lines >= 1.0:
            raise InvalidInput(f"ratio must be at least 1 line per operator, got {mode!r}")
        return RatioPacer(lines)
    raise InvalidInput(f"unknown pacing mode {mode!r}; use one of {', '.join(MODES)}")


__all__ = [
    "MODES",
    "AbandonController",
    "AbandonPolicy",
    "AbandonStats",
    "DialCaps",
    "Estimates",
    "EstimatesTracker",
    "LogNormal",
    "Pacer",
    "PacingDecision",
    "PacingSnapshot",
    "PredictivePacer",
    "PredictiveSettings",
    "PreviewPacer",
    "Priors",
    "ProgressivePacer",
    "RatioPacer",
    "Steering",
    "make_pacer",
    "within_caps",
]

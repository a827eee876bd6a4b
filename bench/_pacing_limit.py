"""The limit row of the pacing benchmark: a pacer told what only the simulation knows.

For every call in flight it knows whether a person will answer and when that person
reaches the queue, and for every busy operator the second they will be free (talk and
wrap-up drawn in advance). Only the calls it has not placed yet are uncertain to it: it
judges them with the campaign's learnt answer rate and ring time, like the product's
predictive pacer, under the same abandonment controller. It is no dialer anyone could
build; it shows how far a perfect forecast of the calls in flight would take the same
risk rule, so the tables can show the distance to it. Not part of the product.
"""

from __future__ import annotations

import math
from dataclasses import replace

from dialer.pacing import AbandonController, PacingDecision, PacingSnapshot, PredictiveSettings
from dialer.pacing.base import within_caps
from dialer.pacing.forecast import balances
from dialer.pacing.predictive import calls_for
from dialer.sim.simulator import Foresight


class ClairvoyantPacer:
    """Predictive pacing with the calls in flight and the operators' free times known exactly.

    ``knows_answers=False`` forecasts the calls in flight as the product does, and
    ``knows_free=False`` the operators: the two halves of the limit, measured apart.
    """

    def __init__(self, knows_answers: bool = True, knows_free: bool = True) -> None:
        self.controller = AbandonController()
        self.settings = PredictiveSettings()
        self.knows_answers = knows_answers
        self.knows_free = knows_free

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        raise TypeError("the limit pacer needs the simulation's foresight (decide_knowing)")

    def decide_knowing(self, snap: PacingSnapshot, sight: Foresight) -> PacingDecision:
        if snap.staffed <= 0:
            return PacingDecision(0)
        steering = self.controller.steer(snap.abandon)
        now, s = snap.now, self.settings
        answers = [t - now for t in sight.answers_at] if self.knows_answers else []
        free = [t - now for t in sight.free_at] if self.knows_free else []
        queued = sight.queued if self.knows_answers else snap.waiting
        # Calls that surely find an operator: one per operator free before the answers already due
        # (not knowing the answers, every call in flight may be one).
        due = queued + len(answers) if self.knows_answers else snap.in_flight
        sure = within_caps(snap, snap.ready + sum(1 for f in free if f <= 0) - due)
        if not steering.predictive:
            return PacingDecision(max(0, sure), {"limit": "progressive"})
        risk = s.cautious_risk if steering.cautious else steering.overflow
        in_call, in_wrap, wrap_left = (
            ((), (), free) if self.knows_free else (snap.in_call, snap.in_wrap, snap.wrap_left)
        )
        ringing = () if self.knows_answers else snap.ringing
        checks = balances(
            snap.estimates,
            s.checkpoints,
            s.connect_slack_s,
            snap.ready,
            queued,
            in_call,
            in_wrap,
            ringing,
            wrap_left,
        )
        checks = [replace(b, demand=b.demand + sum(1 for a in answers if a <= b.horizon)) for b in checks]
        ceiling = min(
            math.floor(s.max_lines_per_operator * snap.staffed) - snap.in_flight,
            within_caps(snap, snap.limits.max_originate_per_tick),
        )
        return PacingDecision(max(calls_for(checks, risk, ceiling), sure, 0), {"limit": "foresight"})

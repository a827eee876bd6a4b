"""What makes a campaign not compliant besides its abandon rate, worded in the reader's language.

The compliance record's verdict keeps the English wording (``ComplianceReport.reasons``); the
table ``dialer report compliance`` prints gives the same findings in the language of the moment.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.settings import MIN_RING_TIMEOUT_S
from dialer.core.i18n import ngettext
from dialer.policy.compliance_checks import UK_REDIAL_HOLD


@dataclass(frozen=True)
class Findings:
    """How many of each breach a campaign's record shows (0: none, or the rule does not apply)."""

    gave_up: int  # unanswered calls given up before the minimum ring time
    outside: int  # attempts started outside the calling window
    window: str
    to_dnc: int  # attempts to a number on a do-not-call list
    redials: int  # redials of an abandoned number within the UK hold (UK rule only)
    over_limits: int  # contacts over the campaign's frequency limits (when it sets some)
    limits: str

    def texts(self, lang: str | None = None) -> list[str]:
        """One line per breach found, in ``lang`` (default: the language of the moment)."""
        texts: list[str] = []
        if n := self.gave_up:
            texts.append(
                ngettext(
                    "{count} unanswered call given up before {seconds} s of ringing",
                    "{count} unanswered calls given up before {seconds} s of ringing",
                    n,
                    lang,
                ).format(count=n, seconds=f"{MIN_RING_TIMEOUT_S:g}")
            )
        if n := self.outside:
            texts.append(
                ngettext(
                    "{count} attempt started outside the calling window {window} in the lead's local time",
                    "{count} attempts started outside the calling window {window} in the lead's local time",
                    n,
                    lang,
                ).format(count=n, window=self.window)
            )
        if n := self.to_dnc:
            texts.append(
                ngettext(
                    "{count} attempt to a number on a do-not-call list",
                    "{count} attempts to a number on a do-not-call list",
                    n,
                    lang,
                ).format(count=n)
            )
        if n := self.redials:
            texts.append(
                ngettext(
                    "{count} redial of an abandoned number within {hours} h",
                    "{count} redials of an abandoned number within {hours} h",
                    n,
                    lang,
                ).format(count=n, hours=f"{UK_REDIAL_HOLD.total_seconds() / 3600:g}")
            )
        if n := self.over_limits:
            texts.append(
                ngettext(
                    "{count} contact over the campaign's frequency limits {limits} "
                    "(counting every campaign's calls to the number)",
                    "{count} contacts over the campaign's frequency limits {limits} "
                    "(counting every campaign's calls to the number)",
                    n,
                    lang,
                ).format(count=n, limits=self.limits)
            )
        return texts

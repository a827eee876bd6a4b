"""The abandon-rate rules as regulators word them, measured over the periods they name. Pure.

- **US** (FTC Telemarketing Sales Rule, 16 CFR 310.4(b)(4)(i)): no more than the
  cap (3%) of the calls answered by a person are abandoned, measured over the
  duration of a campaign if it is shorter than 30 days, or else separately over
  each successive 30-day period, or portion of one, that the campaign continues.
- **UK** (Ofcom, persistent misuse policy): no more than the cap (3%) of live
  calls are abandoned, per campaign, over each 24-hour period.

A campaign's duration runs from its first call attempt to the last instant
anything happened in it (an answer, an end), as of the report's instant.
Periods are cut from the first attempt on: ``[start, start + L)``, then the
next, and the last one runs to the end of the campaign inclusive. A campaign of
exactly 30 days is therefore one period, a campaign of 45 days two (30 days and
a 15-day portion). A live answer belongs to the period holding its instant
(``dialer.compliance_checks``: the answer, else the start of the attempt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from dialer.core.i18n import DEFAULT, N_, gettext
from dialer.core.numbers import percent
from dialer.policy.compliance_checks import AttemptRow, LiveAnswer

US_PERIOD = timedelta(days=30)
UK_PERIOD = timedelta(hours=24)


@dataclass(frozen=True)
class PeriodRate:
    """Abandoned calls over live answers in ``[start, end)``, or ``[start, end]`` for the last period."""

    start: datetime
    end: datetime
    abandoned: int
    live: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.abandoned, self.live) if self.live else None

    def over(self, cap: Fraction) -> bool:
        rate = self.rate
        return rate is not None and rate > cap


@dataclass(frozen=True)
class Rule:
    key: str  # "us" | "uk"
    period: timedelta
    statement: str  # the rule in words (English, translated where shown), with "{cap}" for the cap


US_RULE = Rule(
    "us",
    US_PERIOD,
    N_(
        "US TSR 16 CFR 310.4(b)(4)(i): at most {cap} of calls answered by a person abandoned, over the "
        "campaign's duration if under 30 days, else over each successive 30-day period or part of one"
    ),
)
UK_RULE = Rule(
    "uk",
    UK_PERIOD,
    N_(
        "UK Ofcom persistent misuse policy: at most {cap} of live calls abandoned in each 24-hour period "
        "of the campaign"
    ),
)


@dataclass(frozen=True)
class RuleVerdict:
    rule: Rule
    cap: Fraction
    periods: tuple[PeriodRate, ...]

    @property
    def statement(self) -> str:
        return self.rule.statement.format(cap=pct(self.cap, DEFAULT))  # the record's English

    @property
    def over(self) -> tuple[PeriodRate, ...]:
        return tuple(p for p in self.periods if p.over(self.cap))

    @property
    def compliant(self) -> bool:
        return not self.over

    @property
    def worst(self) -> PeriodRate | None:
        rated = [p for p in self.periods if p.rate is not None]
        return max(rated, key=lambda p: p.rate or 0) if rated else None

    def text(self, lang: str | None = None) -> str:
        """The verdict in one line: the rule, then what was found, in ``lang`` (default: the
        language of the moment; the record keeps it in English)."""
        if not self.periods:
            found = gettext(N_("no calls yet"), lang)
        elif self.over:
            over = gettext(N_("{period} is over the cap"), lang)
            found = "; ".join(over.format(period=period_text(p, lang)) for p in self.over)
        else:
            worst = self.worst
            found = (
                gettext(N_("no live answers"), lang)
                if worst is None
                else gettext(N_("highest {period}"), lang).format(period=period_text(worst, lang))
            )
        verdict = N_("compliant: {rule}. {found}") if self.compliant else N_("NOT compliant: {rule}. {found}")
        rule = gettext(self.rule.statement, lang).format(cap=pct(self.cap, lang))
        return gettext(verdict, lang).format(rule=rule, found=found)


def campaign_span(rows: Sequence[AttemptRow], now: datetime) -> tuple[datetime, datetime] | None:
    """From the first attempt to the last thing that happened by ``now``; None without attempts."""
    started = [row.started_at for row in rows if row.started_at <= now]
    if not started:
        return None
    instants = started + [
        at for row in rows for at in (row.answered_at, row.ended_at) if at is not None and at <= now
    ]
    return min(started), max(instants)


def periods(start: datetime, end: datetime, length: timedelta) -> list[tuple[datetime, datetime]]:
    """Successive periods of ``length`` from ``start``; the last one is cut at ``end``."""
    cut: list[tuple[datetime, datetime]] = []
    begin = start
    while True:
        finish = begin + length
        if finish >= end:
            cut.append((begin, end))
            return cut
        cut.append((begin, finish))
        begin = finish


def period_rates(
    answers: Sequence[LiveAnswer], span: tuple[datetime, datetime], length: timedelta
) -> tuple[PeriodRate, ...]:
    """Each period's abandoned calls and live answers; the last period includes its end instant."""
    start, end = span
    cut = periods(start, end, length)
    counts = [[0, 0] for _ in cut]
    for at, abandoned in answers:
        if not start <= at <= end:
            continue
        index = min(int((at - start) / length), len(cut) - 1)  # the end instant is in the last period
        counts[index][0] += abandoned
        counts[index][1] += 1
    return tuple(PeriodRate(b, f, a, n) for (b, f), (a, n) in zip(cut, counts, strict=True))


def judge(
    rule: Rule, cap: Fraction, answers: Sequence[LiveAnswer], span: tuple[datetime, datetime] | None
) -> RuleVerdict:
    rates = period_rates(answers, span, rule.period) if span is not None else ()
    return RuleVerdict(rule, cap, rates)


def pct(rate: Fraction, lang: str | None = None) -> str:
    """A rate as a percentage with two decimals, in ``lang`` (default: the language of the moment)."""
    return percent(float(rate), 2, lang)


def period_text(period: PeriodRate, lang: str | None = None) -> str:
    text = N_("{rate} ({abandoned} abandoned of {live} live answers) from {start} to {end} UTC")
    return gettext(text, lang).format(
        rate=gettext(N_("n/a"), lang) if period.rate is None else pct(period.rate, lang),
        abandoned=period.abandoned,
        live=period.live,
        start=f"{period.start:%Y-%m-%d %H:%M}",
        end=f"{period.end:%Y-%m-%d %H:%M}",
    )

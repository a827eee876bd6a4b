"""The abandon-rate rules' periods on constructed histories: under 30 days, exactly 30, 45 days, UK days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest

from dialer.policy.abandon_rules import UK_RULE, US_RULE, Rule, RuleVerdict, campaign_span, judge, periods
from dialer.policy.compliance_checks import AttemptRow, LiveAnswer, live_answers

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CAP = Fraction(3, 100)


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def history(days: float, abandoned_on: list[float], answers_a_day: int = 40) -> list[AttemptRow]:
    """A live answer every ``24 h / answers_a_day`` from START to START + ``days``; abandons on given days."""
    rows: list[AttemptRow] = []
    step = timedelta(days=1) / answers_a_day
    at, n = START, 0
    while at <= day(days):
        abandoned = any(day(d) <= at < day(d) + step for d in abandoned_on)
        rows.append(
            AttemptRow(
                f"a{n}",
                "+447700900000",
                ("Europe/London",),
                at,
                answered_at=at,
                ended_at=at,
                outcome="abandoned" if abandoned else "connected",
            )
        )
        at += step
        n += 1
    return rows


def verdict_for(rows: list[AttemptRow], rule: Rule = US_RULE) -> RuleVerdict:
    answers: list[LiveAnswer] = live_answers(rows)
    return judge(rule, CAP, answers, campaign_span(rows, day(400)))


def test_under_thirty_days_is_one_period_over_the_whole_campaign() -> None:
    rows = history(10, abandoned_on=[0])  # the very first answer is abandoned
    verdict = verdict_for(rows)
    assert [(p.start, p.end) for p in verdict.periods] == [(START, day(10))]
    assert (verdict.periods[0].abandoned, verdict.periods[0].live) == (1, 401)
    assert verdict.compliant


def test_exactly_thirty_days_is_one_period() -> None:
    rows = history(30, abandoned_on=[29.99])
    verdict = verdict_for(rows)
    assert [(p.start, p.end) for p in verdict.periods] == [(START, day(30))]
    assert verdict.periods[0].live == len(rows) == 30 * 40 + 1  # the answer at the end instant counts


def test_forty_five_days_is_a_thirty_day_period_and_a_fifteen_day_portion() -> None:
    late = [30 + 0.75 * i for i in range(19)]  # 19 abandons between day 30 and day 43.5
    rows = history(45, abandoned_on=[0.5, 1.5, *late])
    verdict = verdict_for(rows)
    assert [(p.start, p.end) for p in verdict.periods] == [(START, day(30)), (day(30), day(45))]
    first, second = verdict.periods
    assert (first.abandoned, first.live) == (2, 1200)
    assert (second.abandoned, second.live) == (19, 601)
    # Over the whole 45 days the rate is 21/1801 = 1.17%; the rule judges each period on its own.
    assert not first.over(CAP) and second.over(CAP)
    assert verdict.over == (second,) and not verdict.compliant


def test_the_uk_rule_cuts_twenty_four_hour_periods() -> None:
    rows = history(2.5, abandoned_on=[1.2, 1.3])  # two abandons on the second day: 2 of 40 = 5%
    verdict = verdict_for(rows, UK_RULE)
    assert [(p.start, p.end) for p in verdict.periods] == [
        (START, day(1)),
        (day(1), day(2)),
        (day(2), day(2.5)),
    ]
    assert [(p.abandoned, p.live) for p in verdict.periods] == [(0, 40), (2, 40), (0, 21)]
    assert verdict.over == (verdict.periods[1],)
    assert "5.00% (2 abandoned of 40 live answers) from 2026-01-06 09:00 to 2026-01-07 09:00 UTC" in (
        verdict.text()
    )


def test_the_span_ends_at_the_last_thing_that_happened_by_now() -> None:
    rows = history(3, abandoned_on=[])
    assert campaign_span(rows, day(1.5)) == (START, day(1.5))
    assert campaign_span(rows, START - timedelta(seconds=1)) is None


@pytest.mark.parametrize(("days", "count"), [(0, 1), (29.9, 1), (30, 1), (30.001, 2), (60, 2), (61, 3)])
def test_successive_periods(days: float, count: int) -> None:
    cut = periods(START, day(days), timedelta(days=30))
    assert len(cut) == count
    assert cut[0][0] == START and cut[-1][1] == day(days)
    assert all(a[1] == b[0] for a, b in pairwise(cut))

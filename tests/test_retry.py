"""Retry rules: what becomes of a lead after each attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.retry import (
    RETRYABLE_OUTCOMES,
    UK_ABANDON_REDIAL_GAP,
    LeadDisposition,
    LeadStatus,
    RetryPolicy,
    after_attempt,
    parse_duration,
)
from dialer.core.attempt import FINAL_OUTCOMES, Outcome

ENDED = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def test_lead_status_values_are_the_store_vocabulary() -> None:
    assert {s.value for s in LeadStatus} == {
        "new",
        "scheduled",
        "in_call",
        "done",
        "exhausted",
        "dnc",
        "invalid",
        "callback",  # waiting for a callback set by an operator (dialer.services.callbacks)
    }


@pytest.mark.parametrize(
    ("outcome", "delay"),
    [
        (Outcome.BUSY, timedelta(minutes=15)),
        (Outcome.NO_ANSWER, timedelta(hours=2)),
        (Outcome.CONGESTION, timedelta(minutes=5)),
        (Outcome.FAILED, timedelta(minutes=30)),
        (Outcome.MACHINE, timedelta(hours=4)),
        (Outcome.ABANDONED, timedelta(hours=1)),
    ],
)
def test_default_delays_without_the_uk_rule(outcome: Outcome, delay: timedelta) -> None:
    policy = RetryPolicy(uk_abandon_rule=False)
    assert after_attempt(policy, outcome, 1, ENDED) == LeadDisposition(
        LeadStatus.SCHEDULED, outcome, ENDED + delay
    )


def test_uk_rule_is_on_by_default_and_holds_an_abandoned_number_for_72_hours() -> None:
    policy = RetryPolicy()
    assert policy.uk_abandon_rule
    disposition = after_attempt(policy, Outcome.ABANDONED, 1, ENDED)
    assert disposition.next_call_at == ENDED + timedelta(hours=72)


def test_uk_rule_never_shortens_a_longer_abandon_delay() -> None:
    policy = RetryPolicy(abandoned=timedelta(days=5))
    assert policy.delay(Outcome.ABANDONED) == timedelta(days=5)


@pytest.mark.parametrize("outcome", [o for o in RETRYABLE_OUTCOMES if o is not Outcome.ABANDONED])
def test_uk_rule_touches_only_abandoned_calls(outcome: Outcome) -> None:
    assert RetryPolicy(uk_abandon_rule=True).delay(outcome) == RetryPolicy(uk_abandon_rule=False).delay(
        outcome
    )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(Outcome.CONNECTED, LeadStatus.DONE), (Outcome.INVALID_NUMBER, LeadStatus.INVALID)],
)
@pytest.mark.parametrize("attempts", [1, 4, 5, 9])
def test_final_outcomes_close_the_lead_whatever_the_count(
    outcome: Outcome, status: LeadStatus, attempts: int
) -> None:
    disposition = after_attempt(RetryPolicy(max_attempts=5), outcome, attempts, ENDED)
    assert disposition == LeadDisposition(status, outcome, None)


@pytest.mark.parametrize("outcome", RETRYABLE_OUTCOMES)
@pytest.mark.parametrize(("attempts", "status"), [(2, LeadStatus.SCHEDULED), (3, LeadStatus.EXHAUSTED)])
def test_the_last_allowed_attempt_exhausts_the_lead(
    outcome: Outcome, attempts: int, status: LeadStatus
) -> None:
    disposition = after_attempt(RetryPolicy(max_attempts=3), outcome, attempts, ENDED)
    assert disposition.status is status
    assert disposition.reason is outcome
    assert (disposition.next_call_at is None) == (status is LeadStatus.EXHAUSTED)


def test_one_attempt_policy_never_retries() -> None:
    assert after_attempt(RetryPolicy(max_attempts=1), Outcome.BUSY, 1, ENDED).status is LeadStatus.EXHAUSTED


def test_attempt_count_must_include_the_attempt_just_made() -> None:
    with pytest.raises(ValueError, match="attempts_so_far"):
        after_attempt(RetryPolicy(), Outcome.BUSY, 0, ENDED)


@pytest.mark.parametrize("outcome", sorted(FINAL_OUTCOMES))
def test_final_outcomes_have_no_delay(outcome: Outcome) -> None:
    with pytest.raises(ValueError, match="final"):
        RetryPolicy().delay(outcome)


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delay"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        (" 2h ", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("0m", timedelta(0)),
    ],
)
def test_parse_duration(text: str, delay: timedelta) -> None:
    assert parse_duration(text) == delay


@pytest.mark.parametrize("text", ["", "10", "m", "1.5h", "-5m", "10 minutes", "10M", "1w"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="unit s, m, h or d"):
        parse_duration(text)


def test_overrides_change_only_what_they_name() -> None:
    policy = RetryPolicy.parse_overrides(
        ["busy=10m", "no_answer=1h", "max_attempts=3", "uk_abandon_rule=off"]
    )
    assert policy == RetryPolicy(
        busy=timedelta(minutes=10), no_answer=timedelta(hours=1), max_attempts=3, uk_abandon_rule=False
    )


def test_overrides_apply_on_top_of_a_base_policy() -> None:
    base = RetryPolicy(max_attempts=8, machine=timedelta(hours=6))
    policy = RetryPolicy.parse_overrides(["BUSY = 20m"], base)
    assert policy == RetryPolicy(max_attempts=8, machine=timedelta(hours=6), busy=timedelta(minutes=20))


def test_no_overrides_give_the_base_policy() -> None:
    base = RetryPolicy(max_attempts=2)
    assert RetryPolicy.parse_overrides([], base) == base


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("busy", "expected NAME=VALUE"),
        ("=10m", "expected NAME=VALUE"),
        ("busy=10", "unit s, m, h or d"),
        ("busy=", "unit s, m, h or d"),
        ("connected=1h", "connected is final"),
        ("invalid_number=1h", "invalid_number is final"),
        ("voicemail=1h", "unknown name 'voicemail'; known: abandoned, busy"),
        ("max_attempts=0", "at least 1"),
        ("max_attempts=three", "whole number"),
        ("uk_abandon_rule=maybe", "on or off"),
        ("busy=400d", "between 0 and 365d"),
    ],
)
def test_overrides_explain_what_is_wrong(item: str, message: str) -> None:
    with pytest.raises(ValueError, match="retry override") as raised:
        RetryPolicy.parse_overrides([item])
    assert message in str(raised.value)
    assert item.strip() in str(raised.value) or "overrides" in str(raised.value)


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"busy": timedelta(minutes=-1)}])
def test_policy_refuses_impossible_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

delays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))


@given(
    st.sampled_from(list(Outcome)),
    st.integers(1, 20),
    st.integers(1, 20),
    delays,
    st.booleans(),
)
def test_a_retry_is_never_sooner_than_its_delay_and_never_past_the_limit(
    outcome: Outcome, attempts: int, max_attempts: int, delay: timedelta, uk_rule: bool
) -> None:
    policy = RetryPolicy(
        busy=delay, no_answer=delay, abandoned=delay, max_attempts=max_attempts, uk_abandon_rule=uk_rule
    )
    disposition = after_attempt(policy, outcome, attempts, ENDED)
    assert disposition.reason is outcome
    if disposition.status is LeadStatus.SCHEDULED:
        assert outcome not in FINAL_OUTCOMES
        assert attempts < max_attempts
        assert disposition.next_call_at is not None
        assert disposition.next_call_at >= ENDED
        if outcome is Outcome.ABANDONED and uk_rule:
            assert disposition.next_call_at - ENDED >= UK_ABANDON_REDIAL_GAP
    else:
        assert disposition.next_call_at is None
        assert disposition.status in {LeadStatus.DONE, LeadStatus.INVALID, LeadStatus.EXHAUSTED}
        assert (disposition.status is LeadStatus.EXHAUSTED) == (outcome not in FINAL_OUTCOMES)

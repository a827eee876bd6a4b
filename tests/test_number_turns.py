"""Pure rules of a lead with several numbers, and the caller ID the operator's phone shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.lead_numbers import (
    LeadNumber,
    after_dial,
    choose_number,
    dial_order,
    lead_numbers,
    stored_numbers,
)
from campaigns.retry import RetryPolicy
from campaigns.window import CallingWindow
from dialer.core.attempt import Outcome
from dialer.policy.caller_id import MAX_NAME_CHARS, caller_name, caller_number, safe_name
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.gate import Verdict, check_numbers
from dialer.policy.originate import build_request

A, B, C = "+79031002034", "+74952003044", "+73433102030"
MSK, YEKT = "Europe/Moscow", "Asia/Yekaterinburg"


def three() -> list[LeadNumber]:
    return [LeadNumber(A, MSK), LeadNumber(B, MSK), LeadNumber(C, YEKT)]


def rules(window: str = "09:00-21:00", max_attempts: int = 5, **extra: object) -> CampaignRules:
    return CampaignRules(
        campaign_id=1,
        name="spring",
        mode="progressive",
        ratio=1.0,
        queue="q1",
        dial_template="Local/{number}@sim-customers",
        caller_id="74951234567",
        window=CallingWindow.parse(window),
        retry=RetryPolicy(max_attempts=max_attempts),
        ring_timeout_s=20,
        max_channels=5,
        originate_rate=5,
        connect_limit_s=2,
        amd=False,
        safe_harbour_sound="",
        machine_message="",
        **extra,  # type: ignore[arg-type]
    )


def test_a_lead_with_nothing_stored_has_its_one_number() -> None:
    assert lead_numbers(A, MSK, None) == [LeadNumber(A, MSK)]
    assert stored_numbers([LeadNumber(A, MSK)]) is None
    stored = stored_numbers(three())
    assert lead_numbers("", "", stored) == three()


@pytest.mark.parametrize("outcome", [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CONGESTION, Outcome.FAILED])
def test_a_number_that_reached_nobody_passes_the_turn_on(outcome: Outcome) -> None:
    after = after_dial(three(), 0, A, outcome)
    assert (after.turn, after.live) == (1, 3)
    assert after_dial(three(), 2, C, outcome).turn == 0  # cycling back to the first


@pytest.mark.parametrize("outcome", [Outcome.CONNECTED, Outcome.ABANDONED])
def test_a_number_that_reached_a_person_keeps_the_turn(outcome: Outcome) -> None:
    assert after_dial(three(), 1, B, outcome).turn == 1


def test_a_wrong_number_is_dropped_and_never_dialed_again() -> None:
    after = after_dial(three(), 1, B, Outcome.INVALID_NUMBER)
    assert after.numbers[1].dropped and after.live == 2 and after.retry_now
    assert dial_order(after.numbers, after.turn) == [2, 0]
    assert dial_order(after.numbers, 1) == [2, 0]
    last = after_dial([LeadNumber(A, MSK, dropped=True), LeadNumber(B, MSK)], 1, B, Outcome.INVALID_NUMBER)
    assert last.live == 0 and not last.retry_now


def test_do_not_call_applies_per_number() -> None:
    assert choose_number(three(), 0, {A}) == 1
    assert choose_number(three(), 2, {C, A}) == 1
    assert choose_number(three(), 0, {A, B, C}) is None


def test_the_gate_dials_a_number_whose_own_zone_is_open() -> None:
    # 04:30 UTC: 07:30 in Moscow (closed), 09:30 in Yekaterinburg (open).
    now = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    position, result = check_numbers(rules(), three(), 0, 0, set(), now)
    assert (position, result.verdict) == (2, Verdict.DIAL)
    # 03:00 UTC: closed everywhere; the lead waits for the first number to open (Yekaterinburg 09:00).
    early = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    position, result = check_numbers(rules(), three(), 0, 0, set(), early)
    assert (position, result.verdict) == (2, Verdict.LATER)
    assert result.next_at == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    _, blocked = check_numbers(rules(), three(), 0, 0, {A, B, C}, now)
    assert blocked.verdict is Verdict.DNC
    _, spent = check_numbers(rules(max_attempts=2), three(), 0, 2, set(), now)
    assert spent.verdict is Verdict.EXHAUSTED


@given(
    st.lists(st.booleans(), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=50),
    st.sampled_from(list(Outcome)),
)
def test_the_turn_always_points_into_the_list(dropped: list[bool], turn: int, outcome: Outcome) -> None:
    numbers = [LeadNumber(f"+7900000000{i}", MSK, d) for i, d in enumerate(dropped)]
    after = after_dial(numbers, turn, numbers[turn % len(numbers)].phone, outcome)
    assert 0 <= after.turn < len(numbers)
    assert after.live == sum(not n.dropped for n in after.numbers)
    order = dial_order(after.numbers, after.turn)
    assert all(not after.numbers[i].dropped for i in order)


# --- caller ID ------------------------------------------------------------------------


def test_the_name_comes_from_a_name_like_column_or_the_one_named() -> None:
    assert caller_name({"Телефон": "x", "ФИО": "Иванова Анна Петровна"}) == "Иванова Анна Петровна"
    assert caller_name({"name": "Ann Smith"}) == "Ann Smith"
    assert caller_name({"Имя": "Анна", "Компания": "ООО Ромашка"}, "Компания") == "ООО Ромашка"
    assert caller_name({"Город": "Москва"}) == ""
    assert caller_name({"ФИО": "Анна"}, "Клиент") == ""  # the named column wins, even when missing


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Иванова Анна", "Иванова Анна"),
        ('Анна"\r\nAction: Originate', "Анна Action: Originate"),
        ("Анна;Set(X=1)", "Анна Set X 1"),
        ("Анна\x00\u200bПётр", "Анна Пётр"),
        ("'Ann' <+79990000000>", "Ann +79990000000"),
        ("${SHELL(rm -rf /)}", "SHELL rm -rf /"),
        ("Анна\u2028Line", "Анна Line"),
        ("  Иванова   Анна  ", "Иванова Анна"),
        (None, ""),
        ("Е" * 100, "Е" * MAX_NAME_CHARS),
    ],
)
def test_a_name_reaches_the_phone_system_only_made_safe(raw: object, shown: str) -> None:
    assert safe_name(raw) == shown


@given(st.text())
def test_no_name_carries_a_character_the_dialplan_or_ami_reads(text: str) -> None:
    name = safe_name(text)
    assert len(name) <= MAX_NAME_CHARS
    assert not set(name) & set("\r\n\x00\"';,|\\$[]{}<>()")
    assert name == name.strip()


def test_only_a_number_is_sent_as_the_callers_number() -> None:
    assert caller_number("+79031002034") == "+79031002034"
    assert caller_number("+7903;1") == ""
    assert caller_number("") == ""


def test_the_originate_carries_the_customer_for_the_operators_phone() -> None:
    request = build_request(
        rules(callerid_name_column="Клиент"),
        "a1",
        7,
        B,
        {"ФИО": "не это", "Клиент": "Петров\nПётр"},
        {},
    )
    assert request.variables["DIALER_CUSTOMER_NUM"] == B
    assert request.variables["DIALER_CUSTOMER_NAME"] == "Петров Пётр"
    assert request.caller_id == "74951234567"  # the customer still sees the company's number

"""The pure side of calls for one operator: who takes a due callback, the Originate, the AMI event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.contact_limits import parse_limits
from campaigns.models import Campaign
from campaigns.window import CallingWindow
from dialer.ami.tracker import CallTracker
from dialer.core.errors import InvalidInput
from dialer.core.telephony import Answered, OperatorConnected
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.direct import (
    DIRECT_CONTEXT,
    CallbackDue,
    callback_operator,
    callback_time_problem,
    check_interface,
)
from dialer.policy.originate import build_direct_request

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _due(personal: str | None, late_s: float = 0) -> CallbackDue:
    return CallbackDue(1, 1, 1, NOW - timedelta(seconds=late_s), personal)


def test_a_personal_callback_waits_for_its_operator_then_goes_to_anyone() -> None:
    ready = ["PJSIP/102", "PJSIP/103"]
    assert callback_operator(_due("PJSIP/101"), ready, 900, NOW) is None
    assert callback_operator(_due("PJSIP/101", late_s=899), ready, 900, NOW) is None
    assert callback_operator(_due("PJSIP/101", late_s=900), ready, 900, NOW) == "PJSIP/102"
    assert callback_operator(_due("PJSIP/102"), ready, 900, NOW) == "PJSIP/102"
    assert callback_operator(_due("PJSIP/103", late_s=5000), ready, 900, NOW) == "PJSIP/103"


def test_a_callback_for_anyone_takes_the_first_ready_operator_or_waits() -> None:
    assert callback_operator(_due(None), ["PJSIP/105"], 900, NOW) == "PJSIP/105"
    assert callback_operator(_due(None), [], 900, NOW) is None


@pytest.mark.parametrize(
    "bad", ["PJSIP/101&PJSIP/102", "Local/x,y", "PJSIP/1\nAction: x", "101", "PJSIP/${X}"]
)
def test_only_plain_dial_strings_reach_the_dialplan(bad: str) -> None:
    with pytest.raises(InvalidInput):
        check_interface(bad)


def test_the_direct_originate_enters_dialer_direct_with_the_operators_interface() -> None:
    campaign = Campaign(id=1, name="sales", queue="q1", dial_template="Local/{number}@sim-customers")
    rules = CampaignRules.from_campaign(campaign)
    data = {"name": "Ivan\r\nAction: Originate"}
    request = build_direct_request(rules, "a1", 7, "+79001234567", data, {"LEAD_NAME": "name"}, "PJSIP/101")
    assert request.context == DIRECT_CONTEXT
    assert request.variables["DIALER_OPERATOR"] == "PJSIP/101"
    assert "\n" not in request.variables["LEAD_NAME"]


def test_the_direct_connect_user_event_is_an_operator_connection() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    event = {
        "Event": "UserEvent",
        "UserEvent": "DialerDirectConnect",
        "Attempt": "a1",
        "Interface": "PJSIP/101",
    }
    assert tracker.on_event(event, 2.0) == [
        Answered("a1", 2.0),
        OperatorConnected("a1", 2.0, "", "PJSIP/101"),
    ]


def test_a_refused_callback_names_the_next_time_in_the_zone_it_was_entered_in() -> None:
    vladivostok = ZoneInfo("Asia/Vladivostok")  # UTC+10
    now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 10:00 there
    window = CallingWindow.parse("09:00-21:00")
    late = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)  # 22:30 there: the window is shut
    refused = callback_time_problem(late, now, ["Asia/Vladivostok"], window, (), [], vladivostok)
    assert refused == (
        "outside the calling window; the next allowed time is 2026-12-02 09:00 (Asia/Vladivostok)"
    )
    in_utc = callback_time_problem(late, now, ["Asia/Vladivostok"], window, (), [])
    assert in_utc == "outside the calling window; the next allowed time is 2026-12-01 23:00 (UTC)"
    limits = parse_limits("1/1d")
    called = [datetime(2026, 12, 1, 0, 30, tzinfo=UTC)]  # 10:30 there, today
    soon = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 12:00 there
    held = callback_time_problem(soon, now, ["Asia/Vladivostok"], window, limits, called, vladivostok)
    assert held == (
        "the campaign's contact limits allow the next call from 2026-12-02 10:30 (Asia/Vladivostok)"
    )

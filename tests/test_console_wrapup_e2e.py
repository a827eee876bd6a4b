"""Wrap-up held until the disposition, seen from the operator's Chromium page.

The same shift as ``tests/test_console_e2e.py`` (a console process, `dialer run` and the sandbox
Asterisk), with the campaign edited from the command line to hold wrap-up for up to a minute.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlmodel import Session, select

from campaigns.models import CallAttempt
from tests.console_helpers import PASSWORD
from tests.test_console_e2e import DOCS, _cli
from tests.test_console_e2e import shift as shift  # the shared fixture

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


def _hold_wrapup(shift: dict[str, Any]) -> None:
    _cli(
        shift["env"], "campaign", "edit", "winter", "--wrapup-limit", "60", "--wrapup-code", "not_interested"
    )


def _ready_page(shift: dict[str, Any], chromium: Any) -> Any:
    from playwright.sync_api import expect

    page = chromium.new_context(viewport={"width": 1100, "height": 800}).new_page()
    page.set_default_timeout(30_000)
    page.goto(shift["url"] + "/login")
    page.fill("#name", "irina")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")
    page.click("#go-ready")
    expect(page.locator("#observed")).to_have_text("ready", timeout=30_000)
    return page


def _attempt(shift: dict[str, Any], phone: str) -> CallAttempt | None:
    with Session(shift["store"]) as session:
        return session.exec(select(CallAttempt).where(CallAttempt.phone == phone)).first()


def test_the_operator_stays_out_of_the_queue_until_the_browser_sends_the_disposition(
    shift: dict[str, Any],
    chromium: Any,
) -> None:
    from playwright.sync_api import expect

    _hold_wrapup(shift)
    page = _ready_page(shift, chromium)
    phone = "+79001234580"
    shift["add_lead"](phone, "Анна Кузнецова", "Самара")
    page.wait_for_selector("#call")
    # The customer hangs up: the card stays, with the wrap-up notice, and Asterisk reports a pause.
    page.wait_for_selector("#wrapup")
    expect(page.locator("#observed")).to_have_text("paused", timeout=30_000)
    assert page.inner_text("#desired") == "ready"
    page.screenshot(path=str(DOCS / "console-wrapup.png"))
    page.check("input[name=q_heating][value=Gas]")  # the campaign's one required question
    page.click("#call h2")
    page.keyboard.press("1")  # sale
    page.wait_for_selector("#waiting")
    expect(page.locator("#observed")).to_have_text("ready", timeout=30_000)  # back in the queue
    row = _attempt(shift, phone)
    assert row is not None and row.disposition == "sale"


def test_a_disposition_sent_while_the_console_is_down_is_kept_and_delivered(
    shift: dict[str, Any],
    chromium: Any,
) -> None:
    _hold_wrapup(shift)
    page = _ready_page(shift, chromium)
    phone = "+79001234590"
    shift["add_lead"](phone, "Павел Орлов", "Омск")
    page.wait_for_selector("#wrapup")  # the call ended; the operator is in wrap-up
    kept: list[Any] = []

    def dispose_while_down() -> None:
        page.wait_for_selector("#link.down")
        page.check("input[name=q_heating][value=Electric]")
        page.click("#call h2")
        page.keyboard.press("2")  # refused, with the console unreachable
        time.sleep(1.0)  # let the page try, and fail, to send it
        kept.extend(json.loads(page.evaluate("localStorage.getItem('dialer.outbox')") or "[]"))
        row = _attempt(shift, phone)
        assert row is not None and row.disposition is None

    shift["restart_console"](dispose_while_down)
    assert [(item["attempt"], item["code"]) for item in kept] == [(kept[0]["attempt"], "refused")]
    page.wait_for_selector("#link.up")  # reconnected: the page sends what it kept
    page.wait_for_selector("#waiting")
    row = _attempt(shift, phone)
    assert row is not None and (row.id, row.disposition) == (kept[0]["attempt"], "refused")
    assert json.loads(page.evaluate("localStorage.getItem('dialer.outbox')") or "[]") == []

"""Calls for one operator, end to end: Chromium, a real console process, `dialer run` and Asterisk.

A callback set in the page about a minute ahead is dialed by the engine and goes to the operator
who set it, while another operator is ready in the same queue; preview Call, Skip and a reservation
expiring; a manual dial refused at its field, then placed and popped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Lead
from dialer.pbx.sandbox import Sandbox, free_port
from tests.console_helpers import PASSWORD
from tests.engine_helpers import open_zone
from tests.test_console_e2e import DIALER, DOCS, _cli, _stop, _wait_http

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


def _shift(
    box: Sandbox, db_url: str, tmp_path: Path, campaign: str, queue: str, mode: str, prefix: str
) -> Any:
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": box.ami_url}
    _cli(
        env,
        "campaign",
        "create",
        campaign,
        "--queue",
        queue,
        "--mode",
        mode,
        "--dial-template",
        "Local/{number}@sim-customers",
        "--safe-harbour-sound",
        box.safe_harbour_sound,
        # A manually typed Russian mobile has every Russian zone (no registry here): open all day,
        # so the test does not depend on the hour it runs at.
        "--window",
        "00:00-24:00",
    )
    for n in (1, 2):
        name = f"{prefix}{n}"
        _cli(
            env,
            "operators",
            "add",
            name,
            "--interface",
            f"Local/{name}@sim-operators/n",
            "--campaign",
            campaign,
        )
    _cli(
        env,
        "users",
        "add",
        "irina",
        "--role",
        "operator",
        "--operator",
        f"{prefix}1",
        "--language",
        "en",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    port = free_port()
    console = subprocess.Popen(
        [str(DIALER), "console", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    engine = subprocess.Popen(
        [str(DIALER), "run", "--campaign", campaign, "--node", "direct-e2e", "--shutdown-deadline", "10"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def add_leads(*phones: str) -> None:
        leads = tmp_path / f"leads-{phones[0]}.csv"
        rows = "".join(f"{p},Client {i},{open_zone()}\n" for i, p in enumerate(phones, start=1))
        leads.write_text("phone,name,tz\n" + rows, encoding="utf-8")
        _cli(env, "lists", "import", str(leads), "--campaign", campaign, "--map", "timezone=tz")

    _wait_http(f"http://127.0.0.1:{port}/login", console)
    return env, f"http://127.0.0.1:{port}", add_leads, (console, engine)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        _stop(proc)


def _log_in(chromium: Any, url: str) -> Any:
    page = chromium.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/login")
    page.fill("#name", "irina")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")
    return page


def _attempts(store: Engine, phone: str) -> list[CallAttempt]:
    with Session(store) as session:
        query = select(CallAttempt).where(CallAttempt.phone == phone).order_by(col(CallAttempt.started_at))
        return list(session.exec(query).all())


def test_a_callback_set_a_minute_ahead_is_dialed_and_goes_to_that_operator(
    asterisk_sandbox: Sandbox, store: Engine, db_url: str, tmp_path: Path, chromium: Any, processes: list[Any]
) -> None:
    from playwright.sync_api import expect

    env, url, add_leads, procs = _shift(
        asterisk_sandbox, db_url, tmp_path, "autumn", "q5", "progressive", "op55"
    )
    processes.extend(procs)
    _cli(env, "dispositions", "add", "autumn", "later", "--label", "Call back at a time", "--callback")
    phone = "+79001234570"
    page = _log_in(chromium, url)
    add_leads(phone)
    page.click("#go-ready")
    page.wait_for_selector("#call")
    assert page.inner_text("#call-phone") == phone
    key = page.get_attribute('button.code[data-code="later"]', "data-key")

    page.fill("#callback_at", "2020-01-01T10:00")
    page.click("#call h2")
    page.keyboard.press(str(key))
    expect(page.locator("#error-callback_at")).to_contain_text("in the past")

    due = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    page.fill("#callback_at", due.astimezone(ZoneInfo(open_zone())).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#callback_for", "me")
    page.click("#call h2")
    page.keyboard.press(str(key))
    page.wait_for_selector("#waiting")
    expect(page.locator("#callbacks li.callback")).to_have_count(1)
    page.screenshot(path=str(DOCS / "console-callbacks.png"))
    _cli(env, "operators", "ready", "op552")  # another operator, ready in the same queue

    page.wait_for_selector("#call", timeout=180_000)  # the callback, put through to irina
    assert page.inner_text("#call-phone") == phone
    first, second = _attempts(store, phone)
    assert (first.operator, first.disposition) == ("op551", "later")
    assert second.operator == "op551" and second.connected_at is not None
    assert second.started_at.replace(tzinfo=UTC) >= due
    expect(page.locator("#callbacks li.callback")).to_have_count(0)


def test_preview_call_skip_and_expiry_and_a_manual_dial(
    asterisk_sandbox: Sandbox, store: Engine, db_url: str, tmp_path: Path, chromium: Any, processes: list[Any]
) -> None:
    from playwright.sync_api import expect

    env, url, add_leads, procs = _shift(asterisk_sandbox, db_url, tmp_path, "pv", "q4", "preview", "op44")
    processes.extend(procs)
    _cli(env, "callbacks", "settings", "pv", "--preview-hold", "10s")
    phones = ["+79001234581", "+79001234582", "+79001234583"]
    add_leads(*phones)
    _cli(env, "operators", "ready", "op442")
    page = _log_in(chromium, url)
    page.click("#go-ready")
    expect(page.locator("#observed")).to_have_text("ready", timeout=30_000)

    page.click("#preview-next")
    expect(page.locator("#preview-phone")).to_have_text(phones[0])
    page.click("#preview-skip")  # back to the pool, due later
    page.click("#preview-next")
    expect(page.locator("#preview-phone")).to_have_text(phones[1])
    # Left alone, the reservation expires and the lead returns to the pool.
    page.wait_for_selector("#preview-next", timeout=40_000)
    with Session(store) as session:
        lead = session.exec(select(Lead).where(Lead.phone == phones[1])).one()
        assert lead.claimed_by is None and lead.status == "new"
    page.click("#preview-next")
    expect(page.locator("#preview-phone")).to_have_text(phones[1])
    page.screenshot(path=str(DOCS / "console-preview.png"))
    page.click("#preview-call")
    page.wait_for_selector("#call")
    assert page.inner_text("#call-phone") == phones[1]
    page.click("#call h2")
    page.keyboard.press("1")
    page.wait_for_selector("#waiting")

    page.fill("#dial-phone", "12ab")
    page.click("#dial-go")
    expect(page.locator("#error-phone")).not_to_be_empty()
    page.fill("#dial-phone", "+7 900 123-45-90")
    page.click("#dial-go")
    page.wait_for_selector("#call")
    assert page.inner_text("#call-phone") == "+79001234590"

    assert [a.operator for a in _attempts(store, phones[1])] == ["op441"]
    assert [a.operator for a in _attempts(store, "+79001234590")] == ["op441"]
    assert _attempts(store, phones[0]) == []

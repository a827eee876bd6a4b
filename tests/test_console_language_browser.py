"""A Russian operator in Chromium against a real console process: a refused manual dial is
explained next to the phone field in Russian. No engine is needed: nothing is dialed."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import DirectCall, DncEntry
from campaigns.store import session_scope
from dialer.pbx.sandbox import free_port
from dialer.services import accounts
from dialer.services.operators import add_operator
from tests.console_helpers import PASSWORD, console_campaign
from tests.test_console_e2e import DIALER, _stop, _wait_http
from tests.test_console_language_web import _closed_now

pytestmark = pytest.mark.browser


def test_a_russian_operator_reads_why_a_manual_dial_is_refused_in_russian(
    store: Engine, db_url: str, chromium: Any
) -> None:
    from playwright.sync_api import expect

    console_campaign(store, "night", region="RU", window=_closed_now())
    add_operator(store, "op3", "Local/op3@sim-operators/n", ["night"])
    accounts.add_user(store, "vera", "operator", PASSWORD, operator="op3", language="ru")
    with session_scope(store) as session:
        session.add(DncEntry(phone="+79161234567"))
    port = free_port()
    console = subprocess.Popen(
        [str(DIALER), "console", "--port", str(port)],
        env={**os.environ, "DIALER_DB": db_url, "LANG": "C.UTF-8", "LC_ALL": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/login", console)
        page = chromium.new_context().new_page()
        page.set_default_timeout(30_000)
        page.goto(f"http://127.0.0.1:{port}/login")
        page.fill("#name", "vera")
        page.fill("#password", PASSWORD)
        page.click("#login")
        page.wait_for_selector("#link.up")
        page.fill("#dial-phone", "8 916 123-45-67")
        page.click("#dial-go")
        expect(page.locator("#error-phone")).to_have_text(
            "сейчас звонить нельзя: номер в списке запрета звонков"
        )
        page.fill("#dial-phone", "+7 495 123-45-67")
        page.click("#dial-go")
        expect(page.locator("#error-phone")).to_have_text("сейчас звонить нельзя: вне окна звонков")
        assert page.inner_text("#dial-done") == ""
    finally:
        _stop(console)
    with Session(store) as session:
        assert session.exec(select(DirectCall)).all() == []

"""A Russian operator in Chromium against a real console process: a refused manual dial is
explained next to the phone field in Russian, Call on a reservation that ran out is refused at
the preview buttons in Russian, and a page out of date or a session that ended is said at the top
of the page. No engine is needed: nothing is dialed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import DirectCall, DncEntry, Lead, utcnow
from campaigns.store import session_scope
from dialer.services import accounts, callbacks, direct_calls
from dialer.services.operators import add_operator
from tests.console_helpers import PASSWORD, console_campaign
from tests.console_process import console_process, logged_in_page
from tests.engine_helpers import open_zone
from tests.test_console_language_web import _closed_now

pytestmark = pytest.mark.browser


RAN_OUT = "время брони истекло: возьмите следующего клиента"
OUT_OF_DATE = "страница устарела: обновите её и повторите"
SESSION_ENDED = "сеанс завершён: войдите снова"


def test_a_russian_operator_reads_why_a_manual_dial_or_a_call_is_refused_in_russian(
    store: Engine, db_url: str, chromium: Any
) -> None:
    from playwright.sync_api import expect

    console_campaign(store, "night", region="RU", window=_closed_now())
    preview = console_campaign(store, "pv", "q2", mode="preview", window="00:00-24:00")
    add_operator(store, "op3", "Local/op3@sim-operators/n", ["night", "pv"])
    accounts.add_user(store, "vera", "operator", PASSWORD, operator="op3", language="ru")
    callbacks.change_settings(store, "pv", preview_hold="1h")
    with session_scope(store) as session:
        session.add(DncEntry(phone="+79161234567"))
        session.add(Lead(campaign_id=preview, phone="+79001230001", time_zones=open_zone()))
    with console_process(db_url, LANG="C.UTF-8", LC_ALL="") as port:
        page = logged_in_page(chromium, port, "vera")
        page.fill("#dial-phone", "8 916 123-45-67")
        page.click("#dial-go")
        expect(page.locator("#error-phone")).to_have_text(
            "сейчас звонить нельзя: номер в списке запрета звонков"
        )
        page.fill("#dial-phone", "+7 495 123-45-67")
        page.click("#dial-go")
        expect(page.locator("#error-phone")).to_have_text("сейчас звонить нельзя: вне окна звонков")
        assert page.inner_text("#dial-done") == ""
        # Past its hold, and given back by the console's release (every 5 s) before the press, as
        # it may be: the refusal still says it ran out. The panel is redrawn without the lead as
        # the refusal comes; the refusal stays.
        page.click("#preview-next")
        page.wait_for_selector("#preview-call")
        with session_scope(store) as session:
            lead = session.exec(select(Lead).where(Lead.campaign_id == preview)).one()
            lead.claimed_at = utcnow() - timedelta(hours=1, seconds=1)
        direct_calls.release_expired(store)
        page.click("#preview-call")
        expect(page.locator("#preview-error")).to_have_text(RAN_OUT)
        page.wait_for_selector("#preview-next")
        page.wait_for_timeout(500)  # the redrawn panel keeps the refusal
        expect(page.locator("#preview-error")).to_have_text(RAN_OUT)
        # The page's CSRF token out of date: said at the top of the page, with the way on (reload).
        expect(page.locator("#session-problem")).to_be_hidden()
        page.evaluate("document.querySelector('meta[name=csrf]').content = 'stale'")
        page.click("#dial-go")
        expect(page.locator("#session-problem-text")).to_have_text(OUT_OF_DATE)
        expect(page.locator("#error-phone")).to_have_text(OUT_OF_DATE)
        expect(page.locator("#session-reload")).to_be_visible()
        # The session ended (a new password ends it): log in again.
        accounts.set_password(store, "vera", PASSWORD + "-new")
        page.click("#dial-go")
        expect(page.locator("#session-problem-text")).to_have_text(SESSION_ENDED)
        expect(page.locator("#error-phone")).to_have_text(SESSION_ENDED)
        expect(page.locator("#session-login")).to_be_visible()
        expect(page.locator("#session-reload")).to_be_hidden()
    with Session(store) as session:
        assert session.exec(select(DirectCall)).all() == []

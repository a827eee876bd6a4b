"""Lead edits in Chromium against a real console process: a bad value gets its message next to
its field and writes nothing; a good one is saved, redrawn and audited. No engine is needed: the
operator's connected call is written to the store as the engine would write it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from dialer.services.lead_edits import lead_audit
from tests.console_helpers import connected_call, console_campaign, operator_account
from tests.console_process import console_process, logged_in_page
from tests.test_lead_edits import _data

pytestmark = pytest.mark.browser


def test_a_bad_lead_value_is_named_next_to_its_field_and_a_good_one_is_saved(
    store: Engine, db_url: str, chromium: Any
) -> None:
    from playwright.sync_api import expect

    cid = console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    _, lead_id = connected_call(store, cid, "op1", "+79001110002", name="Ivan", city="Tver")
    with console_process(db_url) as port:
        page = logged_in_page(chromium, port, "anna")
        page.click("#edit-lead")
        page.fill("input[name=f_city]", "Тверь")
        page.fill("input[name=f_name]", "Ivan\x01")
        page.click("#save-lead")
        expect(page.locator('.field-error[data-field="name"]')).to_have_text(
            "control characters are not allowed"
        )
        assert page.inner_text('.field-error[data-field="city"]') == ""
        assert _data(store, lead_id) == {"name": "Ivan", "city": "Tver"}  # nothing half-written
        page.fill("input[name=f_name]", "Иван")
        page.click("#save-lead")
        expect(page.locator("#lead-fields")).to_contain_text("Тверь")  # saved, pushed, redrawn
        expect(page.locator("#lead-fields")).to_contain_text("Иван")
    assert _data(store, lead_id) == {"name": "Иван", "city": "Тверь"}
    assert sorted((r.field, r.old, r.new, r.user) for r in lead_audit(store, "spring")) == [
        ("city", "Tver", "Тверь", "anna"),
        ("name", "Ivan", "Иван", "anna"),
    ]

"""Do-not-call lists: global and per campaign, numbers normalised like leads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns.service import CampaignSpec, create_campaign
from dialer.core.errors import InvalidInput, NotFound
from lists.dnc import add_numbers, check_number, dnc_phones, import_file, remove_number

pytestmark = pytest.mark.every_store


def test_added_numbers_are_stored_in_e164_once(store: Engine) -> None:
    change = add_numbers(store, ["8 (916) 123-45-67", "+79161234567", "not a number"])
    assert (change.added, change.already) == (1, 1)
    assert [value for value, _ in change.rejected] == ["not a number"]
    again = add_numbers(store, ["79161234567"])
    assert (again.added, again.already) == (0, 1)


def test_check_reports_each_list_a_number_is_on(store: Engine) -> None:
    create_campaign(store, CampaignSpec.build("spring"))
    add_numbers(store, ["89161234567"])
    add_numbers(store, ["89161234567", "89161234568"], campaign="spring")
    assert sorted((x.campaign or "") for x in check_number(store, "+79161234567")) == ["", "spring"]
    assert [x.campaign for x in check_number(store, "89161234568", campaign="spring")] == ["spring"]
    assert check_number(store, "89161234569") == []


def test_campaign_list_adds_to_the_global_one_for_that_campaign_only(store: Engine) -> None:
    create_campaign(store, CampaignSpec.build("a"))
    create_campaign(store, CampaignSpec.build("b"))
    add_numbers(store, ["89161234567"])
    add_numbers(store, ["89161234568"], campaign="a")
    with store.connect() as conn:
        assert dnc_phones(conn, 1) == {"+79161234567", "+79161234568"}
        assert dnc_phones(conn, 2) == {"+79161234567"}


def test_remove_takes_the_number_off_one_list(store: Engine) -> None:
    create_campaign(store, CampaignSpec.build("spring"))
    add_numbers(store, ["89161234567"])
    add_numbers(store, ["89161234567"], campaign="spring")
    assert remove_number(store, "+7 916 123-45-67") == 1
    assert remove_number(store, "+7 916 123-45-67") == 0
    assert [x.campaign for x in check_number(store, "89161234567")] == ["spring"]


def test_import_reads_a_bare_list_without_header(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("89161234567\n+7 916 123 45 68\n")
    assert import_file(store, path).added == 2


def test_import_reads_the_phone_column_of_a_table(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "dnc.csv"
    path.write_text("name;телефон\nA;89161234567\nB;89161234568\n", encoding="utf-8")
    change = import_file(store, path)
    assert change.added == 2
    assert check_number(store, "89161234568")[0].source == "dnc.csv"


def test_unknown_campaign_and_bad_number_are_user_errors(store: Engine) -> None:
    with pytest.raises(NotFound):
        add_numbers(store, ["89161234567"], campaign="nope")
    with pytest.raises(InvalidInput, match="not a"):
        check_number(store, "12")

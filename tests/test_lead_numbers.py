"""Several numbers in one cell: the import keeps them as a lead's first and alternate numbers.

Against a real store (SQLite and PostgreSQL); the cells are written as Russian lists write them.
"""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.lead_numbers import LeadNumber, lead_numbers, stored_numbers
from campaigns.models import CallAttempt, Campaign, DncEntry, Lead, utcnow
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import session_scope
from dialer.core.attempt import Attempt, AttemptState, Outcome
from dialer.engine.selection import select_leads
from dialer.policy.campaign_rules import CampaignRules
from dialer.services import accounts, console, dispositions
from dialer.store.recorder import begin_attempts, finish_attempt
from lists.dnc import add_numbers
from lists.importer import ImportRequest, import_leads
from lists.phones import split_numbers
from tests.console_helpers import PASSWORD, console_campaign, operator_account
from tests.engine_helpers import open_zone

pytestmark = pytest.mark.every_store


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return path


def by_name(store: Engine) -> dict[str, Lead]:
    with Session(store) as session:
        return {str(lead.data["ФИО"]): lead for lead in session.exec(select(Lead)).all()}


def phones_of(lead: Lead) -> list[str]:
    return [n.phone for n in lead_numbers(lead.phone, lead.time_zones, lead.numbers)]


@pytest.fixture
def campaign(store: Engine) -> str:
    create_campaign(store, CampaignSpec.build("spring"))
    return "spring"


@pytest.mark.parametrize(
    ("cell", "parts"),
    [
        ("8 (903) 100-20-34; 8 (495) 200-30-44", ["8 (903) 100-20-34", "8 (495) 200-30-44"]),
        ("+7 903 100-20-34, +7 495 200-30-44", ["+7 903 100-20-34", "+7 495 200-30-44"]),
        ("89031002034/84952003044", ["89031002034", "84952003044"]),
        ("8 903 100 20 34\n8 495 200 30 44", ["8 903 100 20 34", "8 495 200 30 44"]),
        ("8 (903) 100-20-34;", ["8 (903) 100-20-34"]),
        ("8 (903) 100-20-34", ["8 (903) 100-20-34"]),
        ("7,9031002034E+10", ["7,9031002034E+10"]),  # a spreadsheet's decimal comma, one number
        ("79031002034,0", ["79031002034,0"]),
    ],
)
def test_a_cell_splits_into_its_numbers(cell: str, parts: list[str]) -> None:
    assert split_numbers(cell) == parts


def test_several_numbers_in_a_cell_become_first_and_alternates(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["ФИО", "Телефон"],
            ["Иванова Анна", "8 (903) 100-20-34; 8 (495) 200-30-44"],
            ["Петров Пётр", "+7 916 123-45-67, 8-343-310-20-30"],
            ["Сидоров Олег", "8 (912) 555-01-02"],
        ],
    )
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.read, summary.imported, summary.invalid, summary.alternates) == (3, 3, 0, 2)
    leads = by_name(store)
    anna = leads["Иванова Анна"]
    assert anna.phone == "+79031002034"
    assert phones_of(anna) == ["+79031002034", "+74952003044"]
    # Each number keeps its own zones: the Moscow landline is Moscow's; the Yekaterinburg one is not.
    petrov = lead_numbers(leads["Петров Пётр"].phone, "", leads["Петров Пётр"].numbers)
    assert petrov[1].phone == "+73433102030"
    assert petrov[1].zones == "Asia/Yekaterinburg"
    assert leads["Сидоров Олег"].numbers is None  # one number: nothing more is stored


def test_a_bad_number_beside_a_good_one_is_left_out_and_counted(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["ФИО", "Телефон"],
            ["Иванова Анна", "8 (9O3) 100-20-34; 8 (495) 200-30-44"],  # a Latin O among the digits
            ["Петров Пётр", "8 800 555-35-35 / 8 (916) 123-45-67"],  # a toll-free number first
            ["Сидоров Олег", "112; 8 (916) 765-43-21"],  # an emergency number
            ["Козлова Мария", "123; 45-67"],  # nothing usable at all
        ],
    )
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.imported, summary.invalid) == (3, 1)
    leads = by_name(store)
    assert phones_of(leads["Иванова Анна"]) == ["+74952003044"]
    assert phones_of(leads["Петров Пётр"]) == ["+78005553535", "+79161234567"]
    assert summary.service_numbers == {"toll-free (8-800)": 1}
    assert phones_of(leads["Сидоров Олег"]) == ["+79167654321"]
    reasons = " ".join(summary.numbers_left_out)
    assert "look-alike" in reasons and "emergency" in reasons
    assert sum(summary.numbers_left_out.values()) == 2
    assert summary.rejects_path is not None
    with summary.rejects_path.open(encoding="utf-8") as handle:
        (reject,) = list(csv.DictReader(handle))
    assert reject["row"] == "4" and reject["reason"].startswith("no usable number")


def test_do_not_call_and_duplicates_apply_to_every_number(
    store: Engine, campaign: str, tmp_path: Path
) -> None:
    add_numbers(store, ["+74952003044", "+79161112233"])
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["ФИО", "Телефон"],
            ["Иванова Анна", "8 (903) 100-20-34; 8 (495) 200-30-44"],  # the alternate is on the DNC list
            ["Петров Пётр", "8 (916) 111-22-33"],  # on the DNC list
            ["Сидоров Олег", "8 (916) 765-43-21; 8 (903) 100-20-34"],  # the second is Anna's
            ["Козлова Мария", "8 (903) 100-20-34 / 8 (916) 111-22-33"],  # Anna's, then DNC
        ],
    )
    summary = import_leads(store, ImportRequest(path, campaign))
    assert (summary.imported, summary.dnc, summary.duplicates) == (2, 2, 0)
    leads = by_name(store)
    assert phones_of(leads["Иванова Анна"]) == ["+79031002034"]
    assert phones_of(leads["Сидоров Олег"]) == ["+79167654321"]
    assert summary.numbers_left_out == {"on the do-not-call list": 1, "another lead's number": 1}
    # An alternate is a number of the campaign: a later list's lead with it is a duplicate.
    again = write_csv(tmp_path / "more.csv", [["ФИО", "Телефон"], ["Новая", "+7 903 100-20-34"]])
    later = import_leads(store, ImportRequest(again, campaign))
    assert (later.imported, later.duplicates) == (0, 1)


# --- the engine's store side: which number is claimed, and what an attempt leaves ----------


def _dial_once(store: Engine, campaign_id: int, outcome: Outcome) -> str:
    """Claim the campaign's due lead, record one attempt ending with ``outcome``; the number dialed."""
    with Session(store) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        rules = CampaignRules.from_campaign(campaign)
    now = time.time()
    [lead] = select_leads(store, rules, "node-a", now, 1)
    [placement] = begin_attempts(store, [lead], "node-a", lambda: now)
    ended = replace(
        Attempt.dial(placement.attempt_id, now), state=AttemptState.ENDED, outcome=outcome, ended_at=now
    )
    finish_attempt(store, ended, rules.retry, None)
    return lead.phone


def test_each_attempt_dials_the_number_whose_turn_it_is(store: Engine) -> None:
    create_campaign(store, CampaignSpec.build("turns", retry=["busy=0s"]))
    with Session(store) as session:
        campaign = session.exec(select(Campaign)).one()
        assert campaign.id is not None
        cid = campaign.id
    a, b, c = "+79031002034", "+74952003044", "+73433102030"
    zones = open_zone()  # about 13:00 there now
    numbers = stored_numbers([LeadNumber(a, zones), LeadNumber(b, zones), LeadNumber(c, zones)])
    with session_scope(store) as session:
        session.add(Lead(campaign_id=cid, phone=a, time_zones=zones, numbers=numbers))
    add_numbers(store, [c])  # the third number is put on the do-not-call list after the import
    dialed = [
        _dial_once(store, cid, Outcome.BUSY),
        _dial_once(store, cid, Outcome.INVALID_NUMBER),
        _dial_once(store, cid, Outcome.BUSY),
    ]
    assert dialed == [a, b, a]  # c passed over (DNC), b dropped after the wrong-number cause
    with Session(store) as session:
        lead = session.exec(select(Lead)).one()
        assert lead.status == "scheduled" and lead.attempts == 3
        assert [n.dropped for n in lead_numbers(lead.phone, lead.time_zones, lead.numbers)] == [
            False,
            True,
            False,
        ]
        rows = session.exec(select(CallAttempt).order_by(col(CallAttempt.started_at))).all()
        assert {r.phone for r in rows} == {a, b}
    _dial_once(store, cid, Outcome.INVALID_NUMBER)  # a is wrong too: only c, on the DNC list, is left
    with Session(store) as session:
        rules = CampaignRules.from_campaign(session.exec(select(Campaign)).one())
    assert select_leads(store, rules, "node-a", time.time(), 1) == []
    with Session(store) as session:
        assert session.exec(select(Lead)).one().status == "dnc"


def test_a_lead_whose_every_number_is_wrong_is_closed_as_invalid(store: Engine) -> None:
    create_campaign(store, CampaignSpec.build("wrong"))
    with Session(store) as session:
        cid = session.exec(select(Campaign)).one().id
        assert cid is not None
    a, b = "+79031002034", "+74952003044"
    numbers = stored_numbers([LeadNumber(a, open_zone()), LeadNumber(b, open_zone())])
    with session_scope(store) as session:
        session.add(Lead(campaign_id=cid, phone=a, time_zones=open_zone(), numbers=numbers))
    assert [_dial_once(store, cid, Outcome.INVALID_NUMBER) for _ in range(2)] == [a, b]
    with Session(store) as session:
        lead = session.exec(select(Lead)).one()
        assert (lead.status, lead.attempts) == ("invalid", 2)


def test_the_operator_sees_and_blocks_the_number_they_speak_on(store: Engine) -> None:
    cid = console_campaign(store, "desk")
    operator_account(store, "anna", "op1", "desk")
    first, alternate = "+79031002034", "+73433102030"
    numbers = stored_numbers(
        [LeadNumber(first, "Europe/Moscow"), LeadNumber(alternate, "Asia/Yekaterinburg")]
    )
    with session_scope(store) as session:
        lead = Lead(campaign_id=cid, phone=first, time_zones="Europe/Moscow", numbers=numbers)
        session.add(lead)
        session.flush()
        assert lead.id is not None
        session.add(
            CallAttempt(
                id="alt1",
                campaign_id=cid,
                lead_id=lead.id,
                phone=alternate,
                connected_at=utcnow(),
                operator="op1",
            )
        )
    anna = accounts.login(store, "anna", PASSWORD).user
    card = console.call_card(store, anna, "alt1")
    assert card.phone == alternate
    assert [zone for zone, _ in card.local_times] == ["Asia/Yekaterinburg"]
    assert dispositions.dispose(store, "op1", "alt1", "dnc").lead_status == "dnc"
    with Session(store) as session:
        assert list(session.exec(select(DncEntry.phone)).all()) == [alternate]

"""Why a number or a row was refused, and why a pacer placed no call, in the reader's language.

Reasons are produced and counted in English (stable: scripts and tests read them, the importer
counts by them); ``dialer.core.reasons.shown`` turns them into Russian where they are shown:
the rejects file of an import, the do-not-call commands, the pacing line of ``dialer status``.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.lifecycle import CampaignState
from cli import app
from dialer.cli.status_view import pacing_line
from dialer.core import i18n, reasons
from dialer.core.errors import FieldRejected
from dialer.engine.campaign_run import halted_explain
from dialer.store.pace import PacingView
from lists.phones import normalize_phone

runner = CliRunner()
RU = {"LANG": "ru_RU.UTF-8"}
C = {"LANG": "C"}


def _dialer(db_url: str, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dialer.db'}"


def _refusal(raw: str) -> str:
    with pytest.raises(FieldRejected) as caught:
        normalize_phone(raw)
    return str(caught.value)


def _in_russian(reason: str) -> str:
    token = i18n.use("ru")
    try:
        return reasons.shown(reason)
    finally:
        i18n.restore(token)


def test_a_phone_numbers_refusal_is_produced_in_english_and_shown_in_russian() -> None:
    short, letter, no_digits = _refusal("12"), _refusal("8916l234567"), _refusal("abc")
    assert short == "short number 12: a service number, not a subscriber's"
    assert _in_russian(short) == "короткий номер 12: служебный номер, а не абонента"
    assert letter.startswith("the letter 'l' stands among the digits where '1' would be")
    assert _in_russian(letter).startswith("среди цифр стоит буква 'l' там, где должно быть '1'")
    assert _in_russian(no_digits) == "не номер телефона: нет цифр"  # the parser's own reason too
    # English stays what it was; a text no template knows is shown as it is.
    assert reasons.shown(short) == short and reasons.shown(letter) == letter
    assert _in_russian("something else: entirely") == "something else: entirely"


def test_a_cells_reasons_joined_into_one_are_each_shown_in_russian() -> None:
    joined = reasons.NO_USABLE.format(reasons=f"'12': {_refusal('12')}; 'abc': {_refusal('abc')}")
    assert _in_russian(joined) == (
        "нет пригодного номера: '12': короткий номер 12: служебный номер, а не абонента; "
        "'abc': не номер телефона: нет цифр"
    )


def _rejects(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["row"]: row["reason"] for row in csv.DictReader(handle)}


def test_the_rejects_file_and_its_example_rows_follow_the_locale(db_url: str, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("Имя;Телефон\nИван;8 (916) 123-45-67\nОлег;12\nЮля;8916l234567\n", encoding="utf-8")
    assert _dialer(db_url, RU, "campaign", "create", "весна", "--dial-template", "PJSIP/{number}@t")[0] == 0
    assert _dialer(db_url, RU, "dnc", "add", "+79161234567")[0] == 0
    code, _, err = _dialer(db_url, RU, "lists", "import", str(leads), "--campaign", "весна")
    assert code == 0, err
    rows = _rejects(Path(f"{leads}.rejected.csv"))
    assert rows["1"] == "в списке запрета звонков"
    assert rows["2"] == "короткий номер 12: служебный номер, а не абонента"
    assert rows["3"].startswith("среди цифр стоит буква 'l'")

    english = tmp_path / "english.csv"
    english.write_text(leads.read_text(encoding="utf-8"), encoding="utf-8")
    assert _dialer(db_url, C, "campaign", "create", "spring", "--dial-template", "PJSIP/{number}@t")[0] == 0
    assert _dialer(db_url, C, "lists", "import", str(english), "--campaign", "spring")[0] == 0
    rows = _rejects(Path(f"{english}.rejected.csv"))
    assert rows["1"] == "on the do-not-call list" and rows["2"].startswith("short number 12")


def test_no_row_importable_names_the_first_ones_and_why_in_russian(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Телефон\n12\nabc\n", encoding="utf-8")
    _dialer(db_url, RU, "campaign", "create", "весна", "--dial-template", "PJSIP/{number}@t")
    code, _, err = _dialer(db_url, RU, "lists", "import", str(bad), "--campaign", "весна")
    assert code == 2
    assert "строка 1: короткий номер 12" in err and "строка 2: не номер телефона: нет цифр" in err


def test_the_do_not_call_commands_speak_russian(db_url: str, tmp_path: Path) -> None:
    numbers = tmp_path / "dnc.txt"
    numbers.write_text("+79161112233\nabc\n12\n", encoding="utf-8")
    code, out, err = _dialer(db_url, RU, "dnc", "import", str(numbers))
    assert "добавлено: 1" in out and "уже в списке: 0" in out and "с ошибками: 2" in out, (code, err)
    assert "пропущено 'abc': не номер телефона: нет цифр" in err
    assert "пропущено '12': короткий номер 12: служебный номер, а не абонента" in err
    code, out, _ = _dialer(db_url, RU, "dnc", "check", "+79161112233")
    assert code == 0 and "+79161112233: в списке запрета звонков (общий список)" in out
    code, _, err = _dialer(db_url, RU, "dnc", "remove", "+79160000000")
    assert code != 0 and "+79160000000 не найден: общий список" in err
    code, out, err = _dialer(db_url, C, "dnc", "import", str(numbers))
    assert "already listed: 1" in out and "skipped 'abc': not a phone number: no digits" in err


def test_why_a_pacer_placed_no_call_is_shown_in_russian() -> None:
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    ceiling = PacingView("node-a", at, {"mode": "predictive", "reason": reasons.AT_CEILING})
    halted = PacingView("node-a", at, halted_explain({"mode": "predictive"}, CampaignState.PAUSED))
    now = at.timestamp() + 1
    assert "at the ceiling" in pacing_line("весна", ceiling, now)
    assert "campaign paused: no new calls" in pacing_line("весна", halted, now)
    token = i18n.use("ru")
    try:
        assert "достигнут потолок" in pacing_line("весна", ceiling, now)
        assert "кампания приостановлена: новых звонков нет" in pacing_line("весна", halted, now)
    finally:
        i18n.restore(token)

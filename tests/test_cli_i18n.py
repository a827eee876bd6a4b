"""The command line in Russian and English: the locale (``LANG``, ``LC_MESSAGES``, ``LC_ALL``) or
``--lang`` picks the language of messages, tables, errors and the report, for a manager's whole day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from campaigns.models import CallAttempt, Lead
from campaigns.store import session_scope
from cli import app
from dialer.cli.status_view import pacing_line
from dialer.core import i18n
from dialer.store.pace import PacingView
from tests.engine_helpers import make_campaign, make_leads, phones_by_digit

runner = CliRunner()
RU = {"LANG": "ru_RU.UTF-8"}
C = {"LANG": "C"}


def dialer(db_url: str, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dialer.db'}"


@pytest.fixture
def leads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text(
        "ФИО;Телефон;Город\nИван;8 (916) 123-45-67;Москва\nПётр;+7 916 123 45 67;Тверь\n"
        "Анна;(495) 123-45-67;Москва\nОлег;12;Казань\n",
        encoding="utf-8",
    )
    return path


def test_a_managers_day_comes_out_in_russian(db_url: str, leads_csv: Path, tmp_path: Path) -> None:
    code, out, err = dialer(db_url, RU, "campaign", "create", "весна", "--dial-template", "PJSIP/{number}@t")
    assert (code, out.strip()) == (0, "создана кампания весна (id 1)"), err
    code, out, err = dialer(db_url, RU, "lists", "import", str(leads_csv), "--campaign", "весна")
    assert code == 0, err
    assert (
        "прочитано: 4" in out and "загружено: 2" in out and "дубликаты: 1" in out and "с ошибками: 1" in out
    )
    assert "часовые пояса взяты из:" in out and "часов в день, когда можно звонить" in out
    code, out, _ = dialer(db_url, RU, "campaign", "list")
    assert code == 0 and "контактов: 2" in out
    code, out, _ = dialer(db_url, RU, "campaign", "show", "весна")
    assert code == 0 and "режим: progressive" in out and "окно звонков: 09:00-21:00" in out
    assert "контакты: 2 (new 2)" in out
    code, out, _ = dialer(db_url, RU, "status")
    assert code == 0
    assert "кампания" in out and "осталось контактов" in out and "вызовов в работе: 0" in out
    assert "движки: ни один не запущен" in out
    output = tmp_path / "leads-out.csv"
    code, _, err = dialer(db_url, RU, "export", "leads", "--campaign", "весна", "-o", str(output))
    assert code == 0 and f"выгружено контактов: 2, в {output}" in " ".join(err.split())


def test_the_same_day_in_english_under_the_c_locale(db_url: str, leads_csv: Path) -> None:
    code, out, _ = dialer(db_url, C, "campaign", "create", "spring", "--dial-template", "PJSIP/{number}@t")
    assert (code, out.strip()) == (0, "created campaign spring (id 1)")
    code, out, _ = dialer(db_url, C, "lists", "import", str(leads_csv), "--campaign", "spring")
    assert code == 0 and "read: 4" in out and "imported: 2" in out
    code, out, _ = dialer(db_url, C, "status")
    assert code == 0 and "leads left" in out and "engines: none running" in out
    assert not any("\u0400" <= ch <= "\u04ff" for ch in out)


def test_errors_are_one_russian_line_with_exit_code_2(db_url: str, tmp_path: Path) -> None:
    dialer(db_url, RU, "campaign", "create", "весна")
    code, out, err = dialer(db_url, RU, "campaign", "show", "осень")
    assert code == 2 and out == ""
    assert err.strip() == "ошибка: нет кампании 'осень' (есть: весна)"
    empty = tmp_path / "empty.csv"
    empty.write_text("ФИО;Телефон\n", encoding="utf-8")
    code, _, err = dialer(db_url, RU, "lists", "import", str(empty), "--campaign", "весна")
    assert code == 2 and " ".join(err.split()) == f"ошибка: в {empty} есть заголовок, но нет строк с данными"
    code, _, err = dialer(db_url, C, "campaign", "show", "autumn")
    assert code == 2 and err.strip() == "error: unknown campaign 'autumn' (known: весна)"


@pytest.mark.parametrize(
    ("env", "option", "expected"),
    [
        (RU, ["--lang", "en"], "no campaigns yet: dialer campaign create NAME"),
        (C, ["--lang", "ru"], "кампаний пока нет: dialer campaign create ИМЯ"),
        ({"LANG": "ru_RU.UTF-8", "LC_ALL": "C"}, [], "no campaigns yet: dialer campaign create NAME"),
        ({"LANG": "C", "LC_MESSAGES": "ru_RU.UTF-8"}, [], "кампаний пока нет: dialer campaign create ИМЯ"),
        ({"LANG": "de_DE.UTF-8"}, [], "no campaigns yet: dialer campaign create NAME"),
    ],
)
def test_lang_beats_the_locale_and_lc_all_beats_lang(
    db_url: str, env: dict[str, str], option: list[str], expected: str
) -> None:
    result = runner.invoke(app, [*option, "--db", db_url, "campaign", "list"], env=env)
    assert result.exit_code == 0 and result.stdout.strip() == expected


def test_an_unknown_lang_is_one_line_and_exit_code_2(db_url: str) -> None:
    result = runner.invoke(app, ["--lang", "de", "--db", db_url, "campaign", "list"], env=C)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip() == "error: unknown --lang 'de': use en or ru"
    result = runner.invoke(app, ["--lang", "xx", "--db", db_url, "campaign", "list"], env=RU)
    assert result.stderr.strip() == "ошибка: неизвестный --lang 'xx': используйте en или ru"


def test_the_language_ends_with_the_command(db_url: str) -> None:
    dialer(db_url, RU, "campaign", "list")
    runner.invoke(app, ["--lang", "ru", "--db", db_url, "campaign", "list"], env=C)
    assert i18n.current() == "en"


def _seed_attempts(store: Engine) -> None:
    cid = make_campaign(store, "осень")
    ids = make_leads(store, cid, phones_by_digit([0, 0]))
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    with session_scope(store) as session:
        for n, lead_id in enumerate(ids):
            lead = session.get(Lead, lead_id)
            assert lead is not None
            at = start + timedelta(minutes=n)
            session.add(CallAttempt(
                id=f"a{lead_id}", campaign_id=cid, lead_id=lead_id, phone=lead.phone, started_at=at,
                answered_at=at + timedelta(seconds=5), connected_at=at + timedelta(seconds=6),
                ended_at=at + timedelta(seconds=60), outcome="connected", operator="op101",
            ))  # fmt: skip


def test_the_report_and_the_compliance_record_follow_the_locale(
    store: Engine, db_url: str, tmp_path: Path
) -> None:
    _seed_attempts(store)
    html = tmp_path / "r.html"
    code, _, err = dialer(db_url, RU, "report", "campaign", "осень", "-o", str(html))
    assert code == 0, err
    page = html.read_text(encoding="utf-8")
    assert "<h1>Отчёт по кампании: осень</h1>" in page and "Воронка исходов" in page and "разговор, с" in page
    code, _, _ = dialer(db_url, RU, "report", "campaign", "осень", "-o", str(html), "--lang", "en")
    assert code == 0 and "<h1>Campaign report: осень</h1>" in html.read_text(encoding="utf-8")
    code, out, _ = dialer(db_url, RU, "report", "compliance", "--campaign", "осень")
    assert code == 0 and "Соблюдение правил кампанией осень" in out and "показатель" in out
    code, out, _ = dialer(db_url, C, "report", "compliance", "--campaign", "осень")
    assert code == 0 and "Compliance of campaign осень" in out


def test_the_abandon_rule_verdicts_of_the_compliance_table_follow_the_locale(
    store: Engine, db_url: str
) -> None:
    _seed_attempts(store)
    with session_scope(store) as session:  # the second call abandoned: 1 of 2 live answers
        attempt = session.exec(select(CallAttempt).order_by(col(CallAttempt.started_at).desc())).first()
        assert attempt is not None
        attempt.outcome, attempt.connected_at = "abandoned", None
    code, out, err = dialer(db_url, RU, "report", "compliance", "--campaign", "осень")
    assert code == 0, err
    text = " ".join(out.split())  # the caption wraps at the table's width (and a no-break space is one)
    assert "НЕ соответствует: США, TSR 16 CFR 310.4(b)(4)(i): брошено не больше 3,00 % звонков" in text
    assert (
        "50,00 % (брошено: 1, живых ответов: 2) с 2026-11-27 09:00 по 2026-11-27 09:02 UTC: выше предела"
        in text
    )
    assert "answered by a person" not in text and "is over the cap" not in text
    code, out, _ = dialer(db_url, C, "report", "compliance", "--campaign", "осень")
    text = " ".join(out.split())
    assert code == 0 and "NOT compliant: US TSR 16 CFR 310.4(b)(4)(i): at most 3.00% of calls" in text
    assert (
        "50.00% (1 abandoned of 2 live answers) from 2026-11-27 09:00 to 2026-11-27 09:02 UTC is over" in text
    )


def test_numbering_and_users_speak_russian(db_url: str) -> None:
    code, out, _ = dialer(db_url, RU, "numbering", "status")
    assert code == 0 and out.startswith("план нумерации не загружен")
    code, out, _ = dialer(db_url, RU, "users", "list")
    assert code == 0 and out.startswith("пользователей пока нет")


def test_the_pacing_line_of_status_speaks_the_language_of_the_moment() -> None:
    explain = {
        "mode": "predictive", "dial_rate_per_min": 12, "placed": 2, "answer_rate": 0.25,
        "answered_seen": 40, "ring_mean_s": 9, "talk_mean_s": 60, "ready": 3, "staffed": 4,
        "abandoned": 1, "live_answers": 40, "abandon_rate": 0.025, "abandon_cap": 0.03,
        "abandon_window": "24h",
    }  # fmt: skip
    view = PacingView("node-a", datetime(2026, 11, 27, 9, 0, tzinfo=UTC), explain)
    now = view.updated_at.timestamp() + 5
    english = pacing_line("весна", view, now)
    assert "operators ready 3 of 4" in english and "abandoned 1/40 = 2.5% (cap 3.0% per 24h)" in english
    token = i18n.use("ru")
    try:
        russian = pacing_line("весна", view, now)
        stale = pacing_line("весна", view, now + 600)
    finally:
        i18n.restore(token)
    assert russian.startswith("весна, темп на node-a: predictive; темп набора 12/мин")
    assert "готовы операторов: 3 из 4" in russian
    assert "брошено 1/40 = 2,5\xa0% (предел 3,0\xa0% за 24h)" in russian
    assert russian.endswith("; 5 с назад") and stale.endswith("с назад [не работает]")


REFUSALS = [
    (
        ["lists", "import", "{dir}/нет.csv", "--campaign", "весна"],
        "{dir}/нет.csv: такого файла нет",
        "{dir}/нет.csv: no such file",
    ),
    (
        ["lists", "import", "{dir}/leads.csv", "--campaign", "весна", "--map", "fio=ФИО"],
        "--map 'fio=ФИО': неизвестное поле; поля: phone, timezone, city, region, consent",
        "--map 'fio=ФИО': unknown field; fields: phone, timezone, city, region, consent",
    ),
    (
        ["lists", "import", "{dir}/leads.csv", "--campaign", "весна", "--encoding", "koi9"],
        "неизвестная кодировка 'koi9': попробуйте utf-8, utf-8-sig или cp1251",
        "unknown encoding 'koi9': try utf-8, utf-8-sig or cp1251",
    ),
    (
        ["export", "leads", "--campaign", "весна", "-o", "{dir}/leads.csv", "--tz", "Mars/Base"],
        "--tz Mars/Base: укажите local, UTC или зону IANA, например Europe/Moscow",
        "--tz Mars/Base: use local, UTC or an IANA zone such as Europe/Moscow",
    ),
    (
        ["export", "leads", "--campaign", "весна", "-o", "{dir}/out.csv", "--format", "pdf"],
        "--format 'pdf': укажите csv или xlsx",
        "--format 'pdf': use csv or xlsx",
    ),
    (
        ["status", "--watch", "--interval", "0.1"],
        "--interval 0.1: ожидается от 0.2 до 3600 секунд",
        "--interval 0.1: expected 0.2 to 3600 seconds",
    ),
    (
        ["run", "--campaign", "весна", "--wrapup", "5000"],
        "--wrapup 5000: ожидается от 0 до 3600 секунд",
        "--wrapup 5000: expected 0 to 3600 seconds",
    ),
    (
        ["simulate", "--format", "xml"],
        "--format 'xml': укажите table или json",
        "--format 'xml': use table or json",
    ),
    (
        ["report", "campaign", "весна", "--from", "вчера", "-o", "{dir}/report.html"],
        "неверное значение --from 'вчера': укажите YYYY-MM-DD или YYYY-MM-DDTHH:MM (UTC)",
        "bad --from 'вчера': use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)",
    ),
    (["demo", "--leads", "5"], "--leads 5: ожидается от 20 до 100000", "--leads 5: expected 20 to 100000"),
    (
        ["dnc", "import", "{dir}/names.csv"],
        "{dir}/names.csv: среди столбцов ФИО, Город нет столбца с телефоном; "
        "назовите его phone, tel или телефон",
        "{dir}/names.csv: no phone column among ФИО, Город; name one phone, tel or телефон",
    ),
    (["dnc", "import", "{dir}/blank.csv"], "в {dir}/blank.csv нет номеров", "{dir}/blank.csv has no numbers"),
    (
        ["pbx", "config", "--out", "{dir}/pbx", "--campaign", "весна"],
        "у кампании 'весна' нет --queue, а её имя не годится как имя очереди (буквы, цифры, '.', '_', '-'); "
        "создайте её заново с --queue ИМЯ",
        "campaign 'весна' has no --queue and its name is not a valid queue name "
        "(letters, digits, '.', '_', '-'); create it again with --queue NAME",
    ),
]


@pytest.mark.parametrize(
    ("args", "russian", "english"), REFUSALS, ids=[" ".join(a[:2]) for a, _r, _e in REFUSALS]
)
def test_option_and_file_refusals_are_one_line_in_either_language(
    db_url: str, leads_csv: Path, args: list[str], russian: str, english: str
) -> None:
    """Each refusal is one line in the locale's language, English byte for byte under LANG=C."""
    folder = str(leads_csv.parent)
    (leads_csv.parent / "names.csv").write_text("ФИО;Город\nИван;Москва\n", encoding="utf-8")
    (leads_csv.parent / "blank.csv").write_text("phone\n\n", encoding="utf-8")
    argv = [arg.format(dir=folder) for arg in args]
    dialer(db_url, C, "campaign", "create", "весна")
    ami = {"DIALER_AMI_URL": "ami://dialer@127.0.0.1:1", "DIALER_AMI_SECRET": "unused"}  # run checks it first
    for env, expected in ((RU, "ошибка: " + russian), (C, "error: " + english)):
        code, out, err = dialer(db_url, env | ami, *argv)
        assert (code, out, err) == (2, "", expected.format(dir=folder) + "\n")


def test_a_dnc_request_with_numbers_left_out_ends_in_one_russian_line(db_url: str) -> None:
    code, out, err = dialer(db_url, RU, "dnc", "add", "12", "abc", "+79161234567")
    assert code == 2 and "добавлено: 1" in out
    assert err.splitlines()[-1] == "ошибка: не добавлено номеров: 2 из 3: '12', 'abc'"
    code, _, err = dialer(db_url, C, "dnc", "add", "13", "xyz", "+79161234568")
    assert code == 2 and err.splitlines()[-1] == "error: 2 of 3 numbers not added: '13', 'xyz'"

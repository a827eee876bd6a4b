"""The console's commands (``users``, ``pause-codes``, ``dispositions``, ``scripts``, ``survey``)
refuse bad input in the manager's language: one red line, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
RU = {"LANG": "ru_RU.UTF-8"}
C = {"LANG": "C"}
PASSWORD = "long enough\n"


def dialer(db_url: str, env: dict[str, str], args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env=env, input=stdin)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    for args in (
        ["campaign", "create", "весна"],
        ["operators", "add", "op101", "--interface", "PJSIP/101", "--campaign", "весна"],
        ["users", "add", "anna", "--role", "admin", "--password-stdin"],
        ["survey", "add", "весна", "age", "--text", "Возраст?", "--kind", "number"],
    ):
        assert dialer(url, C, args, PASSWORD)[0] == 0, args
    return url


def _user(*options: str) -> list[str]:
    return ["users", "add", *options, "--password-stdin"]


REFUSALS = [
    (
        _user("bad name!", "--role", "admin"),
        PASSWORD,
        "имя пользователя 'bad name!': используйте латинские буквы, цифры, '.', '_', '@' или '-'",
    ),
    (
        _user("boris", "--role", "boss"),
        PASSWORD,
        "роль 'boss': используйте одну из: operator, supervisor, admin",
    ),
    (
        _user("boris", "--role", "admin", "--language", "de"),
        PASSWORD,
        "язык 'de': используйте один из: ru, en",
    ),
    (
        _user("boris", "--role", "operator"),
        PASSWORD,
        "учётной записи оператора нужен --operator: оператор, которым она принимает звонки",
    ),
    (_user("boris", "--role", "admin"), "short\n", "в пароле должно быть не меньше 8 символов"),
    (_user("boris", "--role", "admin"), "x" * 1025 + "\n", "пароль длиннее 1024 символов"),
    (_user("boris", "--role", "admin"), "\n", "пустой пароль не допускается"),
    (
        _user("boris", "--role", "operator", "--operator", "op999"),
        PASSWORD,
        "нет оператора 'op999'; добавьте его: `dialer operators add`",
    ),
    (_user("anna", "--role", "admin"), PASSWORD, "пользователь 'anna' уже есть"),
    (["users", "disable", "ghost"], "", "нет пользователя 'ghost'; добавьте его: `dialer users add`"),
    (["users", "enable", "ghost"], "", "нет пользователя 'ghost'; добавьте его: `dialer users add`"),
    (
        ["users", "passwd", "ghost", "--password-stdin"],
        PASSWORD,
        "нет пользователя 'ghost'; добавьте его: `dialer users add`",
    ),
    (
        ["dispositions", "add", "весна", "Sale", "--label", "Sale"],
        "",
        "код 'Sale': строчные латинские буквы, цифры, '_' или '-', не больше 32",
    ),
    (
        ["dispositions", "add", "весна", "sale", "--label", " "],
        "",
        "нужна подпись длиной от 1 до 200 символов",
    ),
    (
        ["dispositions", "add", "весна", "sale", "--label", "Sale", "--final", "--retry-in", "2h"],
        "",
        "код либо --final, либо --retry-in, но не то и другое",
    ),
    (
        ["dispositions", "add", "весна", "later", "--label", "Later", "--retry-in", "2x"],
        "",
        "--retry-in: длительность '2x': ожидается целое число и единица s, m, h или d (например, 10m)",
    ),
    (
        ["dispositions", "add", "весна", "later", "--label", "Later", "--retry-in", "40000d"],
        "",
        "--retry-in: длительность '40000d': не больше 36600d",
    ),
    (["dispositions", "add", "осень", "sale", "--label", "Sale"], "", "нет кампании 'осень' (есть: весна)"),
    (["dispositions", "list", "осень"], "", "нет кампании 'осень' (есть: весна)"),
    (["dispositions", "remove", "весна", "ghost"], "", "у кампании весна нет кода результата 'ghost'"),
    (
        ["pause-codes", "add", "Lunch", "--label", "Обед"],
        "",
        "код паузы 'Lunch': строчные латинские буквы, цифры, '_' или '-', не больше 32",
    ),
    (["pause-codes", "add", "lunch", "--label", ""], "", "нужна подпись длиной от 1 до 200 символов"),
    (["pause-codes", "remove", "ghost"], "", "нет кода паузы 'ghost'"),
    (["scripts", "show", "осень"], "", "нет кампании 'осень'"),
    (
        ["survey", "add", "весна", "Age", "--text", "Возраст?"],
        "",
        "ключ вопроса 'Age': строчная латинская буква, затем буквы, цифры или '_'",
    ),
    (
        ["survey", "add", "весна", "mood", "--text", "Как дела?", "--kind", "scale"],
        "",
        "--kind 'scale': используйте один из: text, single, multi, number",
    ),
    (
        ["survey", "add", "весна", "mood", "--text", " "],
        "",
        "нужен текст вопроса длиной от 1 до 1000 символов",
    ),
    (
        ["survey", "add", "весна", "mood", "--text", "Как дела?", "--kind", "single", "--choice", "да"],
        "",
        "вопросу с выбором (single) нужны хотя бы два значения --choice",
    ),
    (
        ["survey", "add", "весна", "mood", "--text", "Как дела?", "--choice", "да"],
        "",
        "--choice бывает только у вопросов single и multi",
    ),
    (
        ["survey", "add", "весна", "age", "--text", "Сколько лет?"],
        "",
        "у кампании весна уже есть вопрос 'age'",
    ),
    (["survey", "list", "осень"], "", "нет кампании 'осень' (есть: весна)"),
]


@pytest.mark.parametrize(
    ("args", "stdin", "message"), REFUSALS, ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else ""
)
def test_a_refusal_is_one_russian_line_with_exit_code_2(
    db_url: str, args: list[str], stdin: str, message: str
) -> None:
    code, out, err = dialer(db_url, RU, args, stdin)
    assert (code, err.strip()) == (2, f"ошибка: {message}")
    assert "\n" not in err.strip() and out == ""


def test_the_call_script_files_refusals_are_russian(db_url: str, tmp_path: Path) -> None:
    missing, folder, latin1 = tmp_path / "none.txt", tmp_path, tmp_path / "cp1251.txt"
    latin1.write_bytes("Здравствуйте, {ФИО}".encode("cp1251"))
    too_long = tmp_path / "long.txt"
    too_long.write_text("а" * 20_001, encoding="utf-8")
    for path, message in (
        (missing, f"{missing}: такого файла нет"),
        (folder, f"{folder} — папка, а не файл"),
        (latin1, f"{latin1} — не текст в UTF-8"),
        (too_long, "сценарий длиннее 20000 символов"),
    ):
        code, _, err = dialer(db_url, RU, ["scripts", "set", "весна", str(path)])
        assert (code, err.strip()) == (2, f"ошибка: {message}")


def test_the_same_refusals_stay_english_under_the_c_locale(db_url: str) -> None:
    for args, stdin, message in (
        (
            _user("bad name!", "--role", "admin"),
            PASSWORD,
            "user name 'bad name!': use letters, digits, '.', '_', '@' or '-'",
        ),
        (_user("boris", "--role", "admin"), "short\n", "the password needs at least 8 characters"),
        (
            ["dispositions", "add", "весна", "sale", "--label", "Sale", "--final", "--retry-in", "2h"],
            "",
            "a code is either --final or --retry-in, not both",
        ),
        (["pause-codes", "remove", "ghost"], "", "no pause code 'ghost'"),
        (["scripts", "show", "осень"], "", "unknown campaign 'осень'"),
        (
            ["survey", "add", "весна", "age", "--text", "Age?"],
            "",
            "campaign весна already has a question 'age'",
        ),
    ):
        code, _, err = dialer(db_url, C, args, stdin)
        assert (code, err.strip()) == (2, f"error: {message}")


def test_what_the_commands_print_is_russian_too(db_url: str, tmp_path: Path) -> None:
    code, out, err = dialer(
        db_url,
        RU,
        ["dispositions", "add", "весна", "later", "--label", "Later", "--retry-in", "2h", "--callback"],
    )
    assert code == 0, err
    assert (
        out.strip().split(". ", 1)[1] == "later: Later (повтор через 7200 с, перезвон)"
    )  # after the defaults
    assert (
        dialer(db_url, RU, ["dispositions", "remove", "весна", "later"])[1].strip()
        == "later удалён из кампании весна"
    )
    assert dialer(db_url, RU, ["pause-codes", "list"])[1].strip().startswith("кодов паузы нет")
    dialer(db_url, RU, ["pause-codes", "add", "lunch", "--label", "Обед"])
    assert dialer(db_url, RU, ["pause-codes", "remove", "lunch"])[1].strip() == "удалён lunch"
    script = tmp_path / "script.txt"
    script.write_text("Здравствуйте, {ФИО}!", encoding="utf-8")
    assert dialer(db_url, RU, ["scripts", "set", "весна", str(script)])[1].strip() == (
        "сценарий кампании весна: символов: 20"
    )
    code, out, _ = dialer(
        db_url, RU, ["survey", "add", "весна", "rooms", "--text", "Комнат?", "--kind", "number", "--required"]
    )
    assert out.strip() == "rooms (number, обязательный): Комнат?"
    code, out, _ = dialer(db_url, C, ["dispositions", "add", "весна", "sale", "--label", "Sale", "--final"])
    assert out.strip().split(". ", 1)[1] == "sale: Sale (final)"

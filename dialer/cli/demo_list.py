"""The demo's sample list: Russian leads the way real spreadsheets carry them.

Names, cities with their time zones, consent and interest columns, and phone
numbers written in the styles people type, plus the usual dirt of a real list
(duplicates written differently, unusable numbers). The number's last digit
scripts the simulated customer (see ``dialer.cli.demo``). Also the folder a demo
run writes its list, store and records to.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime
from pathlib import Path
from typing import TextIO

from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from lists.safe_write import write_text

# Last digit -> share of the list. Mostly people who answer; a no-answer rings the
# legal 15 s and holds an operator's line meanwhile, so it stays rare.
OUTCOME_MIX = {0: 16, 1: 16, 2: 16, 3: 16, 4: 16, 5: 9, 6: 3, 7: 6, 8: 2}

_CITIES = (
    ("Москва", "Europe/Moscow"),
    ("Санкт-Петербург", "Europe/Moscow"),
    ("Казань", "Europe/Moscow"),
    ("Нижний Новгород", "Europe/Moscow"),
    ("Ростов-на-Дону", "Europe/Moscow"),
    ("Калининград", "Europe/Kaliningrad"),
    ("Самара", "Europe/Samara"),
    ("Екатеринбург", "Asia/Yekaterinburg"),
    ("Уфа", "Asia/Yekaterinburg"),
    ("Омск", "Asia/Omsk"),
    ("Новосибирск", "Asia/Novosibirsk"),
    ("Красноярск", "Asia/Krasnoyarsk"),
    ("Иркутск", "Asia/Irkutsk"),
    ("Владивосток", "Asia/Vladivostok"),
)
_SURNAMES = (
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Петров", "Петрова"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Лебедев", "Лебедева"),
    ("Козлов", "Козлова"),
    ("Егоров", "Егорова"),
)
_MEN = ("Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Иван", "Михаил", "Никита")
_WOMEN = ("Анна", "Елена", "Ольга", "Наталья", "Екатерина", "Мария", "Татьяна", "Ирина", "Светлана")
_FATHERS = (
    ("Александрович", "Александровна"),
    ("Сергеевич", "Сергеевна"),
    ("Викторович", "Викторовна"),
    ("Игоревич", "Игоревна"),
    ("Петрович", "Петровна"),
    ("Николаевич", "Николаевна"),
)
_INTERESTS = ("кредитная карта", "вклад", "ипотека", "страхование", "инвестиции")
_MOBILE_CODES = (903, 905, 909, 910, 915, 916, 917, 919, 925, 926, 929, 960, 961, 977, 985, 999)
OPERATOR_NAMES = (
    "anna.smirnova",
    "ivan.petrov",
    "olga.kuznetsova",
    "dmitry.popov",
    "elena.sokolova",
    "sergey.volkov",
    "maria.lebedeva",
    "nikita.egorov",
)
HEADERS = ("ФИО", "Телефон", "Город", "Часовой пояс", "Согласие", "Интерес")


def _full_name(rng: random.Random) -> str:
    woman = rng.random() < 0.5
    surname = rng.choice(_SURNAMES)[woman]
    first = rng.choice(_WOMEN if woman else _MEN)
    return f"{surname} {first} {rng.choice(_FATHERS)[woman]}"


def _written(code: int, rest: str, rng: random.Random) -> str:
    """One number the way people type them into spreadsheets."""
    style = rng.randrange(4)
    if style == 0:
        return f"+7 ({code}) {rest[:3]}-{rest[3:5]}-{rest[5:]}"
    if style == 1:
        return f"8 {code} {rest[:3]} {rest[3:5]} {rest[5:]}"
    if style == 2:
        return f"8{code}{rest}"
    return f"+7{code}{rest}"


def sample_rows(count: int, rng: random.Random) -> list[list[str]]:
    """``count`` leads with the outcome mix of ``OUTCOME_MIX``, plus the usual dirt of a real list:
    two duplicates written differently and two unusable numbers."""
    digits = [d for d, weight in OUTCOME_MIX.items() for _ in range(weight)]
    rows: list[list[str]] = []
    seen: set[str] = set()
    while len(rows) < count:
        code = rng.choice(_MOBILE_CODES)
        # The digit before the last sets the simulated ring time (tenths of a second).
        rest = f"{rng.randrange(100_000):05d}{rng.randrange(10)}{rng.choice(digits)}"
        if f"{code}{rest}" in seen:
            continue
        seen.add(f"{code}{rest}")
        city, zone = rng.choice(_CITIES)
        interest = rng.choice(_INTERESTS)
        rows.append([_full_name(rng), _written(code, rest, rng), city, zone, "да", interest])
    for original in rows[3:5]:
        digits_only = "".join(ch for ch in original[1] if ch.isdigit())[-10:]
        rows.append([original[0], f"+7 {digits_only}", original[2], original[3], "да", original[5]])
    rows.append([_full_name(rng), "8 (916) 12-34", "Москва", "Europe/Moscow", "да", "вклад"])
    rows.append([_full_name(rng), "не указан", "Казань", "Europe/Moscow", "да", "ипотека"])
    rng.shuffle(rows)
    return rows


def write_sample_list(path: Path, count: int, seed: int = 2025) -> int:
    """Write the sample list as a UTF-8 CSV; the number of data rows."""
    rows = sample_rows(count, random.Random(seed))

    def write(out: TextIO) -> None:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerows(rows)

    write_text(path, write)
    return len(rows)


def first_callable(list_path: Path) -> str | None:
    with list_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            phone = row["Телефон"]
            if phone.startswith("+7") and phone[-1] in "01234":
                return phone
    return None


def operator_names(count: int) -> list[str]:
    names = list(OPERATOR_NAMES[:count])
    names += [f"operator{i + 1}" for i in range(len(names), count)]
    return names


def default_folder(now: datetime | None = None) -> Path:
    return Path("demo-run") / (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def prepare_folder(folder: Path | None) -> Path:
    path = folder or default_folder()
    if path.exists() and not path.is_dir():
        raise InvalidInput(_("--dir {path}: exists and is not a folder").format(path=path))
    if (path / "dialer.db").exists():
        raise InvalidInput(_("--dir {path}: already holds a demo store; pick a new folder").format(path=path))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            _("--dir {path}: cannot create it: {problem}").format(path=path, problem=exc.strerror)
        ) from None
    return path

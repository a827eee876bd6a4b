"""The figures a manager reads, in Russian: ``12,5 %`` and ``1 234``; in English as they always were.

Each surface is run as a user runs it (the command line, the report file); what a program reads
(``--format json``, the compliance CSV) keeps its numbers untouched.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from dialer.cli.status_view import pacing_line
from dialer.core import i18n
from dialer.reports.data import build_report
from dialer.reports.html import chart
from dialer.store.pace import PacingView
from tests.engine_helpers import make_campaign, make_leads, phones_by_digit
from tests.test_cli_i18n import _seed_attempts

runner = CliRunner()
RU = {"LANG": "ru_RU.UTF-8"}
C = {"LANG": "C"}
NBSP = "\xa0"


def dialer(db_url: str, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _joined(text: str) -> str:
    """The text with rich's wrapping undone; a no-break space stays (``str.split`` would take it)."""
    return re.sub(r"[ \n]+", " ", text)


def test_status_counts_and_pacing_figures_follow_the_language(store: Engine, db_url: str) -> None:
    cid = make_campaign(store, "весна")
    make_leads(store, cid, phones_by_digit([0] * 1234))
    code, out, err = dialer(db_url, RU, "status")
    assert code == 0, err
    assert f"1{NBSP}234" in out
    code, out, _ = dialer(db_url, C, "status")
    assert code == 0 and " 1234 " in out and NBSP not in out
    code, out, _ = dialer(db_url, RU, "campaign", "show", "весна")
    assert code == 0 and f"контакты: 1{NBSP}234 (new 1{NBSP}234)" in out
    code, out, _ = dialer(db_url, RU, "campaign", "list")
    assert code == 0 and f"контактов: 1{NBSP}234" in out
    code, out, _ = dialer(db_url, C, "campaign", "show", "весна")
    assert code == 0 and "leads: 1234 (new 1234)" in out
    explain = {
        "mode": "predictive", "dial_rate_per_min": 12.5, "placed": 2, "answer_rate": 0.2513,
        "answered_seen": 40, "ring_mean_s": 8.25, "talk_mean_s": 61.5, "ready": 3, "staffed": 4,
        "free_expected": 1.75, "answers_expected": 0.5, "abandoned": 1, "live_answers": 40,
        "abandon_rate": 0.025, "abandon_cap": 0.03, "abandon_window": "24h",
    }  # fmt: skip
    view = PacingView("node-a", datetime(2026, 11, 27, 9, 0, tzinfo=UTC), explain)
    now = view.updated_at.timestamp() + 5
    english = pacing_line("весна", view, now)
    assert "dial rate 12.5/min" in english and "answer rate 25.1% over 40 answers" in english
    assert "ring 8.25 s, talk 61.5 s" in english and "expected free 1.75, expected answers 0.5" in english
    token = i18n.use("ru")
    try:
        russian = pacing_line("весна", view, now)
    finally:
        i18n.restore(token)
    assert "темп набора 12,5/мин" in russian and f"25,1{NBSP}%" in russian
    assert "8,25" in russian and "61,5" in russian and "1,75" in russian and "0,5" in russian
    assert f"брошено 1/40 = 2,5{NBSP}% (предел 3,0{NBSP}% за 24h)" in russian


def test_simulate_prints_russian_figures_and_keeps_its_json(db_url: str) -> None:
    args = ["simulate", "--operators", "5", "--hours", "0.5", "--seed", "3"]
    code, out, err = dialer(db_url, C, *args, "--format", "json")
    assert code == 0, err
    figures = json.loads(out)
    code, russian, err = dialer(db_url, RU, *args)
    assert code == 0, err
    utilisation = f"{figures['utilization'] * 100:.1f}".replace(".", ",") + f"{NBSP}%"
    abandon = f"{figures['abandon_rate'] * 100:.2f}".replace(".", ",") + f"{NBSP}%"
    idle = f"{figures['idle_seconds_per_connect']:.1f}".replace(".", ",")
    assert utilisation in russian and abandon in russian and idle in russian
    assert "0,5 ч" in russian  # the title's shift length
    code, english, _ = dialer(db_url, C, *args)
    assert code == 0 and f"{figures['utilization']:.1%}" in english
    assert f"{figures['idle_seconds_per_connect']:.1f}" in english and "0.5 h" in english
    code, again, _ = dialer(db_url, RU, *args, "--format", "json")
    assert json.loads(again) == figures  # the machine's output does not follow the language


def test_the_compliance_table_follows_the_language_and_its_csv_does_not(
    store: Engine, db_url: str, tmp_path: Path
) -> None:
    _seed_attempts(store)
    code, out, err = dialer(db_url, RU, "report", "compliance", "--campaign", "осень")
    assert code == 0, err
    text = _joined(out)
    assert f"не больше 3,00{NBSP}% звонков" in text
    assert "3,0" in text and "3.0" not in text  # the cap in the limit column
    code, out, _ = dialer(db_url, C, "report", "compliance", "--campaign", "осень")
    assert code == 0 and "3.0" in out and "at most 3.00% of calls" in _joined(out)
    path = tmp_path / "c.csv"
    code, _, err = dialer(db_url, RU, "report", "compliance", "--campaign", "осень", "-o", str(path))
    assert code == 0, err
    rows = {row["metric"]: row for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}
    assert rows["us_abandon_pct_period_1"]["limit"] == "3.0"
    assert rows["us_rule"]["limit"].startswith("US TSR 16 CFR 310.4(b)(4)(i): at most 3.00% of calls")


def test_campaign_show_gives_rates_in_the_language(db_url: str) -> None:
    created = ["campaign", "create", "весна", "--abandon-cap", "0.025", "--originate-rate", "1.5"]
    assert dialer(db_url, C, *created)[0] == 0
    code, out, _ = dialer(db_url, RU, "campaign", "show", "весна")
    assert code == 0
    assert f"предел брошенных: 2,5{NBSP}% за 30d" in out and "скорость вызовов: 1,5/s" in out
    code, out, _ = dialer(db_url, C, "campaign", "show", "весна")
    assert code == 0 and "abandon cap: 2.5% per 30d" in out and "originate rate: 1.5/s" in out


def test_the_import_summary_gives_callable_hours_in_the_language(db_url: str, tmp_path: Path) -> None:
    assert dialer(db_url, RU, "campaign", "create", "весна")[0] == 0
    path = tmp_path / "mobiles.csv"
    path.write_text("ФИО;Телефон\nИван;8 916 123 45 67\nАнна;8 913 050 00 01\n", encoding="utf-8")
    code, out, err = dialer(db_url, RU, "lists", "import", str(path), "--campaign", "весна")
    assert code == 0, err
    assert "в окне (12 ч): медиана 2,0 ч" in _joined(out)


def test_the_counts_of_an_import_and_an_export_are_grouped_in_russian(db_url: str, tmp_path: Path) -> None:
    assert dialer(db_url, RU, "campaign", "create", "весна")[0] == 0
    path = tmp_path / "big.csv"
    rows = [f"Клиент {i};+7 916 {i // 10000:03d} {i % 10000 // 100:02d} {i % 100:02d}" for i in range(1200)]
    path.write_text("ФИО;Телефон\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = dialer(db_url, RU, "lists", "import", str(path), "--campaign", "весна")
    assert code == 0, err
    assert f"прочитано: 1{NBSP}200" in out and f"загружено: 1{NBSP}200" in out
    output = tmp_path / "out.csv"
    code, _, err = dialer(db_url, RU, "export", "leads", "--campaign", "весна", "-o", str(output))
    assert code == 0 and f"выгружено контактов: 1{NBSP}200, в" in err
    assert "1200" in dialer(db_url, C, "export", "leads", "--campaign", "весна", "-o", str(output))[2]


def test_the_numbering_plans_size_is_grouped_in_russian(db_url: str, tmp_path: Path) -> None:
    lines = ["АВС/ DEF;От;До;Емкость;Оператор;Регион"] + [
        f"913;{i * 1000:07d};{i * 1000 + 999:07d};1000;X;Новосибирская обл." for i in range(1000)
    ]
    plan = tmp_path / "DEF-9xx.csv"
    plan.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    code, out, err = dialer(db_url, RU, "numbering", "import", str(plan))
    assert code == 0, err
    assert (
        f"загружено диапазонов: 1{NBSP}000, файлов: 1" in out and f"DEF-9xx.csv: 1{NBSP}000 диапазоны" in out
    )
    code, out, _ = dialer(db_url, RU, "numbering", "status")
    assert code == 0 and f"диапазонов: 1{NBSP}000, загружено" in out
    code, out, _ = dialer(db_url, C, "numbering", "status")
    assert code == 0 and "ranges: 1000, loaded" in out


def test_the_html_reports_figures_follow_its_language(store: Engine, db_url: str, tmp_path: Path) -> None:
    _seed_attempts(store)  # two calls of 54 s talk each by one operator
    page = tmp_path / "r.html"
    code, _, err = dialer(db_url, RU, "report", "campaign", "осень", "-o", str(page))
    assert code == 0, err
    russian = page.read_text(encoding="utf-8")
    assert "<td>108,0</td>" in russian and "<td>54,0</td>" in russian and "<td>66,7</td>" in russian
    code, _, err = dialer(db_url, RU, "report", "campaign", "осень", "-o", str(page), "--lang", "en")
    assert code == 0, err
    english = page.read_text(encoding="utf-8")
    assert "<td>108.0</td>" in english and "<td>54.0</td>" in english and "<td>66.7</td>" in english


def test_the_report_charts_scales_follow_its_language(store: Engine) -> None:
    _seed_attempts(store)
    report = build_report(store, "осень", None, None)
    russian, english = chart("abandon", report, "ru"), chart("abandon", report, "en")
    ticks = russian.axes[0].yaxis.get_major_formatter()
    assert (ticks(0.05, 0), ticks(2.0, 1), ticks(1500.0, 2)) == ("0,05", "2", f"1{NBSP}500")
    assert isinstance(english.axes[0].yaxis.get_major_formatter(), ScalarFormatter)  # matplotlib's own
    plt.close(russian)
    plt.close(english)

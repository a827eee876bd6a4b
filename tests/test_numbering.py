"""The numbering-plan registry on real stores: files in the published format, reloads, look-ups, imports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns.models import Lead
from campaigns.service import CampaignSpec, create_campaign
from cli import app
from dialer.core.errors import InvalidInput
from lists.importer import ImportRequest, ImportSummary, import_leads
from lists.lead_zones import ZoneSource
from lists.numbering import NumberingPlan, load_numbering, loaded_ranges, numbering_status

pytestmark = pytest.mark.every_store

HEADER = "АВС/ DEF;От;До;Емкость;Оператор;Регион"
NEW_HEADER = HEADER + ";Территория ГАР;ИНН"
# The older release: cp1251, six columns.
DEF_OLD = [
    HEADER,
    '913;0000000;0999999;1000000;ПАО "Мобильные ТелеСистемы";Новосибирская обл.',
    '913;1000000;1999999;1000000;ПАО "МегаФон";Новосибирская обл.',
    '914;2700000;2799999;100000;ПАО "МегаФон";Республика Саха /Якутия/',
    '916;0000000;9999999;10000000;ПАО "Мобильные ТелеСистемы";г. Москва и Московская область',
    '917;0000000;0099999;100000;ООО "Т2 Мобайл";',  # no region
    "918;12345;БОЛЬШЕ;1;ООО;Краснодарский край",  # a bad line
]
# The newer release: UTF-8, with territory and tax number.
DEF_NEW = [
    NEW_HEADER,
    '999;0000000;0000099;100;ООО "Нью";Омская обл.;г.о. город Омск|Омская обл.;7700000000',
]


def write_registry(path: Path, lines: list[str], encoding: str) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def registry(tmp_path: Path) -> list[Path]:
    return [
        write_registry(tmp_path / "DEF-9xx.csv", DEF_OLD, "cp1251"),
        write_registry(tmp_path / "DEF-99x.csv", DEF_NEW, "utf-8"),
    ]


def plan_zones(store: Engine, e164: str) -> tuple[str, ...]:
    with store.connect() as conn:
        return NumberingPlan(conn).zones(e164)


def test_the_published_files_load_in_either_encoding(store: Engine, registry: list[Path]) -> None:
    load = load_numbering(store, registry)
    assert [(f.name, f.rows, f.skipped) for f in load.files] == [("DEF-9xx.csv", 5, 1), ("DEF-99x.csv", 1, 0)]
    assert load.problems == ["DEF-9xx.csv line 7: До 'БОЛЬШЕ' is not a number of up to 7 digits"]
    assert load.unknown_regions == [""]
    assert loaded_ranges(store) == 6
    assert plan_zones(store, "+79990000042") == ("Asia/Omsk",)


def test_a_range_holds_both_its_edges_and_nothing_beyond(store: Engine, registry: list[Path]) -> None:
    load_numbering(store, registry)
    with store.connect() as conn:
        plan = NumberingPlan(conn)
        assert plan.region("+79142700000") == "Республика Саха /Якутия/"
        assert plan.region("+79142799999") == "Республика Саха /Якутия/"
        assert plan.region("+79142699999") is None
        assert plan.region("+79142800000") is None
        assert plan.region("+79130999999") == "Новосибирская обл."
        assert plan.region("+79131000000") == "Новосибирская обл."
        assert plan.region("+79132000000") is None
        assert plan.zones("+79142750000") == ("Asia/Yakutsk", "Asia/Ust-Nera", "Asia/Srednekolymsk")
        assert plan.zones("+79170000001") == ()  # the range has no region
        assert plan.region("+74951234567") is None  # a code the files do not carry


def test_reloading_replaces_the_plan(store: Engine, registry: list[Path], tmp_path: Path) -> None:
    load_numbering(store, registry)
    only = write_registry(
        tmp_path / "ABC-3xx.csv", [HEADER, "383;2000000;2999999;1000000;X;Новосибирская обл."], "utf-8"
    )
    load_numbering(store, [only])
    assert loaded_ranges(store) == 1
    assert [f.name for f in numbering_status(store)] == ["ABC-3xx.csv"]
    assert plan_zones(store, "+79130000001") == ()
    assert plan_zones(store, "+73832000000") == ("Asia/Novosibirsk",)


def test_a_failed_load_keeps_the_plan_that_was_there(
    store: Engine, registry: list[Path], tmp_path: Path
) -> None:
    load_numbering(store, registry)
    not_a_registry = write_registry(tmp_path / "leads.csv", ["Имя;Телефон", "Иван;89161234567"], "utf-8")
    with pytest.raises(InvalidInput, match="not a numbering-plan range file"):
        load_numbering(store, [registry[0], not_a_registry])
    only_bad = write_registry(tmp_path / "bad.csv", [HEADER, "91;1;2;2;X;Омская обл."], "utf-8")
    with pytest.raises(InvalidInput, match="no range could be read"):
        load_numbering(store, [only_bad])
    with pytest.raises(InvalidInput, match="cannot read"):
        load_numbering(store, [tmp_path / "missing.csv"])
    assert loaded_ranges(store) == 6
    assert [f.name for f in numbering_status(store)] == ["DEF-9xx.csv", "DEF-99x.csv"]


def test_the_commands_load_and_show_the_plan(db_url: str, registry: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["numbering", "status", "--db", db_url])
    assert empty.exit_code == 0 and "no numbering plan loaded" in empty.output
    loaded = runner.invoke(app, ["numbering", "import", *map(str, registry), "--db", db_url])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded: 6 ranges from 2 files" in loaded.output
    assert "DEF-9xx.csv line 7" in loaded.output
    status = runner.invoke(app, ["numbering", "status", "--db", db_url])
    assert status.exit_code == 0 and "DEF-99x.csv" in status.output and "ranges: 6" in status.output
    bad = runner.invoke(app, ["numbering", "import", str(tmp_path / "nope.csv"), "--db", db_url])
    assert bad.exit_code == 2 and "cannot read" in bad.output and "Traceback" not in bad.output


# --- lists imported with and without the plan ---------------------------------------------------

MOSCOW_LIST = [["ФИО", "Телефон"], ["Иван", "8 (916) 123-45-67"], ["Пётр", "8 (916) 765-43-21"]]
NOVOSIBIRSK_LIST = [["ФИО", "Телефон"], ["Анна", "8 913 050 00 01"], ["Олег", "+7 913 150 00 02"]]
MIXED_LIST = MOSCOW_LIST + NOVOSIBIRSK_LIST[1:] + [["Ая", "8 914 275 00 03"]]


def import_list(store: Engine, tmp_path: Path, rows: list[list[str]], name: str) -> ImportSummary:
    create_campaign(store, CampaignSpec.build(name))
    path = tmp_path / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return import_leads(store, ImportRequest(path, name))


@pytest.mark.parametrize(
    ("rows", "median_with", "any_with"),
    [(MOSCOW_LIST, 12.0, 12.0), (NOVOSIBIRSK_LIST, 12.0, 12.0), (MIXED_LIST, 12.0, 18.0)],
    ids=["moscow", "novosibirsk", "mixed"],
)
def test_a_loaded_plan_opens_the_whole_window(
    store: Engine,
    registry: list[Path],
    tmp_path: Path,
    rows: list[list[str]],
    median_with: float,
    any_with: float,
) -> None:
    without = import_list(store, tmp_path, rows, "before")
    assert without.hours is not None
    assert without.hours.median == pytest.approx(2.0)
    assert without.strict_intersection == len(rows) - 1
    assert without.hours.short == len(rows) - 1

    load_numbering(store, registry)
    summary = import_list(store, tmp_path, rows, "after")
    hours = summary.hours
    assert hours is not None
    assert summary.zone_sources[ZoneSource.REGISTRY] == len(rows) - 1
    assert summary.strict_intersection == 0
    assert hours.median == pytest.approx(median_with)
    assert hours.any_lead == pytest.approx(any_with)


def test_a_number_outside_the_plan_falls_back_and_is_counted(
    store: Engine, registry: list[Path], tmp_path: Path
) -> None:
    load_numbering(store, registry)
    rows = [["ФИО", "Телефон"], ["Иван", "8 916 123 45 67"], ["Без региона", "8 917 000 00 01"]]
    summary = import_list(store, tmp_path, rows, "gap")
    assert summary.hours is not None
    assert summary.zone_sources[ZoneSource.REGISTRY] == 1
    assert summary.strict_intersection == 1
    assert summary.hours.short == 1


def test_city_region_and_written_zone_columns_give_zones(store: Engine, tmp_path: Path) -> None:
    rows = [
        ["ФИО", "Телефон", "Город", "Регион", "Часовой пояс"],
        ["Иван", "8 916 123 45 67", "Новосибирск", "", ""],
        ["Пётр", "8 916 123 45 68", "", "Республика Саха (Якутия)", ""],
        ["Анна", "8 916 123 45 69", "Москва", "", "МСК+4"],
        ["Олег", "8 916 123 45 70", "", "", "UTC+7"],
        ["Нина", "8 916 123 45 71", "Атлантида", "", ""],
        ["Ян", "8 916 123 45 72", "", "", "пояс 5"],
    ]
    summary = import_list(store, tmp_path, rows, "columns")
    assert (summary.imported, summary.invalid) == (5, 1)
    assert summary.zone_sources == {
        ZoneSource.PLACE: 2,
        ZoneSource.TZ_COLUMN: 2,
        ZoneSource.INTERSECTION: 1,
    }
    with store.connect() as conn:
        zones = {row.phone: row.time_zones for row in conn.execute(select(Lead.phone, Lead.time_zones))}
    assert zones["+79161234567"] == "Asia/Novosibirsk"
    assert zones["+79161234568"] == "Asia/Yakutsk,Asia/Ust-Nera,Asia/Srednekolymsk"
    assert zones["+79161234569"] == "Asia/Novosibirsk"
    assert zones["+79161234570"] == "Etc/GMT-7"
    rejected = (tmp_path / "columns.csv.rejected.csv").read_text(encoding="utf-8")
    assert "unknown time zone 'пояс 5'" in rejected


def test_the_import_summary_says_how_long_the_list_is_callable(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["campaign", "create", "spring", "--db", db_url]).exit_code == 0
    path = tmp_path / "mobiles.csv"
    path.write_text("ФИО;Телефон\nИван;8 916 123 45 67\nАнна;8 913 050 00 01\n", encoding="utf-8")
    result = runner.invoke(app, ["lists", "import", str(path), "--campaign", "spring", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "callable hours a day under the window (12 h): median lead 2.0 h" in result.output
    assert "leads with only their number's candidate zones: 2;" in result.output
    assert "leads callable less than half the window a day: 2;" in result.output

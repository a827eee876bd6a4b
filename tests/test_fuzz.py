"""Fuzzing the CSV reader and the command line: every input ends in success or one line, never a traceback."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from dialer.core.errors import InvalidInput
from lists.limits import ReadLimits
from lists.reader import open_table

runner = CliRunner()

CSV_PIECES = st.sampled_from(
    [b",", b";", b"\t", b"\n", b"\r\n", b"\r", b'"', b'""', b"phone", b"+79161234567", b"8 (916) 123-45-67",
     b"\xef\xbb\xbf", b"\x00", b"\xff\xfe", "Телефон".encode(), "Телефон".encode("cp1251"), b"PK\x03\x04",
     b"\xd0\xcf\x11\xe0", b" ", b"=1+2", b"1e10", b"nan"]
)  # fmt: skip
CSV_BYTES = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(CSV_PIECES, st.binary(max_size=8)), max_size=60).map(b"".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=CSV_BYTES,
    encoding=st.sampled_from([None, "utf-8", "cp1251", "utf-16", "latin1"]),
    delimiter=st.sampled_from([None, ",", ";", "tab", '"', ""]),
    header=st.booleans(),
)
def test_the_csv_reader_reads_or_refuses_with_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    content: bytes,
    encoding: str | None,
    delimiter: str | None,
    header: bool,
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "list.csv"
    path.write_bytes(content)
    try:
        table = open_table(path, encoding, delimiter, header, ReadLimits(max_rows=1000, max_cell_bytes=256))
        for chunk, _ in table.chunks(7):
            assert list(chunk.columns) == table.columns
            assert all(isinstance(value, str) for column in chunk.columns for value in chunk[column])
    except InvalidInput as exc:
        assert "\n" not in str(exc).strip() and len(str(exc)) < 600


WEIRD = st.one_of(
    st.sampled_from(["", " ", "-", "0", "-1", "1e308", "nan", "inf", "-inf", "2", "0.5", "1e8", "99999999999",
                     "x\n", "a\r\nAction: Logoff", "\x00", "ratio:1e308", "ratio:nan", "busy=99999999999d",
                     "Europe", "spring", "PJSIP/{number}@t", "{number", "1/1d", "09:00-21:00", "25:00-26:00",
                     "+79161234567", "8 916 123 45 67", "ru", "XX", "é" * 300]),
    st.text(max_size=30),
)  # fmt: skip
SAFE_PATHS = st.sampled_from(["", "-", ".", "out.csv", "sub", "sub/", "missing/x.csv", "dialer.db", "x.png"])
COMMANDS: list[tuple[list[str], dict[str, st.SearchStrategy[str]]]] = [
    (["campaign", "create", "spring"], {
        "--mode": WEIRD, "--ratio": WEIRD, "--queue": WEIRD, "--dial-template": WEIRD, "--window": WEIRD,
        "--retry": WEIRD, "--contact-limits": WEIRD, "--ring-timeout": WEIRD, "--max-channels": WEIRD,
        "--originate-rate": WEIRD, "--abandon-cap": WEIRD, "--connect-limit": WEIRD, "--region": WEIRD,
        "--safe-harbour-sound": WEIRD, "--caller-id": WEIRD, "--abandon-window": WEIRD}),
    (["campaign", "show"], {}),
    (["dnc", "add", "+79161234567"], {"--campaign": WEIRD, "--region": WEIRD}),
    (["dnc", "check"], {"--campaign": WEIRD, "--region": WEIRD}),
    (["export", "leads"], {"--campaign": WEIRD, "-o": SAFE_PATHS}),
    (["export", "attempts"], {"--campaign": WEIRD, "-o": SAFE_PATHS}),
    (["report", "compliance"], {"--campaign": WEIRD, "-o": SAFE_PATHS}),
    (["operators", "add"], {"--interface": WEIRD, "--campaign": WEIRD}),
    (["simulate"], {
        "--operators": WEIRD, "--answer-rate": WEIRD, "--ring-mean": WEIRD, "--talk-mean": WEIRD,
        "--wrap": WEIRD, "--mode": WEIRD, "--busy-share": WEIRD, "--machine-share": WEIRD,
        "--format": WEIRD, "--plot": SAFE_PATHS, "--answer-profile": WEIRD, "--schedule": WEIRD,
        "--quality-step": WEIRD, "--start": WEIRD}),
    (["lists", "import", "leads.csv"], {
        "--campaign": WEIRD, "--region": WEIRD, "--map": WEIRD, "--encoding": WEIRD, "--delimiter": WEIRD,
        "--rejects": SAFE_PATHS}),
    (["pbx", "config", "--out", "conf"], {"--ami-user": WEIRD, "--bind": WEIRD, "--wrapup": WEIRD}),
]  # fmt: skip


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    words, options = draw(st.sampled_from(COMMANDS))
    argv = list(words)
    if (words[-1] in ("show", "check", "add") and words[0] != "dnc") or words == ["dnc", "check"]:
        argv.append(draw(WEIRD))
    for option in draw(st.lists(st.sampled_from(sorted(options)), max_size=4)) if options else []:
        argv += [option, draw(options[option])]
    if words == ["simulate"]:
        argv += ["--hours", "0.01"]  # the last value wins: every shift stays short
    return argv


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=command_lines())
def test_the_command_line_succeeds_or_says_one_line(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    work = tmp_path_factory.mktemp("cli")
    (work / "sub").mkdir()
    (work / "leads.csv").write_text("phone,name\n+79161234567,Анна\n89161234568,Олег\n", encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setenv("DIALER_DB", str(work / "dialer.db"))
    assert runner.invoke(app, ["campaign", "create", "spring"]).exit_code == 0
    result = runner.invoke(app, argv)
    assert result.exit_code in (0, 2), (argv, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) <= 1 and all(line.startswith("error:") for line in lines), (argv, result.stderr)
    assert os.path.realpath(os.getcwd()) == os.path.realpath(work)

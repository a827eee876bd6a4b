"""``dialer demo``: a fresh store, a generated list, a campaign dialed behind the dashboard, a summary.

The simulated runs go through ``SimTelephony``; the Asterisk runs start the demo's
OWN sandbox (not the session fixture's) and check that it is stopped afterwards.
Customers answer by the number's last digit, so every attempt's outcome is known.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from rich.console import Console
from sqlmodel import Session, select
from typer.testing import CliRunner

from campaigns.models import CallAttempt
from campaigns.store import open_store
from dialer.cli.dashboard import CallBoard, DashboardFrame, render_dashboard, summarize
from dialer.cli.demo import DemoOptions, DemoResult, PbxChoice, demo_command, phone_system, run_demo
from dialer.cli.demo_list import OUTCOME_MIX, operator_names, sample_rows
from dialer.core.attempt import AttemptState
from dialer.core.errors import InvalidInput
from dialer.core.telephony import (
    Answered,
    HungUp,
    MemberChanged,
    MemberState,
    OperatorConnected,
    OriginateRequest,
    QueueJoined,
    Ringing,
)

# Number's last digit -> the outcomes the simulated customer can produce. A customer of
# digit 8 hangs up 0.1 s after answering; whether an operator got there first depends on
# the phone system (the sandbox's Answer() alone takes longer), so both are allowed.
OUTCOMES = {
    **{d: {"connected"} for d in "01234"},
    "5": {"busy"},
    "6": {"no_answer"},
    "7": {"congestion"},
    "8": {"abandoned", "connected"},
}


def _run(folder: Path, pbx: PbxChoice, seconds: float, **options: object) -> tuple[DemoResult, str]:
    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False)
    result = run_demo(DemoOptions(pbx=pbx, seconds=seconds, folder=folder, **options), console)  # type: ignore[arg-type]
    return result, out.getvalue()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _stored_attempts(store_path: Path) -> list[CallAttempt]:
    store = open_store(f"sqlite:///{store_path}")
    try:
        with Session(store) as session:
            return list(session.exec(select(CallAttempt)).all())
    finally:
        store.dispose()


def _figure(output: str, label: str) -> str:
    match = re.search(rf"{re.escape(label)}\s*│\s*([^│\s]+)", output)
    assert match is not None, f"{label!r} not in the summary:\n{output}"
    return match.group(1)


def _check_run(
    result: DemoResult, output: str, operators: int, cut_short: bool = False
) -> list[dict[str, str]]:
    """What every demo run must leave behind, whatever the phone system.

    ``cut_short``: calls were hung up mid-way, so their outcome need not be the customer's.
    """
    assert result.store_path.is_file() and result.list_path.is_file()
    rows = _csv(result.attempts_csv)
    stored = _stored_attempts(result.store_path)
    assert sorted(r["attempt_id"] for r in rows) == sorted(a.id for a in stored)
    assert len(rows) >= operators, "progressive dialing starts one call per ready operator"
    for row in rows:
        assert row["ended_at"], f"attempt left unfinished: {row}"
        assert cut_short or row["outcome"] in OUTCOMES[row["phone"][-1]], row
        if row["outcome"] == "connected":
            assert row["operator"] in operator_names(operators)
    assert len({r["phone"] for r in rows}) == len(rows), "no lead dialed twice in one short run"
    # The summary printed is the summary of the exported attempts.
    outcomes = Counter(r["outcome"] for r in rows)
    assert result.summary.outcomes == dict(outcomes)
    assert _figure(output, "calls placed") == str(len(rows))
    assert _figure(output, "abandoned") == str(outcomes["abandoned"])
    assert f"attempts CSV: {result.attempts_csv}" in output.replace("\n", "")
    return rows


def _check_import(result: DemoResult, output: str) -> None:
    """The list went through the real importer: its dirt was rejected with reasons."""
    imported = result.imported
    assert imported.duplicates >= 2 and imported.invalid >= 2 and imported.dnc == 1
    assert imported.imported == imported.read - imported.rejected
    assert f"import: read {imported.read}, imported {imported.imported}" in output
    assert imported.rejects_path is not None
    reasons = [row["reason"] for row in _csv(imported.rejects_path)]
    assert len(reasons) == imported.rejected
    assert sum("do-not-call" in r for r in reasons) == imported.dnc


def _started_pids(log_text: str) -> set[int]:
    """The sandbox Asterisk processes a log says were started: only these are the demo's own."""
    return {int(pid) for pid in re.findall(r"sandbox Asterisk pid (\d+)", log_text)}


def _asterisk_pids() -> set[int]:
    """Running processes of any sandbox Asterisk (their config lives in a dialer-ast-* folder)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"/dialer-ast-" in cmdline and b"asterisk" in cmdline:
                pids.add(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        return "Z" not in (Path("/proc") / str(pid) / "stat").read_text().split()[2]
    except OSError:
        return False


# --- simulated ---------------------------------------------------------------------------


def test_demo_command_runs_a_campaign_on_the_simulated_phone_system(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    app = typer.Typer()
    app.command()(demo_command)
    argv = ["--pbx", "simulated", "--seconds", "8", "--dir", str(folder), "--leads", "80", "--operators", "4"]
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert {p.name for p in folder.iterdir()} >= {"dialer.db", "leads.csv", "attempts.csv", "dialer.log"}
    rows = _csv(folder / "attempts.csv")
    assert rows and all(r["ended_at"] for r in rows)
    assert _figure(result.output, "calls placed") == str(len(rows))
    assert str(folder / "attempts.csv") in result.output


def test_simulated_demo_dials_the_list_and_reports_what_happened(tmp_path: Path) -> None:
    result, output = _run(tmp_path / "run", PbxChoice.SIMULATED, 8, leads=120, operators=5)
    rows = _check_run(result, output, operators=5)
    _check_import(result, output)
    connected = [r for r in rows if r["outcome"] == "connected"]
    assert connected and result.summary.average_wait_s is not None
    assert result.summary.connected_within_limit == len(connected)
    assert "finished after" in output  # the dashboard's last frame


@pytest.mark.parametrize("presses", [1, 2], ids=["once: calls finish", "twice: calls hung up"])
def test_ctrl_c_stops_dialing_and_still_exports_and_summarises(tmp_path: Path, presses: int) -> None:
    folder = tmp_path / "run"
    pressed: list[datetime] = []

    def press_ctrl_c_once_dialing() -> None:
        log = folder / "dialer.log"
        until = time.monotonic() + 60
        while time.monotonic() < until:
            if log.exists() and "dialing lead" in log.read_text(encoding="utf-8"):
                time.sleep(1.0)
                for _ in range(presses):
                    pressed.append(datetime.now(UTC))
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.3)
                return
            time.sleep(0.05)

    presser = threading.Thread(target=press_ctrl_c_once_dialing, daemon=True)
    presser.start()
    result, output = _run(folder, PbxChoice.SIMULATED, 600, leads=60, operators=3)
    presser.join(5)
    assert len(pressed) == presses, "the demo never started dialing"
    rows = _check_run(result, output, operators=3, cut_short=presses > 1)
    # One engine tick may already have been under way when the signal landed.
    late = [r for r in rows if datetime.fromisoformat(r["started_at"]) > pressed[0] + timedelta(seconds=0.5)]
    assert late == []
    assert "unfinished" not in result.summary.outcomes
    if presses > 1:
        # Hung up at the second press: no call of the 6-second talks lasted to its end.
        ended = [datetime.fromisoformat(r["ended_at"]) for r in rows]
        assert max(ended) < pressed[1] + timedelta(seconds=3)


def test_demo_refuses_a_folder_that_already_holds_a_store(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "dialer.db").write_bytes(b"")
    with pytest.raises(InvalidInput, match="already holds a demo store"):
        _run(folder, PbxChoice.SIMULATED, 5)


@pytest.mark.parametrize("option", [{"seconds": 0}, {"leads": 5}, {"operators": 0}])
def test_demo_refuses_settings_out_of_range(tmp_path: Path, option: dict[str, float]) -> None:
    values: dict[str, object] = {"seconds": 5.0, **option}
    with pytest.raises(InvalidInput):
        run_demo(DemoOptions(pbx=PbxChoice.SIMULATED, folder=tmp_path, **values), Console(file=io.StringIO()))  # type: ignore[arg-type]
    assert not (tmp_path / "dialer.db").exists()


# --- the pieces --------------------------------------------------------------------------


def test_sample_list_is_mostly_answers_with_a_little_of_every_failure() -> None:
    import random

    rows = sample_rows(1000, random.Random(7))
    last = Counter(re.sub(r"\D", "", row[1])[-1:] for row in rows)
    answered = sum(last[d] for d in "01234")
    assert answered / len(rows) > 0.7
    assert last["9"] == 0, "no answering machines: the demo campaign runs without AMD"
    for digit in "5678":
        assert 0 < last[digit] < 0.15 * len(rows)
    assert last["6"] <= last["5"], "no-answers ring 15 s each, so they stay rare"
    assert set(OUTCOME_MIX) == {int(d) for d in OUTCOMES}


def _attempt(n: int, outcome: str, wait: float | None = None, talk: float = 30.0) -> CallAttempt:
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=n)
    answered = start + timedelta(seconds=3) if outcome in ("connected", "abandoned") else None
    connected = answered + timedelta(seconds=wait) if answered is not None and wait is not None else None
    ended = (connected or answered or start) + timedelta(seconds=talk)
    return CallAttempt(
        id=f"a{n}",
        campaign_id=1,
        lead_id=n,
        phone=f"+7900000000{n % 10}",
        started_at=start,
        answered_at=answered,
        connected_at=connected,
        ended_at=ended,
        outcome=outcome,
    )


def test_summary_counts_abandons_and_the_two_second_rule_over_live_answers() -> None:
    attempts = [
        _attempt(1, "connected", wait=0.5, talk=20),
        _attempt(2, "connected", wait=1.5, talk=40),
        _attempt(3, "abandoned"),
        _attempt(4, "busy"),
        _attempt(5, "no_answer"),
        _attempt(6, "abandoned", wait=2.5),  # an operator came, but too late: still abandoned
    ]
    summary = summarize(attempts)
    assert summary.placed == 6 and summary.live_answers == 4 and summary.abandoned == 2
    assert summary.abandon_rate == pytest.approx(0.5)
    assert summary.connected_within_limit == 2
    assert summary.connected_within_limit_share == pytest.approx(0.5)
    assert summary.average_wait_s == pytest.approx(1.0)
    assert summary.average_talk_s == pytest.approx(30.0)


def test_summary_of_no_calls_has_no_rates() -> None:
    summary = summarize([])
    assert summary.abandon_rate is None and summary.average_wait_s is None


def test_call_board_follows_each_call_and_operator_from_the_events() -> None:
    board = CallBoard(clock=lambda: 100.0)

    def dial(aid: str, lead: int) -> None:
        board.on_originate(
            OriginateRequest(
                aid,
                "Local/79000000001@sim-customers",
                "dialer-answered",
                "s",
                "",
                15.0,
                {"DIALER_LEAD_ID": str(lead)},
            )
        )

    dial("a", 1)
    dial("b", 2)
    board.on_event(Ringing("b", 100.1))
    assert board.by_state() == Counter({AttemptState.DIALING: 1, AttemptState.RINGING: 1})
    board.on_event(Answered("a", 100.2))
    board.on_event(QueueJoined("a", 100.2, "demo"))
    board.on_event(OperatorConnected("a", 100.9, "demo", "Local/op101@sim-operators/n"))
    board.on_event(MemberChanged(100.9, "demo", "Local/op101@sim-operators/n", MemberState.IN_CALL))
    board.on_event(HungUp("b", 101.0, 16))
    board.on_event(HungUp("zzz", 101.0, 16))  # another node's call: ignored
    assert board.by_state() == Counter({AttemptState.CONNECTED: 1})
    assert board.operators == {"Local/op101@sim-operators/n": MemberState.IN_CALL}
    assert board.taken == Counter({"Local/op101@sim-operators/n": 1})
    assert board.placed == 2 and board.leads_dialed == {"1", "2"}

    frame = DashboardFrame(
        title="demo",
        elapsed_s=30,
        duration_s=60,
        stopping="",
        finished=False,
        in_flight=1,
        board=board,
        operator_names={"Local/op101@sim-operators/n": "anna.smirnova"},
        outcomes={"connected": 3, "abandoned": 1},
        leads_total=10,
    )
    for width in (80, 160):
        out = io.StringIO()
        Console(file=out, width=width).print(render_dashboard(frame, width))
        text = out.getvalue()
        assert "anna.smirnova" in text and "on a call" in text
        assert "2 dialed, 8 not yet dialed" in text
        assert "abandon rate: 25.0%" in text


# --- the sandbox Asterisk ------------------------------------------------------------------


@pytest.mark.asterisk
def test_demo_on_its_own_sandbox_asterisk_and_stops_it(tmp_path: Path) -> None:
    result, output = _run(tmp_path / "run", PbxChoice.ASTERISK, 10, leads=60, operators=4)
    _check_run(result, output, operators=4)
    _check_import(result, output)
    assert "sandbox Asterisk" in output
    # Only the processes the demo itself started (its log names them), not any other Asterisk here.
    started = _started_pids((tmp_path / "run" / "dialer.log").read_text(encoding="utf-8"))
    assert started, "the demo did not start a sandbox Asterisk of its own"
    leftover = {pid for pid in started & _asterisk_pids() if _alive(pid)}
    assert leftover == set(), "the demo's sandbox Asterisk is still running"


@pytest.mark.asterisk
def test_the_sandbox_is_stopped_when_the_demo_is_interrupted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialer.pbx.sandbox")
    with pytest.raises(KeyboardInterrupt), phone_system(DemoOptions(), Console(file=io.StringIO())):
        raise KeyboardInterrupt
    started = _started_pids(caplog.text)
    assert started, "the demo did not start a sandbox Asterisk of its own"
    assert not any(_alive(pid) for pid in started & _asterisk_pids())

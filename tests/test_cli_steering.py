"""``dialer campaign edit|pause|resume|stop|archive``, ``list --all``, ``--share-queue``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def dialer(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, out: str, err: str, fragment: str) -> None:
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert fragment in lines[0], lines[0]


@pytest.fixture
def spring(db_url: str) -> str:
    code, _, err = dialer(db_url, "campaign", "create", "spring", "--queue", "sales", "--max-channels", "10")
    assert code == 0, err
    return "spring"


def test_edit_prints_each_change_and_show_reflects_it(db_url: str, spring: str) -> None:
    code, out, err = dialer(
        db_url, "campaign", "edit", spring, "--max-channels", "20", "--window", "10:00-18:00",
        "--retry", "busy=15m", "--amd", "--caller-id", "+74950000000",
    )  # fmt: skip
    assert code == 0, err
    assert "spring: max channels: 10 -> 20" in out
    assert "calling window: 09:00-21:00 -> 10:00-18:00" in out
    assert "amd: off -> on" in out
    code, out, _ = dialer(db_url, "campaign", "show", spring)
    assert code == 0
    assert "max channels: 20" in out and "retry: busy=15m" in out and "state: active" in out


def test_edit_with_the_same_values_says_nothing_changed(db_url: str, spring: str) -> None:
    code, out, _ = dialer(db_url, "campaign", "edit", spring, "--max-channels", "10")
    assert code == 0 and "nothing changed" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--ring-timeout", "5"), "--ring-timeout 5"),
        (("--mode", "turbo"), "--mode 'turbo'"),
        (("--ratio", "2"), "--ratio applies only to --mode ratio"),
        (("--window", "9-5"), "--window"),
        (("--retry", "busy"), "--retry"),
        (("--dial-template", "PJSIP/{x}"), "unknown placeholder"),
        (("--max-channels", "0"), "--max-channels 0"),
        (("--abandon-cap", "0.9"), "--abandon-cap 0.9"),
        (("--connect-limit", "3"), "--connect-limit 3"),
        (("--region", "XX"), "unknown region 'XX'"),
        (("--machine-message", "a;b"), "--machine-message"),
    ],
)
def test_edit_refuses_bad_input_in_one_line_and_changes_nothing(
    db_url: str, spring: str, args: tuple[str, ...], fragment: str
) -> None:
    assert_one_line_error(
        *dialer(db_url, "campaign", "edit", spring, "--max-channels", "30", *args), fragment
    )
    _, out, _ = dialer(db_url, "campaign", "show", spring)
    assert "max channels: 10" in out


def test_edit_without_an_option_is_one_line(db_url: str, spring: str) -> None:
    assert_one_line_error(*dialer(db_url, "campaign", "edit", spring), "nothing to change")


def test_edit_of_an_unknown_campaign_is_one_line(db_url: str, spring: str) -> None:
    assert_one_line_error(
        *dialer(db_url, "campaign", "edit", "autumn", "--max-channels", "3"), "unknown campaign"
    )


def test_pause_resume_stop_archive_and_list(db_url: str, spring: str) -> None:
    code, out, _ = dialer(db_url, "campaign", "pause", spring)
    assert code == 0 and "spring: active -> paused" in out
    assert_one_line_error(*dialer(db_url, "campaign", "pause", spring), "already paused")
    code, out, _ = dialer(db_url, "campaign", "stop", spring)
    assert code == 0 and "paused -> stopped" in out
    assert_one_line_error(*dialer(db_url, "campaign", "pause", spring), "is stopped: cannot pause")
    code, out, _ = dialer(db_url, "campaign", "list")
    assert code == 0 and out.split()[:3] == ["spring", "stopped", "progressive"]
    code, out, _ = dialer(db_url, "campaign", "archive", spring)
    assert code == 0 and "stopped -> archived" in out
    code, out, _ = dialer(db_url, "campaign", "list")
    assert "spring" not in out
    code, out, _ = dialer(db_url, "campaign", "list", "--all")
    assert out.split()[:2] == ["spring", "archived"]
    code, out, _ = dialer(db_url, "campaign", "resume", spring)
    assert code == 0 and "archived -> active" in out
    assert_one_line_error(*dialer(db_url, "campaign", "resume", spring), "already active")


@pytest.mark.parametrize("action", ["pause", "resume", "stop", "archive"])
def test_steering_an_unknown_campaign_is_one_line(db_url: str, spring: str, action: str) -> None:
    assert_one_line_error(*dialer(db_url, "campaign", action, "autumn"), "unknown campaign 'autumn'")


def test_a_second_campaign_on_a_queue_needs_share_queue(db_url: str, spring: str) -> None:
    assert_one_line_error(
        *dialer(db_url, "campaign", "create", "autumn", "--queue", "sales"),
        "queue 'sales' is already used by campaign spring",
    )
    code, out, err = dialer(db_url, "campaign", "create", "autumn", "--queue", "sales", "--share-queue")
    assert code == 0, err
    code, out, _ = dialer(db_url, "campaign", "show", "autumn")
    assert "queue shared with: spring" in out
    code, _, _ = dialer(db_url, "campaign", "create", "winter")
    assert_one_line_error(
        *dialer(db_url, "campaign", "edit", "winter", "--queue", "sales"),
        "already used by campaign autumn, spring",
    )
    code, out, _ = dialer(db_url, "campaign", "edit", "winter", "--queue", "sales", "--share-queue")
    assert code == 0 and "queue: (not set) -> sales" in out


def test_show_says_when_the_next_lead_is_due(db_url: str, spring: str) -> None:
    from datetime import UTC, datetime

    from campaigns.models import Lead
    from campaigns.service import get_campaign
    from campaigns.store import open_store, session_scope

    engine = open_store(db_url)
    try:
        campaign_id = get_campaign(engine, spring).id
        assert campaign_id is not None
        with session_scope(engine) as session:
            due = datetime(2030, 1, 2, 8, 15, tzinfo=UTC)
            session.add(
                Lead(campaign_id=campaign_id, phone="+79160000001", status="scheduled", next_call_at=due)
            )
    finally:
        engine.dispose()
    code, out, _ = dialer(db_url, "campaign", "show", spring)
    assert code == 0 and "next call due: 2030-01-02 08:15 UTC" in out


def test_the_caller_id_name_column_is_set_checked_and_edited(db_url: str) -> None:
    code, _, err = dialer(db_url, "campaign", "create", "desk", "--callerid-name-column", "Клиент")
    assert code == 0, err
    code, out, _ = dialer(db_url, "campaign", "show", "desk")
    assert "caller-id name column: Клиент" in out
    code, out, err = dialer(db_url, "campaign", "edit", "desk", "--callerid-name-column", "ФИО")
    assert code == 0, err
    assert "desk: caller-id name column: Клиент -> ФИО" in out
    code, out, err = dialer(db_url, "campaign", "edit", "desk", "--callerid-name-column", "Ф\nИ\rО")
    assert_one_line_error(code, out, err, "--callerid-name-column must not contain CR, LF or NUL")
    code, out, err = dialer(db_url, "campaign", "edit", "desk", "--callerid-name-column", "x" * 101)
    assert_one_line_error(code, out, err, "--callerid-name-column: at most 100 characters")
    code, out, err = dialer(db_url, "campaign", "edit", "desk", "--callerid-name-column", "")
    assert code == 0, err
    assert "ФИО -> (a name-like column" in out

"""The engine-side commands: pbx, report, simulate, operators, export attempts, run without a PBX."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.test_cli_foundation import assert_one_line_error, dialer


@pytest.fixture
def campaign(db_url: str) -> str:
    code, _, err = dialer(
        db_url, "campaign", "create", "spring", "--queue", "spring-q", "--dial-template", "PJSIP/{e164}@trunk"
    )
    assert code == 0, err
    return "spring"


def test_pbx_config_writes_the_include_files_with_a_private_secret(
    db_url: str, campaign: str, tmp_path: Path
) -> None:
    out = tmp_path / "pbx"
    code, stdout, err = dialer(db_url, "pbx", "config", "--out", str(out))
    assert code == 0, err
    manager = out / "manager_dialer.conf"
    assert stat.S_IMODE(manager.stat().st_mode) == 0o600
    assert "[spring-q]" in (out / "queues_dialer.conf").read_text()
    assert "[dialer-answered]" in (out / "extensions_dialer.conf").read_text()
    lines = manager.read_text().splitlines()
    secret = next(line.split("=", 1)[1].strip() for line in lines if line.startswith("secret"))
    assert secret and secret not in stdout + err


def test_pbx_config_without_campaigns_is_a_user_error(db_url: str, tmp_path: Path) -> None:
    assert_one_line_error(*dialer(db_url, "pbx", "config", "--out", str(tmp_path)), "no campaigns yet")


def test_pbx_check_without_a_phone_system_is_a_user_error(
    db_url: str, campaign: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIALER_AMI_URL", raising=False)
    assert_one_line_error(*dialer(db_url, "pbx", "check"), "no phone system")


def test_run_rejects_a_bad_ami_url_without_echoing_the_secret(
    db_url: str, campaign: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_AMI_URL", "http://dialer:hunter2@127.0.0.1:5038")
    code, out, err = dialer(db_url, "run", "--until-done")
    assert_one_line_error(code, out, err, "ami://")
    assert "hunter2" not in out + err


def test_run_takes_the_secret_from_its_own_variable(
    db_url: str, campaign: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialer.cli.support import ami_settings

    monkeypatch.setenv("DIALER_AMI_SECRET", "s3cret")
    settings = ami_settings("ami://dialer@127.0.0.1:5039")
    assert (settings.username, settings.secret, settings.port) == ("dialer", "s3cret", 5039)
    assert "s3cret" not in repr(settings)


def test_report_compliance_of_an_unknown_campaign_is_a_user_error(db_url: str, campaign: str) -> None:
    assert_one_line_error(*dialer(db_url, "report", "compliance", "--campaign", "autumn"), "autumn")


def test_report_compliance_writes_its_csv(db_url: str, campaign: str, tmp_path: Path) -> None:
    path = tmp_path / "record.csv"
    code, out, err = dialer(db_url, "report", "compliance", "--campaign", "spring", "-o", str(path))
    assert code == 0, err
    assert path.read_text().startswith("metric,value,limit,ok")
    assert "compliant" in out


def test_export_attempts_of_an_unknown_campaign_leaves_no_file(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "attempts.csv"
    assert_one_line_error(
        *dialer(db_url, "export", "attempts", "--campaign", "autumn", "-o", str(path)), "autumn"
    )
    assert [name for name in os.listdir(tmp_path) if "attempts" in name] == []


def test_operators_commands_change_the_desired_state(db_url: str, campaign: str) -> None:
    code, _, err = dialer(
        db_url, "operators", "add", "anna", "--interface", "PJSIP/101", "--campaign", "spring"
    )
    assert code == 0, err
    code, _, err = dialer(db_url, "operators", "ready", "anna")
    assert code == 0, err
    code, out, _ = dialer(db_url, "operators", "list")
    assert code == 0 and "anna" in out and "ready" in out
    assert_one_line_error(*dialer(db_url, "operators", "ready", "boris"), "boris")


def test_simulate_prints_the_figures_as_json(db_url: str, tmp_path: Path) -> None:
    plot = tmp_path / "shift.png"
    code, out, err = dialer(
        db_url, "simulate", "--operators", "5", "--hours", "0.5", "--seed", "3", "--format", "json",
        "--plot", str(plot),
    )  # fmt: skip
    assert code == 0, err
    figures = json.loads(out)
    assert set(figures) == {
        "utilization", "abandon_rate", "idle_seconds_per_connect", "connects_per_operator_hour", "calls",
    }  # fmt: skip
    assert figures["calls"] > 0 and 0 < figures["utilization"] <= 1
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_simulate_runs_a_real_day(db_url: str, tmp_path: Path) -> None:
    plot = tmp_path / "day.png"
    common = ["simulate", "--operators", "8", "--hours", "2.5", "--seed", "2", "--format", "json"]
    day = [*common, "--schedule", "realistic", "--answer-profile", "realistic", "--start", "warm"]
    code, out, err = dialer(db_url, *day, "--quality-step", "1:0.3", "--plot", str(plot))
    assert code == 0, err
    assert plot.read_bytes().startswith(b"\x89PNG")
    code, same_list, err = dialer(db_url, *day)
    assert code == 0, err
    # Fewer people answer the new list: more calls placed for fewer connects.
    worse, better = json.loads(out), json.loads(same_list)
    assert worse["calls"] > better["calls"]
    assert worse["connects_per_operator_hour"] < better["connects_per_operator_hour"]


def test_simulate_rejects_a_bad_mode(db_url: str) -> None:
    assert_one_line_error(*dialer(db_url, "simulate", "--mode", "turbo", "--hours", "0.1"), "turbo")

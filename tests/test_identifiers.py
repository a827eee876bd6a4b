"""Every identifier check is a full match: a trailing newline never slips through a '$'."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns.contact_limits import parse_limits
from campaigns.retry import parse_duration
from campaigns.service import CampaignSpec, check_name, check_sound, create_campaign
from campaigns.window import CallingWindow
from cli import app
from dialer.core.errors import FieldRejected as PhoneRejected
from dialer.core.errors import InvalidInput
from dialer.pbx.config import QueueSpec, render_manager
from dialer.services.operators import add_operator
from lists.phones import PhoneNormalizer

runner = CliRunner()


@pytest.mark.parametrize(
    "check",
    [
        lambda: check_name("spring\nautumn"),
        lambda: check_sound("--safe-harbour-sound", "custom/offer\n"),
        lambda: CampaignSpec.build("spring", queue="sales\n"),
        lambda: QueueSpec("sales\n"),
        lambda: render_manager("dialer\n", "secret"),
        lambda: render_manager("dialer", "secret", bind="0.0.0.0/0.0.0.0"),
        lambda: render_manager("dialer", "secret", bind="127.0.0.1\n"),
        lambda: render_manager("dialer", "secret", bind="localhost"),
        lambda: render_manager("dialer", "secret", bind="fe80::1%eth0"),
        lambda: render_manager("dialer", "secret", bind="10.0.0.0/8"),
    ],
)
def test_a_trailing_newline_or_a_network_is_refused(check: object) -> None:
    with pytest.raises(InvalidInput):
        check()  # type: ignore[operator]


@pytest.mark.parametrize(
    "parse",
    [
        lambda: CallingWindow.parse("09:00-21:00\nx"),
        lambda: parse_duration("15m\nx"),
        lambda: parse_limits("1/1d\nx"),
    ],
)
def test_rule_texts_are_matched_whole(parse: object) -> None:
    with pytest.raises(ValueError):
        parse()  # type: ignore[operator]


def test_names_are_stored_without_surrounding_whitespace() -> None:
    assert check_name(" spring\n") == "spring"


def test_a_phone_written_as_a_float_is_matched_whole() -> None:
    normalizer = PhoneNormalizer("RU")
    assert normalizer.normalize("79161234567.0").e164 == "+79161234567"
    with pytest.raises(PhoneRejected):
        normalizer.normalize("79161234567.0\n.5")


def test_an_ipv6_bind_gets_its_own_permit_and_deny() -> None:
    text = render_manager("dialer", "secret", bind="::1")
    assert "permit = ::1/128" in text and "deny = ::/0" in text


@pytest.mark.every_store
@pytest.mark.parametrize(("name", "interface"), [("anna\n", "PJSIP/101"), ("anna", "PJSIP/101\n")])
def test_operator_names_and_interfaces_are_matched_whole(store: Engine, name: str, interface: str) -> None:
    create_campaign(store, CampaignSpec.build("spring"))
    with pytest.raises(InvalidInput):
        add_operator(store, name, interface, ["spring"])


def test_pbx_config_skips_only_the_campaign_whose_name_is_no_queue_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_DB", str(tmp_path / "dialer.db"))
    for args in (["Весна 2025"], ["spring"]):
        result = runner.invoke(app, ["campaign", "create", *args])
        assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["pbx", "config", "--out", str(tmp_path / "conf")])
    assert result.exit_code == 0, result.stderr
    assert "Весна 2025" in result.stderr and "skipped" in result.stderr
    assert "[spring]" in (tmp_path / "conf" / "queues_dialer.conf").read_text()
    result = runner.invoke(app, ["pbx", "config", "--out", str(tmp_path / "c2"), "--campaign", "Весна 2025"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Весна 2025" in lines[0] and "--queue" in lines[0]

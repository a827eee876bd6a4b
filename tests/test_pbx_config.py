"""The Asterisk configuration the product ships: pure rendering, no Asterisk needed."""

from __future__ import annotations

import re
import stat
import wave
from pathlib import Path

import pytest

from dialer.core.errors import InvalidInput
from dialer.pbx.config import (
    AMI_READ,
    AMI_WRITE,
    AmdSettings,
    QueueSpec,
    render_extensions,
    render_manager,
    render_queues,
    render_template,
    write_pbx_config,
)


def settings(text: str, section: str) -> dict[str, str]:
    """``key = value`` lines of one ``[section]``."""
    body = text.split(f"[{section}]", 1)[1].split("\n[", 1)[0]
    pairs = (line.split("=", 1) for line in body.splitlines() if "=" in line and not line.startswith(";"))
    return {k.strip(): v.strip() for k, v in pairs}


def test_the_ami_user_has_exactly_the_rights_the_engine_needs_and_loopback_only() -> None:
    text = render_manager("dialer", "s3cret")
    user = settings(text, "dialer")
    assert user["secret"] == "s3cret"
    assert user["read"].split(",") == list(AMI_READ) == ["call", "agent", "user"]
    assert user["write"].split(",") == list(AMI_WRITE) == ["originate", "call", "agent", "reporting"]
    assert user["deny"] == "0.0.0.0/0.0.0.0"
    assert user["permit"] == "127.0.0.1/255.255.255.255"
    assert "system" not in text.split("[dialer]")[1] and "command" not in user["write"]
    assert "bindaddr = 127.0.0.1" in text


@pytest.mark.parametrize(
    ("user", "secret"), [("bad user", "x"), ("ok", "two\nlines"), ("ok", "a;comment"), ("ok", "")]
)
def test_unsafe_ami_names_or_secrets_are_refused(user: str, secret: str) -> None:
    with pytest.raises(InvalidInput):
        render_manager(user, secret)


def test_the_answered_context_queues_with_a_two_second_default_and_plays_safe_harbour() -> None:
    text = render_extensions()
    assert "[dialer-answered]" in text
    queue_line = next(line for line in text.splitlines() if "Queue(${DIALER_QUEUE}" in line)
    assert '${IF($["${DIALER_CONNECT_TIMEOUT}" = ""]?2:${DIALER_CONNECT_TIMEOUT})}' in queue_line
    for needle in (
        "UserEvent(DialerAMD,",
        "UserEvent(DialerSafeHarbour,",
        "Playback(${DIALER_SAFE_HARBOUR})",
    ):
        assert needle in text
    assert f"AMD({AmdSettings().as_args()})" in text
    # A pattern extension would also catch "failed", "h" and "i".
    assert not re.search(r"^exten\s*=>\s*_", text, re.MULTILINE)


def test_amd_arguments_follow_the_settings() -> None:
    text = render_extensions(AmdSettings(total_analysis_time=2000, greeting=1200))
    assert "AMD(2000,1200,800,2000," in text


def test_each_campaign_gets_a_queue_that_fails_fast_without_ready_operators() -> None:
    text = render_queues([QueueSpec("sales", wrapup_s=5), QueueSpec("debt", strategy="leastrecent")])
    sales, debt = settings(text, "sales"), settings(text, "debt")
    assert sales["strategy"] == "rrmemory" and debt["strategy"] == "leastrecent"
    assert sales["wrapuptime"] == "5" and debt["wrapuptime"] == "0"
    for queue in (sales, debt):
        assert queue["ringinuse"] == "no"
        assert queue["autofill"] == "yes"
        assert queue["timeoutpriority"] == "app"
        assert set(queue["joinempty"].split(",")) == {"paused", "unavailable", "invalid"}
        assert queue["leavewhenempty"] == queue["joinempty"]
        assert queue["setinterfacevar"] == "yes"


@pytest.mark.parametrize(
    "make",
    [
        lambda: QueueSpec("two words"),
        lambda: QueueSpec("q]x"),
        lambda: QueueSpec("q", strategy="fastest"),
        lambda: QueueSpec("q", wrapup_s=-1),
    ],
)
def test_bad_queue_specs_are_refused(make: object) -> None:
    with pytest.raises(InvalidInput):
        make()  # type: ignore[operator]


def test_duplicate_queue_names_are_refused() -> None:
    with pytest.raises(InvalidInput):
        render_queues([QueueSpec("a"), QueueSpec("a")])


def test_write_pbx_config_writes_three_includes_and_a_playable_sound(tmp_path: Path) -> None:
    files = write_pbx_config(tmp_path / "out", [QueueSpec("q1")], "dialer", None)
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "manager_dialer.conf",
        "extensions_dialer.conf",
        "queues_dialer.conf",
        "dialer-safe-harbour.wav",
    }
    assert stat.S_IMODE(files.manager.stat().st_mode) == 0o600
    assert len(files.ami_secret) >= 24
    assert settings(files.manager.read_text(), "dialer")["secret"] == files.ami_secret
    with wave.open(str(files.safe_harbour_sound)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() > 8000  # longer than a second


def test_generated_secrets_differ_between_runs(tmp_path: Path) -> None:
    first = write_pbx_config(tmp_path / "a", [QueueSpec("q1")], "dialer", None)
    second = write_pbx_config(tmp_path / "b", [QueueSpec("q1")], "dialer", None)
    assert first.ami_secret != second.ami_secret


def test_a_template_value_left_out_is_an_error() -> None:
    with pytest.raises(ValueError, match="AMD_ARGS"):
        render_template("extensions_dialer.conf.in", {})

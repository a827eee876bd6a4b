"""The sandbox Asterisk: found or built once, private, secret kept out of sight, stopped by pid."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dialer.pbx.check import check_pbx
from dialer.pbx.install import MARKER, find_asterisk, mirror_from_sources
from dialer.pbx.sandbox import Sandbox
from tests.asterisk_fixtures import SANDBOX_QUEUES

asterisk = pytest.mark.asterisk

DEB822 = """\
Types: deb
URIs: http://security.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example.org/debian
Suites: bookworm

Types: deb
# a comment
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main
"""

ONE_LINE = """\
# deb http://commented.example.org/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://ftp.example.net/debian bookworm main
"""


def test_the_mirror_comes_from_the_machines_apt_sources_skipping_security_and_source_archives() -> None:
    assert mirror_from_sources([DEB822]) == "http://mirror.example.org/debian"
    assert mirror_from_sources([ONE_LINE]) == "http://ftp.example.net/debian"
    assert mirror_from_sources(["", "# nothing here\n"]) is None


def test_a_root_without_the_ready_marker_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    (tmp_path / "root/usr/sbin").mkdir(parents=True)
    (tmp_path / "root/usr/sbin/asterisk").write_text("")
    assert find_asterisk(tmp_path / "root") is None
    (tmp_path / "root" / MARKER).write_text("Asterisk 0\n")
    assert find_asterisk(tmp_path / "root") is None  # marked, but broken: rebuilt by ensure_asterisk


@asterisk
def test_the_sandbox_keeps_its_ami_secret_out_of_argv_and_in_a_private_file(
    asterisk_sandbox: Sandbox,
) -> None:
    box = asterisk_sandbox
    assert box.workdir is not None and box.pid is not None
    cmdline = Path(f"/proc/{box.pid}/cmdline").read_bytes().decode()
    assert box.secret not in cmdline
    assert box.secret not in repr(box)
    manager = box.workdir / "etc/manager_dialer.conf"
    assert stat.S_IMODE(manager.stat().st_mode) == 0o600
    assert box.secret in manager.read_text()
    assert "bindaddr = 127.0.0.1" in (box.workdir / "etc/manager.conf").read_text()
    assert box.ami_url == f"ami://{box.username}:{box.secret}@127.0.0.1:{box.port}"


@asterisk
def test_each_sandbox_is_private_and_stop_ends_its_process(asterisk_sandbox: Sandbox) -> None:
    with Sandbox(["solo"], install=asterisk_sandbox.install) as other:
        assert other.port != asterisk_sandbox.port
        assert other.secret != asterisk_sandbox.secret
        assert other.workdir != asterisk_sandbox.workdir
        pid, workdir = other.pid, other.workdir
        assert pid is not None and workdir is not None and other.running
    assert not other.running
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert not workdir.exists()
    other.stop()  # stopping twice is harmless
    assert asterisk_sandbox.running


@asterisk
async def test_pbx_check_passes_on_the_sandbox_and_names_a_missing_queue(asterisk_sandbox: Sandbox) -> None:
    assert await check_pbx(asterisk_sandbox.ami_url, SANDBOX_QUEUES) == []
    problems = await check_pbx(asterisk_sandbox.ami_url, ["q1", "nosuchqueue"])
    assert len(problems) == 1 and "nosuchqueue" in problems[0]


@asterisk
async def test_pbx_check_reports_a_refused_login(asterisk_sandbox: Sandbox) -> None:
    box = asterisk_sandbox
    problems = await check_pbx(f"ami://{box.username}:not-it@{box.host}:{box.port}", ["q1"])
    assert len(problems) == 1 and "login" in problems[0] and "not-it" not in problems[0]


@asterisk
async def test_pbx_check_names_each_missing_ami_right(asterisk_sandbox: Sandbox) -> None:
    box = asterisk_sandbox
    assert box.workdir is not None
    with open(box.workdir / "etc/manager_dialer.conf", "a") as conf:
        conf.write("\n[norights]\nsecret = n0-rights\npermit = 127.0.0.1/255.255.255.255\nread =\nwrite =\n")
    box.cli("manager reload")
    problems = await check_pbx(f"ami://norights:n0-rights@{box.host}:{box.port}", ["q1"])
    rights = sorted(
        right for right in ("originate", "call", "agent", "reporting") for p in problems if f"'{right}'" in p
    )
    assert rights == ["agent", "call", "originate", "reporting"]
    assert len(problems) == 4, problems  # queues are visible without any right; q1 exists

"""``dialer serve`` as a real process on the sandbox Asterisk: SIGTERM stops it the way it stops
``dialer run`` (no new calls, live calls finish, exit 0); its HTTP endpoint is on loopback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dialer.pbx.sandbox import Sandbox
from tests.engine_helpers import attempts, make_campaign, make_leads, make_operators, phones_by_digit

DIALER = Path(sys.executable).with_name("dialer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.asterisk
def test_sigterm_stops_serve_like_run(asterisk_sandbox: Sandbox, store: Engine, db_url: str) -> None:
    cid = make_campaign(store, "svc", queue="q6", safe_harbour_sound=asterisk_sandbox.safe_harbour_sound)
    make_leads(store, cid, phones_by_digit([0] * 60, start=600))
    names = make_operators(store, "svc", 3, prefix="op6")
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": asterisk_sandbox.ami_url}
    for name in names:
        subprocess.run([str(DIALER), "operators", "ready", name], env=env, check=True, capture_output=True)
    port, console = free_port(), free_port()
    serve = subprocess.Popen(
        [str(DIALER), "serve", "--campaign", "svc", "--node", "svc-node", "--shutdown-deadline", "20",
         "--http", f"127.0.0.1:{port}", "--console", f"127.0.0.1:{console}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(attempts(store, cid)) < 6:
            assert serve.poll() is None, serve.communicate()
            assert time.monotonic() < deadline, "serve placed no calls"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{console}/login", timeout=10) as response:
            assert response.status == 200, "the console is not served"
        signalled_at = datetime.now(UTC)
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
    assert serve.returncode == 0, err
    assert "Traceback" not in out + err
    rows = attempts(store, cid)
    assert 6 <= len(rows) < 60
    assert all(r.started_at.replace(tzinfo=UTC) <= signalled_at + timedelta(seconds=0.5) for r in rows)
    assert all(r.ended_at is not None for r in rows)
    assert {r.outcome for r in rows} == {"connected"}


@pytest.mark.parametrize("option", ["--http", "--console"])
def test_a_port_in_use_is_one_line(db_url: str, option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": "ami://u:s@127.0.0.1:1"}
        done = subprocess.run(
            [
                str(DIALER),
                "serve",
                "--http",
                f"127.0.0.1:{free_port()}",
                "--console",
                f"127.0.0.1:{free_port()}",
                option,
                f"127.0.0.1:{port}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_http_address_is_one_line(db_url: str) -> None:
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": "ami://u:s@127.0.0.1:1"}
    done = subprocess.run(
        [str(DIALER), "serve", "--http", "9300"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "HOST:PORT" in done.stderr


def test_the_metrics_and_the_console_may_not_share_a_port(db_url: str) -> None:
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": "ami://u:s@127.0.0.1:1"}
    done = subprocess.run(
        [str(DIALER), "serve", "--http", "127.0.0.1:9301", "--console", "127.0.0.1:9301"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "different ports" in done.stderr

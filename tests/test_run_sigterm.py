"""``dialer run`` as a real process: SIGTERM stops originating, lets live calls finish, exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Lead
from dialer.pbx.sandbox import Sandbox
from tests.engine_helpers import attempts, make_campaign, make_leads, make_operators, phones_by_digit

DIALER = Path(sys.executable).with_name("dialer")


@pytest.mark.asterisk
def test_sigterm_lets_live_calls_finish_and_exits_cleanly(
    asterisk_sandbox: Sandbox, store: Engine, db_url: str
) -> None:
    cid = make_campaign(store, "term", queue="q7", safe_harbour_sound=asterisk_sandbox.safe_harbour_sound)
    make_leads(store, cid, phones_by_digit([0] * 60, start=900))
    names = make_operators(store, "term", 3, prefix="op9")
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": asterisk_sandbox.ami_url}
    for name in names:
        subprocess.run([str(DIALER), "operators", "ready", name], env=env, check=True, capture_output=True)

    engine = subprocess.Popen(
        [str(DIALER), "run", "--campaign", "term", "--node", "term-node", "--shutdown-deadline", "20"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(attempts(store, cid)) < 6:  # a few calls placed, some of them live
            assert engine.poll() is None, engine.communicate()
            assert time.monotonic() < deadline, "the engine placed no calls"
            time.sleep(0.2)
        signalled_at = datetime.now(UTC)
        engine.send_signal(signal.SIGTERM)
        out, err = engine.communicate(timeout=60)
    finally:
        if engine.poll() is None:
            engine.kill()
    assert engine.returncode == 0, err
    assert "Traceback" not in out + err

    rows = attempts(store, cid)
    assert 6 <= len(rows) < 60, "SIGTERM must stop the campaign before its list is done"
    # Nothing was originated once the signal was handled (a cycle in progress may finish writing).
    assert all(r.started_at <= signalled_at + timedelta(seconds=0.5) for r in rows)
    # Live calls were allowed to finish: every attempt ended with a real outcome, none cut short.
    assert all(r.ended_at is not None for r in rows)
    assert {r.outcome for r in rows} == {"connected"}
    with Session(store) as session:
        held = session.exec(
            select(Lead).where(Lead.campaign_id == cid, col(Lead.claimed_by).is_not(None))
        ).all()
        in_call = session.exec(select(Lead).where(Lead.campaign_id == cid, Lead.status == "in_call")).all()
    assert held == [] and in_call == []

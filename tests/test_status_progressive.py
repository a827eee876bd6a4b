"""``dialer status`` explains a progressive campaign too: one call per ready operator.

A running engine (over a scripted telephony, a fake of our own port, and the real store) writes
its progressive pacing; ``dialer status`` shows what progressive does with it, in English and in
Russian: how many operators are ready, in wrap-up and talking, and how many calls have no
operator yet.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from dialer.cli.status_view import pacing_line
from dialer.core import i18n
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import ready
from dialer.services.status import collect_status
from dialer.store.pace import PacingView
from tests.engine_helpers import ScriptedTelephony, make_campaign, make_leads, make_operators, phones_by_digit

runner = CliRunner()
SETTINGS = EngineSettings(node_id="prog-node", tick_s=0.02, operator_poll_s=0.02, pacing_save_s=0.05)


def _status(db_url: str, lang: str) -> str:
    result = runner.invoke(app, ["--db", db_url, "--lang", lang, "status"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


async def test_status_shows_a_running_progressive_campaigns_pacing(store: Engine, db_url: str) -> None:
    cid = make_campaign(store, "spring", mode="progressive")
    make_leads(store, cid, phones_by_digit([0] * 40))
    for name in make_operators(store, "spring", 2):
        ready(store, name)
    engine = DialEngine(store, ScriptedTelephony(talk_s=0.5), SETTINGS)
    task = asyncio.create_task(engine.run())
    try:
        deadline = time.monotonic() + 20
        while not any(c.pacing for c in collect_status(store).campaigns):
            assert time.monotonic() < deadline and not task.done(), "no pacing line was written"
            await asyncio.sleep(0.05)
        english, russian = _status(db_url, "en"), _status(db_url, "ru")
    finally:
        engine.stop()
        await asyncio.wait_for(task, 20)
    joined = " ".join(english.split())  # the table may wrap a long line
    assert "spring pacing on prog-node: progressive (one call per ready operator)" in joined
    assert (
        "operators ready" in joined and "in wrap-up" in joined and "calls without an operator yet" in joined
    )
    joined = " ".join(russian.split())
    assert "spring, темп на prog-node: progressive (один звонок на готового оператора)" in joined
    assert "операторы: готовы" in joined and "звонков ещё без оператора" in joined


def test_the_progressive_line_gives_the_figures_progressive_dials_by() -> None:
    explain = {
        "mode": "progressive", "placed": 1, "dial_rate_per_min": 6.0, "ready": 2, "wrapping": 1,
        "in_call": 3, "in_flight": 1, "staffed": 6,
    }  # fmt: skip
    view = PacingView("n1", datetime(2026, 11, 30, 9, 0, tzinfo=UTC), explain)
    now = view.updated_at.timestamp() + 3
    line = pacing_line("spring", view, now)
    assert line == (
        "spring pacing on n1: progressive (one call per ready operator); "
        "operators ready 2, in wrap-up 1, talking 3; calls without an operator yet 1; "
        "dial rate 6.0/min, placed 1 last tick; 3 s ago"
    )
    idle = PacingView(
        "n1", view.updated_at, {"mode": "progressive", "placed": 0, "reason": "no ready operator"}
    )
    token = i18n.use("ru")
    try:
        russian = pacing_line("spring", view, now)
        waiting = pacing_line("spring", idle, now)
    finally:
        i18n.restore(token)
    assert "операторы: готовы 2, в поствызывной обработке 1, в разговоре 3" in russian
    assert "звонков ещё без оператора: 1" in russian and russian.endswith("; 3 с назад")
    assert "нет готовых операторов" in waiting
    # A predictive campaign keeps its own line.
    predictive = PacingView("n1", view.updated_at, {**explain, "mode": "predictive", "abandon_window": "24h"})
    assert "one call per ready operator" not in pacing_line("spring", predictive, now)

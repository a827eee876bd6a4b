"""``dialer serve`` on the real sandbox Asterisk: a schedule opening two seconds from now starts
dialing and its closing stops it (live calls finish); /metrics agrees with the attempts table.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import ScheduleEvent
from campaigns.schedule import build_rule
from campaigns.schedules import add_rule
from dialer.ami.client import AmiTelephony
from dialer.cli.schedule_commands import schedule_lines
from dialer.engine.loop import EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.service.serve import ServeSettings, Service
from dialer.services.operators import ready
from tests.engine_helpers import attempts, make_campaign, make_leads, make_operators, phones_by_digit

asterisk = pytest.mark.asterisk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def settings(node: str, port: int) -> ServeSettings:
    engine = EngineSettings(node_id=node, tick_s=0.1, operator_poll_s=0.25, campaign_reload_s=0.5)
    return ServeSettings(engine=engine, http=("127.0.0.1", port), sync_s=1.0)


@asterisk
async def test_a_schedule_opening_in_two_seconds_starts_and_its_close_stops_dialing(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = make_campaign(
        store, "sched", queue="q8", max_channels=4, originate_rate=2.0,
        safe_harbour_sound=asterisk_sandbox.safe_harbour_sound,
    )  # fmt: skip
    make_leads(store, cid, phones_by_digit([d % 5 for d in range(200)], start=700))
    for name in make_operators(store, "sched", 3, prefix="op8"):
        ready(store, name)
    now = datetime.now(UTC).replace(microsecond=0)
    opens, closes = now + timedelta(seconds=3), now + timedelta(seconds=10)
    if opens.date() != closes.date():  # the rule's hours may not cross midnight
        await asyncio.sleep(12)
        now = datetime.now(UTC).replace(microsecond=0)
        opens, closes = now + timedelta(seconds=3), now + timedelta(seconds=10)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[opens.weekday()]
    add_rule(store, "sched", build_rule(days, f"{opens:%H:%M:%S}-{closes:%H:%M:%S}", "UTC"))

    port = free_port()
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    service = Service(store, telephony, settings("serve-a", port))
    run = asyncio.create_task(service.run())
    try:
        await asyncio.sleep(1.0)
        assert attempts(store, cid) == [], "dialed before the schedule opened"
        status, body = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["ami"] is True
        await asyncio.sleep((closes - datetime.now(UTC)).total_seconds() + 0.5)
        placed = attempts(store, cid)
        assert placed, "nothing was dialed while the schedule was open"
        # Let the calls live at the close finish, then check nothing new was placed meanwhile.
        for _ in range(300):
            if all(r.ended_at is not None for r in attempts(store, cid)):
                break
            await asyncio.sleep(0.1)
        rows = attempts(store, cid)
        metrics = (await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/metrics"))[1]
    finally:
        service.stop()
        report = await asyncio.wait_for(run, 60)
        await telephony.close()

    started = [r.started_at.replace(tzinfo=UTC) for r in rows]
    assert min(started) >= opens - timedelta(seconds=0.05)
    assert max(started) <= closes + timedelta(seconds=0.5)  # one tick may be under way at the close
    assert len(rows) == len(placed), "calls were placed after the schedule closed"
    assert all(r.ended_at is not None for r in rows)
    assert {r.outcome for r in rows} == {"connected"}, "a live call was cut at the close"
    assert any(r.ended_at.replace(tzinfo=UTC) > closes for r in rows if r.ended_at), (
        "no call was live at the close"
    )
    assert report.started == len(rows)
    with Session(store) as session:
        events = session.exec(select(ScheduleEvent).where(ScheduleEvent.campaign_id == cid)).all()
    assert [e.kind for e in events] == ["open", "close"]

    # The scrape taken after the calls ended matches the attempts table exactly.
    assert samples(metrics, "dialer_originates_total") == {(("campaign", "sched"),): float(len(rows))}
    by_outcome = Counter(r.outcome for r in rows)
    assert samples(metrics, "dialer_outcomes_total") == {
        (("campaign", "sched"), ("outcome", str(k))): float(v) for k, v in by_outcome.items()
    }
    assert samples(metrics, "dialer_calls_in_flight") == {(("campaign", "sched"),): 0.0}
    assert samples(metrics, "dialer_ami_up") == {(("node", "serve-a"),): 1.0}
    assert samples(metrics, "dialer_campaign_on_schedule") == {(("campaign", "sched"),): 0.0}
    assert samples(metrics, "dialer_abandon_cap") == {(("campaign", "sched"), ("window", "30d")): 0.03}
    assert samples(metrics, "dialer_abandon_rate") == {(("campaign", "sched"), ("window", "30d")): 0.0}
    operators = samples(metrics, "dialer_operators")
    assert sum(operators.values()) == 3
    lines = schedule_lines(store, ["sched"])
    assert len(lines) == 1 and lines[0].startswith("sched: off schedule; closed ")
    assert "on serve-a" in lines[0]

"""The console end to end: a real console process, the real engine (`dialer run`) and Asterisk.

An operator logs in in Chromium and goes ready; Asterisk connects a customer to them; the page
pops that lead; a disposition picked with a number key lands on the attempt and in the exports.
The console and the engine are separate processes that share only the store.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Lead
from dialer.pbx.sandbox import Sandbox, free_port
from tests.console_helpers import PASSWORD
from tests.engine_helpers import open_zone

DIALER = Path(sys.executable).with_name("dialer")
DOCS = Path(__file__).parent.parent / "docs"
PHONE = "+79001234560"  # last digit 0: the sandbox customer answers


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(DIALER), *args], env=env, input=stdin, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait_http(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    until = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.communicate()
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            assert time.monotonic() < until, "the console did not start"
            time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


@pytest.fixture
def shift(asterisk_sandbox: Sandbox, store: Engine, db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": asterisk_sandbox.ami_url}
    _cli(
        env,
        "campaign",
        "create",
        "winter",
        "--queue",
        "q6",
        "--dial-template",
        "Local/{number}@sim-customers",
        "--safe-harbour-sound",
        asterisk_sandbox.safe_harbour_sound,
    )
    script = tmp_path / "script.txt"
    script.write_text("Здравствуйте, {name}! Вы из города {city}?", encoding="utf-8")
    _cli(env, "scripts", "set", "winter", str(script))
    _cli(
        env, "operators", "add", "op601", "--interface", "Local/op601@sim-operators/n", "--campaign", "winter"
    )
    _cli(
        env,
        "users",
        "add",
        "irina",
        "--role",
        "operator",
        "--operator",
        "op601",
        "--language",
        "en",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    _cli(env, "pause-codes", "add", "lunch", "--label", "Lunch")
    _cli(
        env,
        "survey",
        "add",
        "winter",
        "heating",
        "--text",
        "How do you heat your home?",
        "--kind",
        "single",
        "--choice",
        "Gas",
        "--choice",
        "Electric",
        "--required",
    )
    _cli(env, "survey", "add", "winter", "rooms", "--text", "How many rooms?", "--kind", "number")
    port = free_port()

    def start_console() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(DIALER), "console", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    consoles = [start_console()]
    engine = subprocess.Popen(
        [str(DIALER), "run", "--campaign", "winter", "--node", "console-e2e", "--shutdown-deadline", "10"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    logs: dict[str, str] = {}

    def stop() -> dict[str, str]:
        if not logs:
            logs["engine"] = "".join(_stop(engine))
            logs["console"] = "".join("".join(_stop(c)) for c in consoles)
        return logs

    def restart_console(between: Callable[[], None]) -> None:
        _stop(consoles[-1])
        between()
        consoles.append(start_console())
        _wait_http(f"http://127.0.0.1:{port}/login", consoles[-1])

    def add_lead(phone: str, name: str, city: str) -> None:
        leads = tmp_path / f"leads-{phone}.csv"
        leads.write_text(f"phone,name,city,tz\n{phone},{name},{city},{open_zone()}\n", encoding="utf-8")
        _cli(env, "lists", "import", str(leads), "--campaign", "winter", "--map", "timezone=tz")

    try:
        _wait_http(f"http://127.0.0.1:{port}/login", consoles[0])
        yield {
            "url": f"http://127.0.0.1:{port}",
            "env": env,
            "stop": stop,
            "store": store,
            "restart_console": restart_console,
            "add_lead": add_lead,
        }
    finally:
        stop()


@pytest.mark.asterisk
@pytest.mark.browser
def test_an_operator_goes_ready_gets_the_pop_and_disposes_with_a_number_key(
    shift: dict[str, Any], chromium: Any
) -> None:
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    from playwright.sync_api import expect

    page.goto(shift["url"] + "/")
    assert page.url.endswith("/login")
    page.fill("#name", "irina")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")  # the event stream is open
    assert page.inner_text("#observed") == "logged_out"

    shift["add_lead"](PHONE, "Ирина Петрова", "Казань")
    page.click("#go-ready")
    expect(page.locator("#observed")).to_have_text("ready", timeout=30_000)
    page.wait_for_selector("#call")  # Asterisk connected the customer: the pop
    assert page.inner_text("#call-phone") == PHONE
    assert page.inner_text("#call-campaign") == "winter"
    fields = page.inner_text("#lead-fields")
    assert "Ирина Петрова" in fields and "Казань" in fields
    assert "Здравствуйте, Ирина Петрова! Вы из города Казань?" in page.inner_text("#script")
    assert "local time" in page.inner_text("#call")
    page.screenshot(path=str(DOCS / "console-pop.png"))

    page.fill("#note", "wants the brochure")
    page.fill("#q_rooms", "three")
    page.click("#call h2")  # number keys are read outside the notes and answers
    page.keyboard.press("1")  # 1: sale
    expect(page.locator("#error-heating")).to_have_text("an answer is required")
    expect(page.locator("#error-rooms")).to_have_text("a number is expected")
    page.screenshot(path=str(DOCS / "console-survey-errors.png"))
    page.check("input[name=q_heating][value=Electric]")
    page.fill("#q_rooms", "3")
    page.click("#call h2")
    page.keyboard.press("1")
    page.wait_for_selector("#waiting")

    page.select_option("#reason", "lunch")
    page.click("#go-pause")
    expect(page.locator("#observed")).to_have_text("paused", timeout=30_000)
    assert page.inner_text("#pause-reason") == "lunch"
    page.screenshot(path=str(DOCS / "console-paused.png"))
    context.close()

    store = shift["store"]
    with Session(store) as session:
        attempt = session.exec(select(CallAttempt).where(CallAttempt.phone == PHONE)).one()
        lead = session.exec(select(Lead).where(Lead.phone == PHONE)).one()
    assert (attempt.operator, attempt.disposition, attempt.note) == ("op601", "sale", "wants the brochure")
    assert lead.status == "done"
    rows = list(
        csv.DictReader(
            io.StringIO(_cli(shift["env"], "export", "attempts", "--campaign", "winter", "-o", "-"))
        )
    )
    assert [(r["phone"], r["disposition"], r["note"]) for r in rows] == [
        (PHONE, "sale", "wants the brochure")
    ]
    exported = list(
        csv.DictReader(io.StringIO(_cli(shift["env"], "export", "leads", "--campaign", "winter", "-o", "-")))
    )
    assert [r["status"] for r in exported] == ["done"]
    answers = list(
        csv.DictReader(
            io.StringIO(_cli(shift["env"], "export", "answers", "--campaign", "winter", "-o", "-"))
        )
    )
    assert [(r["phone"], r["disposition"], r["heating"], r["rooms"]) for r in answers] == [
        (PHONE, "sale", "Electric", "3")
    ]


@pytest.mark.asterisk
@pytest.mark.browser
def test_the_console_logs_neither_passwords_nor_session_tokens(shift: dict[str, Any], chromium: Any) -> None:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(shift["url"] + "/login")
    page.fill("#name", "irina")
    page.fill("#password", "wrong-" + PASSWORD)
    page.click("#login")
    page.wait_for_selector("#login-error")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")
    token = next(c["value"] for c in context.cookies() if c["name"] == "dialer_session")
    csrf = page.get_attribute('meta[name="csrf"]', "content")
    context.close()
    logs = shift["stop"]()
    assert "login" in logs["console"] and "GET /events" in logs["console"]  # it does log requests
    for secret in (PASSWORD, token, csrf):
        assert secret and secret not in logs["console"] and secret not in logs["engine"]


@pytest.mark.asterisk
@pytest.mark.browser
def test_a_call_connected_while_the_console_restarts_still_pops(shift: dict[str, Any], chromium: Any) -> None:
    from playwright.sync_api import expect

    page = chromium.new_context().new_page()
    page.set_default_timeout(30_000)
    page.goto(shift["url"] + "/login")
    page.fill("#name", "irina")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")
    page.click("#go-ready")
    expect(page.locator("#observed")).to_have_text("ready", timeout=30_000)
    phone = "+79001234570"

    def customer_connects_while_down() -> None:
        page.wait_for_selector("#link.down")
        shift["add_lead"](phone, "Олег Смирнов", "Томск")
        until = time.monotonic() + 60
        while True:
            with Session(shift["store"]) as session:
                row = session.exec(select(CallAttempt).where(CallAttempt.phone == phone)).first()
            if row is not None and row.connected_at is not None:
                return
            assert time.monotonic() < until, "the engine connected no call"
            time.sleep(0.2)

    shift["restart_console"](customer_connects_while_down)
    page.wait_for_selector("#link.up")  # the page reconnected by itself
    expect(page.locator("#call-phone")).to_have_text(phone)
    assert "Олег Смирнов" in page.inner_text("#lead-fields")
    page.check("input[name=q_heating][value=Gas]")
    page.click("#call h2")
    page.keyboard.press("2")  # 2: refused
    page.wait_for_selector("#waiting")
    with Session(shift["store"]) as session:
        row = session.exec(select(CallAttempt).where(CallAttempt.phone == phone)).one()
    assert row.disposition == "refused"

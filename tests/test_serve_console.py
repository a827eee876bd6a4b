"""``dialer serve`` runs the operator console: the same app as ``dialer console``, on the same store,
on its own loopback port; an operator logs in through the served console while the engine runs.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy.engine import Engine

from dialer.engine.loop import EngineSettings
from dialer.service.serve import ServeSettings, Service
from dialer.sim.telephony import SimTelephony
from dialer.web.app import create_app
from tests.console_helpers import PASSWORD, console_campaign, csrf_of, operator_account


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(http: int, console: int | None) -> ServeSettings:
    engine = EngineSettings(node_id="console-node", tick_s=0.1, campaign_reload_s=0.5)
    bind = ("127.0.0.1", console) if console is not None else None
    return ServeSettings(engine=engine, http=("127.0.0.1", http), console=bind, sync_s=30)


def log_in(base: str, name: str, password: str) -> tuple[int, str]:
    """GET the login form, POST it with its CSRF token, follow the redirect: (status, page)."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(f"{base}/login", timeout=10) as form:
        token = csrf_of(form.read().decode())
    sent = urllib.parse.urlencode({"name": name, "password": password, "csrf": token}).encode()
    try:
        with browser.open(f"{base}/login", data=sent, timeout=10) as page:
            return int(page.status), page.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_an_operator_logs_in_through_the_console_serve_runs(store: Engine) -> None:
    console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    http, console = free_port(), free_port()
    service = Service(store, SimTelephony(), settings(http, console), create_app(store))
    run = asyncio.create_task(service.run())
    try:
        for _ in range(100):
            if run.done():
                run.result()  # the service stopped: show why
            try:
                status, page = await asyncio.to_thread(
                    log_in, f"http://127.0.0.1:{console}", "anna", PASSWORD
                )
                break
            except urllib.error.URLError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the console never answered")
        wrong, _ = await asyncio.to_thread(log_in, f"http://127.0.0.1:{console}", "anna", "not-" + PASSWORD)
        health = await asyncio.to_thread(status_of, f"http://127.0.0.1:{http}/healthz")
        not_console = await asyncio.to_thread(status_of, f"http://127.0.0.1:{http}/login")
    finally:
        service.stop()
        await asyncio.wait_for(run, 30)
    assert status == 200, page
    assert "anna" in page or "op1" in page, "the home page after login is not the operator's"
    assert 'action="/login"' not in page
    assert wrong == 401
    assert health == 200
    assert not_console == 404, "the console leaked onto the metrics port"


async def test_no_console_when_disabled(store: Engine) -> None:
    http, console = free_port(), free_port()
    service = Service(store, SimTelephony(), settings(http, None), create_app(store))
    run = asyncio.create_task(service.run())
    try:
        for _ in range(100):
            try:
                assert await asyncio.to_thread(status_of, f"http://127.0.0.1:{http}/healthz") == 200
                break
            except urllib.error.URLError:
                await asyncio.sleep(0.1)
        with pytest.raises(urllib.error.URLError):
            await asyncio.to_thread(status_of, f"http://127.0.0.1:{console}/login")
    finally:
        service.stop()
        await asyncio.wait_for(run, 30)

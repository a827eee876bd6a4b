"""One headless Chromium for the test session, driven by Playwright for Python.

Debian's ``/usr/bin/chromium`` is used as it is (``scripts/setup.sh`` installs it); Playwright's
own browser download is never used. The browser process is started once per session; each test
attaches to it over the DevTools protocol with a Playwright of its own, because Playwright's
synchronous API keeps an event loop running while it is open, which the asyncio tests that follow
must not find. Without a browser the tests skip, except in CI (``CI=true``) or with
``DIALER_REQUIRE_BROWSER=1``, where they fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("DIALER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def browser_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("DIALER_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(f"a browser is required here: {reason}", pytrace=False)
    pytest.skip(reason)


def _devtools_url(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    assert proc.stderr is not None
    until = time.monotonic() + timeout
    seen = []
    while time.monotonic() < until:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError("chromium gave no DevTools address: " + "".join(seen[-5:]))


@pytest.fixture(scope="session")
def chromium_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The DevTools address of the session's one Chromium."""
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_ARGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    drains: list[threading.Thread] = []
    try:
        try:
            url = _devtools_url(proc)
        except RuntimeError as exc:
            _unavailable(str(exc))
            raise
        # Chromium's later chatter is drained, so it never blocks on a full pipe.
        drain = threading.Thread(target=proc.stderr.read, daemon=True)  # type: ignore[union-attr]
        drains.append(drain)
        drain.start()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for drain in drains:
            drain.join(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture
def chromium(chromium_endpoint: str) -> Iterator[Any]:
    """The session's Chromium, attached for one test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not installed: {exc}")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium_endpoint)
        try:
            yield browser
        finally:
            browser.close()

"""A real `dialer console` process for browser tests, and an operator's page logged in to it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dialer.pbx.sandbox import free_port
from tests.console_helpers import PASSWORD
from tests.test_console_e2e import DIALER, _stop, _wait_http


@contextmanager
def console_process(db_url: str, **env: str) -> Iterator[int]:
    """Run `dialer console` on the store ``db_url`` (with ``env`` added) until the block ends; its port."""
    port = free_port()
    console = subprocess.Popen(
        [str(DIALER), "console", "--port", str(port)],
        env={**os.environ, "DIALER_DB": db_url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/login", console)
        yield port
    finally:
        _stop(console)


def logged_in_page(chromium: Any, port: int, name: str) -> Any:
    """A new browser page, logged in as ``name`` and connected to the console's event stream."""
    page = chromium.new_context().new_page()
    page.set_default_timeout(30_000)
    page.goto(f"http://127.0.0.1:{port}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#link.up")
    return page

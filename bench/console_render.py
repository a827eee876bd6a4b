"""The console's CPU per screen read, without a browser or Asterisk: what a pop costs the console.

One SQLite store with one operator on a connected call (two lead columns, a 20-line script with
placeholders). For each kind of read, 200 of them after 20 to warm up, each on a fresh screen (so
each renders): the wall time and the calling thread's CPU time (``thread_time``), per read.

    python -m bench.console_render
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import Engine

from campaigns.store import open_store
from dialer.services import accounts
from dialer.services.accounts import LoginSession
from dialer.services.console import set_script
from dialer.web.screen import CALL, DIRECT, PARTS, STATE, Screen
from dialer.web.views import Templates
from tests.console_helpers import PASSWORD, connected_call, console_campaign, operator_account

READS = 200


def _per_read(
    templates: Templates, store: Engine, login: LoginSession, wanted: Iterable[str]
) -> dict[str, float]:
    parts = list(wanted)
    for _ in range(20):
        Screen(templates, store, login).read(parts)
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(READS):
        Screen(templates, store, login).read(parts)
    return {
        "wall_ms": round((time.perf_counter() - wall) * 1000.0 / READS, 2),
        "cpu_ms": round((time.thread_time() - cpu) * 1000.0 / READS, 2),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="console-render-") as workdir:
        store = open_store(f"sqlite:///{Path(workdir) / 'render.db'}")
        campaign = console_campaign(store)
        set_script(store, "spring", "Hello {name}, from {city}.\n" * 20)
        operator_account(store, "anna", "op1", "spring")
        connected_call(store, campaign, "op1", "+79001234567", name="Анна", city="Kazan")
        login = accounts.login(store, "anna", PASSWORD)
        templates = Templates()
        reads = {"pop (the call part)": [CALL], "state": [STATE], "direct": [DIRECT], "whole screen": PARTS}
        result = {name: _per_read(templates, store, login, parts) for name, parts in reads.items()}
        store.dispose()
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

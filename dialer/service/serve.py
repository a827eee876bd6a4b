"""``dialer serve``: the dial engine for the campaigns on schedule, the job scheduler and the HTTP
endpoint, in one event loop, stopped together.

SIGTERM (or SIGINT) stops the way ``dialer run`` does: no new calls, live calls finish up to the
shutdown deadline, everything is recorded, then the scheduler and the HTTP endpoint stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dialer.core.errors import InvalidInput
from dialer.core.telephony import Telephony
from dialer.engine.loop import DialEngine, EngineSettings, RunReport
from dialer.service.gate import ScheduleGate
from dialer.service.http import ASGIApp, build_app
from dialer.service.jobs import drop_folder_jobs
from dialer.service.link import WatchedLink
from dialer.service.metrics import NodeState, build_registry
from dialer.service.scheduler import JobScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeSettings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    campaigns: Sequence[str] = ()  # default: every active campaign
    http: tuple[str, int] | None = ("127.0.0.1", 9300)  # None: no HTTP endpoint
    sync_s: float = 10.0  # how often the scheduled jobs are re-read from the store
    settle_s: float = 1.0  # a dropped file unchanged this long is complete


def extra_mounts() -> dict[str, ASGIApp]:
    """ASGI apps other packages offer the service: ``dialer.web.create_app()`` at ``/`` if installed."""
    try:
        web = importlib.import_module("dialer.web")
    except ModuleNotFoundError:
        return {}
    factory = getattr(web, "create_app", None)
    return {"/": factory()} if callable(factory) else {}


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the service owns SIGTERM and stops everything."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Service:
    def __init__(
        self,
        store: Engine,
        telephony: Telephony,
        settings: ServeSettings,
        mounts: Mapping[str, ASGIApp] | None = None,
        sock: socket.socket | None = None,  # bound already (by ``listen``), so a taken port fails first
    ) -> None:
        self._sock = sock
        node = settings.engine.node_id
        self.gate = ScheduleGate(store, node, settings.engine.campaign_reload_s)
        self.link = WatchedLink(telephony)
        self.engine = DialEngine(
            store, self.link, settings.engine, campaigns=settings.campaigns, gate=self.gate
        )
        self.scheduler = JobScheduler(
            store, node, lambda: drop_folder_jobs(store, settings.settle_s), settings.sync_s
        )
        self.state = NodeState(
            node,
            phone_link_up=lambda: self.link.up,
            placed=lambda: sum(self.engine.outcomes.values()) + self.engine.live_calls,
            on_schedule=self.gate.states,
            schedule_changes=lambda: self.gate.next_changes(time.time()),
            next_runs=self.scheduler.next_runs,
            job_runs=lambda: {"done": self.scheduler.runs_done, "failed": self.scheduler.runs_failed},
        )
        self._settings = settings
        self._store = store
        self._server: uvicorn.Server | None = None
        if settings.http is not None:
            app = build_app(build_registry(store, self.state), self.health, mounts)
            host, port = settings.http
            config = uvicorn.Config(
                app, host=host, port=port, log_level="warning", lifespan="on", access_log=False
            )
            self._server = _QuietServer(config)

    def health(self) -> dict[str, Any]:
        """For ``/healthz`` (runs on a worker thread): the AMI link as the engine sees it, and the store."""
        try:
            with self._store.connect() as conn:
                conn.execute(text("SELECT 1"))
            store_ok = True
        except SQLAlchemyError:
            store_ok = False
        return {
            "ok": self.link.up and store_ok,
            "ami": self.link.up,
            "store": store_ok,
            "node": self.state.node,
        }

    def stop(self) -> None:
        """No new calls; live calls finish; then the scheduler and HTTP stop (``run`` returns)."""
        log.info("stopping: no new calls; live calls finish")
        self.engine.stop()
        self.scheduler.shutdown()

    async def run(self) -> RunReport:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        http_task = None
        if self._server is not None and self._settings.http is not None:
            sock = self._sock or listen(*self._settings.http)
            http_task = asyncio.create_task(self._server.serve(sockets=[sock]))
            await self._wait_for_http(http_task)
            log.info("metrics and health on http://%s:%d/metrics", *self._settings.http)
        self.scheduler.start()
        try:
            return await self.engine.run()
        finally:
            self.scheduler.shutdown()
            if self._server is not None and http_task is not None:
                self._server.should_exit = True
                await asyncio.gather(http_task, return_exceptions=True)

    async def _wait_for_http(self, task: asyncio.Task[None] | None) -> None:
        assert self._server is not None and task is not None
        while not self._server.started:
            if task.done():
                raise InvalidInput(f"the HTTP endpoint stopped while starting: {task.exception()}")
            await asyncio.sleep(0.05)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or one clear error (address in use, not ours to bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock

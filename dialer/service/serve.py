"""``dialer serve``: the dial engine for the campaigns on schedule, the job scheduler, the HTTP
endpoint (metrics, health) and the operator console, in one event loop, stopped together.

The console is the same application as ``dialer console``, on the same store, served by its own
uvicorn server on its own address (127.0.0.1:8080 unless told otherwise), so its login cookie,
event stream and lifespan are exactly those of ``dialer console``.

SIGTERM (or SIGINT) stops the way ``dialer run`` does: no new calls, live calls finish up to the
shutdown deadline, everything is recorded, then the scheduler and the HTTP endpoint stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
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
from dialer.service.http import build_app
from dialer.service.jobs import scheduled_jobs
from dialer.service.link import WatchedLink
from dialer.service.metrics import NodeState, build_registry
from dialer.service.scheduler import JobScheduler
from lists import staging

log = logging.getLogger(__name__)

AnyASGI = Callable[..., Awaitable[None]]  # any ASGI app (Starlette types its scope its own way)


@dataclass(frozen=True)
class ServeSettings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    campaigns: Sequence[str] = ()  # default: every active campaign
    http: tuple[str, int] | None = ("127.0.0.1", 9300)  # None: no HTTP endpoint
    sync_s: float = 10.0  # how often the scheduled jobs are re-read from the store
    settle_s: float = 1.0  # a dropped file unchanged this long is complete
    console: tuple[str, int] | None = ("127.0.0.1", 8080)  # None: no operator console
    secure_cookies: bool = False  # the console's session cookie only over HTTPS (behind TLS)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the service owns SIGTERM and stops everything."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class _Endpoint:
    """One uvicorn server of the service: what it is, where it listens, its task once started."""

    name: str
    bind: tuple[str, int]
    server: uvicorn.Server
    sock: socket.socket | None
    task: asyncio.Task[None] | None = None


class Service:
    def __init__(
        self,
        store: Engine,
        telephony: Telephony,
        settings: ServeSettings,
        console: AnyASGI | None = None,  # the operator console; the command builds it
        sockets: Mapping[str, socket.socket] | None = None,  # "http"/"console", bound by ``listen``
    ) -> None:
        node = settings.engine.node_id
        self.gate = ScheduleGate(store, node, settings.engine.campaign_reload_s)
        self.link = WatchedLink(telephony)
        self.engine = DialEngine(
            store, self.link, settings.engine, campaigns=settings.campaigns, gate=self.gate
        )
        self.scheduler = JobScheduler(
            store, node, lambda: scheduled_jobs(store, settings.settle_s), settings.sync_s
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
        self._store = store
        bound = dict(sockets or {})
        self._endpoints: list[_Endpoint] = []
        if settings.http is not None:
            app = build_app(build_registry(store, self.state), self.health)
            self._add("http", app, settings.http, bound.get("http"))
        if settings.console is not None and console is not None:
            self._add("console", console, settings.console, bound.get("console"))

    def _add(self, name: str, app: AnyASGI, bind: tuple[str, int], sock: socket.socket | None) -> None:
        host, port = bind
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", access_log=False,
            proxy_headers=False, server_header=False,
        )  # fmt: skip
        self._endpoints.append(_Endpoint(name, bind, _QuietServer(config), sock))

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
        try:
            dead = await asyncio.to_thread(staging.clean_abandoned, self._store)
            if dead:
                log.info("removed the leads of %d imports that died midway (lists %s)", len(dead), dead)
            for endpoint in self._endpoints:
                await self._start(endpoint)
            self.scheduler.start()
            return await self.engine.run()
        finally:
            self.scheduler.shutdown()
            for endpoint in self._endpoints:
                endpoint.server.should_exit = True
            await asyncio.gather(*(e.task for e in self._endpoints if e.task), return_exceptions=True)

    async def _start(self, endpoint: _Endpoint) -> None:
        sock = endpoint.sock or listen(*endpoint.bind)
        endpoint.task = asyncio.create_task(endpoint.server.serve(sockets=[sock]))
        while not endpoint.server.started:
            if endpoint.task.done():
                raise InvalidInput(
                    f"the {endpoint.name} endpoint stopped while starting: {endpoint.task.exception()}"
                )
            await asyncio.sleep(0.05)
        host, port = endpoint.bind
        what = (
            "metrics and health on http://%s:%d/metrics"
            if endpoint.name == "http"
            else "operator console on http://%s:%d/"
        )
        log.info(what, host, port)


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

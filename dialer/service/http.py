"""The service's HTTP side: one ASGI app with ``/metrics`` and ``/healthz``, run by uvicorn on the
engine's event loop, bound to 127.0.0.1 unless told otherwise.

Other parts mount themselves beside it: ``build_app(..., mounts={"/": console})`` hands every
request whose path starts with a mount's prefix to that ASGI app (the operator console, when it
is installed); ``/metrics`` and ``/healthz`` always stay the service's.
Scrapes read the store on a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from dialer.core.errors import InvalidInput

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Health = Callable[[], dict[str, Any]]  # {"ok": bool, ...details}


def parse_bind(text: str, option: str = "--http") -> tuple[str, int]:
    """``127.0.0.1:9300`` → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"bad {option} {text!r}: use HOST:PORT, e.g. 127.0.0.1:9300")
    return host.strip("[]"), int(port)


def build_app(
    registry: CollectorRegistry, health: Health, mounts: Mapping[str, ASGIApp] | None = None
) -> ASGIApp:
    mounted = dict(mounts or {})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if path not in ("/metrics", "/healthz"):
            for prefix, inner in mounted.items():
                if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                    await inner(scope, receive, send)
                    return
        if path == "/metrics":
            body = await asyncio.to_thread(generate_latest, registry)
            await _respond(send, 200, CONTENT_TYPE_LATEST, body)
        elif path == "/healthz":
            report = await asyncio.to_thread(health)
            status = 200 if report.get("ok") else 503
            await _respond(send, status, "application/json", json.dumps(report).encode())
        else:
            await _respond(send, 404, "text/plain; charset=utf-8", b"not found\n")

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

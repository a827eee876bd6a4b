"""Build the console application: routes, static files, security headers, the event hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialer.web import direct_routes, routes
from dialer.web.events import EventHub
from dialer.web.views import environment

STATIC = Path(__file__).parent / "static"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_HEADERS = {
    # Every script and style comes from the console itself; nothing inline, no other origin.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds the security headers to every response (plain ASGI, so the event stream streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = dict(_HEADERS)
                if not path.startswith("/static/"):
                    extra.setdefault("Cache-Control", "no-store")
                for key, value in extra.items():
                    if key.lower().encode() not in present:
                        headers.append((key.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(store: Engine, *, secure_cookies: bool = False, poll_s: float = 0.03) -> Starlette:
    hub = EventHub(store, poll_s)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = Starlette(
        routes=[
            Route("/", routes.home),
            Route("/supervisor", routes.supervisor),
            Route("/login", routes.login_form, methods=["GET"]),
            Route("/login", routes.login_submit, methods=["POST"]),
            Route("/logout", routes.logout, methods=["POST"]),
            Route("/state", routes.change_state, methods=["POST"]),
            Route("/events", routes.events),
            Route("/calls/{attempt_id}", routes.call_page),
            Route("/calls/{attempt_id}/disposition", routes.dispose, methods=["POST"]),
            Route("/leads/{lead_id}", routes.lead_page),
            Route("/preview/next", direct_routes.preview_next, methods=["POST"]),
            Route("/preview/{lead_id}/call", direct_routes.preview_call, methods=["POST"]),
            Route("/preview/{lead_id}/skip", direct_routes.preview_skip, methods=["POST"]),
            Route("/dial", direct_routes.manual_dial, methods=["POST"]),
            Route("/leads/{lead_id}/edit", routes.edit_lead, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.hub = hub
    app.state.templates = environment()
    app.state.secure_cookies = secure_cookies
    return app

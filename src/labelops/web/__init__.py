"""Server-rendered web workspace (pages over the services).

``install_web(app)`` adds the pages, the static files (served from the package), the
cookie sessions (see ``labelops.web.session``) and the cookie fallback of the JSON API's
``get_actor``, which enforces CSRF on unsafe methods. The security headers of every
response (pages included) are set in ``labelops.api.edge``.
"""

from __future__ import annotations

__all__ = ["install_web"]

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelops.web.session import load_secret, write_session


def install_web(app: FastAPI) -> None:
    """Add the web workspace to an app built by ``create_app``.

    Reads ``app.state.settings`` (session secret, ``cookie_secure``); generates and
    stores a session secret in ``settings.home`` when none is configured.
    """
    from labelops.web.routes import account, admin, audit, base, labeller, quality, trail, vendor
    from labelops.web.session import cookie_actor_resolver, session_actor

    settings = app.state.settings
    app.state.web_serializer = URLSafeSerializer(load_secret(settings), salt="labelops.session")
    app.state.cookie_actor_resolver = cookie_actor_resolver
    app.state.session_actor_resolver = session_actor  # see labelops.api.edge.BodyGuard
    static_dir = Path(str(resources.files("labelops.web") / "static"))
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    for module in (base, labeller, admin, account, vendor, quality, audit, trail):
        app.include_router(module.router)

    app.add_middleware(_WebHeaders)


class _WebHeaders:
    """Writes the session cookie.

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
    ``BaseHTTPMiddleware`` runs every request through an extra task group and a memory
    stream, which cost more CPU than the labeller's whole next-task call.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if scope.get("state", {}).get("web_session"):  # a cookie session was read
                    cookie_carrier = Response()
                    write_session(Request(scope), cookie_carrier)
                    for raw_name, raw_value in cookie_carrier.raw_headers:
                        if raw_name == b"set-cookie":
                            headers.append("set-cookie", raw_value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_headers)

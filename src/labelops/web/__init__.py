"""Server-rendered web workspace (pages over the services).

``install_web(app)`` adds the pages, the static files (served from the package), the
cookie sessions (see ``labelops.web.session``) and the cookie fallback of the JSON API's
``get_actor``, which enforces CSRF on unsafe methods.
"""

from __future__ import annotations

__all__ = ["install_web"]

from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import URLSafeSerializer

from labelops.web.session import load_secret, write_session

_SECURITY_HEADERS = {
    # No inline script or style anywhere: item text can never become code.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def install_web(app: FastAPI) -> None:
    """Add the web workspace to an app built by ``create_app``.

    Reads ``app.state.settings`` (session secret, ``cookie_secure``); generates and
    stores a session secret in ``settings.home`` when none is configured.
    """
    from labelops.web.routes import admin, audit, base, labeller, quality, vendor
    from labelops.web.session import cookie_actor_resolver

    settings = app.state.settings
    app.state.web_serializer = URLSafeSerializer(load_secret(settings), salt="labelops.session")
    app.state.cookie_actor_resolver = cookie_actor_resolver
    static_dir = Path(str(resources.files("labelops.web") / "static"))
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    for module in (base, labeller, admin, vendor, quality, audit):
        app.include_router(module.router)

    @app.middleware("http")
    async def _web_session_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        write_session(request, response)
        if not request.url.path.startswith(("/api/", "/docs", "/openapi", "/redoc")):
            for header, value in _SECURITY_HEADERS.items():
                response.headers.setdefault(header, value)
        return response

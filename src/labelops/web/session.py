"""Web sessions and CSRF protection for the web workspace.

A logged-in browser holds a server-side session (``labelops.services.sessions``): its
``lo_session`` cookie carries only ``s-`` and a random secret, whose SHA-256 the
``web_sessions`` row keeps. Logout, a password change, disabling or deleting the user
end the row, and the cookie opens nothing any more, wherever it was copied to. Idle
expiry (``settings.session_idle_seconds``) and an absolute end
(``settings.session_max_seconds`` after login) are checked on every request; the row's
``last_seen_at`` is written at most once a minute.

A visitor who is not logged in gets a small signed cookie (itsdangerous) holding only
a CSRF token ``{"c": token, "t": issued}``: the login form is protected against login
CSRF without a database row per visitor. It grants nothing.

- HTTP-only and SameSite=Lax; ``Secure`` when ``settings.cookie_secure`` or when the
  request came over HTTPS.
- CSRF: every session carries a random token (a new one at login, kept in the row).
  Forms send it as ``csrf_token``; the page's ``fetch()`` calls send it in
  ``X-CSRF-Token``. Every unsafe method (POST, PUT, PATCH, DELETE) authenticated by
  the cookie must carry it, pages and JSON API alike.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from labelops.config import Settings
from labelops.errors import PermissionDenied
from labelops.services import sessions
from labelops.services.policy import Actor

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "LANG_COOKIE",
    "WebSession",
    "check_csrf",
    "cookie_actor_resolver",
    "cookie_is_secure",
    "end_session",
    "load_secret",
    "read_session",
    "session_actor",
    "start_session",
    "write_session",
]

COOKIE_NAME = "lo_session"
LANG_COOKIE = "lo_lang"
CSRF_HEADER = "X-CSRF-Token"
ANONYMOUS_SECONDS = 12 * 3600
"""How long a visitor's CSRF-only cookie lasts (renewed while in use)."""
REFRESH_AFTER_SECONDS = 60
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SERVER = "s-"
"""Prefix of a server-side session's cookie value (a signed anonymous one starts
with the base64 of ``{``)."""


@dataclass(frozen=True)
class WebSession:
    """The request's session: a logged-in server-side one, or an anonymous visitor's."""

    user_id: int | None
    """Logged-in user, or None for an anonymous visitor."""
    csrf: str
    """The token forms and fetch() calls must echo."""
    last_seen: int
    """Anonymous cookie: when it was issued or renewed, seconds since the epoch."""
    session_id: int | None = None
    """The ``web_sessions`` row of a logged-in session."""

    @classmethod
    def anonymous(cls) -> WebSession:
        """A fresh anonymous session with a new CSRF token."""
        return cls(None, secrets.token_urlsafe(32), int(time.time()))


def load_secret(settings: Settings) -> str:
    """The signing secret of anonymous cookies: ``settings.session_secret``, else one
    kept in ``home``.

    The generated secret is written once with mode 600, so every worker process and
    every restart signs with the same key.
    """
    if settings.session_secret:
        return settings.session_secret
    path = Path(settings.home) / "session_secret"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: if two workers race, one writes and the other reads the winner's key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


def _serializer(request: Request) -> URLSafeSerializer:
    serializer: URLSafeSerializer = request.app.state.web_serializer
    return serializer


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def read_session(request: Request, db: Session | None = None) -> WebSession | None:
    """The request's valid session, else None.

    A server-side session is looked up in ``db`` (or a session of its own when none is
    given, as for the CSRF check that runs before the page's dependencies); its actor is
    kept for ``session_actor``. The result is cached on ``request.state`` for the rest of
    the request.
    """
    cached = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached if isinstance(cached, WebSession) else None
    raw = request.cookies.get(COOKIE_NAME)
    found: WebSession | None = None
    if raw and raw.startswith(_SERVER):
        found = _server_session(request, raw[len(_SERVER) :], db)
    elif raw:
        found = _anonymous_session(request, raw)
    request.state.web_session = found if found is not None else False
    return found


def _server_session(request: Request, secret: str, db: Session | None) -> WebSession | None:
    idle = _settings(request).session_idle_seconds
    if db is None:
        with request.app.state.session_factory() as own:
            live = sessions.find_session(own, secret, idle_seconds=idle)
            own.commit()
    else:
        live = sessions.find_session(db, secret, idle_seconds=idle)
    if live is None:
        return None
    request.state.web_actor_cached = live.actor
    return WebSession(live.user_id, live.csrf, int(time.time()), session_id=live.id)


def _anonymous_session(request: Request, raw: str) -> WebSession | None:
    try:
        data = _serializer(request).loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    try:
        found = WebSession(None, str(data["c"]), int(data["t"]))
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() - found.last_seen > ANONYMOUS_SECONDS:
        return None
    return found


def ensure_session(request: Request) -> WebSession:
    """The request's session, or a new anonymous one (to be written to the response)."""
    found = read_session(request)
    if found is None:
        found = WebSession.anonymous()
        request.state.web_session = found
        request.state.web_session_dirty = True
    return found


def _replace_session(request: Request, web_session: WebSession, cookie: str | None) -> None:
    request.state.web_session = web_session
    request.state.web_session_dirty = True
    request.state.web_session_cookie = cookie
    request.state.web_actor_cached = None


def start_session(request: Request, db: Session, actor: Actor) -> None:
    """Log in: a new server-side session (and a new CSRF token) replaces the current
    one; the middleware sends its cookie."""
    settings = _settings(request)
    secret, live = sessions.start_session(
        db,
        actor,
        max_seconds=settings.session_max_seconds,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    _replace_session(
        request,
        WebSession(live.user_id, live.csrf, int(time.time()), session_id=live.id),
        _SERVER + secret,
    )


def end_session(request: Request, db: Session) -> None:
    """Log out: end the server-side session (if any) and start a new anonymous one."""
    current = read_session(request, db)
    actor = session_actor(request, db)
    if current is not None and current.session_id is not None and actor is not None:
        sessions.end_session(db, actor, current.session_id, reason="logout")
    _replace_session(request, WebSession.anonymous(), None)


def cookie_is_secure(request: Request) -> bool:
    """Whether cookies must be ``Secure``: the setting, or a request over HTTPS."""
    return _settings(request).cookie_secure or request.url.scheme == "https"


def write_session(request: Request, response: Response) -> None:
    """Write the session cookie: a new login's secret, a new anonymous cookie, or an
    anonymous cookie due for renewal."""
    current = getattr(request.state, "web_session", None)
    if not isinstance(current, WebSession):
        return
    dirty = bool(getattr(request.state, "web_session_dirty", False))
    secure = cookie_is_secure(request)
    if current.session_id is not None:
        cookie = getattr(request.state, "web_session_cookie", None)
        if dirty and cookie:
            response.set_cookie(
                COOKIE_NAME,
                cookie,
                max_age=_settings(request).session_max_seconds,
                httponly=True,
                samesite="lax",
                secure=secure,
                path="/",
            )
        return
    now = int(time.time())
    if not dirty and now - current.last_seen < REFRESH_AFTER_SECONDS:
        return
    current = replace(current, last_seen=now)
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps({"c": current.csrf, "t": current.last_seen}),
        max_age=ANONYMOUS_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def session_actor(request: Request, session: Session) -> Actor | None:
    """The logged-in actor of the cookie session, or None.

    The session row and its user are read on every request, so logging out, a
    password change, disabling or deleting the user end the session at once.
    """
    web_session = read_session(request, session)
    if web_session is None or web_session.user_id is None:
        return None
    cached = getattr(request.state, "web_actor_cached", None)
    return cached if isinstance(cached, Actor) else None


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise unless ``submitted`` is the session's CSRF token.

    Raises:
        PermissionDenied: No session, or the token is missing or wrong.
    """
    web_session = read_session(request)
    if (
        web_session is None
        or not submitted
        or not hmac.compare_digest(web_session.csrf.encode(), submitted.encode())
    ):
        raise PermissionDenied("web.error.csrf")


def cookie_actor_resolver(request: Request, session: Session) -> Actor | None:
    """``get_actor``'s fallback for the JSON API: the cookie session's actor.

    Unsafe methods must carry the session's CSRF token in ``X-CSRF-Token``: a cookie
    is sent by the browser on cross-site requests too, a custom header is not.

    Raises:
        PermissionDenied: An unsafe method without the right CSRF header.
    """
    actor = session_actor(request, session)
    if actor is None:
        return None
    if request.method.upper() in UNSAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    request.state.web_session_touched = True
    return actor

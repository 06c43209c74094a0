"""Cookie sessions and CSRF protection for the web workspace.

A session is a small signed cookie (itsdangerous, HMAC-SHA1 over a JSON payload), not a
server-side row, so any number of API workers can serve a user without shared state::

    {"u": user id or null, "c": CSRF token, "t": last activity (epoch s),
     "p": fingerprint of the password hash}

- HTTP-only and SameSite=Lax, ``Secure`` when ``settings.cookie_secure``.
- Idle expiry: a session unused for ``IDLE_SECONDS`` is void; every page view and every
  API call made with the cookie slides the window (the cookie is re-issued at most once a
  minute, to keep responses cheap).
- Changing the password voids older sessions (the fingerprint no longer matches);
  deleting the user voids them at the next request (the user lookup fails).
- CSRF: every session, anonymous ones too (the login form is protected against login
  CSRF), carries a random token. Forms send it as ``csrf_token``; the page's ``fetch()``
  calls send it in ``X-CSRF-Token``. Every unsafe method (POST, PUT, PATCH, DELETE)
  authenticated by the cookie must carry it, pages and JSON API alike.
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
from labelops.services.auth import actor_for_user
from labelops.services.policy import Actor
from labelops.services.workspace import get_login_user, password_fingerprint

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "IDLE_SECONDS",
    "LANG_COOKIE",
    "WebSession",
    "check_csrf",
    "cookie_actor_resolver",
    "load_secret",
    "read_session",
    "session_actor",
    "write_session",
]

COOKIE_NAME = "lo_session"
LANG_COOKIE = "lo_lang"
CSRF_HEADER = "X-CSRF-Token"
IDLE_SECONDS = 12 * 3600
REFRESH_AFTER_SECONDS = 60
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class WebSession:
    """The decoded session cookie."""

    user_id: int | None
    """Logged-in user, or None for an anonymous visitor."""
    csrf: str
    """The token forms and fetch() calls must echo."""
    last_seen: int
    """Last activity, seconds since the epoch."""
    fingerprint: str = ""
    """Password-hash fingerprint at login."""

    @classmethod
    def anonymous(cls) -> WebSession:
        """A fresh anonymous session with a new CSRF token."""
        return cls(None, secrets.token_urlsafe(32), int(time.time()))


def load_secret(settings: Settings) -> str:
    """The signing secret: ``settings.session_secret``, else one kept in ``home``.

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


def read_session(request: Request) -> WebSession | None:
    """The request's valid session (signature good, not idle too long), else None.

    The result is cached on ``request.state`` for the rest of the request.
    """
    cached = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached if isinstance(cached, WebSession) else None
    raw = request.cookies.get(COOKIE_NAME)
    found: WebSession | None = None
    if raw:
        try:
            data = _serializer(request).loads(raw)
        except BadSignature:
            data = None
        if isinstance(data, dict):
            try:
                found = WebSession(
                    user_id=int(data["u"]) if data.get("u") is not None else None,
                    csrf=str(data["c"]),
                    last_seen=int(data["t"]),
                    fingerprint=str(data.get("p", "")),
                )
            except (KeyError, TypeError, ValueError):
                found = None
        if found is not None and time.time() - found.last_seen > IDLE_SECONDS:
            # Expired: keep the CSRF token (the login form still needs one) but drop the user.
            found = WebSession(None, found.csrf, int(time.time()))
            request.state.web_session_dirty = True
    request.state.web_session = found if found is not None else False
    return found


def ensure_session(request: Request) -> WebSession:
    """The request's session, or a new anonymous one (to be written to the response)."""
    found = read_session(request)
    if found is None:
        found = WebSession.anonymous()
        request.state.web_session = found
        request.state.web_session_dirty = True
    return found


def set_session(request: Request, web_session: WebSession) -> None:
    """Replace the request's session; the middleware writes it to the response."""
    request.state.web_session = web_session
    request.state.web_session_dirty = True


def write_session(request: Request, response: Response) -> None:
    """Write the session cookie when it changed or is due for an idle refresh."""
    current = getattr(request.state, "web_session", None)
    if not isinstance(current, WebSession):
        return
    dirty = bool(getattr(request.state, "web_session_dirty", False))
    now = int(time.time())
    if not dirty and now - current.last_seen < REFRESH_AFTER_SECONDS:
        return
    current = replace(current, last_seen=now)
    settings: Settings = request.app.state.settings
    payload = {"u": current.user_id, "c": current.csrf, "t": current.last_seen}
    if current.fingerprint:
        payload["p"] = current.fingerprint
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(payload),
        max_age=IDLE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session(request: Request) -> None:
    """Log out: a new anonymous session (fresh CSRF token) replaces the current one."""
    set_session(request, WebSession.anonymous())


def session_actor(request: Request, session: Session) -> Actor | None:
    """The logged-in actor of the cookie session, or None.

    The user row is read on every request, so deleting a user or changing their
    password ends their sessions at once.
    """
    web_session = read_session(request)
    if web_session is None or web_session.user_id is None:
        return None
    cached = getattr(request.state, "web_actor_cached", None)
    if isinstance(cached, Actor):
        return cached
    user = get_login_user(session, web_session.user_id)
    if user is None or password_fingerprint(user.password_hash) != web_session.fingerprint:
        return None
    actor = actor_for_user(user)
    if user.language is None:
        # No choice remembered yet: the cookie or the browser decides (see render.py).
        actor = replace(actor, language="")
    request.state.web_actor_cached = actor
    return actor


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

"""Server-side web sessions: one ``web_sessions`` row per logged-in browser.

The browser's cookie carries only a random secret (256 bits); the row keeps its SHA-256
(``secret_hash``), so neither a copy of the database nor a log of it opens a session.
A session ends:

- at logout, or when its user ends it from their sessions page (``end_session``);
- when the user's password changes, or the user is disabled or deleted
  (``end_user_sessions``, called by ``labelops.services.directory``);
- when unused for ``idle_seconds`` (``LABELOPS_SESSION_IDLE_SECONDS``);
- at ``expires_at``, ``max_seconds`` after login (``LABELOPS_SESSION_MAX_SECONDS``),
  however active.

``last_seen_at`` is written when a request finds it a minute old or more: at most one
small write a minute per session, not one per request. The session's CSRF token lives
in the row.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from labelops.errors import NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.auth import actor_for_user
from labelops.services.policy import Actor
from labelops.store.models import User, WebSession
from labelops.store.types import utcnow

__all__ = [
    "LiveSession",
    "SEEN_EVERY_SECONDS",
    "SessionInfo",
    "end_other_sessions",
    "end_session",
    "end_user_sessions",
    "find_session",
    "list_sessions",
    "start_session",
]

SEEN_EVERY_SECONDS = 60
"""``last_seen_at`` is rewritten when a request finds it at least this old."""


@dataclass(frozen=True)
class LiveSession:
    """A valid session found by its cookie secret."""

    id: int
    user_id: int
    csrf: str
    actor: Actor
    """Its user; ``language`` is "" when the user never chose one."""


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, as their sessions page lists it."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(
    session: Session,
    actor: Actor,
    *,
    max_seconds: int,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> tuple[str, LiveSession]:
    """Open a session for the actor who just logged in; returns the cookie's secret
    (shown to the browser only) and the session. Audited as ``session.start``."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with transaction(session):
        row = WebSession(
            user_id=actor.user_id,
            secret_hash=_hash(secret),
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=max_seconds),
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            actor,
            "session.start",
            "session",
            row.id,
            after={"ip": row.ip, "user_agent": row.user_agent},
            vendor_id=actor.vendor_id,
            now=now,
        )
        live = LiveSession(id=row.id, user_id=row.user_id, csrf=csrf, actor=actor)
    return secret, live


def find_session(
    session: Session, secret: str, *, idle_seconds: int, now: datetime | None = None
) -> LiveSession | None:
    """The live session whose cookie secret is ``secret``, or None: unknown, ended,
    past its absolute end, idle longer than ``idle_seconds``, or its user deleted or
    disabled. Records the activity when ``last_seen_at`` is a minute old or more.

    This is authentication (who is it?), so it checks no permission.
    """
    now = now or utcnow()
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.secret_hash == _hash(secret))
    ).first()
    if found is None:
        return None
    row, user = found[0], found[1]
    if (
        row.ended_at is not None
        or row.expires_at <= now
        or (now - row.last_seen_at).total_seconds() > idle_seconds
        or user.deleted_at is not None
        or user.disabled_at is not None
    ):
        return None
    actor = actor_for_user(user)
    if user.language is None:
        # No choice remembered yet: the cookie or the browser decides (web/render.py).
        actor = replace(actor, language="")
    live = LiveSession(id=row.id, user_id=row.user_id, csrf=row.csrf, actor=actor)
    if (now - row.last_seen_at).total_seconds() >= SEEN_EVERY_SECONDS:
        _seen(session, row.id, now)
    return live


def _seen(session: Session, session_id: int, now: datetime) -> None:
    """Record activity; skipped when the database is busy (it only delays idle expiry
    by the minute until the next try)."""
    try:
        with transaction(session):
            session.execute(
                update(WebSession)
                .where(WebSession.id == session_id)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
    except OperationalError:
        session.rollback()


def list_sessions(session: Session, actor: Actor, *, idle_seconds: int) -> list[SessionInfo]:
    """The actor's own live sessions, most recently used first."""
    now = utcnow()
    rows = session.scalars(
        select(WebSession)
        .where(
            WebSession.user_id == actor.user_id,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
            WebSession.last_seen_at > now - timedelta(seconds=idle_seconds),
        )
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
    )
    return [
        SessionInfo(r.id, r.created_at, r.last_seen_at, r.expires_at, r.ip, r.user_agent)
        for r in rows
    ]


def end_session(session: Session, actor: Actor, session_id: int, *, reason: str) -> None:
    """End one of the actor's own sessions (``reason``: ``logout`` or ``ended``).

    Raises:
        NotFound: No live session of the actor has that id.
    """
    now = utcnow()
    with transaction(session):
        done = session.execute(
            update(WebSession)
            .where(
                WebSession.id == session_id,
                WebSession.user_id == actor.user_id,
                WebSession.ended_at.is_(None),
            )
            .values(ended_at=now, end_reason=reason)
            .execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 0) != 1:
            raise NotFound("errors.session.not_found", session=session_id)
        record_event(
            session,
            actor,
            f"session.{reason}",
            "session",
            session_id,
            vendor_id=actor.vendor_id,
            now=now,
        )


def end_other_sessions(session: Session, actor: Actor, keep_id: int) -> int:
    """End every live session of the actor but ``keep_id``; returns how many ended."""
    now = utcnow()
    with transaction(session):
        count = end_user_sessions(session, actor.user_id or 0, now, "ended", keep_id=keep_id)
        record_event(
            session,
            actor,
            "session.end_others",
            "user",
            actor.user_id,
            after={"ended": count, "kept": keep_id},
            vendor_id=actor.vendor_id,
            now=now,
        )
    return count


def end_user_sessions(
    session: Session, user_id: int, now: datetime, reason: str, *, keep_id: int | None = None
) -> int:
    """End every live session of a user, inside the caller's transaction (the caller
    records the audit event of the change that ends them); returns how many ended."""
    statement = update(WebSession).where(
        WebSession.user_id == user_id, WebSession.ended_at.is_(None)
    )
    if keep_id is not None:
        statement = statement.where(WebSession.id != keep_id)
    done = session.execute(
        statement.values(ended_at=now, end_reason=reason).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(done, "rowcount", 0) or 0)

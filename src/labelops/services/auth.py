"""Passwords (argon2) and API tokens (random, stored as SHA-256).

Tokens expire (``expires_at``, ``DEFAULT_TOKEN_DAYS`` unless set at creation) and can be
revoked one by one. A token's lookup is remembered per process for
``TOKEN_CACHE_SECONDS`` (10 s): a token revoked, or its user disabled or deleted, stops
at once in the process that made the change and within 10 s in the others; an expiry
is checked on every request, remembered or not. ``last_used_at`` is written only when
a lookup (a cache miss) finds it older than ``LAST_USED_EVERY_SECONDS``: at most about
once a minute per token, never once per request.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from labelops.errors import AuthenticationFailed, InvalidInput
from labelops.services._tx import transaction
from labelops.services.policy import Actor
from labelops.store.failures import storage_failure_cause
from labelops.store.models import ApiToken, User
from labelops.store.prepared import Prepared
from labelops.store.types import utcnow
from labelops.types import Role

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "TOKEN_TOUCH",
    "actor_for_user",
    "authenticate_password",
    "authenticate_token",
    "forget_token_lookups",
    "hash_password",
    "hash_token",
    "new_token",
    "remembered_token",
    "token_actor",
    "token_expiry",
    "token_prefix",
    "touch_due",
    "verify_password",
]

TOKEN_PREFIX = "lo_"
DEFAULT_TOKEN_DAYS = 90
"""A new token's lifetime unless its creator says otherwise (``LABELOPS_TOKEN_DAYS``)."""
MAX_TOKEN_DAYS = 3650
LAST_USED_EVERY_SECONDS = 60
"""``api_tokens.last_used_at`` is rewritten when a lookup finds it older than this."""
_hasher = PasswordHasher()


def new_token() -> str:
    """A new random API token (256 bits, URL-safe)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token. Tokens are high-entropy, so a fast hash is safe here."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters of a token, kept in clear to tell tokens apart in lists."""
    return token[: len(TOKEN_PREFIX) + 6]


def token_expiry(now: datetime, days: int | None) -> datetime:
    """When a token made ``now`` expires: after ``days`` (default ``DEFAULT_TOKEN_DAYS``).

    Raises:
        InvalidInput: ``days`` outside 1..``MAX_TOKEN_DAYS``.
    """
    days = DEFAULT_TOKEN_DAYS if days is None else days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(
            "errors.token.bad_days", field="expires_days", value=days, max=MAX_TOKEN_DAYS
        )
    return now + timedelta(days=days)


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_for_user(user: User) -> Actor:
    """The ``Actor`` of a user row."""
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        vendor_id=user.vendor_id,
        language=user.language or "en",
    )


def authenticate_token(session: Session, token: str) -> Actor:
    """The actor owning ``token``.

    Every API request runs this, so a successful lookup is remembered in this process
    for ``TOKEN_CACHE_SECONDS``. Deleting a user or changing their language here clears
    the memory at once; another server process notices within that time.

    Raises:
        AuthenticationFailed: Unknown, revoked or expired token, or the user was
            deleted or disabled.
    """
    token_hash, actor = remembered_token(token)
    if actor is not None:
        return actor
    row = TOKEN_LOOKUP.first(session.connection(), {"token_hash": token_hash})
    actor = token_actor(token_hash, row)
    touch = touch_due(row)
    if touch is not None:
        _touch_token(session, touch)
    return actor


def _touch_token(session: Session, params: dict[str, Any]) -> None:
    """Write ``last_used_at`` in a short write transaction of its own (or the caller's
    joined one); skipped when the database is busy, read-only or full: it is a hint, not
    a record (the request's own write, if any, then answers 503 with the cause)."""
    try:
        with transaction(session):
            TOKEN_TOUCH.execute(session.connection(), params)
    except Exception as error:  # raw driver errors too: prepared statements run on its cursor
        if not isinstance(error, OperationalError) and storage_failure_cause(error) is None:
            raise
        session.rollback()


def remembered_token(token: str) -> tuple[str, Actor | None]:
    """The token's hash, and its actor if this process looked the token up within
    ``TOKEN_CACHE_SECONDS`` and it has not expired since (else None: run
    ``TOKEN_LOOKUP`` with the hash, then ``token_actor``)."""
    token_hash = hash_token(token)
    remembered = _TOKEN_CACHE.get(token_hash)
    if (
        remembered is not None
        and time.monotonic() - remembered[0] < TOKEN_CACHE_SECONDS
        and time.time() < remembered[2]
    ):
        return token_hash, remembered[1]
    return token_hash, None


def touch_due(row: Any | None) -> dict[str, Any] | None:
    """``TOKEN_TOUCH``'s parameters when the looked-up token's ``last_used_at`` is older
    than ``LAST_USED_EVERY_SECONDS`` (or unset); None when it is recent enough."""
    if row is None:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is not None and (now - last).total_seconds() < LAST_USED_EVERY_SECONDS:
        return None
    return {"token_id": row.token_id, "now": now}


def token_actor(token_hash: str, row: Any | None) -> Actor:
    """The actor of ``TOKEN_LOOKUP``'s row for ``token_hash``, remembered from now on.

    Raises:
        AuthenticationFailed: No row (unknown or revoked token), an expired token, or
            the user was deleted or disabled.
    """
    if row is None or row.deleted_at is not None or row.disabled_at is not None:
        raise AuthenticationFailed("errors.auth.bad_token")
    expires = math.inf if row.expires_at is None else row.expires_at.timestamp()
    if time.time() >= expires:
        raise AuthenticationFailed("errors.auth.expired_token")
    actor = Actor(
        user_id=row.id,
        username=row.username,
        role=Role(row.role),
        vendor_id=row.vendor_id,
        language=row.language or "en",
    )
    if len(_TOKEN_CACHE) >= _TOKEN_CACHE_MAX:
        _TOKEN_CACHE.clear()
    _TOKEN_CACHE[token_hash] = (time.monotonic(), actor, expires)
    return actor


def forget_token_lookups() -> None:
    """Forget remembered token lookups (after a change to a user or their tokens)."""
    _TOKEN_CACHE.clear()


TOKEN_CACHE_SECONDS = 10.0
_TOKEN_CACHE_MAX = 100_000
_TOKEN_CACHE: dict[str, tuple[float, Actor, float]] = {}
"""token hash -> (monotonic time of the lookup, actor, expiry as epoch seconds)."""


_USERS = cast(Table, User.__table__)
_TOKENS = cast(Table, ApiToken.__table__)
TOKEN_LOOKUP = Prepared(
    select(
        _USERS.c.id,
        _USERS.c.username,
        _USERS.c.role,
        _USERS.c.vendor_id,
        _USERS.c.language,
        _USERS.c.deleted_at,
        _USERS.c.disabled_at,
        _TOKENS.c.id.label("token_id"),
        _TOKENS.c.expires_at,
        _TOKENS.c.last_used_at,
    )
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
)
"""The user of an unrevoked token, by ``token_hash``: one row or none (``token_actor``
checks expiry and the user's state; ``touch_due`` says whether to run ``TOKEN_TOUCH``)."""

TOKEN_TOUCH = Prepared(
    update(_TOKENS)
    .where(_TOKENS.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now", type_=_TOKENS.c.last_used_at.type))
)
"""Record a token's use (``touch_due`` gives the parameters)."""


def authenticate_password(session: Session, username: str, password: str) -> Actor:
    """The actor whose username and password match.

    Raises:
        AuthenticationFailed: Unknown user, wrong password, no password set, deleted or
            disabled.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if (
        user is None
        or user.deleted_at is not None
        or user.disabled_at is not None
        or not user.password_hash
    ):
        # Hash anyway so that timing does not reveal which usernames exist.
        verify_password(_dummy_hash(), password)
        raise AuthenticationFailed("errors.auth.bad_password")
    if not verify_password(user.password_hash, password):
        raise AuthenticationFailed("errors.auth.bad_password")
    return actor_for_user(user)


@cache
def _dummy_hash() -> str:
    # Made on first use, not at import: one argon2 hash takes ~0.1-0.5 s and 64 MiB of
    # memory, which every process (the API server, each CLI command) paid at start-up.
    return _hasher.hash("labelops-timing-equaliser")

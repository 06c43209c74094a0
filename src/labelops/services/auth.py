"""Passwords (argon2) and API tokens (random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
import time
from functools import cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from labelops.errors import AuthenticationFailed
from labelops.services.policy import Actor
from labelops.store.models import ApiToken, User
from labelops.store.prepared import Prepared
from labelops.types import Role

__all__ = [
    "actor_for_user",
    "authenticate_password",
    "authenticate_token",
    "forget_token_lookups",
    "hash_password",
    "hash_token",
    "new_token",
    "remembered_token",
    "token_actor",
    "verify_password",
]

TOKEN_PREFIX = "lo_"
_hasher = PasswordHasher()


def new_token() -> str:
    """A new random API token (256 bits, URL-safe)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token. Tokens are high-entropy, so a fast hash is safe here."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
        AuthenticationFailed: Unknown or revoked token, or the user was deleted.
    """
    token_hash, actor = remembered_token(token)
    if actor is not None:
        return actor
    return token_actor(
        token_hash, TOKEN_LOOKUP.first(session.connection(), {"token_hash": token_hash})
    )


def remembered_token(token: str) -> tuple[str, Actor | None]:
    """The token's hash, and its actor if this process looked the token up within
    ``TOKEN_CACHE_SECONDS`` (else None: run ``TOKEN_LOOKUP`` with the hash, then
    ``token_actor``)."""
    token_hash = hash_token(token)
    remembered = _TOKEN_CACHE.get(token_hash)
    if remembered is not None and time.monotonic() - remembered[0] < TOKEN_CACHE_SECONDS:
        return token_hash, remembered[1]
    return token_hash, None


def token_actor(token_hash: str, row: Any | None) -> Actor:
    """The actor of ``TOKEN_LOOKUP``'s row for ``token_hash``, remembered from now on.

    Raises:
        AuthenticationFailed: No row (unknown or revoked token), or the user was deleted.
    """
    if row is None or row.deleted_at is not None:
        raise AuthenticationFailed("errors.auth.bad_token")
    actor = Actor(
        user_id=row.id,
        username=row.username,
        role=Role(row.role),
        vendor_id=row.vendor_id,
        language=row.language or "en",
    )
    if len(_TOKEN_CACHE) >= _TOKEN_CACHE_MAX:
        _TOKEN_CACHE.clear()
    _TOKEN_CACHE[token_hash] = (time.monotonic(), actor)
    return actor


def forget_token_lookups() -> None:
    """Forget remembered token lookups (after a change to a user or their tokens)."""
    _TOKEN_CACHE.clear()


TOKEN_CACHE_SECONDS = 10.0
_TOKEN_CACHE_MAX = 100_000
_TOKEN_CACHE: dict[str, tuple[float, Actor]] = {}


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
    )
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
)
"""The user of a live token, by ``token_hash``: one row or none (see ``token_actor``)."""


def authenticate_password(session: Session, username: str, password: str) -> Actor:
    """The actor whose username and password match.

    Raises:
        AuthenticationFailed: Unknown user, wrong password, no password set, or deleted.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or user.deleted_at is not None or not user.password_hash:
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

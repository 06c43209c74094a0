"""Password guessing: per-account and per-address throttling with back-off.

Failed logins are counted in ``login_throttle`` rows (one per lower-cased account name
typed, known or not, and one per client address), so every server process shares them.
After ``free`` failures a key is locked for ``base_seconds`` x 2^(failures - free), at
most ``max_seconds``; a failure more than ``forget_seconds`` after the previous one
starts the count again. A successful login clears its account's count (not its
address's: one valid account must not reset an address spraying others).

``password_login`` asks whether either key is locked BEFORE verifying the password:
argon2 is CPU-heavy on purpose, and a refused guess costs one indexed read, so guessing
loops cannot raise everyone's latency. A key becoming locked for the first time in its
run of failures is an audit event (``auth.lockout``) that admins see on their security
page; admins may clear a lock there (``auth.unlock``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelops.errors import AuthenticationFailed, NotFound, TooManyAttempts
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.auth import authenticate_password
from labelops.services.policy import Actor, authorize
from labelops.store.models import LoginThrottle
from labelops.store.types import utcnow
from labelops.types import Role

__all__ = [
    "ACCOUNT",
    "ADDRESS",
    "ThrottlePolicy",
    "clear_lock",
    "list_locks",
    "password_login",
    "retry_after",
]

ACCOUNT = "account"
ADDRESS = "address"
_SYSTEM = Actor(user_id=None, username="login-throttle", role=Role.ADMIN)


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how the locks grow (from ``Settings``)."""

    account_free: int = 5
    address_free: int = 30
    base_seconds: float = 1.0
    max_seconds: int = 900
    forget_seconds: int = 3600


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    keys = [(ACCOUNT, username.strip().casefold()[:200])]
    if address:
        keys.append((ADDRESS, address[:200]))
    return keys


def retry_after(session: Session, username: str, address: str | None, now: datetime) -> int:
    """Seconds until a login for ``username`` from ``address`` may be tried; 0 if now."""
    wait = 0.0
    for kind, key in _keys(username, address):
        until = session.scalar(
            select(LoginThrottle.locked_until).where(
                LoginThrottle.kind == kind, LoginThrottle.key == key
            )
        )
        if until is not None and until > now:
            wait = max(wait, (until - now).total_seconds())
    return math.ceil(wait)


def password_login(
    session: Session,
    username: str,
    password: str,
    *,
    address: str | None,
    policy: ThrottlePolicy,
    now: datetime | None = None,
) -> Actor:
    """``authenticate_password`` behind the throttle.

    Raises:
        TooManyAttempts: The account or the address is locked (nothing was verified).
        AuthenticationFailed: Wrong name or password (the failure is counted).
    """
    now = now or utcnow()
    wait = retry_after(session, username, address, now)
    if wait > 0:
        session.rollback()
        raise TooManyAttempts("errors.auth.locked", retry_after=wait)
    try:
        actor = authenticate_password(session, username, password)
    except AuthenticationFailed:
        session.rollback()
        _count_failure(session, username, address, policy, now)
        raise
    with transaction(session):
        session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.kind == ACCOUNT,
                LoginThrottle.key == _keys(username, None)[0][1],
            )
        )
    return actor


def _count_failure(
    session: Session, username: str, address: str | None, policy: ThrottlePolicy, now: datetime
) -> None:
    try:
        _count_failure_once(session, username, address, policy, now)
    except IntegrityError:
        # Another process inserted the same key's first row meanwhile: count again on it.
        session.rollback()
        _count_failure_once(session, username, address, policy, now)


def _count_failure_once(
    session: Session, username: str, address: str | None, policy: ThrottlePolicy, now: datetime
) -> None:
    with transaction(session):
        for kind, key in _keys(username, address):
            free = policy.account_free if kind == ACCOUNT else policy.address_free
            row = session.scalar(
                select(LoginThrottle)
                .where(LoginThrottle.kind == kind, LoginThrottle.key == key)
                .with_for_update()
            )
            if row is None:
                row = LoginThrottle(kind=kind, key=key, failures=0, last_failure_at=now)
                session.add(row)
            elif (now - row.last_failure_at).total_seconds() > policy.forget_seconds:
                row.failures = 0
                row.locked_until = None
            was_locked = row.failures >= free
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= free:
                seconds = min(
                    float(policy.max_seconds),
                    policy.base_seconds * 2.0 ** min(row.failures - free, 40),
                )
                row.locked_until = now + timedelta(seconds=seconds)
                if not was_locked:
                    record_event(
                        session,
                        _SYSTEM,
                        "auth.lockout",
                        kind,
                        None,
                        after={"key": key, "failures": row.failures, "seconds": seconds},
                        now=now,
                    )
            session.flush()


@dataclass(frozen=True)
class LockInfo:
    """A throttled account name or address, for the admins' security page."""

    kind: str
    key: str
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


def list_locks(session: Session, actor: Actor) -> list[LockInfo]:
    """Account names and addresses with failures counted, locked ones first (admin)."""
    authorize(actor, "user.manage")
    rows = session.scalars(
        select(LoginThrottle).order_by(
            LoginThrottle.locked_until.desc(), LoginThrottle.last_failure_at.desc()
        )
    )
    return [LockInfo(r.kind, r.key, r.failures, r.last_failure_at, r.locked_until) for r in rows]


def clear_lock(session: Session, actor: Actor, kind: str, key: str) -> None:
    """Forget the failures of an account name or address (admin); audited.

    Raises:
        NotFound: Nothing is counted for it.
    """
    authorize(actor, "user.manage")
    with transaction(session):
        row = session.scalar(
            select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key)
        )
        if row is None:
            raise NotFound("errors.lock.not_found", key=key)
        session.delete(row)
        record_event(
            session,
            actor,
            "auth.unlock",
            kind,
            None,
            before={"key": key, "failures": row.failures},
        )

"""Vendors, users and their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.auth import (
    forget_token_lookups,
    hash_password,
    hash_token,
    new_token,
    token_expiry,
    token_prefix,
)
from labelops.services.passwords import check_password
from labelops.services.policy import (
    Actor,
    authorize,
    can,
    require_same_vendor,
    scope_to_vendor,
)
from labelops.services.sessions import end_user_sessions
from labelops.store.models import ApiToken, User, Vendor
from labelops.store.types import utcnow
from labelops.types import Role

__all__ = [
    "NewUser",
    "create_token",
    "create_user",
    "create_vendor",
    "delete_user",
    "disable_user",
    "enable_user",
    "get_user_by_name",
    "get_user",
    "get_vendor",
    "get_vendor_by_name",
    "list_users",
    "list_tokens",
    "list_vendors",
    "revoke_token",
    "set_password",
    "set_user_language",
]

_VENDOR_ROLES = {Role.VENDOR_MANAGER, Role.LABELLER}


@dataclass(frozen=True)
class NewUser:
    """A created user and its first token (shown once, never stored in clear)."""

    user: User
    token: str


def _clean_name(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 200:
        raise InvalidInput("errors.name.invalid", field=field, value=value)
    if any(ord(ch) < 32 for ch in cleaned):
        raise InvalidInput("errors.name.control_chars", field=field, value=value)
    return cleaned


def create_vendor(session: Session, actor: Actor, name: str) -> Vendor:
    """Create a vendor.

    Raises:
        Conflict: A vendor with that name exists.
    """
    authorize(actor, "vendor.manage")
    name = _clean_name(name, "name")
    with transaction(session):
        if session.scalar(select(Vendor.id).where(Vendor.name == name)) is not None:
            raise Conflict("errors.vendor.exists", name=name)
        vendor = Vendor(name=name)
        session.add(vendor)
        session.flush()
        record_event(
            session,
            actor,
            "vendor.create",
            "vendor",
            vendor.id,
            after={"name": name},
            vendor_id=vendor.id,
        )
    return vendor


def list_vendors(session: Session, actor: Actor) -> list[Vendor]:
    """Vendors the actor may see (their own only, for vendor roles)."""
    authorize(actor, "vendor.read")
    query = scope_to_vendor(select(Vendor).order_by(Vendor.name), actor, Vendor.id)
    return list(session.scalars(query))


def get_vendor(session: Session, actor: Actor, vendor_id: int) -> Vendor:
    """One vendor by id.

    Raises:
        NotFound: No such vendor, or not the actor's.
    """
    authorize(actor, "vendor.read", vendor_id=vendor_id)
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("errors.vendor.not_found", vendor=vendor_id)
    return vendor


def get_vendor_by_name(session: Session, name: str) -> Vendor:
    """A vendor by name (command-line lookups).

    Raises:
        NotFound: No vendor has that name.
    """
    vendor = session.scalar(select(Vendor).where(Vendor.name == name))
    if vendor is None:
        raise NotFound("errors.vendor.not_found", vendor=name)
    return vendor


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    role: Role | str,
    vendor_id: int | None = None,
    password: str | None = None,
    display_name: str | None = None,
    language: str | None = None,
    token_days: int | None = None,
) -> NewUser:
    """Create a user with a first API token (valid ``token_days``, default
    ``auth.DEFAULT_TOKEN_DAYS``).

    Raises:
        InvalidInput: Unknown role; a vendor role without a vendor, or an in-house role
            with one; a weak password (``passwords.check_password``).
        Conflict: The username is taken.
    """
    authorize(actor, "user.manage")
    username = _clean_name(username, "username")
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput(
            "errors.user.bad_role",
            field="role",
            value=role,
            allowed=", ".join(r.value for r in Role),
        ) from exc
    if role in _VENDOR_ROLES and vendor_id is None:
        raise InvalidInput("errors.user.vendor_required", field="vendor", role=role.value)
    if role not in _VENDOR_ROLES and vendor_id is not None:
        raise InvalidInput("errors.user.vendor_forbidden", field="vendor", role=role.value)
    if password is not None:
        check_password(password, username)
    token = new_token()
    now = utcnow()
    expires_at = token_expiry(now, token_days)
    with transaction(session):
        if vendor_id is not None and session.get(Vendor, vendor_id) is None:
            raise NotFound("errors.vendor.not_found", vendor=vendor_id)
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict("errors.user.exists", username=username)
        user = User(
            username=username,
            role=role.value,
            vendor_id=vendor_id,
            display_name=display_name,
            password_hash=hash_password(password) if password else None,
            language=language,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict("errors.user.exists", username=username) from exc
        session.add(
            ApiToken(
                user_id=user.id,
                token_hash=hash_token(token),
                prefix=token_prefix(token),
                created_at=now,
                expires_at=expires_at,
            )
        )
        record_event(
            session,
            actor,
            "user.create",
            "user",
            user.id,
            after={"username": username, "role": role.value, "vendor_id": vendor_id},
            vendor_id=vendor_id,
        )
    return NewUser(user=user, token=token)


def create_token(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    name: str = "default",
    expires_days: int | None = None,
) -> str:
    """Issue another API token for a user, valid ``expires_days`` (default
    ``auth.DEFAULT_TOKEN_DAYS``); returns it once (only its hash and prefix are kept).

    Raises:
        InvalidInput: ``expires_days`` out of range, or a bad name.
        NotFound: No such user.
    """
    authorize(actor, "user.manage")
    name = _clean_name(name, "name")[:100]
    token = new_token()
    now = utcnow()
    expires_at = token_expiry(now, expires_days)
    with transaction(session):
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("errors.user.not_found", user=user_id)
        row = ApiToken(
            user_id=user_id,
            token_hash=hash_token(token),
            name=name,
            prefix=token_prefix(token),
            created_at=now,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            actor,
            "token.create",
            "token",
            row.id,
            after={"user_id": user_id, "name": name, "expires_at": expires_at.isoformat()},
            vendor_id=user.vendor_id,
        )
    return token


def list_tokens(session: Session, actor: Actor, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first, revoked and expired ones included (admin, or the
    user themself). The rows carry the prefix, never the token."""
    if actor.user_id != user_id:
        authorize(actor, "user.manage")
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("errors.user.not_found", user=user_id)
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one token (admin, or its owner). It stops at once in this process and
    within ``auth.TOKEN_CACHE_SECONDS`` in the others.

    Raises:
        NotFound: No such token (or not the actor's).
        Conflict: Already revoked.
    """
    now = utcnow()
    with transaction(session):
        token = session.get(ApiToken, token_id)
        if token is None or (actor.user_id != token.user_id and not _may_manage(actor)):
            raise NotFound("errors.token.not_found", token=token_id)
        if token.revoked_at is not None:
            raise Conflict("errors.token.revoked", token=token_id)
        token.revoked_at = now
        user = session.get(User, token.user_id)
        record_event(
            session,
            actor,
            "token.revoke",
            "token",
            token_id,
            before={"user_id": token.user_id, "name": token.name, "prefix": token.prefix},
            vendor_id=user.vendor_id if user else None,
            now=now,
        )
    forget_token_lookups()
    return token


def _may_manage(actor: Actor) -> bool:
    return can(actor, "user.manage")


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> None:
    """Set a user's password (admin, or the user themself); ends the user's web
    sessions.

    Raises:
        InvalidInput: A weak password (``passwords.check_password``).
        NotFound: No such user.
    """
    if actor.user_id != user_id:
        authorize(actor, "user.manage")
    now = utcnow()
    with transaction(session):
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("errors.user.not_found", user=user_id)
        check_password(password, user.username)
        user.password_hash = hash_password(password)
        ended = end_user_sessions(session, user_id, now, "password")
        record_event(
            session,
            actor,
            "user.password",
            "user",
            user_id,
            after={"sessions_ended": ended},
            vendor_id=user.vendor_id,
            now=now,
        )


def disable_user(session: Session, actor: Actor, user_id: int) -> None:
    """Disable a user: no login, no token works, their web sessions end (admin).

    Raises:
        NotFound: No such user.
        Conflict: Already disabled, or the actor's own account.
    """
    _set_disabled(session, actor, user_id, disabled=True)


def enable_user(session: Session, actor: Actor, user_id: int) -> None:
    """Let a disabled user log in and use their unexpired tokens again (admin).

    Raises:
        NotFound: No such user.
        Conflict: Not disabled.
    """
    _set_disabled(session, actor, user_id, disabled=False)


def _set_disabled(session: Session, actor: Actor, user_id: int, *, disabled: bool) -> None:
    authorize(actor, "user.manage")
    now = utcnow()
    with transaction(session):
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("errors.user.not_found", user=user_id)
        if disabled and actor.user_id == user_id:
            raise Conflict("errors.user.disable_self")
        if (user.disabled_at is not None) == disabled:
            raise Conflict(
                "errors.user.already_disabled" if disabled else "errors.user.not_disabled",
                username=user.username,
            )
        user.disabled_at = now if disabled else None
        ended = end_user_sessions(session, user_id, now, "disabled") if disabled else 0
        record_event(
            session,
            actor,
            "user.disable" if disabled else "user.enable",
            "user",
            user_id,
            before={"username": user.username},
            after={"sessions_ended": ended} if disabled else None,
            vendor_id=user.vendor_id,
            now=now,
        )
    forget_token_lookups()


def set_user_language(session: Session, actor: Actor, language: str) -> None:
    """Remember the actor's interface language."""
    from labelops.i18n import normalise_language

    if actor.user_id is None:
        return
    language = normalise_language(language)
    with transaction(session):
        user = session.get(User, actor.user_id)
        if user is None:
            raise NotFound("errors.user.not_found", user=actor.user_id)
        before = user.language
        user.language = language
        record_event(
            session,
            actor,
            "user.language",
            "user",
            user.id,
            before={"language": before},
            after={"language": language},
            vendor_id=user.vendor_id,
        )
    forget_token_lookups()


def delete_user(
    session: Session, actor: Actor, user_id: int, *, now: datetime | None = None
) -> None:
    """Soft-delete a user and revoke every token (their labels stay)."""
    authorize(actor, "user.manage")
    now = now or utcnow()
    with transaction(session):
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("errors.user.not_found", user=user_id)
        user.deleted_at = now
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        end_user_sessions(session, user_id, now, "deleted")
        record_event(
            session,
            actor,
            "user.delete",
            "user",
            user_id,
            before={"username": user.username},
            vendor_id=user.vendor_id,
        )
    forget_token_lookups()


def list_users(session: Session, actor: Actor, *, vendor_id: int | None = None) -> list[User]:
    """Users the actor may see: all for in-house roles, their vendor's for vendor roles."""
    authorize(actor, "user.read")
    query = select(User).where(User.deleted_at.is_(None)).order_by(User.username)
    if vendor_id is not None:
        query = query.where(User.vendor_id == vendor_id)
    query = scope_to_vendor(query, actor, User.vendor_id)
    return list(session.scalars(query))


def get_user_by_name(session: Session, actor: Actor, username: str) -> User:
    """A live user by name (command-line lookups).

    Raises:
        NotFound: No live user has that name.
    """
    authorize(actor, "user.read")
    user = session.scalar(select(User).where(User.username == username, User.deleted_at.is_(None)))
    if user is None:
        raise NotFound("errors.user.not_found", user=username)
    require_same_vendor(actor, user.vendor_id)
    return user


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """One user by id, if the actor may see them."""
    authorize(actor, "user.read")
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("errors.user.not_found", user=user_id)
    require_same_vendor(actor, user.vendor_id)
    return user

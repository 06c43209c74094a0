"""Vendors, users, tokens and ``/me``."""

from __future__ import annotations

from fastapi import APIRouter, status

from labelops.api.deps import CurrentActor, SessionDep, SettingsDep
from labelops.api.schemas.directory import (
    MePublic,
    PasswordSet,
    TokenCreate,
    TokenInfo,
    TokenPublic,
    UserCreate,
    UserCreated,
    UserPublic,
    VendorCreate,
    VendorPublic,
)
from labelops.api.schemas.fields import Id
from labelops.services import directory

router = APIRouter(prefix="/api", tags=["directory"])


@router.get("/me")
def read_me(actor: CurrentActor) -> MePublic:
    """Who the caller is."""
    return MePublic(
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role.value,
        vendor_id=actor.vendor_id,
        language=actor.language,
    )


@router.get("/vendors")
def list_vendors(session: SessionDep, actor: CurrentActor) -> list[VendorPublic]:
    """Vendors the caller may see."""
    return [VendorPublic.model_validate(v) for v in directory.list_vendors(session, actor)]


@router.post("/vendors", status_code=status.HTTP_201_CREATED)
def create_vendor(body: VendorCreate, session: SessionDep, actor: CurrentActor) -> VendorPublic:
    """Create a vendor (admin)."""
    return VendorPublic.model_validate(directory.create_vendor(session, actor, body.name))


@router.get("/vendors/{vendor_id}")
def read_vendor(vendor_id: Id, session: SessionDep, actor: CurrentActor) -> VendorPublic:
    """One vendor."""
    return VendorPublic.model_validate(directory.get_vendor(session, actor, vendor_id))


@router.get("/users")
def list_users(
    session: SessionDep, actor: CurrentActor, vendor_id: Id | None = None
) -> list[UserPublic]:
    """Users the caller may see."""
    users = directory.list_users(session, actor, vendor_id=vendor_id)
    return [UserPublic.model_validate(u) for u in users]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserCreate, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserCreated:
    """Create a user; the response carries their first token, shown once (admin).
    A weak password is refused (422): see ``labelops.services.passwords``."""
    created = directory.create_user(
        session,
        actor,
        body.username,
        role=body.role,
        vendor_id=body.vendor_id,
        password=body.password,
        display_name=body.display_name,
        language=body.language,
        token_days=settings.token_days,
    )
    return UserCreated(
        id=created.user.id,
        username=created.user.username,
        role=created.user.role,
        vendor_id=created.user.vendor_id,
        token=created.token,
    )


@router.get("/users/{user_id}")
def read_user(user_id: Id, session: SessionDep, actor: CurrentActor) -> UserPublic:
    """One user."""
    return UserPublic.model_validate(directory.get_user(session, actor, user_id))


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: Id, session: SessionDep, actor: CurrentActor) -> None:
    """Delete a user and revoke their tokens (admin)."""
    directory.delete_user(session, actor, user_id)


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    user_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    body: TokenCreate | None = None,
) -> TokenPublic:
    """Issue another token for a user, shown once (admin). Optional body: ``name`` and
    ``expires_days`` (default ``LABELOPS_TOKEN_DAYS``)."""
    options = body or TokenCreate()
    token = directory.create_token(
        session,
        actor,
        user_id,
        name=options.name,
        expires_days=options.expires_days or settings.token_days,
    )
    listed = directory.list_tokens(session, actor, user_id)[0]
    return TokenPublic(token=token, id=listed.id, expires_at=listed.expires_at)


@router.get("/users/{user_id}/tokens")
def list_tokens(user_id: Id, session: SessionDep, actor: CurrentActor) -> list[TokenInfo]:
    """A user's tokens with prefix, expiry and last use, never the secret (admin, or
    the user themself)."""
    return [TokenInfo.model_validate(t) for t in directory.list_tokens(session, actor, user_id)]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: Id, session: SessionDep, actor: CurrentActor) -> None:
    """Revoke one token (admin, or its owner); it stops at once on this server process
    and within 10 s on the others (404 unknown, 409 already revoked)."""
    directory.revoke_token(session, actor, token_id)


@router.post("/users/{user_id}/disable", status_code=status.HTTP_204_NO_CONTENT)
def disable_user(user_id: Id, session: SessionDep, actor: CurrentActor) -> None:
    """Disable a user: no login, no token, their web sessions end (admin)."""
    directory.disable_user(session, actor, user_id)


@router.post("/users/{user_id}/enable", status_code=status.HTTP_204_NO_CONTENT)
def enable_user(user_id: Id, session: SessionDep, actor: CurrentActor) -> None:
    """Enable a disabled user again (admin)."""
    directory.enable_user(session, actor, user_id)


@router.put("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(user_id: Id, body: PasswordSet, session: SessionDep, actor: CurrentActor) -> None:
    """Set a user's password (admin, or the user themself); ends their web sessions.
    A weak password is refused (422)."""
    directory.set_password(session, actor, user_id, body.password)

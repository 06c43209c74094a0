"""Vendors, users, tokens and ``/me``."""

from __future__ import annotations

from fastapi import APIRouter, status

from labelops.api.deps import CurrentActor, SessionDep
from labelops.api.schemas.directory import (
    MePublic,
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
def create_user(body: UserCreate, session: SessionDep, actor: CurrentActor) -> UserCreated:
    """Create a user; the response carries their first token, shown once (admin)."""
    created = directory.create_user(
        session,
        actor,
        body.username,
        role=body.role,
        vendor_id=body.vendor_id,
        password=body.password,
        display_name=body.display_name,
        language=body.language,
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
def create_token(user_id: Id, session: SessionDep, actor: CurrentActor) -> TokenPublic:
    """Issue another token for a user (admin)."""
    return TokenPublic(token=directory.create_token(session, actor, user_id))

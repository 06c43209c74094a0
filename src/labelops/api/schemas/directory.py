"""Schemas for vendors, users and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from labelops.api.schemas.fields import IdField, Text
from labelops.types import Role

__all__ = [
    "MePublic",
    "PasswordSet",
    "TokenCreate",
    "TokenInfo",
    "TokenPublic",
    "UserCreate",
    "UserCreated",
    "UserPublic",
    "VendorCreate",
    "VendorPublic",
]


class VendorCreate(BaseModel):
    """A new vendor."""

    name: Text = Field(min_length=1, max_length=200)


class VendorPublic(BaseModel):
    """A vendor as clients see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime


class UserCreate(BaseModel):
    """A new user."""

    username: Text = Field(min_length=1, max_length=200)
    role: Role
    vendor_id: IdField | None = None
    password: Text | None = Field(default=None, min_length=8, max_length=500)
    display_name: Text | None = Field(default=None, max_length=200)
    language: Text | None = Field(default=None, max_length=32)


class UserPublic(BaseModel):
    """A user as clients see it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    vendor_id: int | None
    display_name: str | None
    language: str | None
    created_at: datetime
    disabled_at: datetime | None = None


class UserCreated(BaseModel):
    """A created user with the token shown this once."""

    username: str
    role: str
    vendor_id: int | None
    id: int
    token: str


class TokenPublic(BaseModel):
    """A newly issued token (shown once)."""

    token: str
    id: int | None = None
    expires_at: datetime | None = None


class TokenCreate(BaseModel):
    """Options of a new token."""

    name: str = Field(default="default", min_length=1, max_length=100)
    expires_days: int | None = Field(default=None, ge=1, le=3650)
    """Days until it expires; default ``LABELOPS_TOKEN_DAYS`` (90)."""


class TokenInfo(BaseModel):
    """A token as listed: its first characters only, never the secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class PasswordSet(BaseModel):
    """A new password."""

    password: str = Field(min_length=8, max_length=500)


class MePublic(BaseModel):
    """Who the caller is."""

    user_id: int | None
    username: str
    role: str
    vendor_id: int | None
    language: str

"""Who may do what: the one place that decides every access.

Every service calls ``authorize(actor, action, vendor_id=...)`` before it reads or
changes anything, and every vendor-visible query goes through ``scope_to_vendor``.
Resources of another vendor are reported as *not found*, not *forbidden*, so a
vendor cannot learn that they exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Select

from labelops.errors import NotFound, PermissionDenied
from labelops.types import Role

__all__ = [
    "Action",
    "Actor",
    "SYSTEM_ACTOR",
    "authorize",
    "can",
    "require_same_vendor",
    "require_vendor_in",
    "scope_to_vendor",
]

Action = Literal[
    "vendor.manage",
    "vendor.read",
    "user.manage",
    "user.read",
    "taxonomy.manage",
    "taxonomy.read",
    "project.manage",
    "project.read",
    "item.import",
    "item.read",
    "queue.work",
    "label.read",
    "final.compute",
    "export.run",
    "audit_trail.read",
    "gold.manage",
    "quality.read",
    "lot.read",
    "audit.run",
    "dispute.open",
    "dispute.resolve",
    "feedback.read",
]

_IN_HOUSE = {Role.ADMIN, Role.AUDITOR}

# Role -> actions. Vendor roles' actions are further restricted to their vendor by
# ``require_same_vendor`` / ``scope_to_vendor``.
_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(Action.__args__),  # type: ignore[attr-defined]
    Role.AUDITOR: frozenset(
        {
            "vendor.read",
            "user.read",
            "taxonomy.read",
            "project.read",
            "item.read",
            "label.read",
            "final.compute",
            "export.run",
            "audit_trail.read",
            "gold.manage",
            "quality.read",
            "lot.read",
            "audit.run",
            "dispute.resolve",
            "feedback.read",
        }
    ),
    Role.VENDOR_MANAGER: frozenset(
        {
            "vendor.read",
            "user.read",
            "taxonomy.read",
            "project.read",
            "label.read",
            "quality.read",
            "lot.read",
            "dispute.open",
            "feedback.read",
        }
    ),
    Role.LABELLER: frozenset({"taxonomy.read", "project.read", "queue.work", "feedback.read"}),
}


@dataclass(frozen=True)
class Actor:
    """The person (or local operator) doing something."""

    user_id: int | None
    """Database id; None for the local command-line operator."""
    username: str
    """Shown in the audit trail."""
    role: Role
    """What they may do."""
    vendor_id: int | None = None
    """Their vendor, for ``vendor_manager`` and ``labeller``."""
    language: str = "en"
    """Preferred language for messages."""

    @property
    def is_vendor_scoped(self) -> bool:
        """Whether this actor sees only their vendor's data."""
        return self.role not in _IN_HOUSE


SYSTEM_ACTOR = Actor(user_id=None, username="cli", role=Role.ADMIN)
"""The operator of the local command line (full rights over the local database)."""


def can(actor: Actor, action: Action) -> bool:
    """Whether ``actor``'s role allows ``action`` at all."""
    return action in _PERMISSIONS.get(actor.role, frozenset())


def authorize(actor: Actor, action: Action, *, vendor_id: int | None = None) -> None:
    """Raise unless ``actor`` may do ``action`` (on something owned by ``vendor_id``).

    Raises:
        PermissionDenied: The role does not allow the action.
        NotFound: The resource belongs to another vendor (its existence stays hidden).
    """
    if not can(actor, action):
        raise PermissionDenied("errors.permission.action", action=action, role=actor.role.value)
    if vendor_id is not None:
        require_same_vendor(actor, vendor_id)


def require_same_vendor(actor: Actor, vendor_id: int | None) -> None:
    """Hide resources of other vendors from vendor-scoped actors.

    Raises:
        NotFound: ``actor`` is vendor-scoped and ``vendor_id`` is not theirs.
    """
    if actor.is_vendor_scoped and vendor_id != actor.vendor_id:
        raise NotFound("errors.not_found.generic")


def require_vendor_in(actor: Actor, vendor_ids: Iterable[int]) -> None:
    """For project-level resources: a vendor-scoped actor's vendor must be assigned.

    Raises:
        NotFound: The actor's vendor is not among ``vendor_ids``.
    """
    if actor.is_vendor_scoped and actor.vendor_id not in set(vendor_ids):
        raise NotFound("errors.not_found.generic")


S = TypeVar("S", bound=Select[Any])


def scope_to_vendor(query: S, actor: Actor, vendor_column: Any) -> S:
    """Restrict ``query`` to ``actor``'s vendor when the actor is vendor-scoped."""
    if actor.is_vendor_scoped:
        return query.where(vendor_column == actor.vendor_id)
    return query

"""The audit trail: every change made by a person, with before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.services.policy import Actor, authorize, scope_to_vendor
from labelops.store.models import AuditEvent
from labelops.store.types import utcnow

__all__ = ["list_events", "record_event"]


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    vendor_id: int | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add one audit event to the caller's transaction (the caller commits)."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_name=actor.username,
        vendor_id=vendor_id,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        created_at=now or utcnow(),
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    actor: Actor,
    *,
    entity_type: str | None = None,
    entity_id: object = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest audit events first; vendor-scoped actors see only their vendor's."""
    authorize(actor, "audit_trail.read")
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(limit, 10_000))
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == str(entity_id))
    query = scope_to_vendor(query, actor, AuditEvent.vendor_id)
    return list(session.scalars(query))


def _jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, tuple | set | frozenset):
            out[key] = sorted(value) if isinstance(value, set | frozenset) else list(value)
        else:
            out[key] = value
    return out

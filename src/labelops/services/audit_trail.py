"""The audit trail: every change made by a person, with before and after.

Bulk reads of item content (exports, listings of many items) are recorded too. Events
name what happened and how many rows, never the content itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput
from labelops.services.policy import Actor, authorize, scope_to_vendor
from labelops.store.models import AuditEvent
from labelops.store.types import utcnow

__all__ = [
    "MAX_EVENTS",
    "EventPage",
    "EventQuery",
    "find_events",
    "list_events",
    "record_bulk_read",
    "record_event",
    "record_sample_read",
    "select_events",
]


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


@dataclass(frozen=True)
class EventQuery:
    """Which audit events to list; every field left ``None`` matches everything."""

    actor: str | None = None
    """The actor's user name as recorded (``cli`` for the local command line)."""
    action: str | None = None
    """An action (``export.run``), or a prefix ending in ``*`` (``export.*``)."""
    entity_type: str | None = None
    """``project``, ``user``, ``audit``..."""
    entity_id: str | None = None
    """The entity's id, as text."""
    project_id: int | None = None
    """Events on the project itself or naming it as ``project_id`` before or after."""
    since: datetime | None = None
    """Events at or after this time (time zone required)."""
    until: datetime | None = None
    """Events before this time (time zone required)."""


@dataclass(frozen=True)
class EventPage:
    """One page of audit events, newest first."""

    events: list[AuditEvent]
    offset: int
    limit: int
    has_more: bool
    """Whether events remain after this page."""


MAX_EVENTS = 10_000
"""The most events one call returns."""


def record_bulk_read(
    session: Session,
    actor: Actor,
    what: str,
    entity_type: str,
    entity_id: object,
    *,
    project_id: int,
    n_items: int,
    via: str,
    vendor_id: int | None = None,
) -> None:
    """Record that ``actor`` read the content of ``n_items`` items at once (a listing of
    an audit's sample, say), in a transaction of its own: ``items.read_bulk``."""
    from labelops.services._tx import transaction

    with transaction(session):
        record_event(
            session,
            actor,
            "items.read_bulk",
            entity_type,
            entity_id,
            after={"what": what, "project_id": project_id, "n_items": n_items, "via": via},
            vendor_id=vendor_id,
        )
    session.commit()


def record_sample_read(
    session: Session, actor: Actor, audit_id: int, n_items: int, *, via: str
) -> None:
    """Record that ``actor`` was shown ``n_items`` sampled items of an audit (the caller
    listed them, authorisation included)."""
    from labelops.store.audit_models import Audit

    audit = session.get(Audit, audit_id)
    if audit is None:
        return
    record_bulk_read(
        session,
        actor,
        "audit_sample",
        "audit",
        audit_id,
        project_id=audit.project_id,
        n_items=n_items,
        via=via,
        vendor_id=audit.vendor_id,
    )


def list_events(
    session: Session,
    actor: Actor,
    *,
    entity_type: str | None = None,
    entity_id: object = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest audit events first; vendor-scoped actors see only their vendor's."""
    query = EventQuery(
        entity_type=entity_type, entity_id=None if entity_id is None else str(entity_id)
    )
    return find_events(session, actor, query, limit=limit).events


def find_events(
    session: Session, actor: Actor, query: EventQuery, *, limit: int = 100, offset: int = 0
) -> EventPage:
    """A page of the audit trail matching ``query``, newest first.

    In-house roles (admin, auditor) read the trail; a vendor-scoped actor would see only
    its own vendor's events (no vendor role holds ``audit_trail.read`` today).

    Raises:
        PermissionDenied: The actor may not read the audit trail.
        InvalidInput: ``since``/``until`` without a time zone, ``until`` not after
            ``since``, or a negative ``limit``/``offset``.
    """
    authorize(actor, "audit_trail.read")
    for field, value in (("since", query.since), ("until", query.until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("errors.lot.naive_time", field=field, value=str(value))
    if query.since is not None and query.until is not None and query.since >= query.until:
        raise InvalidInput("errors.lot.bad_window", field="until", value=query.until.isoformat())
    for field, number in (("limit", limit), ("offset", offset)):
        if number < 0:
            raise InvalidInput("confid.error.negative", field=field, value=number)
    limit = min(limit, MAX_EVENTS)
    statement = select_events(session, query)
    statement = scope_to_vendor(statement, actor, AuditEvent.vendor_id)
    statement = statement.order_by(AuditEvent.id.desc()).offset(offset).limit(limit + 1)
    events = list(session.scalars(statement))
    return EventPage(
        events=events[:limit], offset=offset, limit=limit, has_more=len(events) > limit
    )


def select_events(session: Session, query: EventQuery) -> Select[Any]:
    """The statement selecting the audit events ``query`` matches (no order, no scope:
    callers that show events to a person use :func:`find_events`)."""
    statement = select(AuditEvent)
    if query.actor:
        statement = statement.where(AuditEvent.actor_name == query.actor)
    if query.action:
        if query.action.endswith("*"):
            statement = statement.where(
                AuditEvent.action.startswith(query.action.rstrip("*"), autoescape=True)
            )
        else:
            statement = statement.where(AuditEvent.action == query.action)
    if query.entity_type:
        statement = statement.where(AuditEvent.entity_type == query.entity_type)
    if query.entity_id is not None and query.entity_id != "":
        statement = statement.where(AuditEvent.entity_id == query.entity_id)
    if query.since is not None:
        statement = statement.where(AuditEvent.created_at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEvent.created_at < query.until)
    if query.project_id is not None:
        statement = statement.where(_names_project(session, query.project_id))
    return statement


def _names_project(session: Session, project_id: int) -> ColumnElement[bool]:
    """The event is on the project, or its before/after carries ``project_id``."""
    on_project = and_(AuditEvent.entity_type == "project", AuditEvent.entity_id == str(project_id))
    if session.get_bind().dialect.name == "postgresql":
        # ->> gives text; comparing text never fails on a value that is not a number.
        named = [
            column["project_id"].as_string() == str(project_id)
            for column in (AuditEvent.after, AuditEvent.before)
        ]
    else:
        named = [
            column["project_id"].as_integer() == project_id
            for column in (AuditEvent.after, AuditEvent.before)
        ]
    return or_(on_project, *named)


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

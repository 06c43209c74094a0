"""Audit configuration kept between audits: the versioned error-type lists and each
vendor's AQL switching state.

* :func:`list_error_types` / :func:`create_error_type_list` -- the error types an
  auditor picks from; an audit keeps the list version it started with.
* :func:`get_switching_state` (no authorisation, for other services),
  :func:`read_switching_state` (authorised, vendor-scoped) and :func:`resume_switching`
  -- the ISO 2859-1 normal / tightened / reduced / discontinued state of a
  (project, vendor) stream; :func:`~labelops.services.audit_reports.refresh_audit`
  advances it when an AQL audit is decided.

Every public name is also exported by :mod:`labelops.services.audits`.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ERROR_TYPES",
    "ErrorTypeView",
    "create_error_type_list",
    "get_switching_state",
    "list_error_types",
    "read_switching_state",
    "resume_switching",
]

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput
from labelops.quality.switching import SwitchingState, resume_after_discontinuation
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.policy import Actor, authorize
from labelops.store.audit_models import AuditErrorType, SwitchingRecord
from labelops.store.types import utcnow

_ERROR_KEY = re.compile(r"[a-z0-9_]{1,64}")

DEFAULT_ERROR_TYPES: tuple[tuple[str, str, str], ...] = (
    ("wrong_label", "Wrong label", "標籤錯誤"),
    ("missed_violation", "Missed violation", "漏標違規"),
    ("over_flagging", "Over-flagging", "過度標記"),
    ("guideline_ambiguity", "Guideline ambiguity", "準則不明確"),
    ("bad_item", "Bad item", "項目有問題"),
)
"""Version 1 of the error-type list (key, English, Traditional Chinese); migration 0002
seeds the same rows."""


@dataclass(frozen=True)
class ErrorTypeView:
    """One error type of a versioned list."""

    key: str
    name_en: str
    name_zh: str
    list_version: int


def ensure_error_types(session: Session) -> int:
    """The newest error-type list version, seeding :data:`DEFAULT_ERROR_TYPES` as v1 when
    the table is empty (inside the caller's transaction)."""
    version = session.scalar(select(func.max(AuditErrorType.list_version)))
    if version is not None:
        return int(version)
    for position, (key, name_en, name_zh) in enumerate(DEFAULT_ERROR_TYPES):
        session.add(
            AuditErrorType(
                list_version=1, key=key, position=position, name_en=name_en, name_zh=name_zh
            )
        )
    session.flush()
    return 1


def list_error_types(
    session: Session, actor: Actor, *, list_version: int | None = None
) -> list[ErrorTypeView]:
    """The error types of a list version (default: the newest)."""
    authorize(actor, "lot.read")
    version = list_version
    if version is None:
        found = session.scalar(select(func.max(AuditErrorType.list_version)))
        if found is None:
            return [ErrorTypeView(key, en, zh, 1) for key, en, zh in DEFAULT_ERROR_TYPES]
        version = int(found)
    rows = session.scalars(
        select(AuditErrorType)
        .where(AuditErrorType.list_version == version)
        .order_by(AuditErrorType.position)
    )
    return [ErrorTypeView(r.key, r.name_en, r.name_zh, r.list_version) for r in rows]


def create_error_type_list(
    session: Session,
    actor: Actor,
    types: Sequence[tuple[str, str, str]],
    *,
    now: datetime | None = None,
) -> list[ErrorTypeView]:
    """Store a new version of the error-type list; audits started later use it, audits
    already started keep the version they began with.

    Args:
        types: ``(key, English name, Traditional Chinese name)`` in display order; keys
            are lower-case ``[a-z0-9_]``, unique.

    Returns:
        The new list.

    Raises:
        PermissionDenied: The actor may not run audits.
        InvalidInput: An empty list, a bad or repeated key, or a missing name.
    """
    authorize(actor, "audit.run")
    if not types:
        raise InvalidInput("errors.audit.error_types_empty", field="types")
    seen: set[str] = set()
    for line, (key, name_en, name_zh) in enumerate(types, start=1):
        if not _ERROR_KEY.fullmatch(key) or key in seen:
            raise InvalidInput("errors.audit.error_type_key", line=line, field="key", value=key)
        if not name_en.strip() or not name_zh.strip() or max(len(name_en), len(name_zh)) > 200:
            raise InvalidInput("errors.audit.error_type_name", line=line, field="name", value=key)
        seen.add(key)
    now = now or utcnow()
    with transaction(session):
        version = ensure_error_types(session) + 1
        for position, (key, name_en, name_zh) in enumerate(types):
            session.add(
                AuditErrorType(
                    list_version=version,
                    key=key,
                    position=position,
                    name_en=name_en.strip(),
                    name_zh=name_zh.strip(),
                    created_at=now,
                )
            )
        record_event(
            session,
            actor,
            "audit.error_types",
            "audit_error_types",
            version,
            after={"list_version": version, "keys": [key for key, _, _ in types]},
            now=now,
        )
        session.flush()
        return load_error_types(session, version)


def load_error_types(session: Session, version: int) -> list[ErrorTypeView]:
    """The error types of list ``version``, in display order (no authorisation)."""
    rows = session.scalars(
        select(AuditErrorType)
        .where(AuditErrorType.list_version == version)
        .order_by(AuditErrorType.position)
    )
    return [ErrorTypeView(r.key, r.name_en, r.name_zh, r.list_version) for r in rows]


def _state_from_json(data: dict[str, Any]) -> SwitchingState:
    values = dict(data)
    values["recent_normal_results"] = tuple(values.get("recent_normal_results", ()))
    return SwitchingState(**values)


def get_switching_state(session: Session, project_id: int, vendor_id: int) -> SwitchingState:
    """The stored switching state of a (project, vendor) stream (normal when none)."""
    record = session.scalar(
        select(SwitchingRecord).where(
            SwitchingRecord.project_id == project_id, SwitchingRecord.vendor_id == vendor_id
        )
    )
    return SwitchingState() if record is None else _state_from_json(record.state)


def read_switching_state(
    session: Session, actor: Actor, project_id: int, vendor_id: int
) -> SwitchingState:
    """The switching state of a vendor's lots in a project (vendor roles: their own).

    Raises:
        NotFound: Another vendor's state.
    """
    authorize(actor, "lot.read", vendor_id=vendor_id)
    return get_switching_state(session, project_id, vendor_id)


def resume_switching(
    session: Session,
    actor: Actor,
    project_id: int,
    vendor_id: int,
    *,
    now: datetime | None = None,
) -> SwitchingState:
    """Resume a vendor's discontinued inspection on tightened inspection, after their
    corrective action (ISO 2859-1:1999 9.4).

    Raises:
        PermissionDenied: The actor may not run audits.
        Conflict: Inspection is not discontinued.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    with transaction(session):
        before = get_switching_state(session, project_id, vendor_id)
        after = resume_after_discontinuation(before)
        save_switching_state(session, project_id, vendor_id, after, now)
        record_event(
            session,
            actor,
            "switching.resume",
            "switching_state",
            f"{project_id}:{vendor_id}",
            before={"inspection": before.inspection},
            after={"inspection": after.inspection},
            vendor_id=vendor_id,
            now=now,
        )
        return after


def save_switching_state(
    session: Session, project_id: int, vendor_id: int, state: SwitchingState, now: datetime
) -> None:
    """Store a stream's switching state (inside the caller's transaction)."""
    record = session.scalar(
        select(SwitchingRecord)
        .where(SwitchingRecord.project_id == project_id, SwitchingRecord.vendor_id == vendor_id)
        .with_for_update()
    )
    data = asdict(state)
    data["recent_normal_results"] = list(state.recent_normal_results)
    if record is None:
        record = SwitchingRecord(project_id=project_id, vendor_id=vendor_id)
        session.add(record)
    record.inspection = state.inspection
    record.state = data
    record.updated_at = now

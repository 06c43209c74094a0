"""The audit-trail page (who did what, when, before and after, with filters and pages),
and the export download of the admin project page (recorded in that trail)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.background import BackgroundTask

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Id, Text
from labelops.errors import InvalidInput
from labelops.services import audit_trail, export, projects
from labelops.store.models import AuditEvent
from labelops.web.render import WORKSPACE_TZ, render_page
from labelops.web.routes._deps import PageActor, make_router

__all__ = ["PAGE_SIZE", "router"]

router = make_router()

PAGE_SIZE = 50
"""Events per page."""


def _time(value: str, field: str) -> datetime | None:
    """A form time: ISO 8601; without a zone it is Taiwan time (the form says so)."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("errors.lot.naive_time", field=field, value=value) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WORKSPACE_TZ)


def _local(value: datetime) -> str:
    """``2026-12-08 08:31:02 +08:00``: workspace time with its offset."""
    local = value.astimezone(WORKSPACE_TZ)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "time": _local(event.created_at),
        "time_utc": event.created_at.isoformat(),
        "actor": event.actor_name,
        "action": event.action,
        "entity": f"{event.entity_type} {event.entity_id or ''}".strip(),
        "vendor_id": event.vendor_id,
        "before": event.before,
        "after": event.after,
    }


@router.get("/admin/audit-events")
def audit_events_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    who: Annotated[Text, Query(alias="actor", max_length=200)] = "",
    action: Annotated[Text, Query(max_length=64)] = "",
    entity_type: Annotated[Text, Query(max_length=64)] = "",
    entity_id: Annotated[Text, Query(max_length=64)] = "",
    project_id: Annotated[Text, Query(max_length=20)] = "",
    since: Annotated[Text, Query(max_length=40)] = "",
    until: Annotated[Text, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """The audit trail, newest first (admins and auditors), filtered and paged."""
    query = audit_trail.EventQuery(
        actor=who.strip() or None,
        action=action.strip() or None,
        entity_type=entity_type.strip() or None,
        entity_id=entity_id.strip() or None,
        project_id=int(project_id) if project_id.strip().isdigit() else None,
        since=_time(since, "since"),
        until=_time(until, "until"),
    )
    result = audit_trail.find_events(
        session, actor, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    project_rows = projects.list_projects(session, actor)
    session.commit()
    filters = {
        "actor": who,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "project_id": project_id,
        "since": since,
        "until": until,
    }
    kept = {key: value for key, value in filters.items() if value}
    return render_page(
        request,
        "admin/audit_events.html",
        actor,
        title_id="confid.web.title",
        events=[_row(event) for event in result.events],
        filters=filters,
        projects=project_rows,
        page=page,
        previous_url=f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
        next_url=f"?{urlencode({**kept, 'page': page + 1})}" if result.has_more else None,
    )


@router.post("/admin/projects/{project_id}/export")
def export_download(
    session: SessionDep,
    actor: PageActor,
    project_id: Id,
    format: Annotated[Text, Form(max_length=20)] = "jsonl",
    mask_pii: Annotated[str, Form(max_length=5)] = "",
) -> FileResponse:
    """Download the newest snapshot's final labels (``mask_pii``: phone numbers, LINE IDs
    and e-mail addresses masked); recorded in the audit trail with ``via: web``."""
    if format not in export.SUFFIXES:
        raise InvalidInput("errors.export.format", field="format", value=format)
    summary, folder, filename = export.export_for_download(
        session,
        actor,
        project_id,
        format=format,  # type: ignore[arg-type]
        mask_personal_data=bool(mask_pii),
        via="web",
    )
    return FileResponse(
        summary.path,
        filename=filename,
        headers={"X-Labelops-Manifest": json.dumps(summary.manifest, sort_keys=True)},
        background=BackgroundTask(shutil.rmtree, str(folder), ignore_errors=True),
    )

"""Projects: settings, progress, item import, finalize, export, audit trail."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from labelops.api.deps import CurrentActor, SessionDep, SettingsDep
from labelops.api.schemas.fields import Id, Text, ZonedDateTime
from labelops.api.schemas.projects import (
    AuditEventPublic,
    FinalizePublic,
    FinalizeRequest,
    ImportReportPublic,
    ItemBatch,
    ProgressPublic,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
)
from labelops.services import audit_trail, export, finals, imports, projects, taxonomies

router = APIRouter(prefix="/api", tags=["projects"])


@router.get("/projects")
def list_projects(session: SessionDep, actor: CurrentActor) -> list[ProjectPublic]:
    """Projects the caller may see."""
    return [ProjectPublic.model_validate(p) for p in projects.list_projects(session, actor)]


@router.post("/projects", status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, session: SessionDep, actor: CurrentActor) -> ProjectPublic:
    """Create a project (admin)."""
    taxonomy = taxonomies.get_taxonomy_by_ref(session, body.taxonomy)
    project = projects.create_project(
        session,
        actor,
        body.name,
        taxonomy_id=taxonomy.id,
        overlap=body.overlap,
        gold_rate=body.gold_rate,
        vendor_ids=body.vendor_ids,
        sla_hours=body.sla_hours,
    )
    return ProjectPublic.model_validate(project)


@router.get("/projects/{project_id}")
def read_project(project_id: Id, session: SessionDep, actor: CurrentActor) -> ProjectPublic:
    """One project."""
    return ProjectPublic.model_validate(projects.get_project(session, actor, project_id))


@router.patch("/projects/{project_id}")
def update_project(
    project_id: Id, body: ProjectUpdate, session: SessionDep, actor: CurrentActor
) -> ProjectPublic:
    """Change a project's settings (admin)."""
    project = projects.update_project(
        session,
        actor,
        project_id,
        overlap=body.overlap,
        gold_rate=body.gold_rate,
        sla_hours=body.sla_hours,
        vendor_ids=body.vendor_ids,
    )
    return ProjectPublic.model_validate(project)


@router.get("/projects/{project_id}/progress")
def read_progress(project_id: Id, session: SessionDep, actor: CurrentActor) -> ProgressPublic:
    """Counts of tasks, labels and final labels."""
    progress = projects.get_project_progress(session, actor, project_id)
    return ProgressPublic(**progress.__dict__)


@router.post("/projects/{project_id}/items", status_code=status.HTTP_201_CREATED)
def import_items(
    project_id: Id,
    body: ItemBatch,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
) -> ImportReportPublic:
    """Import a batch of items with the file import's validation (all or nothing).

    Media paths are relative to the server's media root; an absolute path, a ``..`` part,
    a folder, a device or a link leading out of the root is a 422 naming the item and field.
    """
    report = imports.import_item_records(
        session,
        actor,
        project_id,
        body.items,
        skip_invalid=body.skip_invalid,
        media_root=settings.resolved_media_root,
    )
    return ImportReportPublic(
        import_id=report.import_id,
        n_rows=report.n_rows,
        n_created=report.n_created,
        n_duplicates=report.n_duplicates,
        n_rejected=report.n_rejected,
        duplicates=report.duplicates,
        rejected=report.rejected,
    )


@router.post("/projects/{project_id}/finalize")
def finalize(
    project_id: Id, body: FinalizeRequest, session: SessionDep, actor: CurrentActor
) -> FinalizePublic:
    """Recompute final labels and freeze them as a snapshot."""
    summary = finals.finalize_project(session, actor, project_id, method=body.method)
    return FinalizePublic(**summary.__dict__)


@router.get("/projects/{project_id}/export")
def export_snapshot(
    project_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    format: Literal["jsonl", "csv", "parquet", "label-studio"] = "jsonl",
    snapshot_id: Id | None = None,
    raw: bool = False,
    mask_pii: bool = False,
) -> FileResponse:
    """Download a snapshot's final labels (newest snapshot unless one is named).

    ``mask_pii=true`` replaces phone numbers, LINE IDs and e-mail addresses in item text
    with ``[PHONE]``, ``[LINE_ID]``, ``[EMAIL]``. The export's manifest comes in the
    ``X-Labelops-Manifest`` header (JSON, ASCII); the export is in the audit trail."""
    summary, folder, filename = export.export_for_download(
        session,
        actor,
        project_id,
        format=format,
        snapshot_id=snapshot_id,
        raw=raw,
        mask_personal_data=mask_pii,
        via="api",
    )
    return FileResponse(
        summary.path,
        filename=filename,
        headers={"X-Labelops-Manifest": json.dumps(summary.manifest, sort_keys=True)},
        background=BackgroundTask(_remove_tree, str(folder)),
    )


def _remove_tree(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@router.get("/audit-events")
def list_audit_events(
    session: SessionDep,
    actor: CurrentActor,
    response: Response,
    actor_name: Annotated[Text | None, Query(alias="actor", max_length=200)] = None,
    action: Annotated[Text | None, Query(max_length=64)] = None,
    entity_type: Annotated[Text | None, Query(max_length=64)] = None,
    entity_id: Annotated[Text | None, Query(max_length=64)] = None,
    project_id: Id | None = None,
    since: ZonedDateTime | None = None,
    until: ZonedDateTime | None = None,
    limit: Annotated[int, Query(ge=0, le=audit_trail.MAX_EVENTS)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[AuditEventPublic]:
    """The audit trail, newest first (admins and auditors).

    Filters: ``actor`` (user name), ``action`` (exact, or a prefix ending in ``*``),
    ``entity_type``, ``entity_id``, ``project_id`` (events on or naming the project),
    ``since``/``until`` (ISO 8601 with a time zone). ``X-Has-More: true`` when events
    remain after this page (ask again with ``offset``)."""
    query = audit_trail.EventQuery(
        actor=actor_name,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        project_id=project_id,
        since=since,
        until=until,
    )
    page = audit_trail.find_events(session, actor, query, limit=limit, offset=offset)
    response.headers["X-Has-More"] = "true" if page.has_more else "false"
    return [AuditEventPublic.model_validate(e) for e in page.events]

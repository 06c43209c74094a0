"""Projects: settings, progress, item import, finalize, export, audit trail."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from labelops.api.deps import CurrentActor, SessionDep
from labelops.api.schemas.fields import Id, Text
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
    project_id: Id, body: ItemBatch, session: SessionDep, actor: CurrentActor
) -> ImportReportPublic:
    """Import a batch of items with the file import's validation (all or nothing)."""
    report = imports.import_item_records(
        session, actor, project_id, body.items, skip_invalid=body.skip_invalid
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
) -> FileResponse:
    """Download a snapshot's final labels (newest snapshot unless one is named)."""
    folder = tempfile.mkdtemp(prefix="labelops-export-")
    suffix = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet", "label-studio": "json"}[format]
    out = Path(folder) / f"project-{project_id}.{suffix}"
    summary = export.export_project(
        session, actor, project_id, out, format=format, snapshot_id=snapshot_id, raw=raw
    )
    return FileResponse(
        out,
        filename=f"project-{project_id}-snapshot-{summary.snapshot_id}.{suffix}",
        background=BackgroundTask(_remove_tree, folder),
    )


def _remove_tree(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@router.get("/audit-events")
def list_audit_events(
    session: SessionDep,
    actor: CurrentActor,
    entity_type: Text | None = None,
    entity_id: Text | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[AuditEventPublic]:
    """The audit trail, newest first (vendor roles: their vendor's events only)."""
    events = audit_trail.list_events(
        session, actor, entity_type=entity_type, entity_id=entity_id, limit=limit
    )
    return [AuditEventPublic.model_validate(e) for e in events]

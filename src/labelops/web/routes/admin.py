"""Admin pages: vendors, users (tokens shown once), taxonomies, projects and imports."""

from __future__ import annotations

import math
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import MAX_ID, Id, Text
from labelops.errors import InvalidInput
from labelops.services import directory, imports, projects, taxonomies, workspace
from labelops.services.item_files import parse_column_map
from labelops.services.policy import Actor
from labelops.types import Role
from labelops.web.render import page_language, render_page
from labelops.web.routes._deps import PageActor, make_router

__all__ = ["router", "save_upload"]

router = make_router()

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_OK_MESSAGES = frozenset(
    {
        "web.ok.vendor",
        "web.ok.user_deleted",
        "web.ok.taxonomy",
        "web.ok.taxonomy_same",
        "web.ok.project",
        "web.ok.saved",
    }
)


def _ok(request: Request) -> str | None:
    value = request.query_params.get("ok")
    return value if value in _OK_MESSAGES else None


def save_upload(upload: UploadFile, folder: Path) -> Path:
    """Copy an upload to ``folder`` under a safe name keeping its suffix (formats are
    detected by suffix); refuse files over ``MAX_UPLOAD_BYTES``."""
    name = Path(upload.filename or "upload").name
    suffix = "".join(Path(name).suffixes[-2:])[:20] or ".bin"
    target = folder / f"upload{suffix}"
    with target.open("wb") as handle:
        shutil.copyfileobj(upload.file, handle, length=1024 * 1024)
    if target.stat().st_size > MAX_UPLOAD_BYTES:
        raise InvalidInput("web.error.upload_too_big", file=name, max=MAX_UPLOAD_BYTES)
    return target


def _report_path(request: Request, upload_name: str | None) -> Path:
    """Where the rejected rows of an upload go: ``LABELOPS_HOME/reports`` (the upload's
    temporary folder is deleted right after the import)."""
    folder = Path(request.app.state.settings.home) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(upload_name or "upload").stem[:80] or "upload"
    return folder / f"{stem}-{uuid.uuid4().hex[:12]}.rejected.jsonl"


# ----------------------------------------------------------------------------- vendors


@router.get("/admin/vendors")
def vendors_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Vendors with an add form."""
    vendors = directory.list_vendors(session, actor)
    session.commit()
    return render_page(
        request,
        "admin/vendors.html",
        actor,
        title_id="web.nav.vendors",
        vendors=vendors,
        ok=_ok(request),
        can_manage=actor.role == Role.ADMIN,
    )


@router.post("/admin/vendors")
def vendors_add(
    session: SessionDep, actor: PageActor, name: Annotated[Text, Form(max_length=200)]
) -> Response:
    """Add a vendor."""
    directory.create_vendor(session, actor, name)
    return RedirectResponse("/admin/vendors?ok=web.ok.vendor", status_code=303)


# ----------------------------------------------------------------------------- users


def _users_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    token: str | None = None,
    token_user: str | None = None,
) -> HTMLResponse:
    users = directory.list_users(session, actor)
    vendors = directory.list_vendors(session, actor)
    session.commit()
    return render_page(
        request,
        "admin/users.html",
        actor,
        title_id="web.nav.users",
        users=users,
        vendors=vendors,
        vendor_names={vendor.id: vendor.name for vendor in vendors},
        roles=[role.value for role in Role],
        token=token,
        token_user=token_user,
        ok=_ok(request),
    )


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Users with an add form."""
    directory.list_users(session, actor)  # authorises before anything is shown
    return _users_page(request, session, actor)


@router.post("/admin/users")
def users_add(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    username: Annotated[Text, Form(max_length=200)],
    role: Annotated[Text, Form(max_length=32)],
    vendor_id: Annotated[Text, Form(max_length=20)] = "",
    password: Annotated[Text, Form(max_length=1000)] = "",
    display_name: Annotated[Text, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Create a user; the first API token is shown once on the page that follows."""
    vendor = _form_id(vendor_id)
    created = directory.create_user(
        session,
        actor,
        username,
        role=role,
        vendor_id=vendor,
        password=password or None,
        display_name=display_name.strip() or None,
        token_days=request.app.state.settings.token_days,
    )
    return _users_page(
        request, session, actor, token=created.token, token_user=created.user.username
    )


@router.post("/admin/users/{user_id}/delete")
def users_delete(session: SessionDep, actor: PageActor, user_id: Id) -> Response:
    """Delete a user (their labels stay, their tokens are revoked)."""
    directory.delete_user(session, actor, user_id)
    return RedirectResponse("/admin/users?ok=web.ok.user_deleted", status_code=303)


@router.post("/admin/users/{user_id}/token")
def users_token(
    request: Request, session: SessionDep, actor: PageActor, user_id: Id
) -> HTMLResponse:
    """Issue another API token, shown once."""
    token = directory.create_token(
        session, actor, user_id, name="web", expires_days=request.app.state.settings.token_days
    )
    user = directory.get_user(session, actor, user_id)
    return _users_page(request, session, actor, token=token, token_user=user.username)


# ----------------------------------------------------------------------------- taxonomies


@router.get("/admin/taxonomies")
def taxonomies_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Taxonomy versions with an upload form."""
    rows = taxonomies.list_taxonomies(session, actor)
    session.commit()
    return render_page(
        request,
        "admin/taxonomies.html",
        actor,
        title_id="web.nav.taxonomies",
        taxonomies=rows,
        ok=_ok(request),
        can_manage=actor.role == Role.ADMIN,
    )


@router.post("/admin/taxonomies")
def taxonomies_upload(session: SessionDep, actor: PageActor, file: UploadFile) -> Response:
    """Publish a taxonomy version from an uploaded YAML or JSON file."""
    with tempfile.TemporaryDirectory(prefix="labelops-upload-") as folder:
        path = save_upload(file, Path(folder))
        spec = taxonomies.read_taxonomy_file(path, display=Path(file.filename or path.name).name)
    taxonomy, created = taxonomies.create_taxonomy(session, actor, spec)
    ok = "web.ok.taxonomy" if created else "web.ok.taxonomy_same"
    return RedirectResponse(f"/admin/taxonomies/{taxonomy.id}?ok={ok}", status_code=303)


@router.get("/admin/taxonomies/{taxonomy_id}")
def taxonomy_page(
    request: Request, session: SessionDep, actor: PageActor, taxonomy_id: Id
) -> HTMLResponse:
    """One taxonomy version: its labels in both languages."""
    taxonomy = taxonomies.get_taxonomy(session, actor, taxonomy_id)
    labels = taxonomies.list_taxonomy_labels(session, taxonomy_id)
    session.commit()
    return render_page(
        request,
        "admin/taxonomy.html",
        actor,
        title_id="web.taxonomy.title",
        taxonomy=taxonomy,
        labels=labels,
        ok=_ok(request),
    )


# ----------------------------------------------------------------------------- projects


def _form_id(value: str) -> int | None:
    """An id typed in a form (ASCII digits, 1 .. ``MAX_ID``), or None."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        return None
    return int(value)


def _vendor_ids(values: list[str]) -> list[int]:
    return [vendor for vendor in map(_form_id, values) if vendor is not None]


def _optional_float(value: str, field: str) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise InvalidInput("web.error.number", field=field, value=value) from exc
    if not math.isfinite(number):  # "nan", "inf": no quantity
        raise InvalidInput("web.error.number", field=field, value=value)
    return number


@router.get("/admin/projects")
def projects_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Projects with a create form."""
    rows = projects.list_projects(session, actor)
    can_manage = actor.role == Role.ADMIN
    taxonomy_rows = taxonomies.list_taxonomies(session, actor)
    vendors = directory.list_vendors(session, actor)
    session.commit()
    return render_page(
        request,
        "admin/projects.html",
        actor,
        title_id="web.nav.projects",
        projects=rows,
        taxonomies=taxonomy_rows,
        taxonomy_names={t.id: f"{t.key}@{t.version}" for t in taxonomy_rows},
        vendors=vendors,
        ok=_ok(request),
        can_manage=can_manage,
    )


@router.post("/admin/projects")
def projects_add(
    session: SessionDep,
    actor: PageActor,
    name: Annotated[Text, Form(max_length=200)],
    taxonomy_id: Annotated[Id, Form()],
    overlap: Annotated[int, Form()],
    gold_rate: Annotated[Text, Form(max_length=20)] = "0",
    sla_hours: Annotated[Text, Form(max_length=20)] = "",
    vendor_ids: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    """Create a project."""
    project = projects.create_project(
        session,
        actor,
        name,
        taxonomy_id=taxonomy_id,
        overlap=overlap,
        gold_rate=_optional_float(gold_rate, "gold_rate") or 0.0,
        sla_hours=_optional_float(sla_hours, "sla_hours"),
        vendor_ids=_vendor_ids(vendor_ids or []),
    )
    return RedirectResponse(f"/admin/projects/{project.id}?ok=web.ok.project", status_code=303)


@router.get("/admin/projects/{project_id}")
def project_page(
    request: Request, session: SessionDep, actor: PageActor, project_id: Id
) -> HTMLResponse:
    """One project: settings form, progress and its imports."""
    project = projects.get_project(session, actor, project_id)
    progress = projects.get_project_progress(session, actor, project_id)
    vendors = directory.list_vendors(session, actor)
    assigned = projects.project_vendor_ids(session, project_id)
    batches = workspace.list_import_batches(session, actor, project_id=project_id)
    session.commit()
    return render_page(
        request,
        "admin/project.html",
        actor,
        title_id="web.project.title",
        project=project,
        progress=progress,
        vendors=vendors,
        assigned=assigned,
        batches=batches,
        ok=_ok(request),
    )


@router.post("/admin/projects/{project_id}")
def project_update(
    session: SessionDep,
    actor: PageActor,
    project_id: Id,
    overlap: Annotated[int, Form()],
    gold_rate: Annotated[Text, Form(max_length=20)] = "0",
    sla_hours: Annotated[Text, Form(max_length=20)] = "",
    vendor_ids: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    """Save a project's settings."""
    projects.update_project(
        session,
        actor,
        project_id,
        overlap=overlap,
        gold_rate=_optional_float(gold_rate, "gold_rate") or 0.0,
        sla_hours=_optional_float(sla_hours, "sla_hours"),
        vendor_ids=_vendor_ids(vendor_ids or []),
    )
    return RedirectResponse(f"/admin/projects/{project_id}?ok=web.ok.saved", status_code=303)


# ----------------------------------------------------------------------------- imports


@router.get("/admin/imports")
def imports_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Recent imports with their counts, and an upload form."""
    return _imports_form(request, session, actor)


def _imports_form(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    error: InvalidInput | None = None,
    field: str = "file",
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    """The imports page; after a refused upload, the form again with the reason next to
    ``field`` and what was entered (a browser cannot refill a file input)."""
    batches = workspace.list_import_batches(session, actor)
    rows = projects.list_projects(session, actor)
    session.commit()
    errors: dict[str, str] = {}
    if error is not None:
        errors[field] = error.render(page_language(request, actor))
    return render_page(
        request,
        "admin/imports.html",
        actor,
        title_id="web.nav.imports",
        status_code=422 if errors else 200,
        batches=batches,
        projects=rows,
        project_names={p.id: p.name for p in rows},
        errors=errors,
        entered=entered or {},
    )


@router.post("/admin/imports")
def imports_upload(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    project_id: Annotated[Id, Form()],
    file: UploadFile,
    skip_invalid: Annotated[Text, Form(max_length=5)] = "",
    columns: Annotated[Text, Form(max_length=2000)] = "",
    no_header: Annotated[Text, Form(max_length=5)] = "",
    hash_ids: Annotated[Text, Form(max_length=5)] = "",
) -> Response:
    """Import an uploaded item file (all or nothing unless invalid rows may be skipped);
    ``columns`` maps fields to the file's columns, as ``external_id=id text=TEXT``;
    ``no_header`` and ``hash_ids`` are the CLI's ``--no-header`` and ``--hash-ids``."""
    field = "columns"
    try:
        column_map = parse_column_map(columns.split())
        field = "file"
        with tempfile.TemporaryDirectory(prefix="labelops-upload-") as folder:
            path = save_upload(file, Path(folder))
            report = imports.import_items(
                session,
                actor,
                project_id,
                path,
                skip_invalid=bool(skip_invalid),
                report_path=_report_path(request, file.filename),
                file_name=Path(file.filename or "upload").name,
                columns=column_map,
                header=not no_header,
                hash_ids=bool(hash_ids),
                media_root=request.app.state.settings.resolved_media_root,
            )
    except InvalidInput as error:
        session.rollback()
        entered = {
            "project_id": str(project_id),
            "file": Path(file.filename or "").name,
            "columns": columns,
            "no_header": no_header,
            "hash_ids": hash_ids,
            "skip_invalid": skip_invalid,
        }
        return _imports_form(request, session, actor, error=error, field=field, entered=entered)
    return RedirectResponse(f"/admin/imports/{report.import_id}", status_code=303)


@router.get("/admin/imports/{import_id}")
def import_page(
    request: Request, session: SessionDep, actor: PageActor, import_id: Id
) -> HTMLResponse:
    """One import's report: counts, duplicates and rejected rows."""
    batch = workspace.get_import_batch(session, actor, import_id)
    project = projects.get_project(session, actor, batch.project_id)
    session.commit()
    report = batch.report or {}
    return render_page(
        request,
        "admin/import.html",
        actor,
        title_id="web.import.title",
        batch=batch,
        project=project,
        duplicates=report.get("duplicates", [])[:200],
        rejected=report.get("rejected", [])[:200],
    )

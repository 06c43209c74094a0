"""Auditor pages: lots and their audits, the blind review, disputes and gold items.

The review page works by keyboard: label keys (1-9, letters) pick the blind answer,
Enter sends it; then C / X pick the verdict, the error type and severity are radio
groups (arrow keys), and Enter records it. Everything goes through the audit services
(``services.lots``, ``audits``, ``disputes``, ``gold``), which authorise and scope.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Id, Text
from labelops.errors import InvalidInput
from labelops.i18n import translate
from labelops.services import (
    audit_trail,
    audits,
    directory,
    disputes,
    gold,
    lots,
    projects,
    rework,
    workspace,
)
from labelops.services.policy import Actor
from labelops.services.taxonomies import list_taxonomy_labels
from labelops.web.render import name_in, names_by_key, page_language, render_page
from labelops.web.routes._deps import PageActor, make_router
from labelops.web.routes.admin import save_upload
from labelops.web.routes.labeller import LABEL_KEYS

__all__ = ["router"]

router = make_router()

SEVERITIES = ("critical", "major", "minor")
VERDICT_FIELDS = ("verdict", "error_type", "severity", "corrected", "comment")
"""Fields of the verdict form (a refusal is shown next to its field)."""


def _label_names(session: SessionDep, taxonomy_id: int, lang: str) -> list[dict[str, str]]:
    return [
        {
            "key": label.key,
            "hotkey": LABEL_KEYS[index] if index < len(LABEL_KEYS) else "",
            "name": name_in(label, lang),
        }
        for index, label in enumerate(list_taxonomy_labels(session, taxonomy_id))
    ]


@router.get("/audit")
def audit_index(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Every project's lots with status, plan and decision; forms to open a lot."""
    audits.list_audits(session, actor)  # authorises (lot.read)
    rows = []
    for project in projects.list_projects(session, actor):
        rows.append((project, lots.list_lots(session, actor, project.id)))
    audit_by_id = {a.id: a for a in audits.list_audits(session, actor)}
    vendors = directory.list_vendors(session, actor)
    session.commit()
    return render_page(
        request,
        "audit_index.html",
        actor,
        title_id="web.nav.audits",
        rows=rows,
        audit_by_id=audit_by_id,
        vendors=vendors,
        vendor_names={v.id: v.name for v in vendors},
    )


@router.post("/audit/lots")
def lot_create(
    session: SessionDep,
    actor: PageActor,
    project_id: Annotated[Id, Form()],
    vendor_id: Annotated[Id, Form()],
) -> Response:
    """Put a vendor's labels of a project that are in no lot yet into a new lot."""
    lot = lots.create_lot(session, actor, project_id, vendor_id)
    return RedirectResponse(f"/audit/lots/{lot.id}", status_code=303)


@router.get("/audit/lots/{lot_id}")
def lot_page(request: Request, session: SessionDep, actor: PageActor, lot_id: Id) -> HTMLResponse:
    """One lot: its window, size and status, and its audit or a form to start one."""
    lot = lots.get_lot(session, actor, lot_id)
    project = projects.get_project(session, actor, lot.project_id)
    vendor = directory.get_vendor(session, actor, lot.vendor_id)
    session.commit()
    return render_page(
        request,
        "audit_lot.html",
        actor,
        title_id="web.audit.lot",
        lot=lot,
        project=project,
        vendor=vendor,
    )


@router.post("/audit/lots/{lot_id}/audits")
def audit_start(
    session: SessionDep,
    actor: PageActor,
    lot_id: Id,
    plan: Annotated[Text, Form(max_length=20)] = "aql",
    aql: Annotated[Text, Form(max_length=10)] = "1.0",
    level: Annotated[Text, Form(max_length=5)] = "II",
    targeted: Annotated[int, Form(ge=0, le=10_000)] = 0,
) -> Response:
    """Freeze the lot and draw its sample."""
    started = audits.start_audit(
        session, actor, lot_id, plan=plan, aql=aql, level=level, targeted=targeted
    )
    return RedirectResponse(f"/audit/audits/{started.id}", status_code=303)


@router.get("/audit/audits/{audit_id}")
def audit_page(
    request: Request, session: SessionDep, actor: PageActor, audit_id: Id
) -> HTMLResponse:
    """An audit: plan, progress, decision and estimate, its sample and its disputes."""
    report = audits.get_audit_report(session, actor, audit_id)
    items = audits.list_audit_items(session, actor, audit_id)
    audit_trail.record_sample_read(session, actor, audit_id, len(items), via="web")
    audit_disputes = disputes.list_disputes(session, actor, audit_id=audit_id)
    project = projects.get_project(session, actor, report.audit.project_id)
    vendor = directory.get_vendor(session, actor, report.audit.vendor_id)
    lang = page_language(request, actor)
    names = names_by_key(list_taxonomy_labels(session, project.taxonomy_id), lang)
    error_names = names_by_key(
        audits.list_error_types(session, actor, list_version=report.audit.error_type_version),
        lang,
    )
    session.commit()
    return render_page(
        request,
        "audit_audit.html",
        actor,
        title_id="web.audit.audit",
        report=report,
        curtailment=report.curtailment,
        names=names,
        error_names=error_names,
        audit=report.audit,
        items=items,
        disputes=audit_disputes,
        project=project,
        vendor=vendor,
    )


@router.get("/audit/audits/{audit_id}/review")
def review_page(request: Request, session: SessionDep, actor: PageActor, audit_id: Id) -> Response:
    """The next sampled label: blind answer first, then the verdict."""
    item = audits.next_audit_item(session, actor, audit_id)
    if item is None:
        session.commit()
        return RedirectResponse(f"/audit/audits/{audit_id}", status_code=303)
    return _review(request, session, actor, item)


def _review(
    request: Request,
    session: SessionDep,
    actor: Actor,
    item: audits.AuditItemView,
    *,
    error: InvalidInput | None = None,
    entered: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The review page of one sampled label; after a refused verdict, the same form
    with the reason next to its field and what the auditor entered."""
    summary = audits.get_audit(session, actor, item.audit_id)
    project = projects.get_project(session, actor, summary.project_id)
    lang = page_language(request, actor)
    labels = _label_names(session, project.taxonomy_id, lang)
    error_types = audits.list_error_types(session, actor, list_version=summary.error_type_version)
    curtailment = audits.get_audit_curtailment(session, actor, item.audit_id)
    session.commit()
    names = {label["key"]: label["name"] for label in labels}
    error_names = names_by_key(error_types, lang)
    errors: dict[str, str] = {}
    if error is not None:
        # Next to the field: the reason alone, with keys shown as names.
        params = dict(error.params)
        if error.field == "error_type":
            params["allowed"] = ", ".join(error_names.values())
        elif error.field == "corrected":
            params["allowed"] = ", ".join(names.values())
        field = error.field if error.field in VERDICT_FIELDS else "verdict"
        errors[field] = translate(error.message_id, lang, **params)
    return render_page(
        request,
        "audit_review.html",
        actor,
        title_id="web.audit.review",
        status_code=422 if errors else 200,
        item=item,
        audit=summary,
        labels=labels,
        names=names,
        error_types=error_types,
        error_names=error_names,
        curtailment=curtailment,
        severities=SEVERITIES,
        text_parts=workspace.highlight_parts(item.item.get("text")),
        errors=errors,
        entered=entered,
    )


@router.post("/audit/audits/{audit_id}/labels/{label_id}/answer")
def review_answer(
    session: SessionDep,
    actor: PageActor,
    audit_id: Id,
    label_id: Id,
    value: Annotated[list[Text], Form()],
) -> Response:
    """Store the auditor's blind answer (the vendor's label is revealed next)."""
    audits.submit_blind_answer(session, actor, audit_id, label_id, value)
    return RedirectResponse(f"/audit/audits/{audit_id}/review", status_code=303)


@router.post("/audit/audits/{audit_id}/labels/{label_id}/verdict")
def review_verdict(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    audit_id: Id,
    label_id: Id,
    verdict: Annotated[Text, Form(max_length=20)] = "",
    error_type: Annotated[Text, Form(max_length=100)] = "",
    severity: Annotated[Text, Form(max_length=20)] = "",
    corrected: Annotated[list[Text] | None, Form()] = None,
    comment: Annotated[Text, Form(max_length=10_000)] = "",
) -> Response:
    """Record the verdict; the last one decides the lot. A refused verdict shows the
    form again (422) with the reason next to its field and what was entered."""
    incorrect = verdict == "incorrect"
    chosen = [c for c in corrected or [] if c]
    try:
        audits.record_verdict(
            session,
            actor,
            audit_id,
            label_id,
            verdict,
            error_type=(error_type or None) if incorrect else None,
            severity=(severity or None) if incorrect else None,
            corrected=(chosen or None) if incorrect else None,
            comment=comment.strip() or None,
        )
    except InvalidInput as error:
        session.rollback()
        item = audits.get_audit_item(session, actor, audit_id, label_id)
        entered = {
            "verdict": verdict,
            "error_type": error_type,
            "severity": severity,
            "corrected": chosen,
            "comment": comment,
        }
        return _review(request, session, actor, item, error=error, entered=entered)
    return RedirectResponse(f"/audit/audits/{audit_id}/review", status_code=303)


@router.post("/audit/audits/{audit_id}/rework")
def audit_rework(session: SessionDep, actor: PageActor, audit_id: Id) -> Response:
    """Send a rejected lot back to its vendor for rework."""
    rework.create_rework(session, actor, audit_id)
    return RedirectResponse(f"/audit/audits/{audit_id}?ok=web.ok.rework", status_code=303)


@router.get("/audit/disputes")
def disputes_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Disputes, open ones first."""
    rows = disputes.list_disputes(session, actor)
    session.commit()
    rows.sort(key=lambda d: (d.status != "open", d.id))
    return render_page(
        request, "audit_disputes.html", actor, title_id="web.nav.disputes", disputes=rows
    )


@router.post("/audit/disputes/{dispute_id}/resolve")
def dispute_resolve(
    session: SessionDep,
    actor: PageActor,
    dispute_id: Id,
    outcome: Annotated[Text, Form(max_length=20)],
    comment: Annotated[Text, Form(max_length=4000)] = "",
) -> Response:
    """Uphold or overturn a dispute."""
    disputes.resolve_dispute(session, actor, dispute_id, outcome, comment=comment.strip() or None)
    return RedirectResponse("/audit/disputes", status_code=303)


@router.post("/audit/audits/{audit_id}/labels/{label_id}/disputes")
def dispute_open(
    session: SessionDep,
    actor: PageActor,
    audit_id: Id,
    label_id: Id,
    reason: Annotated[Text, Form(min_length=1, max_length=2000)],
) -> Response:
    """A vendor manager disputes a verdict on their vendor's label."""
    disputes.open_dispute(session, actor, audit_id, label_id, reason)
    return RedirectResponse(f"/vendor/{actor.vendor_id or ''}", status_code=303)


@router.get("/audit/gold/{project_id}")
def gold_page(
    request: Request, session: SessionDep, actor: PageActor, project_id: Id
) -> HTMLResponse:
    """A project's gold answers and every labeller's gold accuracy."""
    project = projects.get_project(session, actor, project_id)
    answers = gold.list_gold(session, actor, project_id)
    accuracy = gold.compute_gold_accuracy(session, actor, project_id)
    lang = page_language(request, actor)
    names = {
        label["key"]: label["name"] for label in _label_names(session, project.taxonomy_id, lang)
    }
    session.commit()
    return render_page(
        request,
        "audit_gold.html",
        actor,
        title_id="web.audit.gold",
        project=project,
        answers=answers,
        accuracy=accuracy,
        names=names,
    )


@router.post("/audit/gold/{project_id}")
def gold_mark(
    session: SessionDep,
    actor: PageActor,
    project_id: Id,
    external_id: Annotated[Text, Form(max_length=500)],
    value: Annotated[list[Text], Form()],
    explanation_en: Annotated[Text, Form(max_length=4000)],
    explanation_zh: Annotated[Text, Form(max_length=4000)],
) -> Response:
    """Mark an item of the project as gold, with its answer and both explanations."""
    gold.mark_gold(
        session,
        actor,
        project_id,
        external_id.strip(),
        value,
        explanation_en=explanation_en,
        explanation_zh=explanation_zh,
    )
    return RedirectResponse(f"/audit/gold/{project_id}", status_code=303)


@router.post("/audit/gold/{project_id}/upload")
def gold_upload(
    session: SessionDep, actor: PageActor, project_id: Id, file: UploadFile
) -> Response:
    """Import a gold file (CSV or JSONL): every row lands, or none does."""
    name = Path(file.filename or "gold").name
    # Authorise before reading the upload (gold.manage, and the project must be visible).
    gold.list_gold(session, actor, project_id)
    session.commit()
    with tempfile.TemporaryDirectory(prefix="labelops-upload-") as folder:
        path = save_upload(file, Path(folder))
        try:
            rows = gold.read_gold_file(path)
        except InvalidInput as error:
            error.file = name  # the temporary path means nothing to the user
            raise
    gold.import_gold_rows(session, actor, project_id, rows, file=name)
    return RedirectResponse(f"/audit/gold/{project_id}", status_code=303)

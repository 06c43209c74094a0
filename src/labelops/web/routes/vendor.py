"""Vendor pages: a vendor's labellers, their progress and the vendor's projects.

A vendor manager sees their own vendor only (``/vendor``); in-house users may open
any vendor (``/vendor/{id}``). Audits (lots and verdicts), audited mistakes and
disputes come from the audit services, which scope them to the vendor.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Id
from labelops.errors import NotFound
from labelops.services import audits, directory, disputes, feedback, projects, workspace
from labelops.services.taxonomies import list_taxonomy_labels
from labelops.web.render import names_by_key, page_language, render_page, start_of_today
from labelops.web.routes._deps import PageActor, make_router

__all__ = ["router"]

router = make_router()


@router.get("/vendor")
def my_vendor(session: SessionDep, actor: PageActor) -> Response:
    """A vendor manager's own vendor; in-house users get the vendor list."""
    if actor.vendor_id is None:
        directory.list_vendors(session, actor)  # authorises
        session.commit()
        return RedirectResponse("/admin/vendors", status_code=303)
    return RedirectResponse(f"/vendor/{actor.vendor_id}", status_code=303)


@router.get("/vendor/{vendor_id}")
def vendor_page(
    request: Request, session: SessionDep, actor: PageActor, vendor_id: Id
) -> HTMLResponse:
    """A vendor's labellers (labels, today, skips, gold accuracy, handle time) and projects."""
    vendor = directory.get_vendor(session, actor, vendor_id)
    overview = workspace.get_vendor_overview(
        session, actor, vendor_id, today_since=start_of_today()
    )
    vendor_audits = [a for a in audits.list_audits(session, actor) if a.vendor_id == vendor_id]
    mistakes = [
        entry
        for entry in feedback.list_feedback(session, actor, limit=100)
        if entry.labeller_id in {s.user_id for s in overview.labellers}
    ]
    vendor_disputes = [
        d for d in disputes.list_disputes(session, actor) if d.vendor_id == vendor_id
    ]
    lang = page_language(request, actor)
    label_names = {
        project_id: names_by_key(
            list_taxonomy_labels(
                session, projects.get_project(session, actor, project_id).taxonomy_id
            ),
            lang,
        )
        for project_id in {entry.project_id for entry in mistakes}
    }
    session.commit()
    if vendor is None:
        raise NotFound("errors.vendor.not_found", vendor=vendor_id)
    return render_page(
        request,
        "vendor.html",
        actor,
        title_id="web.nav.vendor",
        vendor=vendor,
        overview=overview,
        audits=vendor_audits,
        mistakes=mistakes,
        disputes=vendor_disputes,
        disputed={(d.audit_id, d.label_id) for d in vendor_disputes},
        usernames={s.user_id: s.username for s in overview.labellers},
        label_names=label_names,
    )

"""Vendor pages: a vendor's labellers, their progress and the vendor's projects.

A vendor manager sees their own vendor only (``/vendor``); in-house users may open
any vendor (``/vendor/{id}``). Lots, verdicts, feedback and disputes come from the
audit services once they exist (see the hook in the template).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labelops.api.deps import SessionDep
from labelops.errors import NotFound
from labelops.services import directory, workspace
from labelops.web.render import render_page, start_of_today
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
    request: Request, session: SessionDep, actor: PageActor, vendor_id: int
) -> HTMLResponse:
    """A vendor's labellers (labels, today, skips, gold accuracy, handle time) and projects."""
    vendor = directory.get_vendor(session, actor, vendor_id)
    overview = workspace.get_vendor_overview(
        session, actor, vendor_id, today_since=start_of_today()
    )
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
    )

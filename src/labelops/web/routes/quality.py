"""Project quality pages: progress per day and agreement statistics (SVG charts).

In-house users see every vendor's labels; a vendor manager sees only their vendor's
(the service scopes the data).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Id
from labelops.i18n import translate
from labelops.services import audits, lots, projects, taxonomies, workspace
from labelops.web.charts import bar_chart, interval_chart
from labelops.web.render import (
    format_day,
    name_in,
    page_language,
    render_page,
    start_of_today,
    workspace_offset,
)
from labelops.web.routes._deps import PageActor, make_router

__all__ = ["router"]

router = make_router()

N_DAYS = 14


@router.get("/quality")
def quality_index(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Projects the actor may see, with their progress."""
    rows = []
    for project in projects.list_projects(session, actor):
        rows.append((project, projects.get_project_progress(session, actor, project.id)))
    session.commit()
    return render_page(request, "quality_index.html", actor, title_id="web.nav.quality", rows=rows)


@router.get("/quality/{project_id}")
def quality_page(
    request: Request, session: SessionDep, actor: PageActor, project_id: Id
) -> HTMLResponse:
    """One project's progress chart and agreement statistics with intervals."""
    project = projects.get_project(session, actor, project_id)
    progress = projects.get_project_progress(session, actor, project_id)
    since = start_of_today() - timedelta(days=N_DAYS - 1)
    quality = workspace.get_project_quality(
        session, actor, project_id, since=since, day_offset=workspace_offset(), n_days=N_DAYS
    )
    names = {
        label.key: label for label in taxonomies.list_taxonomy_labels(session, project.taxonomy_id)
    }
    project_lots = lots.list_lots(session, actor, project_id)
    audit_by_id = {a.id: a for a in audits.list_audits(session, actor, project_id=project_id)}
    session.commit()
    lang = page_language(request, actor)
    days_chart = bar_chart([(format_day(d.day, lang), d.n_labels) for d in quality.days])
    agreement_chart = interval_chart(
        [
            (translate(f"web.metric.{a.metric}", lang), a.value, a.ci_low, a.ci_high)
            for a in quality.agreement
        ]
    )

    def label_name(key: str) -> str:
        label = names.get(key)
        if label is None:
            return key
        return name_in(label, lang)

    per_label_chart = interval_chart(
        [(label_name(key), value, None, None) for key, value in quality.per_label]
    )
    return render_page(
        request,
        "quality_project.html",
        actor,
        title_id="web.quality.title",
        project=project,
        progress=progress,
        quality=quality,
        days_chart=days_chart,
        agreement_chart=agreement_chart,
        per_label_chart=per_label_chart,
        label_name=label_name,
        lots=project_lots,
        audit_by_id=audit_by_id,
    )

"""The labeller's pages: project chooser, the queue page, item cards and media files.

The queue page is painted once; from then on its script drives the JSON API
(``/api/projects/{id}/next``, ``.../next?prefetch=true``, ``/api/assignments/{id}/label``
and ``/skip``) and fetches each leased item's card here, rendered server-side (highlights
from ``labelops.text.find_spans``, media probed) so that the page inserts markup that
Jinja has already escaped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, BinaryIO

import anyio
from fastapi import Form, Path, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from starlette.types import Receive, Scope, Send

from labelops.api.deps import SessionDep
from labelops.api.errors import error_envelope
from labelops.api.schemas.fields import Id, Text
from labelops.config import Settings
from labelops.errors import NotFound
from labelops.services import feedback, projects, rework, workspace
from labelops.web.render import (
    name_in,
    page_language,
    render_fragment,
    render_page,
    start_of_today,
)
from labelops.web.routes._deps import PageActor, make_router

__all__ = ["LABEL_KEYS", "router"]

router = make_router()

# 1-9 first, then letters; g (guide), s (skip), u (undo), p (play) are commands.
LABEL_KEYS = tuple("123456789") + tuple("abcdefhijklmnoqrtvwxyz")


class _OpenFileResponse(FileResponse):
    """A ``FileResponse`` (ranges, ETag, HEAD) over a file already opened and checked.

    The path is never opened again: what was checked inside the media root (a regular
    file, opened without following a last symbolic link) is what is sent. It overrides
    Starlette's ``FileResponse._open_file`` (Starlette 1.x) and turns off the
    ``pathsend`` extension; ``tests/security/test_media_paths.py`` checks the bytes and a
    range request, so a Starlette change that bypasses this fails there.
    """

    def __init__(self, handle: BinaryIO, status: os.stat_result, **options: Any) -> None:
        self._handle = handle
        super().__init__(f"/dev/fd/{handle.fileno()}", stat_result=status, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = {
            key: value
            for key, value in scope.get("extensions", {}).items()
            if key != "http.response.pathsend"  # the server would open the path itself
        }
        try:
            await super().__call__({**scope, "extensions": extensions}, receive, send)
        finally:
            self._handle.close()

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        self._handle.seek(0)
        yield anyio.wrap_file(self._handle)


@router.get("/work")
def choose_project(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """The labeller's projects; straight to the queue when there is only one."""
    mine = workspace.list_labeller_projects(session, actor)
    today = workspace.count_labels_today(session, actor, since=start_of_today())
    session.commit()
    if len(mine) == 1 and request.query_params.get("all") is None:
        return RedirectResponse(f"/work/{mine[0].project_id}", status_code=303)
    return render_page(
        request, "work_projects.html", actor, title_id="web.work.title", projects=mine, today=today
    )


@router.get("/work/{project_id}")
def queue_page(
    request: Request, session: SessionDep, actor: PageActor, project_id: Id
) -> HTMLResponse:
    """The labelling page of one project."""
    project = projects.get_project(session, actor, project_id)
    guide = workspace.get_project_guide(session, actor, project_id)
    mine = workspace.list_labeller_projects(session, actor)
    today = workspace.count_labels_today(session, actor, since=start_of_today())
    mode = projects.load_project_context(session, project_id).taxonomy.mode
    mistakes = feedback.list_feedback(session, actor, project_id=project_id, limit=5)
    session.commit()
    lang = page_language(request, actor)
    labels = _label_choices(guide, lang)
    return render_page(
        request,
        "work_queue.html",
        actor,
        title_id="web.work.title",
        project=project,
        labels=labels,
        mode=mode,
        today=today,
        n_projects=len(mine),
        boot={
            "project_id": project.id,
            "mode": mode,
            "keys": {label["hotkey"]: label["key"] for label in labels if label["hotkey"]},
            "today": today,
            "names": {label["key"]: label["name"] for label in labels},
        },
        mistakes=mistakes,
    )


@router.get("/w/cards/{assignment_id}")
def card(request: Request, session: SessionDep, actor: PageActor, assignment_id: Id) -> Response:
    """One assignment's item as an HTML fragment (escaped by Jinja) for the queue page."""
    settings: Settings = request.app.state.settings
    item_card = workspace.get_assignment_card(
        session, actor, assignment_id, media_root=settings.resolved_media_root
    )
    session.commit()
    html = render_fragment(request, "partials/card.html", actor, card=item_card)
    return HTMLResponse(html, headers={"Cache-Control": "private, no-store"})


@router.get("/w/media/{assignment_id}/{index}")
def media(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    assignment_id: Id,
    index: Annotated[int, Path(ge=0, le=10_000)],
) -> Response:
    """A media file of one of the labeller's items (sandboxed: it can run nothing).

    Only a regular file inside the media root is served (checked again on every request);
    anything else is a 404 in the API's error envelope, the same whether or not a file
    exists at that path.
    """
    settings: Settings = request.app.state.settings
    try:
        handle, status, info = workspace.get_assignment_media(
            session, actor, assignment_id, index, media_root=settings.resolved_media_root
        )
    except NotFound as error:
        session.rollback()
        return JSONResponse(
            error_envelope(error, page_language(request, actor)),
            status_code=404,
            headers={"Cache-Control": "private, no-store"},
        )
    session.commit()
    return _OpenFileResponse(
        handle,
        status,
        media_type=info.mime or "application/octet-stream",
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=600",
        },
    )


@router.get("/work/{project_id}/rework")
def rework_page(
    request: Request, session: SessionDep, actor: PageActor, project_id: Id
) -> HTMLResponse:
    """The next rework item of a rejected lot (keyboard: label keys, Enter)."""
    settings: Settings = request.app.state.settings
    project = projects.get_project(session, actor, project_id)
    task = rework.next_rework_task(session, actor, project_id, lease_seconds=settings.lease_seconds)
    guide = workspace.get_project_guide(session, actor, project_id)
    session.commit()
    lang = page_language(request, actor)
    labels = _label_choices(guide, lang)
    return render_page(
        request,
        "work_rework.html",
        actor,
        title_id="web.rework.title",
        project=project,
        task=task,
        labels=labels,
        names={label["key"]: label["name"] for label in labels},
        text_parts=workspace.highlight_parts(task.item.get("text")) if task else (),
    )


@router.post("/work/{project_id}/rework/{rework_id}")
def rework_submit(
    session: SessionDep,
    actor: PageActor,
    project_id: Id,
    rework_id: Id,
    value: Annotated[list[Text], Form()],
) -> Response:
    """Answer a rework item, then go to the next one."""
    rework.submit_rework(session, actor, rework_id, value)
    return RedirectResponse(f"/work/{project_id}/rework", status_code=303)


def _label_choices(guide: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    """The taxonomy's labels as the labelling pages show them: key, keyboard key, name in
    the page language, both names, both definitions and the examples."""
    return [
        {
            "key": label.key,
            "hotkey": LABEL_KEYS[index] if index < len(LABEL_KEYS) else "",
            "name": name_in(label, lang),
            "name_en": label.name_en,
            "name_zh": label.name_zh,
            "definition_en": label.definition_en,
            "definition_zh": label.definition_zh,
            "examples": [str(example) for example in (label.examples or [])],
        }
        for index, label in enumerate(guide)
    ]

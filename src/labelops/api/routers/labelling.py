"""The labeller's loop: next task, submit, skip."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from labelops.api.deps import CurrentActor, SessionDep, SettingsDep
from labelops.api.schemas.projects import (
    AssignmentPublic,
    LabelPublic,
    LabelSubmit,
    NextTaskPublic,
    SkipRequest,
)
from labelops.errors import InvalidInput
from labelops.services import labelling, queue

router = APIRouter(prefix="/api", tags=["labelling"])


@router.get("/projects/{project_id}/next", response_model=None)
def next_task(
    project_id: int,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    prefetch: bool = False,
) -> NextTaskPublic | Response:
    """Lease the next task to the calling labeller; 204 when nothing is left.

    ``prefetch=true`` leases one more task besides the one being worked on (for pages
    that show the next item at once).
    """
    served = queue.next_task(
        session, actor, project_id, lease_seconds=settings.lease_seconds, prefetch=prefetch
    )
    if served is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return NextTaskPublic(
        assignment_id=served.assignment_id,
        item=served.item,
        labels=list(served.labels),
        mode=served.mode,
        lease_expires_at=served.lease_expires_at,
        current_label=list(served.current_label) if served.current_label else None,
    )


@router.post("/assignments/{assignment_id}/label", status_code=status.HTTP_201_CREATED)
def submit_label(
    assignment_id: int,
    body: LabelSubmit,
    session: SessionDep,
    actor: CurrentActor,
    response: Response,
) -> LabelPublic:
    """Submit (or revise) a label; the same request again returns 200 with the same label."""
    if body.labels is not None and body.label is not None:
        raise InvalidInput("errors.label.both_fields", field="label")
    value = body.labels if body.labels is not None else ([body.label] if body.label else [])
    result = labelling.submit_label(session, actor, assignment_id, value, active_ms=body.active_ms)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    public = LabelPublic.model_validate(result.label)
    public.final_status = result.final_status
    return public


@router.post("/assignments/{assignment_id}/skip")
def skip(
    assignment_id: int, body: SkipRequest, session: SessionDep, actor: CurrentActor
) -> AssignmentPublic:
    """Skip a leased task with a reason."""
    return AssignmentPublic.model_validate(
        labelling.skip_assignment(session, actor, assignment_id, body.reason)
    )

"""The labeller's loop: next task, submit, skip."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from labelops.api.alone import lease_on_loop, submit_and_lease_on_loop, submit_on_loop
from labelops.api.deps import CurrentActor, SessionDep, run_as_actor
from labelops.api.schemas.fields import Id
from labelops.api.schemas.projects import (
    AssignmentPublic,
    LabelPublic,
    LabelSubmit,
    NextTaskPublic,
    SkipRequest,
)
from labelops.errors import InvalidInput
from labelops.services import labelling, queue
from labelops.services._tx import NEEDS_TRANSACTION
from labelops.services.policy import Actor

router = APIRouter(prefix="/api", tags=["labelling"])


@router.get(
    "/projects/{project_id}/next",
    response_model=NextTaskPublic,
    responses={204: {"description": "Nothing is left for this labeller."}},
)
async def next_task(project_id: Id, request: Request, prefetch: bool = False) -> Response:
    """Lease the next task to the calling labeller; 204 when nothing is left.

    ``prefetch=true`` leases one more task besides the one being worked on (for pages
    that show the next item at once).
    """
    return await serve_next(request, project_id, prefetch=prefetch)


async def serve_next(request: Request, project_id: int, *, prefetch: bool) -> Response:
    """The next-task response (this route's and ``labelops.api.hot``'s)."""
    lease_seconds = request.app.state.settings.lease_seconds

    def use_case(session: Session, actor: Actor) -> queue.ServedTask | None:
        return queue.next_task(
            session, actor, project_id, lease_seconds=lease_seconds, prefetch=prefetch
        )

    on_loop = await lease_on_loop(request, project_id, lease_seconds=lease_seconds)
    served = (
        await run_as_actor(request, use_case)
        if on_loop is NEEDS_TRANSACTION
        else cast(queue.ServedTask | None, on_loop)
    )
    if served is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return _json(_next_public(served))


@router.post(
    "/assignments/{assignment_id}/label",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelPublic,
    responses={200: {"model": LabelPublic, "description": "The same submit again."}},
)
async def submit_label(
    assignment_id: Id,
    body: LabelSubmit,
    request: Request,
    and_next: Annotated[
        bool, Query(alias="next", description="Also lease the next task (one round trip).")
    ] = False,
) -> Response:
    """Submit (or revise) a label; the same request again returns 200 with the same label.

    With ``?next=true`` the response also carries the labeller's next task, leased as
    by ``GET /projects/{id}/next``, so a labelling client needs one request per label.
    """
    return await serve_submit(request, assignment_id, body, and_next=and_next)


async def serve_submit(
    request: Request, assignment_id: int, body: LabelSubmit, *, and_next: bool
) -> Response:
    """The submit response (this route's and ``labelops.api.hot``'s)."""
    if body.labels is not None and body.label is not None:
        raise InvalidInput("errors.label.both_fields", field="label")
    value = body.labels if body.labels is not None else ([body.label] if body.label else [])
    lease_seconds = request.app.state.settings.lease_seconds

    def use_case(
        session: Session, actor: Actor
    ) -> tuple[labelling.SubmitResult, queue.ServedTask | None]:
        if and_next:
            return labelling.submit_label_and_lease_next(
                session,
                actor,
                assignment_id,
                value,
                active_ms=body.active_ms,
                lease_seconds=lease_seconds,
            )
        submitted = labelling.submit_label(
            session, actor, assignment_id, value, active_ms=body.active_ms
        )
        return submitted, None

    on_loop = (
        await submit_and_lease_on_loop(
            request, assignment_id, value, active_ms=body.active_ms, lease_seconds=lease_seconds
        )
        if and_next
        else await submit_on_loop(request, assignment_id, value, active_ms=body.active_ms)
    )
    if isinstance(on_loop, labelling.SubmitResult):
        result, served = on_loop, None
    elif isinstance(on_loop, tuple):
        result, served = on_loop
    else:
        result, served = await run_as_actor(request, use_case)
    public = LabelPublic.model_validate(result.label)
    public.final_status = result.final_status
    if served is not None:
        public.next = _next_public(served)
    return _json(public, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


def _next_public(served: queue.ServedTask) -> NextTaskPublic:
    return NextTaskPublic(
        assignment_id=served.assignment_id,
        item=served.item,
        labels=list(served.labels),
        mode=served.mode,
        lease_expires_at=served.lease_expires_at,
        current_label=list(served.current_label) if served.current_label else None,
    )


def _json(model: BaseModel, status_code: int = status.HTTP_200_OK) -> Response:
    # Serialised by pydantic-core directly: FastAPI's generic path (jsonable_encoder,
    # then json.dumps) costs more than the SQL of these calls.
    return Response(model.model_dump_json(), status_code, media_type="application/json")


@router.post("/assignments/{assignment_id}/skip")
def skip(
    assignment_id: Id, body: SkipRequest, session: SessionDep, actor: CurrentActor
) -> AssignmentPublic:
    """Skip a leased task with a reason."""
    return AssignmentPublic.model_validate(
        labelling.skip_assignment(session, actor, assignment_id, body.reason)
    )

"""The labeller's loop: next task, submit, skip."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from labelops.api.alone import lease_on_loop, submit_and_lease_on_loop, submit_on_loop
from labelops.api.deps import CurrentActor, SessionDep, bearer_token, run_as_actor
from labelops.api.schemas.audit import GoldFeedbackPublic, GuidelinePublic
from labelops.api.schemas.fields import Id
from labelops.api.schemas.projects import (
    AssignmentPublic,
    LabelPublic,
    LabelSubmit,
    NextTaskPublic,
    SkipRequest,
)
from labelops.errors import InvalidInput, PermissionDenied
from labelops.services import feedback, labelling, queue
from labelops.services._tx import NEEDS_TRANSACTION
from labelops.services.policy import Actor

router = APIRouter(prefix="/api", tags=["labelling"])


_NEXT_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "Nothing is left for this labeller."}
}


@router.post(
    "/projects/{project_id}/next", response_model=NextTaskPublic, responses=_NEXT_RESPONSES
)
async def next_task(project_id: Id, request: Request, prefetch: bool = False) -> Response:
    """Lease the next task to the calling labeller; 204 when nothing is left.

    ``prefetch=true`` leases one more task besides the one being worked on (for pages
    that show the next item at once). Leasing changes state: a call made with the web
    session cookie must carry the ``X-CSRF-Token`` header, as every unsafe call does.
    """
    return await serve_next(request, project_id, prefetch=prefetch)


@router.get(
    "/projects/{project_id}/next",
    response_model=NextTaskPublic,
    responses={
        **_NEXT_RESPONSES,
        403: {"description": "Not called with a Bearer token: use POST."},
    },
)
async def next_task_by_token(project_id: Id, request: Request, prefetch: bool = False) -> Response:
    """``POST /projects/{id}/next`` for API clients with a Bearer token only (kept for
    existing integrations). A call without one, with the web session cookie say, leases
    nothing and gets 403: a GET must not change state for a browser."""
    return await serve_next(request, project_id, prefetch=prefetch, bearer_only=True)


async def serve_next(
    request: Request, project_id: int, *, prefetch: bool, bearer_only: bool = False
) -> Response:
    """The next-task response (these routes' and ``labelops.api.hot``'s).

    Raises:
        PermissionDenied: ``bearer_only`` and the request has no Bearer token.
    """
    if bearer_only and bearer_token(request) is None:
        raise PermissionDenied("errors.next.use_post", project=project_id)
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

    ``feedback`` is the gold answer after a submit of a gold item when the project shows
    gold feedback, and null otherwise (for ordinary items too).

    With ``?next=true`` the response also carries the labeller's next task, leased as
    by ``POST /projects/{id}/next``, so a labelling client needs one request per label.
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
    if result.is_gold:  # only then: an ordinary submit pays nothing for it
        public.feedback = await _gold_feedback(request, assignment_id)
    if served is not None:
        public.next = _next_public(served)
    return _json(public, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


async def _gold_feedback(request: Request, assignment_id: int) -> GoldFeedbackPublic | None:
    """The submitted gold task's feedback (None when the project does not show it)."""

    def use_case(session: Session, actor: Actor) -> feedback.GoldFeedback | None:
        return feedback.gold_feedback(session, actor, assignment_id)

    shown = await run_as_actor(request, use_case)
    if shown is None:
        return None
    return GoldFeedbackPublic(
        assignment_id=shown.assignment_id,
        your_labels=shown.your_value,
        right_labels=shown.right_value,
        is_correct=shown.is_correct,
        explanation_en=shown.explanation_en,
        explanation_zh=shown.explanation_zh,
        guideline=[GuidelinePublic.model_validate(entry) for entry in shown.guideline],
    )


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

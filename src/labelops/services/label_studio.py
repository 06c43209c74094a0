"""Landing a Label Studio export's annotations as labels of a project.

Label Studio identifies annotators by its own user ids or e-mails, so each annotator
becomes a labeller ``ls-<annotator>`` of the vendor the importer names (created
without a password: they exist to own their historical labels). An annotation lands
as a submitted assignment with its label, timed from Label Studio's ``created_at``
and ``lead_time``; re-importing the same export adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput, RowProblem
from labelops.services.finals import refresh_live_final_label
from labelops.services.item_files import ImportedAnnotation
from labelops.services.labelling import validate_label_value
from labelops.services.projects import ProjectContext
from labelops.store.models import Assignment, Item, Label, Task, User
from labelops.types import AssignmentStatus, Role, TaskStatus

__all__ = ["land_annotations"]

USERNAME_PREFIX = "ls-"


def land_annotations(
    session: Session,
    context: ProjectContext,
    annotations: Sequence[ImportedAnnotation],
    *,
    vendor_id: int,
    now: datetime,
) -> tuple[int, list[RowProblem]]:
    """Store annotations as labels inside the caller's transaction.

    Args:
        context: The project being imported into.
        annotations: Parsed from the export (``item_files``).
        vendor_id: Vendor the annotators belong to (must work on the project).

    Returns:
        ``(labels created, problems)``; a problem names the task's line in the export.
    """
    if vendor_id not in context.vendor_ids:
        raise InvalidInput(
            "errors.import.annotation_vendor", field="annotations_vendor", value=vendor_id
        )
    problems: list[RowProblem] = []
    users: dict[str, User] = {}
    created = 0
    external_ids = sorted({annotation.external_id for annotation in annotations})
    tasks: dict[str, Task] = {}
    for start in range(0, len(external_ids), 2000):  # bound the IN (...) list
        chunk = external_ids[start : start + 2000]
        for external_id, found in session.execute(
            select(Item.external_id, Task)
            .join(Task, Task.item_id == Item.id)
            .where(Task.project_id == context.project.id, Item.external_id.in_(chunk))
        ):
            tasks[external_id] = found
    for annotation in annotations:
        line = annotation.line or 0
        task = tasks.get(annotation.external_id)
        if task is None:
            continue  # its item was a duplicate or rejected; reported already
        try:
            value = validate_label_value(
                list(annotation.labels), context.label_keys, context.taxonomy.mode
            )
        except InvalidInput as error:
            params = {
                key: value
                for key, value in error.params.items()
                if key not in ("file", "line", "field")
            }
            problems.append(RowProblem(line, "annotations", error.message_id, params))
            continue
        username = USERNAME_PREFIX + (annotation.annotator or "anonymous")
        user = users.get(username) or _labeller(session, username, vendor_id)
        if user is None:
            problems.append(
                RowProblem(
                    line, "annotations", "errors.import.annotator_taken", {"username": username}
                )
            )
            continue
        users[username] = user
        already = session.scalar(
            select(Assignment.id).where(
                Assignment.task_id == task.id, Assignment.labeller_id == user.id
            )
        )
        if already is not None:
            continue
        submitted = annotation.created_at or now
        served = submitted - timedelta(seconds=annotation.lead_time_s or 0.0)
        assignment = Assignment(
            task_id=task.id,
            project_id=context.project.id,
            labeller_id=user.id,
            vendor_id=vendor_id,
            status=AssignmentStatus.SUBMITTED.value,
            served_at=served,
            lease_expires_at=served,
            submitted_at=submitted,
        )
        session.add(assignment)
        session.flush()
        session.add(
            Label(
                assignment_id=assignment.id,
                task_id=task.id,
                project_id=context.project.id,
                labeller_id=user.id,
                vendor_id=vendor_id,
                value=value,
                revision=1,
                is_current=True,
                served_at=served,
                submitted_at=submitted,
                active_ms=None
                if annotation.lead_time_s is None
                else int(annotation.lead_time_s * 1000),
            )
        )
        task.n_labels += 1
        task.slots_taken += 1
        created += 1
        if not task.is_gold and task.n_labels >= context.project.overlap:
            task.status = TaskStatus.COMPLETE.value
            session.flush()
            refresh_live_final_label(session, context, task, now=now)
    session.flush()
    return created, problems


def _labeller(session: Session, username: str, vendor_id: int) -> User | None:
    """The annotator's labeller account, created on first sight; None if the name is
    taken by someone who is not a labeller of this vendor."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(
            username=username[:200],
            role=Role.LABELLER.value,
            vendor_id=vendor_id,
            display_name=username,
        )
        session.add(user)
        session.flush()
        return user
    if user.role != Role.LABELLER.value or user.vendor_id != vendor_id:
        return None
    return user

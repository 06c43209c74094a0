"""Feedback to vendors: audited mistakes with the right answer, and gold answers.

* :func:`list_feedback` — a labeller sees their own labels the audit found incorrect,
  with the right answer and the guideline (the taxonomy label's definition in English
  and Traditional Chinese); a vendor manager sees the whole vendor's; in-house roles
  see all. Overturned verdicts are not mistakes and do not appear.
* :func:`gold_feedback` — after submitting a gold task, a labeller may see the
  gold answer and its explanation, if the project allows it; it comes in the submit's
  response (``feedback``, null for every other task: there is no call of its own whose
  answer would tell gold items from ordinary ones). Anything else (someone else's
  assignment, not submitted, not gold, project setting off) is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from labelops.services.policy import Actor, authorize, scope_to_vendor
from labelops.store.audit_models import Audit, AuditErrorType, AuditSample
from labelops.store.models import (
    Assignment,
    GoldAnswer,
    Item,
    Label,
    Project,
    Task,
    TaxonomyLabel,
)
from labelops.types import AssignmentStatus, Role

__all__ = [
    "FeedbackEntry",
    "GoldFeedback",
    "GuidelineEntry",
    "gold_feedback",
    "list_feedback",
]


@dataclass(frozen=True)
class GuidelineEntry:
    """A taxonomy label's names and definition in both languages."""

    key: str
    name_en: str
    name_zh: str
    definition_en: str
    definition_zh: str


@dataclass(frozen=True)
class FeedbackEntry:
    """One audited mistake."""

    audit_id: int
    label_id: int
    project_id: int
    labeller_id: int
    external_id: str
    text: str | None
    your_value: list[str]
    right_value: list[str]
    error_type: str | None
    error_name_en: str | None
    error_name_zh: str | None
    severity: str | None
    comment: str | None
    reviewed_at: datetime | None
    guideline: tuple[GuidelineEntry, ...]
    """Definition of each right label key."""


@dataclass(frozen=True)
class GoldFeedback:
    """The gold answer of a submitted gold task."""

    assignment_id: int
    your_value: list[str]
    right_value: list[str]
    is_correct: bool
    explanation_en: str | None
    explanation_zh: str | None
    guideline: tuple[GuidelineEntry, ...]


def _guideline(
    session: Session,
    taxonomy_id: int,
    keys: list[str],
    cache: dict[int, dict[str, TaxonomyLabel]] | None = None,
) -> tuple[GuidelineEntry, ...]:
    cache = {} if cache is None else cache
    if taxonomy_id not in cache:
        cache[taxonomy_id] = {
            row.key: row
            for row in session.scalars(
                select(TaxonomyLabel).where(TaxonomyLabel.taxonomy_id == taxonomy_id)
            )
        }
    rows = cache[taxonomy_id]
    return tuple(
        GuidelineEntry(
            key=key,
            name_en=rows[key].name_en,
            name_zh=rows[key].name_zh,
            definition_en=rows[key].definition_en,
            definition_zh=rows[key].definition_zh,
        )
        for key in keys
        if key in rows
    )


def list_feedback(
    session: Session,
    actor: Actor,
    *,
    project_id: int | None = None,
    limit: int = 500,
) -> list[FeedbackEntry]:
    """Audited mistakes the actor may see, newest first (see the module docstring).

    Args:
        project_id: Only this project.
        limit: At most this many entries (1 to 10 000).
    """
    authorize(actor, "feedback.read")
    query = (
        select(AuditSample, Audit.project_id, Audit.error_type_version, Item.external_id, Item.text)
        .join(Audit, Audit.id == AuditSample.audit_id)
        .join(Task, Task.id == AuditSample.task_id)
        .join(Item, Item.id == Task.item_id)
        .where(AuditSample.verdict == "incorrect")
        .order_by(AuditSample.reviewed_at.desc(), AuditSample.id.desc())
        .limit(max(1, min(limit, 10_000)))
    )
    if project_id is not None:
        query = query.where(Audit.project_id == project_id)
    if actor.role == Role.LABELLER:
        query = query.where(AuditSample.labeller_id == actor.user_id)
    # The cast only satisfies the helper's type bound for a multi-column select.
    query = scope_to_vendor(cast("Select[Any]", query), actor, AuditSample.vendor_id)
    rows: list[tuple[AuditSample, int, int, str, str | None]] = [
        (row[0], row[1], row[2], row[3], row[4]) for row in session.execute(query)
    ]
    names = {(t.list_version, t.key): t for t in session.scalars(select(AuditErrorType))}
    taxonomies = {
        int(project): int(taxonomy)
        for project, taxonomy in session.execute(select(Project.id, Project.taxonomy_id))
    }
    entries = []
    labels_by_taxonomy: dict[int, dict[str, TaxonomyLabel]] = {}
    for sample, sample_project, version, external_id, text in rows:
        right = list(sample.corrected_value or [])
        kind = names.get((version, sample.error_type or ""))
        entries.append(
            FeedbackEntry(
                audit_id=sample.audit_id,
                label_id=sample.label_id,
                project_id=sample_project,
                labeller_id=sample.labeller_id,
                external_id=external_id,
                text=text,
                your_value=list(sample.vendor_value),
                right_value=right,
                error_type=sample.error_type,
                error_name_en=kind.name_en if kind else None,
                error_name_zh=kind.name_zh if kind else None,
                severity=sample.severity,
                comment=sample.comment,
                reviewed_at=sample.reviewed_at,
                guideline=_guideline(
                    session, taxonomies[sample_project], right, labels_by_taxonomy
                ),
            )
        )
    return entries


def gold_feedback(session: Session, actor: Actor, assignment_id: int) -> GoldFeedback | None:
    """The gold answer and explanation for the labeller's own submitted gold task.

    Called after a submit of a gold task only (``SubmitResult.is_gold``), so ordinary
    submits pay nothing for it. None when it is not the actor's assignment, not
    submitted, not a gold task, or the project does not show gold feedback.
    """
    authorize(actor, "feedback.read")
    assignment = session.get(Assignment, assignment_id, populate_existing=True)
    if (
        assignment is None
        or actor.user_id is None
        or assignment.labeller_id != actor.user_id
        or assignment.status != AssignmentStatus.SUBMITTED.value
    ):
        return None
    task = session.get(Task, assignment.task_id, populate_existing=True)
    project = session.get(Project, assignment.project_id, populate_existing=True)
    if task is None or project is None or not task.is_gold or not project.show_gold_feedback:
        return None
    gold = session.scalar(
        select(GoldAnswer).where(
            GoldAnswer.project_id == project.id, GoldAnswer.item_id == task.item_id
        )
    )
    label = session.scalar(
        select(Label)
        .where(Label.assignment_id == assignment.id, Label.is_current.is_(True))
        .execution_options(populate_existing=True)
    )
    if gold is None or label is None:
        return None
    right = list(gold.value)
    return GoldFeedback(
        assignment_id=assignment.id,
        your_value=list(label.value),
        right_value=right,
        is_correct=sorted(label.value) == sorted(right),
        explanation_en=gold.explanation_en,
        explanation_zh=gold.explanation_zh,
        guideline=_guideline(session, project.taxonomy_id, right),
    )

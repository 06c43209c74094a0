"""Schemas for taxonomies, projects, items, labels, final labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from labelops.api.schemas.audit import GoldFeedbackPublic
from labelops.api.schemas.fields import Count, Flag, IdField, Int32, Number, Text

__all__ = [
    "AssignmentPublic",
    "AuditEventPublic",
    "FinalizeRequest",
    "FinalizePublic",
    "ImportReportPublic",
    "ItemBatch",
    "LabelPublic",
    "LabelSubmit",
    "NextTaskPublic",
    "ProgressPublic",
    "ProjectCreate",
    "ProjectPublic",
    "ProjectUpdate",
    "SkipRequest",
    "TaxonomyLabelPublic",
    "TaxonomyPublic",
]


class TaxonomyLabelPublic(BaseModel):
    """One label of a taxonomy version."""

    key: str
    name: dict[str, str]
    definition: dict[str, str]
    examples: list[Any]


class TaxonomyPublic(BaseModel):
    """A taxonomy version with its labels."""

    id: int
    key: str
    version: int
    mode: str
    labels: list[TaxonomyLabelPublic]


class ProjectCreate(BaseModel):
    """A new project."""

    name: Text = Field(min_length=1, max_length=200)
    taxonomy: Text = Field(max_length=300, description="KEY@VERSION")
    overlap: Int32
    gold_rate: Number = 0.0
    vendor_ids: list[IdField] = Field(default_factory=list, max_length=1000)
    sla_hours: Number | None = None


class ProjectUpdate(BaseModel):
    """Changes to a project's settings."""

    overlap: Int32 | None = None
    gold_rate: Number | None = None
    sla_hours: Number | None = None
    vendor_ids: list[IdField] | None = Field(default=None, max_length=1000)


class ProjectPublic(BaseModel):
    """A project."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    taxonomy_id: int
    overlap: int
    gold_rate: float
    sla_hours: float | None
    created_at: datetime


class ProgressPublic(BaseModel):
    """Counts of a project's work."""

    n_tasks: int
    n_gold_tasks: int
    n_complete: int
    n_labels: int
    n_final: int
    n_needs_adjudication: int


class ItemBatch(BaseModel):
    """A batch of items to import (same schema and validation as files)."""

    items: list[dict[str, Any]] = Field(max_length=10_000)
    skip_invalid: Flag = False


class ImportReportPublic(BaseModel):
    """What an import did."""

    import_id: int | None
    n_rows: int
    n_created: int
    n_duplicates: int
    n_rejected: int
    duplicates: list[dict[str, Any]]
    rejected: list[dict[str, Any]]


class NextTaskPublic(BaseModel):
    """A leased task."""

    assignment_id: int
    item: dict[str, Any]
    labels: list[str]
    mode: str
    lease_expires_at: datetime
    current_label: list[str] | None = None


class LabelSubmit(BaseModel):
    """A labeller's answer: ``label`` (single) or ``labels`` (multi)."""

    label: Text | None = Field(default=None, max_length=100)
    labels: list[Text] | None = Field(default=None, max_length=100)
    active_ms: Count | None = None


class LabelPublic(BaseModel):
    """A stored label."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    assignment_id: int
    value: list[str]
    revision: int
    served_at: datetime
    submitted_at: datetime
    active_ms: int | None
    feedback: GoldFeedbackPublic | None = Field(
        default=None,
        description=(
            "The gold answer, after a submit of a gold item in a project that shows gold"
            " feedback; null for every other submit (ordinary items included: the response"
            " does not tell gold items apart otherwise)."
        ),
    )
    next: NextTaskPublic | None = Field(
        default=None,
        description="With `?next=true`: the labeller's next leased task (null when none is left).",
    )


class SkipRequest(BaseModel):
    """Skip a task with a reason."""

    reason: Text = Field(min_length=1, max_length=2000)


class AssignmentPublic(BaseModel):
    """An assignment's state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    status: str
    served_at: datetime
    lease_expires_at: datetime
    skip_reason: str | None


class FinalizeRequest(BaseModel):
    """Which method computes the final labels."""

    method: Text = Field(default="majority", max_length=100)


class FinalizePublic(BaseModel):
    """What a finalize run produced."""

    snapshot_id: int
    method: str
    n_items: int
    n_final: int
    n_needs_adjudication: int
    n_incomplete: int
    n_audited: int


class AuditEventPublic(BaseModel):
    """One audit-trail entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_id: int | None
    actor_name: str
    vendor_id: int | None
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime

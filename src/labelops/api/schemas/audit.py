"""Schemas of the audit workflow: gold, lots, audits, verdicts, rework, disputes, feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from labelops.api.schemas.fields import Count, IdField, Int32, Number, Seed, Text, ZonedDateTime

__all__ = [
    "AuditCreate",
    "AuditItemPublic",
    "AuditPublic",
    "AuditReportPublic",
    "BlindAnswerCreate",
    "ClassQualityPublic",
    "DisputeCreate",
    "DisputePublic",
    "DisputeResolve",
    "ErrorTypeCreate",
    "ErrorTypePublic",
    "FeedbackPublic",
    "GoldAccuracyPublic",
    "GoldCreate",
    "GoldFeedbackPublic",
    "GoldImportPublic",
    "GoldPublic",
    "GuidelinePublic",
    "LotAccuracyPublic",
    "LotCreate",
    "LotPublic",
    "ReworkCreate",
    "ReworkLabelCreate",
    "ReworkProgressPublic",
    "ReworkResultPublic",
    "ReworkSummaryPublic",
    "ReworkTaskPublic",
    "SwitchingPublic",
    "VerdictCreate",
]


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GoldCreate(BaseModel):
    """Mark an item of the project as gold."""

    external_id: Text = Field(min_length=1, max_length=500)
    labels: list[Text] = Field(min_length=1, max_length=100)
    explanation_en: Text = Field(min_length=1, max_length=5000)
    explanation_zh: Text = Field(min_length=1, max_length=5000)


class GoldPublic(BaseModel):
    """A gold answer (in-house roles only)."""

    external_id: str
    labels: list[str]
    explanation_en: str | None
    explanation_zh: str | None
    created_at: datetime


class GoldImportPublic(_FromAttributes):
    """What a batch of gold answers stored (all rows, or none on any error)."""

    n_rows: int
    n_created: int
    n_updated: int


class GoldAccuracyPublic(_FromAttributes):
    """A labeller's accuracy on gold items, with a Wilson interval."""

    labeller_id: int
    username: str
    vendor_id: int
    n_answers: int
    n_correct: int
    accuracy_rate: float
    ci_low: float
    ci_high: float
    confidence: float


class GuidelinePublic(_FromAttributes):
    """A taxonomy label's names and definition in both languages."""

    key: str
    name_en: str
    name_zh: str
    definition_en: str
    definition_zh: str


class GoldFeedbackPublic(BaseModel):
    """The gold answer shown to a labeller after they submitted a gold task."""

    assignment_id: int
    your_labels: list[str]
    right_labels: list[str]
    is_correct: bool
    explanation_en: str | None
    explanation_zh: str | None
    guideline: list[GuidelinePublic]


class LotCreate(BaseModel):
    """A new lot of a vendor's labels in the project."""

    vendor_id: IdField
    since: ZonedDateTime | None = None
    until: ZonedDateTime | None = None
    import_batch_id: IdField | None = None
    rework_of_lot_id: IdField | None = None


class LotPublic(_FromAttributes):
    """A lot with its size and status."""

    id: int
    project_id: int
    vendor_id: int
    kind: str
    status: str
    n_labels: int
    since: datetime | None
    until: datetime | None
    import_batch_id: int | None
    rework_of_lot_id: int | None
    created_at: datetime
    frozen_at: datetime | None
    audit_id: int | None


class AuditCreate(BaseModel):
    """Start the audit of a lot: the sampling plan and its parameters."""

    plan: Literal["aql", "margin", "stratified"] = "aql"
    aql: Text = Field(default="1.0", max_length=20)
    level: Text = Field(default="II", max_length=20)
    inspection: Text | None = Field(default=None, max_length=20)
    margin: Number = 0.05
    confidence: Number = 0.95
    allocation: Text = Field(default="neyman", max_length=20)
    min_per_stratum: Count = 1
    targeted: Count = 0
    target_accuracy: Number = 0.95
    seed: Seed | None = None


class AuditPublic(_FromAttributes):
    """An audit's plan, progress and decision."""

    id: int
    lot_id: int
    project_id: int
    vendor_id: int
    plan: str
    seed: int | None
    design: dict[str, Any]
    status: str
    n_sample: int
    n_random: int
    n_targeted: int
    n_reviewed: int
    n_defects_random: int
    n_defects: int
    decision: str | None
    accuracy_rate: float | None
    error_type_version: int
    started_at: datetime
    decided_at: datetime | None


class AuditItemPublic(BaseModel):
    """A sampled label: blind (no vendor label) until the auditor answers."""

    audit_id: int
    label_id: int
    task_id: int
    position: int
    part: str
    stratum: str | None
    stage: str
    item: dict[str, Any]
    labels: list[str]
    mode: str
    labeller_id: int
    vendor_labels: list[str] | None
    auditor_labels: list[str] | None
    verdict: str | None
    error_type: str | None
    severity: str | None
    corrected_labels: list[str] | None
    comment: str | None
    overturned: bool


class BlindAnswerCreate(BaseModel):
    """The auditor's own answer, given before the vendor's label is shown."""

    labels: list[Text] = Field(min_length=1, max_length=100)


class VerdictCreate(BaseModel):
    """The verdict on a sampled label."""

    verdict: Literal["correct", "incorrect"]
    error_type: Text | None = Field(default=None, max_length=100)
    severity: Literal["critical", "major", "minor"] | None = None
    corrected_labels: list[Text] | None = Field(default=None, max_length=100)
    comment: Text | None = Field(default=None, max_length=5000)


class LotAccuracyPublic(_FromAttributes):
    """The lot's estimated accuracy with its interval."""

    accuracy_rate: float
    ci_low: float
    ci_high: float
    confidence: float
    standard_error: float
    n_audited: int
    population_size: int | None
    method: str


class ClassQualityPublic(BaseModel):
    """Precision and recall of the vendor's labels for one class."""

    label: str
    precision_rate: float | None
    recall_rate: float | None
    vendor_count: float
    auditor_count: float


class AuditReportPublic(BaseModel):
    """An audit's decision and estimates."""

    audit: AuditPublic
    lot_size: int
    accept: int | None
    reject: int | None
    target_accuracy: float | None
    estimate: LotAccuracyPublic | None
    class_quality: list[ClassQualityPublic]
    n_targeted_reviewed: int
    n_targeted_defects: int
    errors_by_type: dict[str, int]
    errors_by_severity: dict[str, int]
    next_inspection: str | None
    decision_certain: bool = False
    """AQL plans: the lot's decision is already certain from the random labels reviewed
    (curtailed inspection), even if the sample is not finished."""
    certain_decision: str | None = None
    """``accepted`` or ``rejected`` once certain, else None."""
    curtailed_at: int | None = None
    """Random labels reviewed when the decision became certain."""


class ErrorTypeCreate(BaseModel):
    """One error type of a new list version."""

    key: Text = Field(min_length=1, max_length=64)
    name_en: Text = Field(min_length=1, max_length=200)
    name_zh: Text = Field(min_length=1, max_length=200)


class ErrorTypePublic(_FromAttributes):
    """One error type of the versioned list."""

    key: str
    name_en: str
    name_zh: str
    list_version: int


class SwitchingPublic(BaseModel):
    """A vendor's ISO 2859-1 switching state in a project."""

    inspection: str
    recent_normal_results: list[bool]
    switching_score: int
    consecutive_accepted_tightened: int
    rejected_on_tightened: int
    lots_inspected: int


class ReworkCreate(BaseModel):
    """Send a rejected lot back for rework."""

    target_vendor_id: IdField | None = None
    priority: Int32 = 10


class ReworkSummaryPublic(_FromAttributes):
    """What was sent back."""

    audit_id: int
    lot_id: int
    target_vendor_id: int
    priority: int
    n_items: int


class ReworkTaskPublic(BaseModel):
    """A rework item leased to the calling labeller."""

    rework_id: int
    item: dict[str, Any]
    labels: list[str]
    mode: str
    lease_expires_at: datetime
    previous_labels: list[str] | None


class ReworkLabelCreate(BaseModel):
    """The labeller's new answer for a rework item."""

    labels: list[Text] = Field(min_length=1, max_length=100)
    active_ms: Count | None = None


class ReworkResultPublic(_FromAttributes):
    """The label the rework created."""

    rework_id: int
    label_id: int
    revision: int
    final_status: str | None


class ReworkProgressPublic(_FromAttributes):
    """A lot's rework items by status."""

    lot_id: int
    n_total: int
    n_open: int
    n_done: int
    n_cancelled: int


class DisputeCreate(BaseModel):
    """A vendor manager's reason for disputing a verdict."""

    reason: Text = Field(min_length=1, max_length=2000)


class DisputeResolve(BaseModel):
    """The auditor's decision on a dispute."""

    outcome: Literal["uphold", "overturn"]
    comment: Text | None = Field(default=None, max_length=2000)


class DisputePublic(_FromAttributes):
    """A dispute and the verdict it is about."""

    id: int
    audit_id: int
    label_id: int
    vendor_id: int
    reason: str
    status: str
    resolution_comment: str | None
    opened_at: datetime
    resolved_at: datetime | None
    verdict: str | None


class FeedbackPublic(BaseModel):
    """One audited mistake with the right answer and the guideline."""

    audit_id: int
    label_id: int
    project_id: int
    labeller_id: int
    external_id: str
    text: str | None
    your_labels: list[str]
    right_labels: list[str]
    error_type: str | None
    error_name: dict[str, str | None]
    severity: str | None
    comment: str | None
    reviewed_at: datetime | None
    guideline: list[GuidelinePublic]

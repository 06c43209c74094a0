"""The audit workflow over HTTP: gold, lots, audits (blind review), rework, disputes,
feedback. Vendor roles see only their vendor's lots, audits and feedback; anything
else is 404."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from labelops.api.deps import CurrentActor, SessionDep, SettingsDep
from labelops.api.schemas.audit import (
    AuditCreate,
    AuditItemPublic,
    AuditPublic,
    AuditReportPublic,
    BlindAnswerCreate,
    ClassQualityPublic,
    DisputeCreate,
    DisputePublic,
    DisputeResolve,
    ErrorTypeCreate,
    ErrorTypePublic,
    FeedbackPublic,
    GoldAccuracyPublic,
    GoldCreate,
    GoldImportPublic,
    GoldPublic,
    GuidelinePublic,
    LotAccuracyPublic,
    LotCreate,
    LotPublic,
    ReworkCreate,
    ReworkLabelCreate,
    ReworkProgressPublic,
    ReworkResultPublic,
    ReworkSummaryPublic,
    ReworkTaskPublic,
    SwitchingPublic,
    VerdictCreate,
)
from labelops.api.schemas.fields import Id, Text
from labelops.services import audit_trail, audits, disputes, feedback, gold, lots, rework

router = APIRouter(prefix="/api", tags=["audit"])


def _item(view: audits.AuditItemView) -> AuditItemPublic:
    return AuditItemPublic(
        audit_id=view.audit_id,
        label_id=view.label_id,
        task_id=view.task_id,
        position=view.position,
        part=view.part,
        stratum=view.stratum,
        stage=view.stage,
        item=view.item,
        labels=list(view.labels),
        mode=view.mode,
        labeller_id=view.labeller_id,
        vendor_labels=view.vendor_value,
        auditor_labels=view.blind_value,
        verdict=view.verdict,
        error_type=view.error_type,
        severity=view.severity,
        corrected_labels=view.corrected_value,
        comment=view.comment,
        overturned=view.overturned,
    )


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


# ---------------------------------------------------------------- gold


@router.post("/projects/{project_id}/gold", status_code=status.HTTP_201_CREATED, tags=["gold"])
def mark_gold(
    project_id: Id, body: GoldCreate, session: SessionDep, actor: CurrentActor
) -> GoldPublic:
    """Mark an item as gold with its answer and explanations (in-house roles)."""
    answer = gold.mark_gold(
        session,
        actor,
        project_id,
        body.external_id,
        body.labels,
        explanation_en=body.explanation_en,
        explanation_zh=body.explanation_zh,
    )
    return GoldPublic(
        external_id=body.external_id,
        labels=list(answer.value),
        explanation_en=answer.explanation_en,
        explanation_zh=answer.explanation_zh,
        created_at=answer.created_at,
    )


@router.post("/projects/{project_id}/gold/batch", tags=["gold"])
def import_gold(
    project_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    body: Annotated[list[GoldCreate] | None, Body()] = None,
) -> GoldImportPublic:
    """Mark many items as gold at once: every row lands, or none does (rows numbered
    from 1 in the error's problems). A missing body is checked after authorisation, so
    another vendor's caller learns nothing from it."""
    rows = [
        gold.GoldRow(row.external_id, tuple(row.labels), row.explanation_en, row.explanation_zh)
        for row in body or []
    ]
    return GoldImportPublic.model_validate(gold.import_gold_rows(session, actor, project_id, rows))


@router.get("/projects/{project_id}/gold", tags=["gold"])
def list_gold(project_id: Id, session: SessionDep, actor: CurrentActor) -> list[GoldPublic]:
    """A project's gold answers (in-house roles)."""
    return [
        GoldPublic(
            external_id=external_id,
            labels=list(answer.value),
            explanation_en=answer.explanation_en,
            explanation_zh=answer.explanation_zh,
            created_at=answer.created_at,
        )
        for external_id, answer in gold.list_gold(session, actor, project_id)
    ]


@router.get("/projects/{project_id}/gold/accuracy", tags=["gold"])
def gold_accuracy(
    project_id: Id, session: SessionDep, actor: CurrentActor
) -> list[GoldAccuracyPublic]:
    """Each labeller's live accuracy on gold, with a Wilson interval."""
    return [
        GoldAccuracyPublic.model_validate(row)
        for row in gold.compute_gold_accuracy(session, actor, project_id)
    ]


# ---------------------------------------------------------------- lots


@router.get("/projects/{project_id}/lots")
def list_lots(project_id: Id, session: SessionDep, actor: CurrentActor) -> list[LotPublic]:
    """A project's lots with size and status (vendor roles: their own)."""
    return [LotPublic.model_validate(lot) for lot in lots.list_lots(session, actor, project_id)]


@router.post("/projects/{project_id}/lots", status_code=status.HTTP_201_CREATED)
def create_lot(
    project_id: Id, body: LotCreate, session: SessionDep, actor: CurrentActor
) -> LotPublic:
    """Put a vendor's not-yet-lotted labels of the project into a new lot."""
    return LotPublic.model_validate(
        lots.create_lot(
            session,
            actor,
            project_id,
            body.vendor_id,
            since=body.since,
            until=body.until,
            import_batch_id=body.import_batch_id,
            rework_of_lot_id=body.rework_of_lot_id,
        )
    )


@router.get("/lots/{lot_id}")
def get_lot(lot_id: Id, session: SessionDep, actor: CurrentActor) -> LotPublic:
    """One lot."""
    return LotPublic.model_validate(lots.get_lot(session, actor, lot_id))


@router.get("/lots/{lot_id}/rework")
def rework_progress(lot_id: Id, session: SessionDep, actor: CurrentActor) -> ReworkProgressPublic:
    """How far the lot's rework has got."""
    return ReworkProgressPublic.model_validate(rework.get_rework_progress(session, actor, lot_id))


# ---------------------------------------------------------------- audits


@router.post("/lots/{lot_id}/audits", status_code=status.HTTP_201_CREATED)
def start_audit(
    lot_id: Id, body: AuditCreate, session: SessionDep, actor: CurrentActor
) -> AuditPublic:
    """Freeze the lot and draw its audit sample."""
    return AuditPublic.model_validate(
        audits.start_audit(
            session,
            actor,
            lot_id,
            plan=body.plan,
            aql=body.aql,
            level=body.level,
            inspection=body.inspection,
            margin=body.margin,
            confidence=body.confidence,
            allocation=body.allocation,
            min_per_stratum=body.min_per_stratum,
            targeted=body.targeted,
            target_accuracy=body.target_accuracy,
            seed=body.seed,
        )
    )


@router.get("/audits")
def list_audits(
    session: SessionDep, actor: CurrentActor, project_id: Id | None = None
) -> list[AuditPublic]:
    """Audits, newest first (vendor roles: their own)."""
    return [
        AuditPublic.model_validate(a)
        for a in audits.list_audits(session, actor, project_id=project_id)
    ]


@router.get("/audit/error-types")
def error_types(session: SessionDep, actor: CurrentActor) -> list[ErrorTypePublic]:
    """The newest error-type list."""
    return [ErrorTypePublic.model_validate(t) for t in audits.list_error_types(session, actor)]


@router.post("/audit/error-types", status_code=status.HTTP_201_CREATED)
def create_error_types(
    body: list[ErrorTypeCreate], session: SessionDep, actor: CurrentActor
) -> list[ErrorTypePublic]:
    """Store a new version of the error-type list (later audits use it)."""
    types = [(t.key, t.name_en, t.name_zh) for t in body]
    return [
        ErrorTypePublic.model_validate(t)
        for t in audits.create_error_type_list(session, actor, types)
    ]


@router.get("/projects/{project_id}/vendors/{vendor_id}/switching")
def switching_state(
    project_id: Id, vendor_id: Id, session: SessionDep, actor: CurrentActor
) -> SwitchingPublic:
    """The vendor's switching state (severity of the next AQL inspection)."""
    state = audits.read_switching_state(session, actor, project_id, vendor_id)
    return SwitchingPublic(
        inspection=state.inspection,
        recent_normal_results=list(state.recent_normal_results),
        switching_score=state.switching_score,
        consecutive_accepted_tightened=state.consecutive_accepted_tightened,
        rejected_on_tightened=state.rejected_on_tightened,
        lots_inspected=state.lots_inspected,
    )


@router.get("/audits/{audit_id}")
def get_audit(audit_id: Id, session: SessionDep, actor: CurrentActor) -> AuditPublic:
    """One audit."""
    return AuditPublic.model_validate(audits.get_audit(session, actor, audit_id))


@router.get(
    "/audits/{audit_id}/next",
    response_model=None,
    responses={
        200: {"model": AuditItemPublic, "description": "The next sampled label, blind."},
        204: {"description": "Every sampled label has a verdict."},
    },
)
def next_item(audit_id: Id, session: SessionDep, actor: CurrentActor) -> AuditItemPublic | Response:
    """The next label to review, blind; 204 when every sampled label has a verdict."""
    view = audits.next_audit_item(session, actor, audit_id)
    if view is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return _item(view)


@router.get("/audits/{audit_id}/items")
def list_items(audit_id: Id, session: SessionDep, actor: CurrentActor) -> list[AuditItemPublic]:
    """The sample in draw order (vendor roles: reviewed labels only); recorded in the
    audit trail as a bulk read of item content."""
    views = audits.list_audit_items(session, actor, audit_id)
    audit_trail.record_sample_read(session, actor, audit_id, len(views), via="api")
    return [_item(v) for v in views]


@router.get("/audits/{audit_id}/labels/{label_id}")
def get_item(
    audit_id: Id, label_id: Id, session: SessionDep, actor: CurrentActor
) -> AuditItemPublic:
    """One sampled label."""
    return _item(audits.get_audit_item(session, actor, audit_id, label_id))


@router.post("/audits/{audit_id}/labels/{label_id}/answer")
def blind_answer(
    audit_id: Id,
    label_id: Id,
    body: BlindAnswerCreate,
    session: SessionDep,
    actor: CurrentActor,
) -> AuditItemPublic:
    """Store the auditor's own answer; the response reveals the vendor's label."""
    return _item(audits.submit_blind_answer(session, actor, audit_id, label_id, body.labels))


@router.post("/audits/{audit_id}/labels/{label_id}/verdict")
def verdict(
    audit_id: Id, label_id: Id, body: VerdictCreate, session: SessionDep, actor: CurrentActor
) -> AuditItemPublic:
    """Record the verdict; the last one decides the lot."""
    return _item(
        audits.record_verdict(
            session,
            actor,
            audit_id,
            label_id,
            body.verdict,
            error_type=body.error_type,
            severity=body.severity,
            corrected=body.corrected_labels,
            comment=body.comment,
        )
    )


@router.get("/audits/{audit_id}/report")
def report(audit_id: Id, session: SessionDep, actor: CurrentActor) -> AuditReportPublic:
    """Decision, estimated lot accuracy with its interval, per-class precision/recall."""
    result = audits.get_audit_report(session, actor, audit_id)
    return AuditReportPublic(
        audit=AuditPublic.model_validate(result.audit),
        lot_size=result.lot_size,
        accept=result.accept,
        reject=result.reject,
        target_accuracy=result.target_accuracy,
        estimate=None
        if result.estimate is None
        else LotAccuracyPublic.model_validate(result.estimate),
        class_quality=[
            ClassQualityPublic(
                label=str(q.label),
                precision_rate=_finite(q.precision_rate),
                recall_rate=_finite(q.recall_rate),
                vendor_count=q.vendor_count,
                auditor_count=q.auditor_count,
            )
            for q in result.class_quality
        ],
        n_targeted_reviewed=result.n_targeted_reviewed,
        n_targeted_defects=result.n_targeted_defects,
        errors_by_type=result.errors_by_type,
        errors_by_severity=result.errors_by_severity,
        next_inspection=result.next_inspection,
        decision_certain=result.curtailment is not None and result.curtailment.certain,
        certain_decision=None if result.curtailment is None else result.curtailment.decision,
        curtailed_at=None if result.curtailment is None else result.curtailment.curtailed_at,
    )


@router.post("/audits/{audit_id}/close")
def close(audit_id: Id, session: SessionDep, actor: CurrentActor) -> AuditPublic:
    """Decide a complete audit (idempotent)."""
    return AuditPublic.model_validate(audits.close_audit(session, actor, audit_id))


# ---------------------------------------------------------------- rework


@router.post("/audits/{audit_id}/rework", status_code=status.HTTP_201_CREATED)
def create_rework(
    audit_id: Id, body: ReworkCreate, session: SessionDep, actor: CurrentActor
) -> ReworkSummaryPublic:
    """Send a rejected lot's labels back as rework."""
    return ReworkSummaryPublic.model_validate(
        rework.create_rework(
            session, actor, audit_id, target_vendor_id=body.target_vendor_id, priority=body.priority
        )
    )


@router.get(
    "/projects/{project_id}/rework/next",
    response_model=None,
    responses={
        200: {"model": ReworkTaskPublic, "description": "The leased rework item."},
        204: {"description": "No rework item is left for this labeller."},
    },
)
def next_rework(
    project_id: Id, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> ReworkTaskPublic | Response:
    """Lease the next rework item to the calling labeller; 204 when none is left."""
    task = rework.next_rework_task(session, actor, project_id, lease_seconds=settings.lease_seconds)
    if task is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return ReworkTaskPublic(
        rework_id=task.rework_id,
        item=task.item,
        labels=list(task.labels),
        mode=task.mode,
        lease_expires_at=task.lease_expires_at,
        previous_labels=task.previous_value,
    )


@router.post("/rework/{rework_id}/label", status_code=status.HTTP_201_CREATED)
def submit_rework(
    rework_id: Id, body: ReworkLabelCreate, session: SessionDep, actor: CurrentActor
) -> ReworkResultPublic:
    """Answer a leased rework item."""
    return ReworkResultPublic.model_validate(
        rework.submit_rework(session, actor, rework_id, body.labels, active_ms=body.active_ms)
    )


# ---------------------------------------------------------------- disputes and feedback


@router.post("/audits/{audit_id}/labels/{label_id}/disputes", status_code=status.HTTP_201_CREATED)
def open_dispute(
    audit_id: Id, label_id: Id, body: DisputeCreate, session: SessionDep, actor: CurrentActor
) -> DisputePublic:
    """A vendor manager disputes an 'incorrect' verdict."""
    return DisputePublic.model_validate(
        disputes.open_dispute(session, actor, audit_id, label_id, body.reason)
    )


@router.get("/disputes")
def list_disputes(
    session: SessionDep,
    actor: CurrentActor,
    status_filter: Annotated[Text | None, Query(alias="status")] = None,
    audit_id: Id | None = None,
) -> list[DisputePublic]:
    """Disputes (vendor roles: their own)."""
    return [
        DisputePublic.model_validate(d)
        for d in disputes.list_disputes(session, actor, status=status_filter, audit_id=audit_id)
    ]


@router.get("/disputes/{dispute_id}")
def get_dispute(dispute_id: Id, session: SessionDep, actor: CurrentActor) -> DisputePublic:
    """One dispute."""
    return DisputePublic.model_validate(disputes.get_dispute(session, actor, dispute_id))


@router.post("/disputes/{dispute_id}/resolve")
def resolve_dispute(
    dispute_id: Id, body: DisputeResolve, session: SessionDep, actor: CurrentActor
) -> DisputePublic:
    """An auditor upholds or overturns a dispute."""
    return DisputePublic.model_validate(
        disputes.resolve_dispute(session, actor, dispute_id, body.outcome, comment=body.comment)
    )


@router.get("/feedback")
def list_feedback(
    session: SessionDep, actor: CurrentActor, project_id: Id | None = None
) -> list[FeedbackPublic]:
    """Audited mistakes with the right answer and guideline (labellers: their own)."""
    return [
        FeedbackPublic(
            audit_id=e.audit_id,
            label_id=e.label_id,
            project_id=e.project_id,
            labeller_id=e.labeller_id,
            external_id=e.external_id,
            text=e.text,
            your_labels=e.your_value,
            right_labels=e.right_value,
            error_type=e.error_type,
            error_name={"en": e.error_name_en, "zh-Hant": e.error_name_zh},
            severity=e.severity,
            comment=e.comment,
            reviewed_at=e.reviewed_at,
            guideline=[GuidelinePublic.model_validate(g) for g in e.guideline],
        )
        for e in feedback.list_feedback(session, actor, project_id=project_id)
    ]

"""Second-tier audits of vendor lots: draw a sample, review it blind, decide the lot.

The workflow (issue #4), in service calls:

1. :func:`start_audit` freezes the lot and draws a seeded, recorded sample by a plan:
   ``aql`` (MIL-STD-105E / ISO 2859-1 single sampling, severity from the vendor's
   switching state), ``margin`` (simple random, sized for a margin of error) or
   ``stratified`` (by final label, with design weights). ``targeted`` adds the riskiest
   remaining labels as a separate part that never decides the lot nor feeds estimates.
2. :func:`next_audit_item` serves the next label *blind* (the vendor's answer hidden);
   :func:`submit_blind_answer` stores the auditor's own answer and reveals the vendor's.
3. :func:`record_verdict` stores correct / incorrect + error type, severity, corrected
   label and comment; the auditor's right answer becomes the task's live final label
   (status ``audited``, method ``audit``). The last verdict decides the lot:
   AQL plans by defects in the random part against Ac / Re (and advance the switching
   state), the other plans by the estimated accuracy against a target.
4. :func:`get_audit_report` gives the decision, the lot's estimated accuracy with its
   interval (stratified estimator when stratified) and per-class precision / recall.

Where things are: this module starts audits, draws their samples and lists them
(:func:`start_audit`, :func:`get_audit`, :func:`list_audits`), and exports the whole
workflow, so callers import from here only.
:mod:`~labelops.services.audit_review` holds the blind review, verdicts and the final
labels they set; :mod:`~labelops.services.audit_reports` the lot decision, estimates and
report; :mod:`~labelops.services.audit_config` the error-type lists and switching state.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ERROR_TYPES",
    "PLANS",
    "SEVERITIES",
    "VERDICTS",
    "AuditItemView",
    "AuditReport",
    "AuditSummary",
    "ErrorTypeView",
    "close_audit",
    "create_error_type_list",
    "get_audit",
    "get_audit_curtailment",
    "get_audit_item",
    "get_audit_report",
    "get_switching_state",
    "read_switching_state",
    "resume_switching",
    "list_audit_items",
    "list_audits",
    "list_error_types",
    "next_audit_item",
    "record_verdict",
    "start_audit",
    "submit_blind_answer",
]

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._audit_common import (
    AuditSummary,
    label_key,
    summarize_audit,
)

# Outside __all__ as before, but still importable from here: disputes and rework use
# load_audit, load_sample, refresh_audit and set_audited_final_label.
from labelops.services._audit_common import load_audit as load_audit
from labelops.services._audit_common import load_sample as load_sample
from labelops.services._tx import transaction
from labelops.services.audit_config import (
    DEFAULT_ERROR_TYPES,
    ErrorTypeView,
    create_error_type_list,
    ensure_error_types,
    get_switching_state,
    list_error_types,
    read_switching_state,
    resume_switching,
)
from labelops.services.audit_reports import (
    AuditReport,
    close_audit,
    get_audit_curtailment,
    get_audit_report,
)
from labelops.services.audit_reports import refresh_audit as refresh_audit
from labelops.services.audit_review import (
    SEVERITIES,
    VERDICTS,
    AuditItemView,
    get_audit_item,
    list_audit_items,
    next_audit_item,
    record_verdict,
    submit_blind_answer,
)
from labelops.services.audit_review import set_audited_final_label as set_audited_final_label
from labelops.services.audit_trail import record_event
from labelops.services.lots import compute_label_risk_scores, freeze_lot, lot_label_ids
from labelops.services.policy import Actor, authorize, scope_to_vendor
from labelops.store.audit_models import Audit, AuditLot, AuditSample
from labelops.store.models import FinalLabel, Label
from labelops.store.types import utcnow

if TYPE_CHECKING:
    pass

PLANS: tuple[str, ...] = ("aql", "margin", "stratified")


def _int(value: Any) -> int:
    return int(value)


def start_audit(
    session: Session,
    actor: Actor,
    lot_id: int,
    *,
    plan: str = "aql",
    aql: float | str = 1.0,
    level: str = "II",
    inspection: str | None = None,
    margin: float = 0.05,
    confidence: float = 0.95,
    allocation: str = "neyman",
    min_per_stratum: int = 1,
    targeted: int = 0,
    target_accuracy: float = 0.95,
    seed: int | None = None,
    now: datetime | None = None,
) -> AuditSummary:
    """Freeze a lot and draw its audit sample (seeded, reproducible, recorded).

    Args:
        lot_id: The lot; an ``open`` lot is frozen now (later labels go to the next lot).
        plan: ``aql`` (default), ``margin`` or ``stratified``.
        aql: AQL in percent defective, one of the ISO 2859-1 series (``aql`` plan).
        level: Inspection level ``I``, ``II``, ``III``, ``S-1`` ... ``S-4`` (``aql`` plan).
        inspection: ``normal``, ``tightened`` or ``reduced``; default: the vendor's
            switching state in this project.
        margin: Wanted half-width of the accuracy interval (``margin`` / ``stratified``),
            in (0, 1).
        confidence: Two-sided confidence of that interval and of the report's.
        allocation: ``neyman``, ``proportional`` or ``equal`` (``stratified``).
        min_per_stratum: Labels guaranteed per stratum (``stratified``).
        targeted: Extra risk-targeted labels, drawn after and apart from the random part.
        target_accuracy: Accuracy a lot must reach to be accepted (non-AQL plans), (0, 1].
        seed: Seed of the draw; a random one is chosen and recorded when None.

    Returns:
        The new audit.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such lot.
        Conflict: The lot already has an audit, or inspection is discontinued.
        InvalidInput: An unknown plan, AQL, level or inspection, a lot of fewer than two
            labels, or sizes out of range.
    """
    from labelops.quality.sampling import find_sampling_plan, size_for_margin, tighter_accept_number

    authorize(actor, "audit.run")
    if plan not in PLANS:
        raise InvalidInput("errors.audit.plan", field="plan", value=plan, allowed=", ".join(PLANS))
    if targeted < 0:
        raise InvalidInput("errors.audit.targeted", field="targeted", value=targeted)
    if not 0.0 < target_accuracy <= 1.0:
        raise InvalidInput(
            "errors.audit.target_accuracy", field="target_accuracy", value=target_accuracy
        )
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("sampling.confidence_range", field="confidence", value=confidence)
    now = now or utcnow()
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    if not 0 <= seed < 2**63:
        raise InvalidInput("errors.audit.seed", field="seed", value=seed)
    with transaction(session):
        lot = session.scalar(select(AuditLot).where(AuditLot.id == lot_id).with_for_update())
        if lot is None:
            raise NotFound("errors.lot.not_found", lot=lot_id)
        if session.scalar(select(Audit.id).where(Audit.lot_id == lot_id)) is not None:
            raise Conflict("errors.audit.exists", lot=lot_id)
        version = ensure_error_types(session)
        lot_size = freeze_lot(session, lot, now=now)
        label_ids = lot_label_ids(session, lot.id)
        if lot_size == 1:
            raise InvalidInput("sampling.lot_of_one", field="lot_size", value=lot_size)
        if lot_size < 1:
            raise InvalidInput("sampling.lot_size_too_small", field="lot_size", value=lot_size)
        design: dict[str, Any] = {
            "plan": plan,
            "seed": seed,
            "lot_size": lot_size,
            "confidence": confidence,
            "targeted": targeted,
        }
        if plan == "aql":
            # The switching rules only judge lots inspected at the severity they chose;
            # an explicit ``inspection`` is an operator override and leaves them alone.
            design["switching"] = inspection is None
            if inspection is None:
                state = get_switching_state(session, lot.project_id, lot.vendor_id)
                if state.inspection == "discontinued":
                    raise Conflict("switching.discontinued")
                inspection = state.inspection
            sampling_plan = find_sampling_plan(lot_size, aql, level=level, inspection=inspection)
            n_random = sampling_plan.sample_size
            design.update(
                aql=sampling_plan.aql,
                level=sampling_plan.level,
                inspection=sampling_plan.inspection,
                code_letter=sampling_plan.code_letter,
                plan_letter=sampling_plan.plan_letter,
                sample_size=sampling_plan.sample_size,
                accept=sampling_plan.accept,
                reject=sampling_plan.reject,
                tighter_accept=tighter_accept_number(sampling_plan),
                full_inspection=sampling_plan.full_inspection,
            )
        else:
            n_random = size_for_margin(margin, confidence=confidence, population=lot_size)
            design.update(margin=margin, sample_size=n_random, target_accuracy=target_accuracy)
        if n_random + targeted > lot_size:
            raise InvalidInput(
                "risk.sizes_too_big",
                field="targeted",
                value=lot_size,
                random_n=n_random,
                targeted_n=targeted,
            )
        draw = _draw_sample(
            session,
            lot.project_id,
            label_ids,
            stratified=plan == "stratified",
            n_random=n_random,
            targeted=targeted,
            allocation=allocation,
            min_per_stratum=min_per_stratum,
            seed=seed,
        )
        if plan == "stratified":
            design.update(
                allocation=allocation, min_per_stratum=min_per_stratum, strata=draw.strata
            )
        random_ids, targeted_ids = draw.random_ids, draw.targeted_ids
        audit = Audit(
            lot_id=lot.id,
            project_id=lot.project_id,
            vendor_id=lot.vendor_id,
            auditor_id=actor.user_id,
            plan=plan,
            seed=seed,
            design=design,
            error_type_version=version,
            status="in_progress",
            n_sample=len(random_ids) + len(targeted_ids),
            n_random=len(random_ids),
            n_targeted=len(targeted_ids),
            started_at=now,
        )
        session.add(audit)
        session.flush()
        labels = {
            row.id: row
            for row in session.scalars(
                select(Label)
                .where(Label.id.in_(random_ids + targeted_ids))
                .execution_options(populate_existing=True)
            )
        }
        position = 0
        for part, ids in (("random", random_ids), ("targeted", targeted_ids)):
            for label_id in ids:
                label = labels[label_id]
                session.add(
                    AuditSample(
                        audit_id=audit.id,
                        label_id=label_id,
                        task_id=label.task_id,
                        vendor_id=label.vendor_id,
                        labeller_id=label.labeller_id,
                        position=position,
                        part=part,
                        stratum=draw.stratum_of.get(label_id),
                        weight=draw.weights.get(label_id, 1.0),
                        risk_score=draw.risk.get(label_id),
                        vendor_value=list(label.value),
                    )
                )
                position += 1
        lot.status = "auditing"
        record_event(
            session,
            actor,
            "audit.start",
            "audit",
            audit.id,
            after={
                **design,
                "lot_id": lot.id,
                "random_label_ids": random_ids,
                "targeted_label_ids": targeted_ids,
            },
            vendor_id=lot.vendor_id,
            now=now,
        )
        session.flush()
        return summarize_audit(audit)


@dataclass(frozen=True)
class _Draw:
    """The drawn sample: random part, targeted part, strata and weights."""

    random_ids: list[int]
    targeted_ids: list[int]
    stratum_of: dict[int, str] = field(default_factory=dict)
    weights: dict[int, float] = field(default_factory=dict)
    """Design weight ``N_h / n_h`` of each random label (stratified plans)."""
    risk: dict[int, float] = field(default_factory=dict)
    """Risk score of each targeted label."""
    strata: list[dict[str, Any]] = field(default_factory=list)
    """Per stratum: population size, sample size and weight (recorded in the design)."""


def _draw_sample(
    session: Session,
    project_id: int,
    label_ids: list[int],
    *,
    stratified: bool,
    n_random: int,
    targeted: int,
    allocation: str,
    min_per_stratum: int,
    seed: int,
) -> _Draw:
    """Draw the random part (simple or stratified by final label), then the risk-targeted
    part from the labels left, with the quality core's seeded draws."""
    from labelops.quality.risk import draw_audit_sample
    from labelops.quality.sampling import draw_simple_random, draw_stratified

    scores = compute_label_risk_scores(session, project_id, label_ids) if targeted else {}
    if not stratified:
        if targeted:
            both = draw_audit_sample(
                label_ids,
                random_n=n_random,
                targeted_n=targeted,
                risk_scores=[scores[i] for i in label_ids],
                seed=seed,
            )
            chosen = [_int(i) for i in both.targeted_ids]
            return _Draw(
                random_ids=[_int(i) for i in both.random_ids],
                targeted_ids=chosen,
                risk={i: scores[i] for i in chosen},
            )
        simple = draw_simple_random(label_ids, n_random, seed=seed)
        return _Draw(random_ids=[_int(i) for i in simple.ids], targeted_ids=[])
    stratum_of = _strata(session, label_ids)
    members: dict[str, list[int]] = {}
    for label_id in label_ids:
        members.setdefault(stratum_of[label_id], []).append(label_id)
    drawn = draw_stratified(
        {name: members[name] for name in sorted(members)},
        n_random,
        allocation=allocation,  # type: ignore[arg-type]  # validated by draw_stratified
        min_per_stratum=min_per_stratum,
        seed=seed,
    )
    random_ids = [_int(i) for i in drawn.sample["id"]]
    weights = {
        _int(i): float(w) for i, w in zip(drawn.sample["id"], drawn.sample["weight"], strict=True)
    }
    strata = [
        {
            "stratum": str(row["stratum"]),
            "population_size": int(row["population_size"]),
            "sample_size": int(row["sample_size"]),
            "weight": float(row["weight"]),
        }
        for row in _records(drawn.strata)
    ]
    targeted_ids: list[int] = []
    if targeted:
        taken = set(random_ids)
        rest = [i for i in label_ids if i not in taken]
        extra = draw_audit_sample(
            rest,
            random_n=0,
            targeted_n=targeted,
            risk_scores=[scores[i] for i in rest],
            seed=seed,
        )
        targeted_ids = [_int(i) for i in extra.targeted_ids]
    return _Draw(
        random_ids=random_ids,
        targeted_ids=targeted_ids,
        stratum_of={i: stratum_of[i] for i in random_ids},
        weights=weights,
        risk={i: scores[i] for i in targeted_ids},
        strata=strata,
    )


def _records(frame: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = frame.to_dict("records")
    return records


def _strata(session: Session, label_ids: Sequence[int]) -> dict[int, str]:
    """Stratum of each label: its task's live final label, else the label itself."""
    out: dict[int, str] = {}
    for start in range(0, len(label_ids), 5000):
        chunk = list(label_ids[start : start + 5000])
        rows = session.execute(
            select(Label.id, Label.value, FinalLabel.value)
            .outerjoin(
                FinalLabel,
                (FinalLabel.task_id == Label.task_id) & FinalLabel.snapshot_id.is_(None),
            )
            .where(Label.id.in_(chunk))
        )
        for label_id, own, final in rows:
            out[int(label_id)] = label_key(final if final else own)
    return out


def get_audit(session: Session, actor: Actor, audit_id: int) -> AuditSummary:
    """One audit (vendor roles: their vendor's only).

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    authorize(actor, "lot.read")
    return summarize_audit(load_audit(session, actor, audit_id), actor)


def list_audits(
    session: Session, actor: Actor, *, project_id: int | None = None
) -> list[AuditSummary]:
    """Audits, newest first (vendor roles: their vendor's only)."""
    authorize(actor, "lot.read")
    query = select(Audit).order_by(Audit.id.desc())
    if project_id is not None:
        query = query.where(Audit.project_id == project_id)
    query = scope_to_vendor(query, actor, Audit.vendor_id)
    return [summarize_audit(audit, actor) for audit in session.scalars(query)]

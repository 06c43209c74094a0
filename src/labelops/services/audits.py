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
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.quality.lot_estimates import (
    ClassQuality,
    LotAccuracyEstimate,
    compute_class_quality,
    estimate_lot_accuracy,
)
from labelops.quality.risk import draw_audit_sample
from labelops.quality.sampling import (
    draw_simple_random,
    draw_stratified,
    find_sampling_plan,
    size_for_margin,
    tighter_accept_number,
)
from labelops.quality.switching import (
    LotResult,
    SwitchingState,
    next_inspection_state,
    resume_after_discontinuation,
)
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.labelling import validate_label_value
from labelops.services.lots import compute_label_risk_scores, freeze_lot, lot_label_ids
from labelops.services.policy import Actor, authorize, require_same_vendor, scope_to_vendor
from labelops.services.projects import ProjectContext, load_project_context
from labelops.services.queue import item_payload
from labelops.store.audit_models import (
    Audit,
    AuditErrorType,
    AuditLot,
    AuditSample,
    SwitchingRecord,
)
from labelops.store.models import FinalLabel, Item, Label, Task
from labelops.store.types import utcnow
from labelops.types import FinalStatus

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

PLANS: tuple[str, ...] = ("aql", "margin", "stratified")
VERDICTS: tuple[str, ...] = ("correct", "incorrect")
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor")
MAX_COMMENT = 5000
_ERROR_KEY = re.compile(r"[a-z0-9_]{1,64}")

DEFAULT_ERROR_TYPES: tuple[tuple[str, str, str], ...] = (
    ("wrong_label", "Wrong label", "標籤錯誤"),
    ("missed_violation", "Missed violation", "漏標違規"),
    ("over_flagging", "Over-flagging", "過度標記"),
    ("guideline_ambiguity", "Guideline ambiguity", "準則不明確"),
    ("bad_item", "Bad item", "項目有問題"),
)
"""Version 1 of the error-type list (key, English, Traditional Chinese); migration 0002
seeds the same rows."""


@dataclass(frozen=True)
class ErrorTypeView:
    """One error type of a versioned list."""

    key: str
    name_en: str
    name_zh: str
    list_version: int


@dataclass(frozen=True)
class AuditSummary:
    """An audit's plan, progress and decision."""

    id: int
    lot_id: int
    project_id: int
    vendor_id: int
    plan: str
    seed: int | None
    """Seed of the draw; hidden (None) from vendor roles until the audit is decided,
    so the sample cannot be predicted from the lot."""
    design: dict[str, Any]
    """Everything needed to redraw the sample: plan parameters and numbers, strata."""
    status: str
    """``in_progress`` or ``decided``."""
    n_sample: int
    n_random: int
    n_targeted: int
    n_reviewed: int
    n_defects_random: int
    n_defects: int
    decision: str | None
    """``accepted``, ``rejected`` or None while in progress."""
    accuracy_rate: float | None
    error_type_version: int
    started_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class AuditItemView:
    """One sampled label as the caller may see it.

    ``stage`` is ``blind`` (the auditor must answer first: ``vendor_value`` is None),
    ``verdict`` (answered, vendor's label revealed) or ``done`` (verdict recorded).
    Vendor roles only ever see ``done`` items.
    """

    audit_id: int
    sample_id: int
    label_id: int
    task_id: int
    position: int
    part: str
    stratum: str | None
    stage: str
    item: dict[str, Any]
    labels: tuple[str, ...]
    mode: str
    labeller_id: int
    vendor_value: list[str] | None
    blind_value: list[str] | None
    verdict: str | None
    error_type: str | None
    severity: str | None
    corrected_value: list[str] | None
    comment: str | None
    overturned: bool


@dataclass(frozen=True)
class AuditReport:
    """Decision and estimates of an audit."""

    audit: AuditSummary
    lot_size: int
    accept: int | None
    """Ac of the AQL plan (None for other plans)."""
    reject: int | None
    """Re of the AQL plan."""
    target_accuracy: float | None
    """Accuracy a non-AQL lot must reach to be accepted."""
    estimate: LotAccuracyEstimate | None
    """Lot accuracy from the random part (None until one random label is reviewed)."""
    class_quality: tuple[ClassQuality, ...]
    """Per-class precision / recall of the vendor's labels, auditor as truth (random part)."""
    n_targeted_reviewed: int
    n_targeted_defects: int
    errors_by_type: dict[str, int] = field(default_factory=dict)
    errors_by_severity: dict[str, int] = field(default_factory=dict)
    next_inspection: str | None = None
    """Switching state's severity for the vendor's next lot (AQL plans)."""


# ---------------------------------------------------------------- helpers


def _summary(audit: Audit, actor: Actor | None = None) -> AuditSummary:
    hide = actor is not None and actor.is_vendor_scoped and audit.decision is None
    design = dict(audit.design)
    if hide:
        design.pop("seed", None)
    return AuditSummary(
        id=audit.id,
        lot_id=audit.lot_id,
        project_id=audit.project_id,
        vendor_id=audit.vendor_id,
        plan=audit.plan,
        seed=None if hide else audit.seed,
        design=design,
        status=audit.status,
        n_sample=audit.n_sample,
        n_random=audit.n_random,
        n_targeted=audit.n_targeted,
        n_reviewed=audit.n_reviewed,
        n_defects_random=audit.n_defects_random,
        n_defects=audit.n_defects,
        decision=audit.decision,
        accuracy_rate=audit.accuracy_rate,
        error_type_version=audit.error_type_version,
        started_at=audit.started_at,
        decided_at=audit.decided_at,
    )


def load_audit(session: Session, actor: Actor, audit_id: int, *, lock: bool = False) -> Audit:
    """An audit row the actor may see (vendor roles: their vendor's only).

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    query = select(Audit).where(Audit.id == audit_id)
    if lock:
        query = query.with_for_update()
    audit = session.scalar(query)
    if audit is None:
        raise NotFound("errors.audit.not_found", audit=audit_id)
    try:
        require_same_vendor(actor, audit.vendor_id)
    except NotFound as exc:
        raise NotFound("errors.audit.not_found", audit=audit_id) from exc
    return audit


def load_sample(
    session: Session, audit: Audit, label_id: int, *, lock: bool = False
) -> AuditSample:
    """The sample row of ``label_id`` in ``audit``.

    Raises:
        NotFound: The label is not in the audit's sample.
    """
    query = select(AuditSample).where(
        AuditSample.audit_id == audit.id, AuditSample.label_id == label_id
    )
    if lock:
        query = query.with_for_update()
    sample = session.scalar(query)
    if sample is None:
        raise NotFound("errors.audit.label_not_in_sample", label=label_id, audit=audit.id)
    return sample


def ensure_error_types(session: Session) -> int:
    """The newest error-type list version, seeding :data:`DEFAULT_ERROR_TYPES` as v1 when
    the table is empty (inside the caller's transaction)."""
    version = session.scalar(select(func.max(AuditErrorType.list_version)))
    if version is not None:
        return int(version)
    for position, (key, name_en, name_zh) in enumerate(DEFAULT_ERROR_TYPES):
        session.add(
            AuditErrorType(
                list_version=1, key=key, position=position, name_en=name_en, name_zh=name_zh
            )
        )
    session.flush()
    return 1


def list_error_types(
    session: Session, actor: Actor, *, list_version: int | None = None
) -> list[ErrorTypeView]:
    """The error types of a list version (default: the newest)."""
    authorize(actor, "lot.read")
    version = list_version
    if version is None:
        found = session.scalar(select(func.max(AuditErrorType.list_version)))
        if found is None:
            return [ErrorTypeView(key, en, zh, 1) for key, en, zh in DEFAULT_ERROR_TYPES]
        version = int(found)
    rows = session.scalars(
        select(AuditErrorType)
        .where(AuditErrorType.list_version == version)
        .order_by(AuditErrorType.position)
    )
    return [ErrorTypeView(r.key, r.name_en, r.name_zh, r.list_version) for r in rows]


def create_error_type_list(
    session: Session,
    actor: Actor,
    types: Sequence[tuple[str, str, str]],
    *,
    now: datetime | None = None,
) -> list[ErrorTypeView]:
    """Store a new version of the error-type list; audits started later use it, audits
    already started keep the version they began with.

    Args:
        types: ``(key, English name, Traditional Chinese name)`` in display order; keys
            are lower-case ``[a-z0-9_]``, unique.

    Returns:
        The new list.

    Raises:
        PermissionDenied: The actor may not run audits.
        InvalidInput: An empty list, a bad or repeated key, or a missing name.
    """
    authorize(actor, "audit.run")
    if not types:
        raise InvalidInput("errors.audit.error_types_empty", field="types")
    seen: set[str] = set()
    for line, (key, name_en, name_zh) in enumerate(types, start=1):
        if not _ERROR_KEY.fullmatch(key) or key in seen:
            raise InvalidInput("errors.audit.error_type_key", line=line, field="key", value=key)
        if not name_en.strip() or not name_zh.strip() or max(len(name_en), len(name_zh)) > 200:
            raise InvalidInput("errors.audit.error_type_name", line=line, field="name", value=key)
        seen.add(key)
    now = now or utcnow()
    with transaction(session):
        version = ensure_error_types(session) + 1
        for position, (key, name_en, name_zh) in enumerate(types):
            session.add(
                AuditErrorType(
                    list_version=version,
                    key=key,
                    position=position,
                    name_en=name_en.strip(),
                    name_zh=name_zh.strip(),
                    created_at=now,
                )
            )
        record_event(
            session,
            actor,
            "audit.error_types",
            "audit_error_types",
            version,
            after={"list_version": version, "keys": [key for key, _, _ in types]},
            now=now,
        )
        session.flush()
        return _error_types(session, version)


def _state_from_json(data: dict[str, Any]) -> SwitchingState:
    values = dict(data)
    values["recent_normal_results"] = tuple(values.get("recent_normal_results", ()))
    return SwitchingState(**values)


def get_switching_state(session: Session, project_id: int, vendor_id: int) -> SwitchingState:
    """The stored switching state of a (project, vendor) stream (normal when none)."""
    record = session.scalar(
        select(SwitchingRecord).where(
            SwitchingRecord.project_id == project_id, SwitchingRecord.vendor_id == vendor_id
        )
    )
    return SwitchingState() if record is None else _state_from_json(record.state)


def read_switching_state(
    session: Session, actor: Actor, project_id: int, vendor_id: int
) -> SwitchingState:
    """The switching state of a vendor's lots in a project (vendor roles: their own).

    Raises:
        NotFound: Another vendor's state.
    """
    authorize(actor, "lot.read", vendor_id=vendor_id)
    return get_switching_state(session, project_id, vendor_id)


def resume_switching(
    session: Session,
    actor: Actor,
    project_id: int,
    vendor_id: int,
    *,
    now: datetime | None = None,
) -> SwitchingState:
    """Resume a vendor's discontinued inspection on tightened inspection, after their
    corrective action (ISO 2859-1:1999 9.4).

    Raises:
        PermissionDenied: The actor may not run audits.
        Conflict: Inspection is not discontinued.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    with transaction(session):
        before = get_switching_state(session, project_id, vendor_id)
        after = resume_after_discontinuation(before)
        _save_switching(session, project_id, vendor_id, after, now)
        record_event(
            session,
            actor,
            "switching.resume",
            "switching_state",
            f"{project_id}:{vendor_id}",
            before={"inspection": before.inspection},
            after={"inspection": after.inspection},
            vendor_id=vendor_id,
            now=now,
        )
        return after


def _save_switching(
    session: Session, project_id: int, vendor_id: int, state: SwitchingState, now: datetime
) -> None:
    record = session.scalar(
        select(SwitchingRecord)
        .where(SwitchingRecord.project_id == project_id, SwitchingRecord.vendor_id == vendor_id)
        .with_for_update()
    )
    data = asdict(state)
    data["recent_normal_results"] = list(state.recent_normal_results)
    if record is None:
        record = SwitchingRecord(project_id=project_id, vendor_id=vendor_id)
        session.add(record)
    record.inspection = state.inspection
    record.state = data
    record.updated_at = now


def _int(value: Any) -> int:
    return int(value)


def _key(value: Sequence[str] | None) -> str:
    return "+".join(value) if value else "(none)"


# ---------------------------------------------------------------- start


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
        return _summary(audit)


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
            out[int(label_id)] = _key(final if final else own)
    return out


# ---------------------------------------------------------------- review


def _view(
    session: Session,
    actor: Actor,
    audit: Audit,
    sample: AuditSample,
    context: ProjectContext | None = None,
) -> AuditItemView:
    context = context or load_project_context(session, audit.project_id)
    item = session.execute(
        select(Item).join(Task, Task.item_id == Item.id).where(Task.id == sample.task_id)
    ).scalar_one()
    if sample.verdict is not None:
        stage = "done"
    elif sample.blind_value is not None:
        stage = "verdict"
    else:
        stage = "blind"
    hide_vendor = stage == "blind"
    hide_blind = actor.is_vendor_scoped and stage != "done"
    return AuditItemView(
        audit_id=audit.id,
        sample_id=sample.id,
        label_id=sample.label_id,
        task_id=sample.task_id,
        position=sample.position,
        part=sample.part,
        stratum=sample.stratum,
        stage=stage,
        item=item_payload(item),
        labels=context.label_keys,
        mode=context.taxonomy.mode,
        labeller_id=sample.labeller_id,
        vendor_value=None if hide_vendor else list(sample.vendor_value),
        blind_value=None if hide_blind or sample.blind_value is None else list(sample.blind_value),
        verdict=sample.verdict,
        error_type=sample.error_type,
        severity=sample.severity,
        corrected_value=None if sample.corrected_value is None else list(sample.corrected_value),
        comment=sample.comment,
        overturned=sample.overturned,
    )


def get_audit(session: Session, actor: Actor, audit_id: int) -> AuditSummary:
    """One audit (vendor roles: their vendor's only).

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    authorize(actor, "lot.read")
    return _summary(load_audit(session, actor, audit_id), actor)


def list_audits(
    session: Session, actor: Actor, *, project_id: int | None = None
) -> list[AuditSummary]:
    """Audits, newest first (vendor roles: their vendor's only)."""
    authorize(actor, "lot.read")
    query = select(Audit).order_by(Audit.id.desc())
    if project_id is not None:
        query = query.where(Audit.project_id == project_id)
    query = scope_to_vendor(query, actor, Audit.vendor_id)
    return [_summary(audit, actor) for audit in session.scalars(query)]


def next_audit_item(session: Session, actor: Actor, audit_id: int) -> AuditItemView | None:
    """The next sampled label to review, blind until the auditor answers; None when done.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit.
    """
    authorize(actor, "audit.run")
    audit = load_audit(session, actor, audit_id)
    sample = session.scalar(
        select(AuditSample)
        .where(AuditSample.audit_id == audit.id, AuditSample.verdict.is_(None))
        .order_by(AuditSample.position)
        .limit(1)
    )
    return None if sample is None else _view(session, actor, audit, sample)


def get_audit_item(session: Session, actor: Actor, audit_id: int, label_id: int) -> AuditItemView:
    """One sampled label (vendor roles: only once its verdict is recorded).

    Raises:
        NotFound: No such audit, another vendor's, the label is not in the sample, or
            (vendor roles) it has no verdict yet.
    """
    authorize(actor, "lot.read")
    audit = load_audit(session, actor, audit_id)
    sample = load_sample(session, audit, label_id)
    if actor.is_vendor_scoped and sample.verdict is None:
        raise NotFound("errors.audit.label_not_in_sample", label=label_id, audit=audit_id)
    return _view(session, actor, audit, sample)


def list_audit_items(session: Session, actor: Actor, audit_id: int) -> list[AuditItemView]:
    """The audit's sample in draw order (vendor roles: reviewed labels only).

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    authorize(actor, "lot.read")
    audit = load_audit(session, actor, audit_id)
    query = (
        select(AuditSample).where(AuditSample.audit_id == audit.id).order_by(AuditSample.position)
    )
    if actor.is_vendor_scoped:
        query = query.where(AuditSample.verdict.is_not(None))
    context = load_project_context(session, audit.project_id)
    return [_view(session, actor, audit, sample, context) for sample in session.scalars(query)]


def submit_blind_answer(
    session: Session,
    actor: Actor,
    audit_id: int,
    label_id: int,
    value: Sequence[str],
    *,
    now: datetime | None = None,
) -> AuditItemView:
    """Store the auditor's own answer for a sampled label, then reveal the vendor's label.

    The same answer again is a no-op; a different one before the verdict replaces it.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit, or the label is not in its sample.
        InvalidInput: A key outside the project's taxonomy.
        Conflict: The verdict is already recorded.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    with transaction(session):
        audit = load_audit(session, actor, audit_id)
        sample = load_sample(session, audit, label_id, lock=True)
        context = load_project_context(session, audit.project_id)
        keys = validate_label_value(list(value), context.label_keys, context.taxonomy.mode)
        if sample.verdict is not None:
            raise Conflict("errors.audit.verdict_exists", label=label_id, audit=audit_id)
        if sample.blind_value != keys:
            before = None if sample.blind_value is None else {"blind_value": sample.blind_value}
            sample.blind_value = keys
            sample.blind_at = now
            record_event(
                session,
                actor,
                "audit.blind_answer",
                "audit_sample",
                sample.id,
                before=before,
                after={"audit_id": audit.id, "label_id": label_id, "blind_value": keys},
                now=now,
            )
        session.flush()
        return _view(session, actor, audit, sample)


def record_verdict(
    session: Session,
    actor: Actor,
    audit_id: int,
    label_id: int,
    verdict: str,
    *,
    error_type: str | None = None,
    severity: str | None = None,
    corrected: Sequence[str] | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> AuditItemView:
    """Record the verdict on a sampled label; the last verdict decides the lot.

    The right answer (the vendor's label when correct, the corrected label when not;
    the auditor's blind answer when no correction is given) becomes the task's live
    final label with status ``audited``.

    Args:
        verdict: ``correct`` or ``incorrect``.
        error_type: Key of the audit's error-type list (required when incorrect).
        severity: ``critical``, ``major`` or ``minor`` (required when incorrect).
        corrected: The right label key(s) when incorrect (default: the blind answer).
        comment: Free text for the vendor's feedback.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit, or the label is not in its sample.
        Conflict: No blind answer yet, or a different verdict is already recorded.
        InvalidInput: Unknown verdict, error type or severity, a corrected label outside
            the taxonomy or equal to the vendor's, fields given with ``correct``.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    if verdict not in VERDICTS:
        raise InvalidInput(
            "errors.audit.verdict", field="verdict", value=verdict, allowed=", ".join(VERDICTS)
        )
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput("errors.audit.comment_too_long", field="comment", max=MAX_COMMENT)
    with transaction(session):
        audit = load_audit(session, actor, audit_id, lock=True)
        sample = load_sample(session, audit, label_id, lock=True)
        context = load_project_context(session, audit.project_id)
        if sample.blind_value is None:
            raise Conflict("errors.audit.blind_first", label=label_id, audit=audit_id)
        if verdict == "correct":
            if error_type or severity or corrected:
                raise InvalidInput("errors.audit.correct_with_error", field="error_type")
            right = list(sample.vendor_value)
            error_type = severity = None
            corrected_keys = None
        else:
            allowed = [t.key for t in _error_types(session, audit.error_type_version)]
            if error_type not in allowed:
                raise InvalidInput(
                    "errors.audit.error_type",
                    field="error_type",
                    value=error_type,
                    allowed=", ".join(allowed),
                )
            if severity not in SEVERITIES:
                raise InvalidInput(
                    "errors.audit.severity",
                    field="severity",
                    value=severity,
                    allowed=", ".join(SEVERITIES),
                )
            raw = list(corrected) if corrected else list(sample.blind_value)
            try:
                corrected_keys = validate_label_value(
                    raw, context.label_keys, context.taxonomy.mode
                )
            except InvalidInput as exc:
                raise InvalidInput(
                    exc.message_id, field="corrected", value=exc.value, **_extra(exc)
                ) from exc
            if corrected_keys == list(sample.vendor_value) and error_type != "bad_item":
                raise InvalidInput(
                    "errors.audit.corrected_same", field="corrected", value=corrected_keys
                )
            right = corrected_keys
        if sample.verdict is not None:
            if (
                sample.verdict == verdict
                and sample.error_type == error_type
                and sample.severity == severity
                and sample.corrected_value == corrected_keys
            ):
                return _view(session, actor, audit, sample)
            raise Conflict("errors.audit.verdict_exists", label=label_id, audit=audit_id)
        sample.verdict = verdict
        sample.error_type = error_type
        sample.severity = severity
        sample.corrected_value = corrected_keys
        sample.comment = comment.strip() if comment and comment.strip() else None
        sample.reviewed_by = actor.user_id
        sample.reviewed_at = now
        session.flush()
        set_audited_final_label(session, actor, sample.task_id, right, now=now)
        record_event(
            session,
            actor,
            "audit.verdict",
            "audit_sample",
            sample.id,
            after={
                "audit_id": audit.id,
                "label_id": label_id,
                "verdict": verdict,
                "error_type": error_type,
                "severity": severity,
                "corrected": corrected_keys,
                "comment": sample.comment,
            },
            vendor_id=audit.vendor_id,
            now=now,
        )
        refresh_audit(session, actor, audit, now=now)
        return _view(session, actor, audit, sample)


def _extra(error: InvalidInput) -> dict[str, Any]:
    return {
        key: value
        for key, value in error.params.items()
        if key not in ("file", "line", "field", "value")
    }


def _error_types(session: Session, version: int) -> list[ErrorTypeView]:
    rows = session.scalars(
        select(AuditErrorType)
        .where(AuditErrorType.list_version == version)
        .order_by(AuditErrorType.position)
    )
    return [ErrorTypeView(r.key, r.name_en, r.name_zh, r.list_version) for r in rows]


def set_audited_final_label(
    session: Session, actor: Actor, task_id: int, value: list[str], *, now: datetime
) -> None:
    """Make ``value`` the task's live final label, status ``audited`` (caller's transaction)."""
    live = session.scalar(
        select(FinalLabel)
        .where(FinalLabel.task_id == task_id, FinalLabel.snapshot_id.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    n_labels = int(
        session.scalar(
            select(func.count(Label.id)).where(Label.task_id == task_id, Label.is_current.is_(True))
        )
        or 0
    )
    before = None
    if live is None:
        task = session.get(Task, task_id, populate_existing=True)
        if task is None:  # pragma: no cover - the sample references the task
            raise NotFound("errors.not_found.generic")
        live = FinalLabel(task_id=task_id, project_id=task.project_id, snapshot_id=None)
        session.add(live)
    else:
        before = {"value": live.value, "status": live.status, "method": live.method}
    live.value = list(value)
    live.method = "audit"
    live.confidence = 1.0
    live.status = FinalStatus.AUDITED.value
    live.n_labels = n_labels
    live.updated_at = now
    session.flush()
    record_event(
        session,
        actor,
        "final.audit",
        "final_label",
        live.id,
        before=before,
        after={"task_id": task_id, "value": list(value), "status": live.status, "method": "audit"},
        now=now,
    )


# ---------------------------------------------------------------- decision and report


def refresh_audit(session: Session, actor: Actor, audit: Audit, *, now: datetime) -> None:
    """Recount an audit's verdicts and decide it when every sampled label has one
    (inside the caller's transaction).

    A decided audit whose counts change (a dispute overturned a verdict) is decided
    again; the lot's status follows. The switching state advances only on the first
    decision of an AQL audit.
    """
    rows = session.execute(
        select(AuditSample.part, AuditSample.verdict, func.count())
        .where(AuditSample.audit_id == audit.id)
        .group_by(AuditSample.part, AuditSample.verdict)
    ).all()
    reviewed = sum(n for _, verdict, n in rows if verdict is not None)
    defects_random = sum(n for part, v, n in rows if part == "random" and v == "incorrect")
    defects = sum(n for _, v, n in rows if v == "incorrect")
    audit.n_reviewed, audit.n_defects_random, audit.n_defects = reviewed, defects_random, defects
    if reviewed < audit.n_sample:
        return
    estimate = _estimate(session, audit)
    audit.accuracy_rate = None if estimate is None else estimate.accuracy_rate
    if audit.plan == "aql":
        accepted = defects_random < int(audit.design["reject"])
    else:
        target = float(audit.design.get("target_accuracy", 0.95))
        accepted = estimate is not None and estimate.accuracy_rate >= target
    decision = "accepted" if accepted else "rejected"
    first = audit.decision is None
    if decision == audit.decision:
        return
    before = None if first else {"decision": audit.decision}
    audit.decision = decision
    audit.status = "decided"
    audit.decided_at = now
    lot = session.get(AuditLot, audit.lot_id)
    if lot is not None:
        lot.status = decision
    if first and audit.plan == "aql" and audit.design.get("switching", True):
        state = get_switching_state(session, audit.project_id, audit.vendor_id)
        if state.inspection == audit.design["inspection"]:
            result = LotResult(
                nonconforming_count=defects_random,
                accept=int(audit.design["accept"]),
                reject=int(audit.design["reject"]),
                tighter_accept=audit.design.get("tighter_accept"),
            )
            _save_switching(
                session,
                audit.project_id,
                audit.vendor_id,
                next_inspection_state(state, result),
                now,
            )
    record_event(
        session,
        actor,
        "audit.decide",
        "audit",
        audit.id,
        before=before,
        after={
            "decision": decision,
            "n_defects_random": defects_random,
            "n_defects": defects,
            "accuracy_rate": audit.accuracy_rate,
        },
        vendor_id=audit.vendor_id,
        now=now,
    )


def _reviewed_random(session: Session, audit: Audit) -> list[AuditSample]:
    return list(
        session.scalars(
            select(AuditSample)
            .where(
                AuditSample.audit_id == audit.id,
                AuditSample.part == "random",
                AuditSample.verdict.is_not(None),
            )
            .order_by(AuditSample.position)
        )
    )


def _estimate(session: Session, audit: Audit) -> LotAccuracyEstimate | None:
    samples = _reviewed_random(session, audit)
    if not samples:
        return None
    correct = [s.verdict == "correct" for s in samples]
    confidence = float(audit.design.get("confidence", 0.95))
    if audit.plan == "stratified":
        sizes = {row["stratum"]: int(row["population_size"]) for row in audit.design["strata"]}
        return estimate_lot_accuracy(
            correct,
            strata=[s.stratum for s in samples],
            strata_sizes=sizes,
            confidence=confidence,
        )
    return estimate_lot_accuracy(
        correct, population=int(audit.design["lot_size"]), confidence=confidence
    )


def _right_answer(sample: AuditSample) -> list[str]:
    if sample.verdict == "incorrect" and sample.corrected_value:
        return list(sample.corrected_value)
    return list(sample.vendor_value)


def get_audit_report(session: Session, actor: Actor, audit_id: int) -> AuditReport:
    """The audit's decision, the lot's estimated accuracy and per-class quality.

    Estimates use only the random part (the targeted part is not a probability sample)
    and only reviewed labels; a stratified audit uses the stratified estimator.

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    authorize(actor, "lot.read")
    audit = load_audit(session, actor, audit_id)
    estimate = _estimate(session, audit)
    samples = _reviewed_random(session, audit)
    quality: tuple[ClassQuality, ...] = ()
    if samples:
        weights = None
        if audit.plan == "stratified":
            sizes = {row["stratum"]: int(row["population_size"]) for row in audit.design["strata"]}
            counts = Counter(s.stratum for s in samples)
            weights = [sizes[str(s.stratum)] / counts[s.stratum] for s in samples]
        quality = compute_class_quality(
            [_key(s.vendor_value) for s in samples],
            [_key(_right_answer(s)) for s in samples],
            weights=weights,
        )
    reviewed = list(
        session.scalars(
            select(AuditSample).where(
                AuditSample.audit_id == audit.id, AuditSample.verdict.is_not(None)
            )
        )
    )
    wrong = [s for s in reviewed if s.verdict == "incorrect"]
    targeted = [s for s in reviewed if s.part == "targeted"]
    next_inspection = None
    if audit.plan == "aql":
        next_inspection = get_switching_state(session, audit.project_id, audit.vendor_id).inspection
    lot = session.get(AuditLot, audit.lot_id)
    return AuditReport(
        audit=_summary(audit, actor),
        lot_size=lot.n_labels if lot is not None else int(audit.design["lot_size"]),
        accept=audit.design.get("accept"),
        reject=audit.design.get("reject"),
        target_accuracy=audit.design.get("target_accuracy"),
        estimate=estimate,
        class_quality=quality,
        n_targeted_reviewed=len(targeted),
        n_targeted_defects=sum(1 for s in targeted if s.verdict == "incorrect"),
        errors_by_type=dict(sorted(Counter(str(s.error_type) for s in wrong).items())),
        errors_by_severity=dict(sorted(Counter(str(s.severity) for s in wrong).items())),
        next_inspection=next_inspection,
    )


def close_audit(
    session: Session, actor: Actor, audit_id: int, *, now: datetime | None = None
) -> AuditSummary:
    """Decide a complete audit now (idempotent; the last verdict already decides it).

    Raises:
        NotFound: No such audit.
        Conflict: Labels remain to be reviewed.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    with transaction(session):
        audit = load_audit(session, actor, audit_id, lock=True)
        refresh_audit(session, actor, audit, now=now)
        if audit.decision is None:
            raise Conflict(
                "errors.audit.incomplete",
                audit=audit_id,
                reviewed=audit.n_reviewed,
                total=audit.n_sample,
            )
        return _summary(audit)

"""Lots: a vendor's labels in one project over a period, one import batch, or one rework round.

A label belongs to at most one lot (a unique constraint on the membership table). A lot
whose period has not ended is ``open``: labels submitted later in its window may still
join it until an audit starts, which *freezes* it (``frozen_at``); labels submitted
after the freeze go to the next lot. Only current labels of non-gold tasks are put in
lots: gold items measure labellers, they are not vendor output.

:func:`compute_label_risk_scores` scores a lot's labels for the risk-targeted part of
an audit (features from the project's labels and gold answers, combined by
:mod:`labelops.quality.risk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.policy import Actor, authorize, require_same_vendor, scope_to_vendor
from labelops.services.projects import get_project, project_vendor_ids
from labelops.store.audit_models import AuditLot, AuditLotLabel, ReworkItem
from labelops.store.models import GoldAnswer, ImportBatch, Label, Task, Vendor
from labelops.store.types import utcnow

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LOT_STATUSES",
    "LotSummary",
    "compute_label_risk_scores",
    "create_lot",
    "freeze_lot",
    "get_lot",
    "list_lots",
    "load_lot",
    "lot_label_ids",
]

LOT_STATUSES = ("open", "closed", "auditing", "accepted", "rejected")


@dataclass(frozen=True)
class LotSummary:
    """A lot as listed: its window, size and status."""

    id: int
    project_id: int
    vendor_id: int
    kind: str
    """``period``, ``import_batch`` or ``rework``."""
    status: str
    """One of :data:`LOT_STATUSES`."""
    n_labels: int
    since: datetime | None
    until: datetime | None
    import_batch_id: int | None
    rework_of_lot_id: int | None
    created_at: datetime
    frozen_at: datetime | None
    audit_id: int | None
    """The lot's audit, once one started."""
    first_label_at: datetime | None = None
    """When the lot's earliest label was submitted (its period when ``since`` is open)."""
    last_label_at: datetime | None = None
    """When the lot's latest label was submitted."""


def _summary(session: Session, lot: AuditLot) -> LotSummary:
    from labelops.store.audit_models import Audit

    audit_id = session.scalar(select(Audit.id).where(Audit.lot_id == lot.id))
    first, last = session.execute(
        select(func.min(Label.submitted_at), func.max(Label.submitted_at))
        .join(AuditLotLabel, AuditLotLabel.label_id == Label.id)
        .where(AuditLotLabel.lot_id == lot.id)
    ).one()
    return LotSummary(
        id=lot.id,
        project_id=lot.project_id,
        vendor_id=lot.vendor_id,
        kind=lot.kind,
        status=lot.status,
        n_labels=lot.n_labels,
        since=lot.since,
        until=lot.until,
        import_batch_id=lot.import_batch_id,
        rework_of_lot_id=lot.rework_of_lot_id,
        created_at=lot.created_at,
        frozen_at=lot.frozen_at,
        audit_id=audit_id,
        first_label_at=first,
        last_label_at=last,
    )


def _candidates(session: Session, lot: AuditLot, *, up_to: datetime) -> list[tuple[int, int]]:
    """(label id, task id) of current labels that fit ``lot`` and are in no lot yet."""
    in_a_lot = exists().where(AuditLotLabel.label_id == Label.id)
    query = (
        select(Label.id, Label.task_id)
        .join(Task, Task.id == Label.task_id)
        .where(
            Label.project_id == lot.project_id,
            Label.vendor_id == lot.vendor_id,
            Label.is_current.is_(True),
            Task.is_gold.is_(False),
            Label.submitted_at <= up_to,
            ~in_a_lot,
        )
        .order_by(Label.id)
    )
    if lot.since is not None:
        query = query.where(Label.submitted_at >= lot.since)
    if lot.until is not None:
        query = query.where(Label.submitted_at < lot.until)
    if lot.import_batch_id is not None:
        query = query.where(Task.import_batch_id == lot.import_batch_id)
    if lot.rework_of_lot_id is not None:
        reworked = select(ReworkItem.done_label_id).where(
            ReworkItem.lot_id == lot.rework_of_lot_id,
            ReworkItem.status == "done",
            ReworkItem.done_label_id.is_not(None),
        )
        query = query.where(Label.id.in_(reworked))
    return [(int(label_id), int(task_id)) for label_id, task_id in session.execute(query)]


def _add_members(session: Session, lot_id: int, rows: list[tuple[int, int]]) -> None:
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        session.execute(
            insert(AuditLotLabel),
            [{"lot_id": lot_id, "label_id": label, "task_id": task} for label, task in chunk],
        )


def create_lot(
    session: Session,
    actor: Actor,
    project_id: int,
    vendor_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    import_batch_id: int | None = None,
    rework_of_lot_id: int | None = None,
    now: datetime | None = None,
) -> LotSummary:
    """Put a vendor's current labels of a project that are in no lot yet into a new lot.

    Args:
        project_id: The project.
        vendor_id: The vendor whose labels are taken (must be assigned to the project).
        since: Labels submitted at or after this time (aware UTC); None = from the start.
        until: Labels submitted before this time; None or a future time makes the lot
            ``open`` (it keeps collecting until an audit freezes it).
        import_batch_id: Only labels of tasks imported by this batch.
        rework_of_lot_id: Only labels made by reworking this lot (a re-audit lot).
        now: Current time (tests pass a clock).

    Returns:
        The new lot.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: Unknown project, vendor, import batch or lot, or the vendor is not
            assigned to the project.
        InvalidInput: ``since`` is not before ``until``, a naive time, or no label fits.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    for field, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("errors.lot.naive_time", field=field, value=str(value))
    if since is not None and until is not None and since >= until:
        raise InvalidInput("errors.lot.bad_window", field="until", value=until.isoformat())
    get_project(session, actor, project_id)
    with transaction(session):
        if session.get(Vendor, vendor_id) is None:
            raise NotFound("errors.vendor.not_found", vendor=vendor_id)
        if vendor_id not in project_vendor_ids(session, project_id):
            raise NotFound("errors.lot.vendor_not_in_project", vendor=vendor_id, project=project_id)
        if import_batch_id is not None:
            batch = session.get(ImportBatch, import_batch_id)
            if batch is None or batch.project_id != project_id:
                raise NotFound("errors.lot.batch_not_found", batch=import_batch_id)
        if rework_of_lot_id is not None:
            parent = session.get(AuditLot, rework_of_lot_id)
            if parent is None or parent.project_id != project_id:
                raise NotFound("errors.lot.not_found", lot=rework_of_lot_id)
        kind = (
            "rework"
            if rework_of_lot_id is not None
            else "import_batch"
            if import_batch_id is not None
            else "period"
        )
        is_open = rework_of_lot_id is None and (until is None or until > now)
        lot = AuditLot(
            project_id=project_id,
            vendor_id=vendor_id,
            kind=kind,
            since=since,
            until=until,
            import_batch_id=import_batch_id,
            rework_of_lot_id=rework_of_lot_id,
            status="open" if is_open else "closed",
            n_labels=0,
            created_by=actor.user_id,
            created_at=now,
        )
        session.add(lot)
        session.flush()
        rows = _candidates(session, lot, up_to=now)
        if not rows:
            raise InvalidInput("errors.lot.empty", field="lot", vendor=vendor_id)
        _add_members(session, lot.id, rows)
        lot.n_labels = len(rows)
        record_event(
            session,
            actor,
            "lot.create",
            "lot",
            lot.id,
            after={
                "project_id": project_id,
                "vendor_id": vendor_id,
                "kind": kind,
                "since": since,
                "until": until,
                "import_batch_id": import_batch_id,
                "rework_of_lot_id": rework_of_lot_id,
                "n_labels": len(rows),
                "status": lot.status,
            },
            vendor_id=vendor_id,
            now=now,
        )
        return _summary(session, lot)


def freeze_lot(session: Session, lot: AuditLot, *, now: datetime) -> int:
    """Fix a lot's membership at ``now`` (inside the caller's transaction).

    A member label revised since it joined is replaced by the current revision of the
    same assignment (unless that is in another lot), so the audit sees what the
    labeller answers now. An ``open`` lot also takes the window's labels submitted up
    to ``now`` and stops collecting: anything submitted later belongs to the next lot.

    Returns:
        The lot's size after freezing.
    """
    stale = session.execute(
        select(AuditLotLabel.label_id, Label.assignment_id)
        .join(Label, Label.id == AuditLotLabel.label_id)
        .where(AuditLotLabel.lot_id == lot.id, Label.is_current.is_(False))
    ).all()
    if stale:
        session.execute(
            delete(AuditLotLabel).where(
                AuditLotLabel.lot_id == lot.id,
                AuditLotLabel.label_id.in_([label_id for label_id, _ in stale]),
            )
        )
        in_a_lot = exists().where(AuditLotLabel.label_id == Label.id)
        replacements = session.execute(
            select(Label.id, Label.task_id).where(
                Label.assignment_id.in_([assignment for _, assignment in stale]),
                Label.is_current.is_(True),
                ~in_a_lot,
            )
        ).all()
        _add_members(session, lot.id, [(int(i), int(t)) for i, t in replacements])
    if lot.status == "open":
        _add_members(session, lot.id, _candidates(session, lot, up_to=now))
        lot.status = "closed"
    lot.frozen_at = now
    lot.n_labels = int(
        session.scalar(
            select(func.count()).select_from(AuditLotLabel).where(AuditLotLabel.lot_id == lot.id)
        )
        or 0
    )
    return lot.n_labels


def load_lot(session: Session, actor: Actor, lot_id: int) -> AuditLot:
    """A lot row the actor may see (no permission check beyond vendor scope).

    Raises:
        NotFound: No such lot, or another vendor's.
    """
    lot = session.get(AuditLot, lot_id)
    if lot is None:
        raise NotFound("errors.lot.not_found", lot=lot_id)
    try:
        require_same_vendor(actor, lot.vendor_id)
    except NotFound as exc:
        raise NotFound("errors.lot.not_found", lot=lot_id) from exc
    return lot


def get_lot(session: Session, actor: Actor, lot_id: int) -> LotSummary:
    """One lot (vendor roles: only their vendor's).

    Raises:
        NotFound: No such lot, or another vendor's.
    """
    authorize(actor, "lot.read")
    return _summary(session, load_lot(session, actor, lot_id))


def list_lots(
    session: Session, actor: Actor, project_id: int, *, vendor_id: int | None = None
) -> list[LotSummary]:
    """A project's lots, oldest first (vendor roles: their vendor's only).

    Raises:
        NotFound: Unknown project, or the actor's vendor does not work on it.
    """
    authorize(actor, "lot.read")
    get_project(session, actor, project_id)
    query = select(AuditLot).where(AuditLot.project_id == project_id).order_by(AuditLot.id)
    if vendor_id is not None:
        query = query.where(AuditLot.vendor_id == vendor_id)
    query = scope_to_vendor(query, actor, AuditLot.vendor_id)
    return [_summary(session, lot) for lot in session.scalars(query)]


def lot_label_ids(session: Session, lot_id: int) -> list[int]:
    """Ids of a lot's labels, ascending (no authorisation: for services)."""
    return [
        int(label_id)
        for label_id in session.scalars(
            select(AuditLotLabel.label_id)
            .where(AuditLotLabel.lot_id == lot_id)
            .order_by(AuditLotLabel.label_id)
        )
    ]


def compute_label_risk_scores(
    session: Session, project_id: int, label_ids: Sequence[int]
) -> dict[int, float]:
    """Risk that each label is wrong, from what the project knows before the audit.

    Mirrors ``bench/audit_yield.py``, where this score reaches 3x the random audit yield:
    Dawid-Skene is fitted on the project's current labels *including* those on gold tasks,
    with the gold answers clamped (so each labeller's confusion matrix is learned from gold
    as well as from agreement), and :func:`~labelops.quality.risk.estimate_label_error`
    (``gold=`` the same answers) turns its posterior into the probability that each label
    is wrong: the ``posterior_disagreement`` feature. The other features of
    :func:`~labelops.quality.risk.compute_label_risk` (default ``combine="stand-in"``):
    the labeller's error rate on gold (Beta(1, 1)-smoothed) and the item's disagreement
    (1 - plurality share), which count only where there is no posterior (a single class);
    and speed, the handle time (``active_ms``, else ``submitted_at - served_at``) against
    the labeller's median on non-gold tasks.

    Only labels and gold answers are read, never audit verdicts or final labels, so the
    lot's own audit cannot leak into its ranking. Labels on gold tasks inform the fit but
    are scored only if they are in ``label_ids`` (lots hold no gold labels); such a label
    is known right or wrong (probability 0 or 1).

    Returns:
        ``label_id -> score`` in (0, 1) for every id in ``label_ids`` (NaN for an id that
        is not a current label of the project).
    """
    import numpy as np
    import pandas as pd

    from labelops.quality.aggregation import DawidSkene
    from labelops.quality.risk import compute_label_risk, estimate_label_error

    if not label_ids:
        return {}
    rows = session.execute(
        select(
            Label.id,
            Label.task_id,
            Label.labeller_id,
            Label.value,
            Label.served_at,
            Label.submitted_at,
            Label.active_ms,
            Task.is_gold,
        )
        .join(Task, Task.id == Label.task_id)
        .where(Label.project_id == project_id, Label.is_current.is_(True))
    ).all()
    frame = pd.DataFrame(
        [
            {
                "label_id": int(r[0]),
                "item_id": int(r[1]),
                "labeller_id": int(r[2]),
                "label": _class_of(r[3]),
                "handle_time_s": (
                    r[6] / 1000.0 if r[6] is not None else (r[5] - r[4]).total_seconds()
                ),
                "is_gold": bool(r[7]),
            }
            for r in rows
        ],
        columns=["label_id", "item_id", "labeller_id", "label", "handle_time_s", "is_gold"],
    )
    gold = _gold_answers(session, project_id)
    gold = gold[gold.index.isin(frame["item_id"])]  # gold nobody answered says nothing
    answers = frame[["item_id", "labeller_id", "label"]]
    in_lot = frame["label_id"].isin(set(label_ids)).to_numpy()
    wanted = frame[in_lot].set_index("label_id")
    posterior = np.full(len(wanted), np.nan)
    if len(set(frame["label"]) | set(gold)) > 1:
        known = gold if len(gold) else None
        probas = DawidSkene().fit(answers, gold=known).probas_
        error = estimate_label_error(answers, probas, gold=known)
        posterior = error.probability[in_lot]
    counts = frame.groupby(["item_id", "label"]).size()
    majority_share = counts.groupby(level=0).max() / counts.groupby(level=0).sum()
    item_disagreement = 1.0 - majority_share.reindex(wanted["item_id"]).to_numpy(dtype=float)
    labeller_error = _gold_error_rates(frame, gold).reindex(wanted["labeller_id"])
    times = frame["handle_time_s"].clip(lower=0.001)
    on_tasks = ~frame["is_gold"]
    medians = times[on_tasks].groupby(frame["labeller_id"][on_tasks]).median()
    scores = compute_label_risk(
        posterior_disagreement=posterior,
        labeller_error=labeller_error.to_numpy(dtype=float),
        item_disagreement=item_disagreement,
        handle_time_s=wanted["handle_time_s"].clip(lower=0.001).to_numpy(dtype=float),
        median_handle_time_s=medians.reindex(wanted["labeller_id"]).to_numpy(dtype=float),
    )
    by_id = dict(zip(wanted.index.tolist(), scores.tolist(), strict=True))
    return {int(i): by_id.get(int(i), float("nan")) for i in label_ids}


def _class_of(value: Sequence[str]) -> str:
    """One class per label value for the risk model: the keys, sorted, joined by ``+``
    (sorted so that a gold answer and a label with the same keys are the same class)."""
    return "+".join(sorted(value))


def _gold_answers(session: Session, project_id: int) -> pd.Series:
    """``task_id -> class`` of the project's gold tasks (their gold answers)."""
    import pandas as pd

    rows = session.execute(
        select(Task.id, GoldAnswer.value)
        .join(
            GoldAnswer,
            (GoldAnswer.item_id == Task.item_id) & (GoldAnswer.project_id == Task.project_id),
        )
        .where(Task.project_id == project_id, Task.is_gold.is_(True))
    )
    return pd.Series({int(task_id): _class_of(value) for task_id, value in rows}, dtype=object)


def _gold_error_rates(frame: pd.DataFrame, gold: pd.Series) -> pd.Series:
    """``labeller_id -> 1 - accuracy`` on the gold tasks, Beta(1, 1)-smoothed as in the
    bench; labellers without a gold answer are absent (NaN after a reindex)."""
    import pandas as pd

    truth = gold.reindex(frame["item_id"]).to_numpy()
    on_gold = pd.notna(truth)
    correct = frame["label"].to_numpy()[on_gold] == truth[on_gold]
    tally = pd.Series(correct, dtype=float).groupby(frame["labeller_id"].to_numpy()[on_gold])
    return 1.0 - (tally.sum() + 1.0) / (tally.count() + 2.0)

"""Quality statistics of a project's labels: agreement and labeller skill.

A thin bridge from the store to ``labelops.quality``: it builds the canonical answers
frame from a project's current labels (vendor-scoped) and calls the pure core.
Multi-label projects are reported per label by binary relevance.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput
from labelops.services.policy import Actor, authorize
from labelops.services.projects import get_project, project_vendor_ids
from labelops.store.models import GoldAnswer, Item, Label, Task, User

if TYPE_CHECKING:
    import pandas as pd

    from labelops.quality import (
        AgreementResult,
        LabellerAccuracy,
    )

__all__ = [
    "AGREEMENT_METRICS",
    "compute_project_agreement",
    "estimate_project_labellers",
    "load_project_answers",
]

AGREEMENT_METRICS = ("krippendorff-alpha", "fleiss-kappa", "cohen-kappa", "gwet-ac1", "percent")


def load_project_answers(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    vendor_id: int | None = None,
    since: datetime | None = None,
    include_gold: bool = True,
) -> pd.DataFrame:
    """The project's current labels as the canonical answers frame.

    Columns: ``item_id`` (external id), ``labeller_id`` (username), ``label`` (multi-label
    answers joined with ``|``), ``handle_time_s`` (submitted − served, s). Vendor-scoped
    actors only ever get their own vendor's labels, whatever ``vendor_id`` says.

    Raises:
        NotFound: The project (or the vendor, for a vendor-scoped actor) is not visible.
    """
    import pandas as pd

    authorize(actor, "quality.read")
    get_project(session, actor, project_id)
    if actor.is_vendor_scoped:
        vendor_id = actor.vendor_id
    elif vendor_id is not None and vendor_id not in project_vendor_ids(session, project_id):
        raise InvalidInput("errors.quality.vendor_not_in_project", field="vendor", value=vendor_id)
    query = (
        select(Item.external_id, User.username, Label.value, Label.served_at, Label.submitted_at)
        .join(Task, Task.id == Label.task_id)
        .join(Item, Item.id == Task.item_id)
        .join(User, User.id == Label.labeller_id)
        .where(Label.project_id == project_id, Label.is_current.is_(True))
        .order_by(Label.id)
    )
    if vendor_id is not None:
        query = query.where(Label.vendor_id == vendor_id)
    if since is not None:
        query = query.where(Label.submitted_at >= since)
    if not include_gold:
        query = query.where(Task.is_gold.is_(False))
    rows = session.execute(query).all()
    session.commit()
    return pd.DataFrame(
        {
            "item_id": [row[0] for row in rows],
            "labeller_id": [row[1] for row in rows],
            "label": ["|".join(row[2]) for row in rows],
            "handle_time_s": [(row[4] - row[3]).total_seconds() for row in rows],
        }
    )


def compute_project_agreement(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    metric: str = "krippendorff-alpha",
    vendor_id: int | None = None,
    since: datetime | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> AgreementResult:
    """Agreement among a project's labellers with a 95 % confidence interval.

    Raises:
        InvalidInput: Unknown metric, or too little data (the core says what is missing).
    """
    from labelops.quality import compute_agreement

    if metric not in AGREEMENT_METRICS:
        raise InvalidInput(
            "errors.quality.metric",
            field="metric",
            value=metric,
            allowed=", ".join(AGREEMENT_METRICS),
        )
    answers = load_project_answers(session, actor, project_id, vendor_id=vendor_id, since=since)
    if answers.empty:
        raise InvalidInput("errors.quality.no_labels", field="project", value=project_id)
    return compute_agreement(
        answers[["item_id", "labeller_id", "label"]],
        metric=metric.replace("-", "_"),  # type: ignore[arg-type]
        n_resamples=n_resamples,
        seed=seed,
    )


def estimate_project_labellers(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    method: str = "dawid-skene",
    vendor_id: int | None = None,
) -> tuple[LabellerAccuracy, ...]:
    """Each labeller's accuracy: from gold answers where there are some, else from the
    aggregation model (each result says which). Multi-label answers are compared as
    whole label sets."""
    import pandas as pd

    from labelops.quality import estimate_labeller_accuracy

    answers = load_project_answers(session, actor, project_id, vendor_id=vendor_id)
    if answers.empty:
        raise InvalidInput("errors.quality.no_labels", field="project", value=project_id)
    gold_rows = session.execute(
        select(Item.external_id, GoldAnswer.value)
        .join(GoldAnswer, GoldAnswer.item_id == Item.id)
        .where(GoldAnswer.project_id == project_id)
    ).all()
    session.commit()
    gold = pd.Series(
        {external_id: "|".join(value) for external_id, value in gold_rows}, dtype=object
    )
    return estimate_labeller_accuracy(
        answers[["item_id", "labeller_id", "label"]],
        gold=gold if len(gold) else None,
        method=method,
    )

"""A project's quality statistics (vendor-scoped like everything else)."""

from __future__ import annotations

import math

from fastapi import APIRouter

from labelops.api.deps import CurrentActor, SessionDep
from labelops.api.schemas.fields import Id, Text, ZonedDateTime
from labelops.api.schemas.quality import (
    AgreementPublic,
    ClassAgreementPublic,
    LabellerAccuracyPublic,
)
from labelops.services import project_quality

router = APIRouter(prefix="/api/projects/{project_id}/quality", tags=["quality"])


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@router.get("/agreement")
def read_agreement(
    project_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    metric: Text = "krippendorff-alpha",
    vendor_id: Id | None = None,
    since: ZonedDateTime | None = None,
) -> AgreementPublic:
    """Agreement among the project's labellers, with a bootstrap 95 % interval."""
    result = project_quality.compute_project_agreement(
        session, actor, project_id, metric=metric, vendor_id=vendor_id, since=since
    )
    return AgreementPublic(
        metric=result.metric.replace("_", "-"),
        value=result.value,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        n_items=result.n_items,
        n_labellers=result.n_labellers,
        per_class=[
            ClassAgreementPublic(
                label=str(entry.label),
                value=_finite(entry.value),
                ci_low=_finite(entry.ci_low),
                ci_high=_finite(entry.ci_high),
            )
            for entry in result.per_class
        ],
    )


@router.get("/labellers")
def read_labellers(
    project_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    method: Text = "dawid-skene",
    vendor_id: Id | None = None,
) -> list[LabellerAccuracyPublic]:
    """Each labeller's accuracy with a Wilson interval, from gold or from the model."""
    results = project_quality.estimate_project_labellers(
        session, actor, project_id, method=method, vendor_id=vendor_id
    )
    return [
        LabellerAccuracyPublic(
            labeller=str(entry.labeller_id),
            accuracy_rate=entry.accuracy_rate,
            ci_low=entry.ci_low,
            ci_high=entry.ci_high,
            n_answers=entry.n_answers,
            source=entry.source,
            classes=[str(label) for label in entry.classes],
            confusion=entry.confusion.tolist(),
        )
        for entry in results
    ]

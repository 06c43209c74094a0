"""Schemas for a project's quality statistics."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["AgreementPublic", "ClassAgreementPublic", "LabellerAccuracyPublic"]


class ClassAgreementPublic(BaseModel):
    """Agreement on one class (one-vs-rest)."""

    label: str
    value: float | None
    ci_low: float | None
    ci_high: float | None


class AgreementPublic(BaseModel):
    """An agreement statistic with its 95 % confidence interval."""

    metric: str
    value: float
    ci_low: float
    ci_high: float
    n_items: int
    n_labellers: int
    per_class: list[ClassAgreementPublic]


class LabellerAccuracyPublic(BaseModel):
    """One labeller's estimated accuracy and where it comes from."""

    labeller: str
    accuracy_rate: float
    ci_low: float
    ci_high: float
    n_answers: int
    source: str
    classes: list[str]
    confusion: list[list[float]]

"""Per-labeller accuracy with a Wilson interval, from gold or from an aggregation model.

Where a labeller has answered gold items, accuracy is measured on them (``source="gold"``):
that is the number to hold a vendor to. Where they have not, it is the model's expected
accuracy, ``mean_a p(true label = answer_a)`` under the aggregation posterior
(``source="model"``), with a Wilson interval on the expected count of correct answers
(an approximation: it ignores the model's own uncertainty). Confusion matrices are counts
(gold) or expected counts (model), rows = true class, columns = answer.

Reference for the interval: Wilson (1927); for model-based skill: Dawid & Skene (1979).
"""

from __future__ import annotations

__all__ = [
    "LabellerAccuracy",
    "SkillSource",
    "compute_confusion_matrices",
    "estimate_labeller_accuracy",
]

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from labelops.quality.aggregation import make_aggregator
from labelops.quality.aggregation._base import BaseAggregator, encode_gold
from labelops.quality.answers import EncodedAnswers, encode_answers
from labelops.quality.intervals import wilson_bounds

SkillSource = Literal["gold", "model"]


@dataclass(frozen=True)
class LabellerAccuracy:
    """One labeller's estimated accuracy."""

    labeller_id: Hashable
    """The labeller."""
    accuracy_rate: float
    """Share of correct answers (gold) or expected share (model), in [0, 1]."""
    ci_low: float
    """Lower Wilson bound."""
    ci_high: float
    """Upper Wilson bound."""
    n_answers: int
    """Answers the estimate is based on (gold answers for ``gold``, all for ``model``)."""
    source: SkillSource
    """``gold`` or ``model``."""
    confusion: npt.NDArray[np.float64]
    """``(n_classes, n_classes)`` counts, rows = true class, columns = answer."""
    classes: tuple[Hashable, ...]
    """Class labels of the confusion matrix rows and columns."""


def compute_confusion_matrices(
    encoded: EncodedAnswers,
    truth: npt.NDArray[np.float64],
    *,
    mask: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """Per-labeller (expected) confusion counts.

    Args:
        encoded: Encoded answers.
        truth: ``(n_items, n_classes)`` probabilities of the true class (one-hot for gold).
        mask: Only count answers where True, shape ``(n_answers,)``.

    Returns:
        ``(n_labellers, n_classes, n_classes)``, ``[w, k, l]`` = (expected) number of times
        labeller ``w`` answered ``l`` on an item of true class ``k``.
    """
    n_labellers, n_classes = encoded.n_labellers, encoded.n_classes
    keep = np.ones(encoded.n_answers, dtype=bool) if mask is None else mask
    cell = encoded.labeller_codes[keep].astype(np.int64) * n_classes + encoded.label_codes[keep]
    per_answer = truth[encoded.item_codes[keep]]
    out = np.empty((n_labellers, n_classes, n_classes))
    for k in range(n_classes):
        out[:, k, :] = np.bincount(
            cell, weights=per_answer[:, k], minlength=n_labellers * n_classes
        ).reshape(n_labellers, n_classes)
    return out


def estimate_labeller_accuracy(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    gold: pd.Series | None = None,
    model: BaseAggregator | None = None,
    method: str = "dawid-skene",
    min_gold_answers: int = 1,
    confidence: float = 0.95,
) -> tuple[LabellerAccuracy, ...]:
    """Each labeller's accuracy, from gold where possible, else from an aggregation model.

    Args:
        answers: Canonical answers frame or its encoded form.
        gold: Known true labels (``item_id -> label``).
        model: Unfitted aggregator to use for labellers without gold (default: ``method``).
        method: Aggregation method name when ``model`` is None.
        min_gold_answers: Gold answers a labeller needs for a gold-based estimate.
        confidence: Coverage of the Wilson interval.

    Returns:
        One :class:`LabellerAccuracy` per labeller, in order of first appearance.

    Raises:
        InvalidInput: Bad gold labels, unknown method or bad confidence.

    Example:
        >>> frame = pd.DataFrame({"item_id": [1, 1, 2, 2], "labeller_id": list("abab"),
        ...                       "label": ["x", "x", "y", "x"]})
        >>> [r.source for r in estimate_labeller_accuracy(frame, gold=pd.Series({1: "x"}))]
        ['gold', 'gold']
    """
    gold_classes = [] if gold is None else list(pd.unique(gold.to_numpy()))
    encoded = encode_answers(answers, classes=gold_classes)
    gold_codes = encode_gold(gold, encoded)
    n_labellers, n_classes = encoded.n_labellers, encoded.n_classes
    on_gold = gold_codes[encoded.item_codes] >= 0
    gold_answers = np.bincount(encoded.labeller_codes[on_gold], minlength=n_labellers)
    use_gold = gold_answers >= min_gold_answers
    confusion = np.zeros((n_labellers, n_classes, n_classes))
    if on_gold.any():
        one_hot = np.zeros((encoded.n_items, n_classes))
        has = gold_codes >= 0
        one_hot[has, gold_codes[has]] = 1.0
        confusion = compute_confusion_matrices(encoded, one_hot, mask=on_gold)
    if not use_gold.all():
        fitted = (model if model is not None else make_aggregator(method)).fit(encoded, gold=gold)
        posterior = fitted.probas_.reindex(columns=encoded.classes, fill_value=0.0).to_numpy()
        model_confusion = compute_confusion_matrices(encoded, posterior)
        confusion[~use_gold] = model_confusion[~use_gold]
    totals = confusion.sum(axis=(1, 2))
    correct = np.trace(confusion, axis1=1, axis2=2)
    answered = np.where(
        use_gold, gold_answers, np.bincount(encoded.labeller_codes, minlength=n_labellers)
    )
    safe_totals = np.maximum(totals, 1e-300)
    low, high = wilson_bounds(np.minimum(correct, safe_totals), safe_totals, confidence=confidence)
    classes = tuple(encoded.classes)
    return tuple(
        LabellerAccuracy(
            labeller_id=encoded.labellers[w],
            accuracy_rate=float(correct[w] / safe_totals[w]),
            ci_low=float(low[w]),
            ci_high=float(high[w]),
            n_answers=int(answered[w]),
            source="gold" if use_gold[w] else "model",
            confusion=confusion[w],
            classes=classes,
        )
        for w in range(n_labellers)
    )

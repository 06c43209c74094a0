"""Majority vote, with ties reported rather than broken silently."""

from __future__ import annotations

__all__ = ["MajorityVote"]

import numpy as np
import pandas as pd

from labelops.quality.aggregation._base import BaseAggregator, FloatArray, IntArray
from labelops.quality.answers import EncodedAnswers


def vote_shares(
    encoded: EncodedAnswers, answer_weights: FloatArray
) -> tuple[FloatArray, np.ndarray]:
    """Weighted vote shares per item and class, and whether the top share is tied."""
    flat = encoded.item_codes.astype(np.int64) * encoded.n_classes + encoded.label_codes
    votes = np.bincount(
        flat, weights=answer_weights, minlength=encoded.n_items * encoded.n_classes
    ).reshape(encoded.n_items, encoded.n_classes)
    totals = votes.sum(axis=1, keepdims=True)
    uniform = np.full_like(votes, 1.0 / encoded.n_classes)
    shares = np.divide(votes, totals, out=uniform, where=totals > 0)
    top = shares.max(axis=1, keepdims=True)
    tied = (np.isclose(shares, top, rtol=0, atol=1e-12)).sum(axis=1) > 1
    return shares, tied


class MajorityVote(BaseAggregator):
    """The most frequent answer of each item.

    ``probas_`` holds the vote shares. When two or more classes share the top count the
    item is **tied**: ``tied_`` is True for it and ``labels_`` holds the first of the tied
    classes in sorted class order (a deterministic rule, not a judgement), so callers
    can send tied items to adjudication instead of trusting that label.

    Attributes:
        labels_: Final label per item (``item_id`` index).
        probas_: Vote shares, ``(n_items, n_classes)``.
        tied_: Boolean per item: the top vote was shared.

    Example:
        >>> frame = pd.DataFrame(
        ...     {"item_id": [1, 1], "labeller_id": ["a", "b"], "label": ["x", "y"]}
        ... )
        >>> MajorityVote().fit(frame).tied_.tolist()
        [True]

    Reference: the plurality baseline of every truth-inference survey, e.g. Zheng et al.
    (2017), *Truth Inference in Crowdsourcing: Is the Problem Solved?*, PVLDB 10(5).
    """

    tied_: pd.Series

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        shares, tied = vote_shares(encoded, np.ones(encoded.n_answers))
        self.tied_ = pd.Series(tied & (gold_codes < 0), index=encoded.items, name="tied")
        self.tied_.index.name = "item_id"
        return shares

"""Weighted majority vote: each labeller's vote counts by a skill weight."""

from __future__ import annotations

__all__ = ["WeightedMajorityVote"]

import numpy as np
import pandas as pd

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import BaseAggregator, FloatArray, IntArray
from labelops.quality.aggregation.majority_vote import vote_shares
from labelops.quality.answers import EncodedAnswers


class WeightedMajorityVote(BaseAggregator):
    """Majority vote where each answer counts by its labeller's weight.

    Weights come, in order of precedence, from ``skills`` (labeller id -> weight), from the
    answers' ``weight`` column, or are estimated as each labeller's accuracy against the
    plain majority vote (gold labels, where given, replace the majority on those items): the
    "Wawa" scheme of crowd-kit.

    Args:
        skills: Fixed non-negative weight per labeller id; labellers missing from it get
            ``default_skill``.
        default_skill: Weight of labellers not in ``skills``.

    Attributes:
        labels_: Final label per item.
        probas_: Weighted vote shares.
        tied_: Boolean per item: the top weighted vote was shared.
        skills_: Weight used for each labeller (``labeller_id`` index).

    Reference: Appen (CrowdFlower) "worker agreement with aggregate" weighting; see
    crowd-kit ``Wawa``; Li & Yu (2014), *Error rate bounds and iterative weighted majority
    voting for crowdsourcing*, arXiv:1411.4086.
    """

    tied_: pd.Series
    skills_: pd.Series

    def __init__(self, *, skills: pd.Series | None = None, default_skill: float = 0.0) -> None:
        self.skills = skills
        self.default_skill = default_skill

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        if self.skills is not None:
            labeller_weight = (
                self.skills.reindex(encoded.labellers).fillna(self.default_skill).to_numpy(float)
            )
            if (labeller_weight < 0).any() or not np.isfinite(labeller_weight).all():
                raise InvalidInput("quality.bad_skill", field="skills")
            weights = labeller_weight[encoded.labeller_codes]
        elif encoded.weights is not None:
            weights = encoded.weights
            labeller_weight = np.bincount(
                encoded.labeller_codes, weights=weights, minlength=encoded.n_labellers
            ) / np.maximum(np.bincount(encoded.labeller_codes, minlength=encoded.n_labellers), 1)
        else:
            shares, _ = vote_shares(encoded, np.ones(encoded.n_answers))
            reference = np.where(gold_codes >= 0, gold_codes, shares.argmax(axis=1))
            correct = (reference[encoded.item_codes] == encoded.label_codes).astype(float)
            answered = np.bincount(encoded.labeller_codes, minlength=encoded.n_labellers)
            labeller_weight = np.bincount(
                encoded.labeller_codes, weights=correct, minlength=encoded.n_labellers
            ) / np.maximum(answered, 1)
            weights = labeller_weight[encoded.labeller_codes]
        shares, tied = vote_shares(encoded, weights)
        self.skills_ = pd.Series(labeller_weight, index=encoded.labellers, name="skill")
        self.skills_.index.name = "labeller_id"
        self.tied_ = pd.Series(tied & (gold_codes < 0), index=encoded.items, name="tied")
        self.tied_.index.name = "item_id"
        return shares

"""Aggregation: one final label per item from many labellers' answers.

Every estimator follows crowd-kit's API: the constructor takes only hyper-parameters,
``fit(answers, *, gold=None) -> self``, fitted attributes end in ``_`` (``labels_``,
``probas_``), plus ``fit_predict`` and ``fit_predict_proba``. They run on
:class:`~labelops.quality.answers.EncodedAnswers` with sparse counts, never a dense items x
labellers matrix, and clamp known gold labels during estimation.

When to use what:

* :class:`MajorityVote`: few answers per item, or as a baseline; reports ties.
* :class:`WeightedMajorityVote`: known labeller weights (gold accuracy, seniority).
* :class:`DawidSkene`: enough answers per labeller (dozens+) to estimate a confusion matrix;
  the standard choice, catches class-specific confusions ("R" taken for "P").
* :class:`OneCoinDawidSkene`: many labellers with few answers each.
* :class:`GLAD`: items differ strongly in difficulty (ambiguous creatives).
* :class:`MACE`: spammers or careless labellers present.
"""

from __future__ import annotations

__all__ = [
    "GLAD",
    "MACE",
    "AggregationMethod",
    "DawidSkene",
    "MajorityVote",
    "OneCoinDawidSkene",
    "WeightedMajorityVote",
    "make_aggregator",
]

from typing import Literal

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import BaseAggregator
from labelops.quality.aggregation.dawid_skene import DawidSkene, OneCoinDawidSkene
from labelops.quality.aggregation.glad import GLAD
from labelops.quality.aggregation.mace import MACE
from labelops.quality.aggregation.majority_vote import MajorityVote
from labelops.quality.aggregation.weighted_majority_vote import WeightedMajorityVote

AggregationMethod = Literal[
    "majority", "weighted-majority", "dawid-skene", "one-coin", "glad", "mace"
]


def make_aggregator(method: str) -> BaseAggregator:
    """A fresh estimator with default hyper-parameters from its CLI name.

    Args:
        method: One of ``majority``, ``weighted-majority``, ``dawid-skene``, ``one-coin``,
            ``glad``, ``mace``.

    Returns:
        The unfitted estimator.

    Raises:
        InvalidInput: Unknown method.
    """
    factories: dict[str, type[BaseAggregator]] = {
        "majority": MajorityVote,
        "weighted-majority": WeightedMajorityVote,
        "dawid-skene": DawidSkene,
        "one-coin": OneCoinDawidSkene,
        "glad": GLAD,
        "mace": MACE,
    }
    factory = factories.get(method)
    if factory is None:
        raise InvalidInput(
            "quality.bad_method", field="method", value=method, allowed=", ".join(factories)
        )
    return factory()

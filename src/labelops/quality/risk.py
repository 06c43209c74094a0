"""Risk-targeted audit selection: find the labels most likely to be wrong.

An audit has two jobs that need two different samples:

1. **Estimate** the lot's accuracy without bias — only a probability sample can do that
   (the *random* part: a simple random sample of the whole lot).
2. **Find** wrong labels to correct and to teach from — a *targeted* part that takes the
   riskiest remaining labels. It is never used for the accuracy estimate.

:func:`draw_audit_sample` keeps the two parts apart and says which unit is in which.

The risk score (:func:`compute_label_risk`) combines up to four signals, each optional
(missing = no evidence, contributes 0):

* ``posterior_disagreement`` = 1 - P(true class = the labeller's label) from an
  aggregation model (Dawid & Skene 1979, *Applied Statistics* 28(1));
* ``labeller_error`` = 1 - the labeller's accuracy on gold items (or, without gold, on
  agreement with the aggregate), estimated on *other* items;
* ``item_disagreement`` = 1 - the share of the item's labels that agree with the
  majority (low item agreement);
* ``speed`` = how much faster than usual the label was given: ``max(0, log(median /
  handle_time))``, the median being the labeller's own (or the project's).

They are combined as a logistic-style weighted sum ``sigmoid(b + sum_k w_k x_k)`` with
default weights :data:`DEFAULT_RISK_WEIGHTS`. Because the sigmoid is monotone, ranking
by it equals ranking by the linear part; the sigmoid only keeps scores in (0, 1). The
defaults put most weight on the posterior, which carries the most information when
several labellers saw the item; pass ``weights`` fitted on past audits (e.g. a logistic
regression of "audit found an error" on these features) when you have them.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_RISK_WEIGHTS",
    "AuditSample",
    "compute_label_risk",
    "draw_audit_sample",
]

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelops.errors import InvalidInput

DEFAULT_RISK_WEIGHTS: Mapping[str, float] = {
    "intercept": -3.0,
    "posterior_disagreement": 6.0,
    "labeller_error": 3.0,
    "item_disagreement": 2.0,
    "speed": 0.5,
}
"""Weights of the logistic-style combination (intercept and one per feature)."""


def _feature(
    values: Sequence[float | None] | npt.ArrayLike | None, name: str, n: int | None
) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or (n is not None and array.size != n):
        raise InvalidInput(
            "risk.length_mismatch", field=name, value=array.size, expected=n if n else 0
        )
    return array


def compute_label_risk(
    *,
    posterior_disagreement: Sequence[float | None] | npt.ArrayLike | None = None,
    labeller_error: Sequence[float | None] | npt.ArrayLike | None = None,
    item_disagreement: Sequence[float | None] | npt.ArrayLike | None = None,
    handle_time_s: Sequence[float | None] | npt.ArrayLike | None = None,
    median_handle_time_s: Sequence[float | None] | npt.ArrayLike | None = None,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Risk score per label: probability-like, higher = more likely wrong.

    Every feature is optional and may hold NaN for a missing value; all given features
    must have the same length ``n``.

    Args:
        posterior_disagreement: ``1 - P(label is the true class)``, in [0, 1], shape ``(n,)``.
        labeller_error: ``1 - labeller accuracy`` on other items, in [0, 1].
        item_disagreement: ``1 - share of the item's labels equal to its majority``, in [0, 1].
        handle_time_s: Seconds the labeller spent on the label, > 0.
        median_handle_time_s: Reference median (the labeller's or project's), > 0; the
            speed feature needs both.
        weights: Overrides of :data:`DEFAULT_RISK_WEIGHTS` (missing keys keep the default).

    Returns:
        Scores in (0, 1), shape ``(n,)``.

    Raises:
        InvalidInput: no feature given, lengths differ, or a value is out of range.

    Example:
        >>> scores = compute_label_risk(posterior_disagreement=[0.0, 0.9])
        >>> bool(scores[1] > scores[0])
        True
    """
    given = {
        "posterior_disagreement": posterior_disagreement,
        "labeller_error": labeller_error,
        "item_disagreement": item_disagreement,
        "handle_time_s": handle_time_s,
        "median_handle_time_s": median_handle_time_s,
    }
    n: int | None = None
    arrays: dict[str, np.ndarray] = {}
    for name, values in given.items():
        array = _feature(values, name, n)
        if array is not None:
            n = array.size
            arrays[name] = array
    if n is None:
        raise InvalidInput("risk.length_mismatch", field="features", value=0, expected=1)
    for name in ("posterior_disagreement", "labeller_error", "item_disagreement"):
        if name in arrays:
            values = arrays[name]
            finite = values[~np.isnan(values)]
            if np.any((finite < 0) | (finite > 1)):
                raise InvalidInput("risk.value_range", field=name)
    weight = {**DEFAULT_RISK_WEIGHTS, **(weights or {})}
    linear = np.full(n, weight["intercept"], dtype=float)
    for name in ("posterior_disagreement", "labeller_error", "item_disagreement"):
        if name in arrays:
            linear += weight[name] * np.nan_to_num(arrays[name], nan=0.0)
    if "handle_time_s" in arrays and "median_handle_time_s" in arrays:
        time, median = arrays["handle_time_s"], arrays["median_handle_time_s"]
        known = ~np.isnan(time) & ~np.isnan(median)
        if np.any((time[known] <= 0) | (median[known] <= 0)):
            raise InvalidInput("risk.handle_time_invalid", field="handle_time_s")
        speed = np.zeros(n)
        speed[known] = np.maximum(0.0, np.log(median[known] / time[known]))
        linear += weight["speed"] * speed
    scores: np.ndarray = 1.0 / (1.0 + np.exp(-linear))
    return scores


@dataclass(frozen=True)
class AuditSample:
    """An audit sample in two separate parts."""

    random_ids: tuple[Hashable, ...]
    """Simple random sample of the whole lot: the ONLY part for accuracy estimates."""
    targeted_ids: tuple[Hashable, ...]
    """Highest-risk labels among the rest (not a probability sample)."""
    lot_size: int
    """Labels in the lot."""
    seed: int
    """Seed of the random part."""

    def part_of(self, unit_id: Hashable) -> str | None:
        """``"random"``, ``"targeted"`` or None (not audited)."""
        if unit_id in self.random_ids:
            return "random"
        if unit_id in self.targeted_ids:
            return "targeted"
        return None


def draw_audit_sample(
    lot_ids: Sequence[Hashable] | npt.ArrayLike,
    *,
    random_n: int,
    targeted_n: int,
    risk_scores: Sequence[float] | npt.ArrayLike,
    seed: int,
) -> AuditSample:
    """Draw the random part, then the targeted part from the remaining units by risk.

    Args:
        lot_ids: Unique label ids of the lot, shape ``(N,)``.
        random_n: Size of the simple random part (0 <= random_n).
        targeted_n: Size of the risk-targeted part; ``random_n + targeted_n <= N``.
        risk_scores: Risk per label, aligned with ``lot_ids`` (NaN = lowest risk).
        seed: Seed of ``numpy.random.default_rng``; ties in risk are broken by a
            seeded random key, so the draw is reproducible.

    Returns:
        The two parts, disjoint.

    Raises:
        InvalidInput: duplicate ids, misaligned scores, negative or too large sizes.
    """
    ids = list(np.asarray(lot_ids, dtype=object).tolist())
    if len(set(ids)) != len(ids):
        raise InvalidInput("sampling.ids_not_unique", field="lot_ids")
    scores = np.asarray(risk_scores, dtype=float)
    if scores.shape != (len(ids),):
        raise InvalidInput(
            "risk.length_mismatch", field="risk_scores", value=scores.size, expected=len(ids)
        )
    for name, size in (("random_n", random_n), ("targeted_n", targeted_n)):
        if size < 0:
            raise InvalidInput("risk.negative_size", field=name, value=size)
    if random_n + targeted_n > len(ids):
        raise InvalidInput(
            "risk.sizes_too_big",
            field="random_n",
            value=len(ids),
            random_n=random_n,
            targeted_n=targeted_n,
        )
    rng = np.random.default_rng(seed)
    random_index = rng.choice(len(ids), size=random_n, replace=False)
    taken = np.zeros(len(ids), dtype=bool)
    taken[random_index] = True
    remaining = np.flatnonzero(~taken)
    risk = np.nan_to_num(scores[remaining], nan=-np.inf)
    tie_break = rng.random(remaining.size)
    order = np.lexsort((tie_break, -risk))  # highest risk first, seeded ties
    targeted_index = remaining[order[:targeted_n]]
    return AuditSample(
        random_ids=tuple(ids[int(i)] for i in random_index),
        targeted_ids=tuple(ids[int(i)] for i in targeted_index),
        lot_size=len(ids),
        seed=seed,
    )

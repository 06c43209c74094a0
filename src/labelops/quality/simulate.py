"""Planted-truth simulation: labellers with known confusion matrices.

Used by the tests (can an estimator recover the truth we planted?), the benchmarks
(1 million labels on demand) and demos. Everything is drawn from one seeded generator, so a
seed always gives the same data. Following cleanlab's benchmarking noise generation and
the simulation designs of Zheng et al. (2017), *Truth Inference in Crowdsourcing*.
"""

from __future__ import annotations

__all__ = ["SimulatedAnswers", "simulate_answers"]

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from labelops.errors import InvalidInput


@dataclass(frozen=True)
class SimulatedAnswers:
    """A simulated labelling round with its planted truth."""

    answers: pd.DataFrame
    """Canonical answers frame (``item_id``, ``labeller_id``, ``label``: all int)."""
    true_labels: pd.Series
    """True class per item (``item_id`` index)."""
    confusions: npt.NDArray[np.float64]
    """``(n_labellers, n_classes, n_classes)``: ``[w, k, l] = p(w answers l | true k)``."""
    spammers: npt.NDArray[np.bool_]
    """``(n_labellers,)``: True for labellers whose answers ignore the truth."""

    @property
    def accuracies(self) -> npt.NDArray[np.float64]:
        """Each labeller's expected accuracy under the true class prior of this sample."""
        prior = np.bincount(self.true_labels.to_numpy(), minlength=self.confusions.shape[1])
        prior = prior / prior.sum()
        diagonal = np.diagonal(self.confusions, axis1=1, axis2=2)
        return np.asarray(diagonal @ prior)


def _bad(reason: str) -> InvalidInput:
    return InvalidInput("quality.bad_simulation", reason=reason)


def simulate_answers(
    n_items: int,
    n_labellers: int,
    n_classes: int,
    *,
    labels_per_item: int = 3,
    class_prior: npt.ArrayLike | None = None,
    labeller_confusions: npt.ArrayLike | None = None,
    accuracy_range: tuple[float, float] = (0.6, 0.95),
    spammer_fraction: float = 0.0,
    seed: int = 0,
) -> SimulatedAnswers:
    """Simulate answers from labellers with planted confusion matrices.

    Each item gets ``labels_per_item`` distinct labellers drawn uniformly. A regular
    labeller has accuracy drawn from ``accuracy_range`` and spreads errors over the other
    classes with Dirichlet(1) weights (so confusions are asymmetric, as in real work); a
    spammer answers from one fixed random class distribution whatever the truth.

    Args:
        n_items: Items, > 0.
        n_labellers: Labellers, >= ``labels_per_item``.
        n_classes: Classes, >= 2.
        labels_per_item: Answers per item.
        class_prior: Prevalence of each class (default uniform); e.g. ``[0.95, 0.05]`` for
            skewed moderation labels.
        labeller_confusions: Use these ``(n_labellers, n_classes, n_classes)`` matrices
            instead of drawing them (rows must sum to 1).
        accuracy_range: Range of regular labellers' accuracy.
        spammer_fraction: Share of labellers who are spammers, in [0, 1].
        seed: Seed of the generator.

    Returns:
        The answers, the planted truth and the confusion matrices.

    Raises:
        InvalidInput: Inconsistent sizes or probabilities.

    Example:
        >>> sim = simulate_answers(10, 5, 2, labels_per_item=3, seed=1)
        >>> len(sim.answers)
        30
    """
    if n_items < 1 or n_classes < 2 or labels_per_item < 1 or n_labellers < labels_per_item:
        raise _bad("need n_items >= 1, n_classes >= 2, n_labellers >= labels_per_item >= 1")
    if not 0.0 <= spammer_fraction <= 1.0:
        raise _bad("spammer_fraction must be in [0, 1]")
    low, high = accuracy_range
    if not 0.0 <= low <= high <= 1.0:
        raise _bad("accuracy_range must satisfy 0 <= low <= high <= 1")
    rng = np.random.default_rng(seed)
    prior = (
        np.full(n_classes, 1.0 / n_classes)
        if class_prior is None
        else np.asarray(class_prior, dtype=np.float64)
    )
    if prior.shape != (n_classes,) or (prior < 0).any() or not np.isclose(prior.sum(), 1.0):
        raise _bad("class_prior must have n_classes non-negative entries summing to 1")
    spammers = np.zeros(n_labellers, dtype=bool)
    spammers[rng.permutation(n_labellers)[: int(round(spammer_fraction * n_labellers))]] = True
    if labeller_confusions is not None:
        confusions = np.asarray(labeller_confusions, dtype=np.float64)
        if confusions.shape != (n_labellers, n_classes, n_classes) or not np.allclose(
            confusions.sum(axis=2), 1.0
        ):
            raise _bad("labeller_confusions must be (n_labellers, K, K) with rows summing to 1")
    else:
        accuracy = rng.uniform(low, high, size=n_labellers)
        errors = rng.dirichlet(np.ones(n_classes - 1), size=(n_labellers, n_classes))
        confusions = np.empty((n_labellers, n_classes, n_classes))
        for true_class in range(n_classes):
            others = [c for c in range(n_classes) if c != true_class]
            confusions[:, true_class, true_class] = accuracy
            confusions[:, true_class, others] = errors[:, true_class] * (1 - accuracy)[:, None]
        spam_rows = rng.dirichlet(np.ones(n_classes), size=n_labellers)
        confusions[spammers] = spam_rows[spammers][:, None, :]
    truth = rng.choice(n_classes, size=n_items, p=prior)
    # Distinct labellers per item by vectorised rejection: redraw only rows with repeats.
    chosen = rng.integers(0, n_labellers, size=(n_items, labels_per_item))
    while True:
        ordered = np.sort(chosen, axis=1)
        repeat = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeat.any():
            break
        chosen[repeat] = rng.integers(0, n_labellers, size=(int(repeat.sum()), labels_per_item))
    items = np.repeat(np.arange(n_items), labels_per_item)
    labellers = chosen.ravel()
    cumulative = np.cumsum(confusions, axis=2)[labellers, truth[items]]
    draws = rng.random(items.size)[:, None]
    labels = np.minimum((draws > cumulative).sum(axis=1), n_classes - 1)
    answers = pd.DataFrame({"item_id": items, "labeller_id": labellers, "label": labels})
    true_labels = pd.Series(truth, index=pd.Index(np.arange(n_items), name="item_id"), name="label")
    return SimulatedAnswers(answers, true_labels, confusions, spammers)

"""MACE: which labellers to trust, with a spamming indicator per answer, vectorised."""

from __future__ import annotations

__all__ = ["MACE"]

import numpy as np
import pandas as pd
from scipy.special import digamma

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import (
    BaseAggregator,
    FloatArray,
    IntArray,
    sparse_sum,
)
from labelops.quality.answers import EncodedAnswers


def _variational_normalise(counts: FloatArray, prior: FloatArray) -> FloatArray:
    """Mean-field VB update: ``exp(digamma(c + a)) / exp(digamma(sum(c + a)))`` per row."""
    shifted = counts + prior
    return np.asarray(np.exp(digamma(shifted) - digamma(shifted.sum(axis=1, keepdims=True))))


class MACE(BaseAggregator):
    """MACE (Multi-Annotator Competence Estimation).

    Each answer is either given knowingly (then it is the true class) or by "spamming"
    (then it follows the labeller's own class distribution ``theta_w``); a labeller spams
    with probability ``spamming_[w, 0]``. Fitted by variational Bayes with Beta(``alpha``,
    ``beta``) priors on the spamming rate and a symmetric Dirichlet(10) prior on
    ``theta``, from ``n_restarts`` random starts, keeping the best marginal likelihood. All
    E-step quantities are computed in log space with ``np.bincount``.

    Args:
        n_restarts: Random restarts.
        n_iter: EM iterations per restart.
        alpha: Beta prior on "spamming".
        beta: Beta prior on "knowing".
        default_noise: Spread of the random initialisation.
        seed: Seed of the restarts (deterministic).

    Attributes:
        labels_: Final label per item.
        probas_: Posterior per item and class.
        spamming_: ``(n_labellers, 2)``: probability of spamming, of knowing.
        thetas_: ``(n_labellers, n_classes)``: each labeller's spamming distribution.
        competence_: Probability of knowing, per labeller (``labeller_id`` index).
        log_marginal_likelihood_: Of the kept restart.

    Reference: Hovy, Berg-Kirkpatrick, Vaswani & Hovy (2013). Learning whom to trust with
    MACE. *NAACL-HLT 2013*, 1120-1130.
    """

    spamming_: FloatArray
    thetas_: FloatArray
    competence_: pd.Series
    log_marginal_likelihood_: float

    def __init__(
        self,
        *,
        n_restarts: int = 10,
        n_iter: int = 50,
        alpha: float = 0.5,
        beta: float = 0.5,
        default_noise: float = 0.5,
        seed: int = 0,
    ) -> None:
        if n_restarts < 1 or n_iter < 1:
            raise InvalidInput(
                "quality.bad_max_iter", field="n_iter", value=min(n_restarts, n_iter)
            )
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.alpha = alpha
        self.beta = beta
        self.default_noise = default_noise
        self.seed = seed

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        n_items, n_labellers, n_classes = encoded.n_items, encoded.n_labellers, encoded.n_classes
        items, labellers, labels = encoded.item_codes, encoded.labeller_codes, encoded.label_codes
        flat_item_label = items.astype(np.int64) * n_classes + labels
        flat_labeller_label = labellers.astype(np.int64) * n_classes + labels
        clamp = gold_codes >= 0
        spam_prior = np.tile([self.alpha, self.beta], (n_labellers, 1))
        theta_prior = np.full((n_labellers, n_classes), 10.0)

        def e_step(
            spamming: FloatArray, thetas: FloatArray
        ) -> tuple[float, FloatArray, FloatArray, FloatArray]:
            spam_part = spamming[labellers, 0] * thetas[labellers, labels]
            know_part = spamming[labellers, 1]
            log_other = np.log(spam_part)  # answer != candidate class: only spamming explains it
            log_same = np.log(spam_part + know_part)
            base = sparse_sum(items, log_other, n_items)
            bonus = sparse_sum(flat_item_label, log_same - log_other, n_items * n_classes)
            log_joint = base[:, None] + bonus.reshape(n_items, n_classes) - np.log(n_classes)
            top = log_joint.max(axis=1, keepdims=True)
            log_z = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))
            posterior = np.exp(log_joint - log_z[:, None])
            if clamp.any():
                posterior[clamp] = 0.0
                posterior[clamp, gold_codes[clamp]] = 1.0
            p_same = posterior[items, labels]
            # Expected "spamming" indicator of each answer.
            spam_weight = (1 - p_same) + p_same * spam_part / (spam_part + know_part)
            know_weight = p_same * know_part / (spam_part + know_part)
            strategy = sparse_sum(
                flat_labeller_label, spam_weight, n_labellers * n_classes
            ).reshape(n_labellers, n_classes)
            knowing = np.column_stack(
                [
                    sparse_sum(labellers, spam_weight, n_labellers),
                    sparse_sum(labellers, know_weight, n_labellers),
                ]
            )
            return float(log_z.sum()), posterior, strategy, knowing

        rng = np.random.default_rng(self.seed)
        best: tuple[float, FloatArray, FloatArray] | None = None
        for _ in range(self.n_restarts):
            spamming = rng.uniform(1, 1 + self.default_noise, size=(n_labellers, 2))
            thetas = rng.uniform(1, 1 + self.default_noise, size=(n_labellers, n_classes))
            spamming /= spamming.sum(axis=1, keepdims=True)
            thetas /= thetas.sum(axis=1, keepdims=True)
            log_lik, _, strategy, knowing = e_step(spamming, thetas)
            for _ in range(self.n_iter):
                spamming = _variational_normalise(knowing, spam_prior)
                thetas = _variational_normalise(strategy, theta_prior)
                log_lik, _, strategy, knowing = e_step(spamming, thetas)
            if best is None or log_lik > best[0]:
                best = (log_lik, spamming, thetas)
        if best is None:  # pragma: no cover - n_restarts >= 1 is checked in __init__
            raise InvalidInput("quality.bad_max_iter", field="n_restarts", value=self.n_restarts)
        self.log_marginal_likelihood_, self.spamming_, self.thetas_ = best
        _, posterior, _, _ = e_step(self.spamming_, self.thetas_)
        self.competence_ = pd.Series(
            self.spamming_[:, 1] / self.spamming_.sum(axis=1),
            index=encoded.labellers,
            name="competence",
        )
        return posterior

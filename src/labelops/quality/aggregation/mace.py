"""MACE: which labellers to trust, with a spamming indicator per answer, vectorised."""

from __future__ import annotations

__all__ = ["MACE"]

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import digamma

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import (
    BaseAggregator,
    FloatArray,
    IntArray,
    log_normalise,
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
        n_labellers, n_classes = encoded.n_labellers, encoded.n_classes
        layout = _PairLayout(encoded, gold_codes)
        spam_prior = np.tile([self.alpha, self.beta], (n_labellers, 1))
        theta_prior = np.full((n_labellers, n_classes), 10.0)

        def e_step(
            spamming: FloatArray, thetas: FloatArray
        ) -> tuple[float, FloatArray, FloatArray]:
            spam_part = spamming[:, :1] * thetas  # (L, K): depends on (labeller, answer) only
            know_part = spamming[:, 1:]
            log_other = np.log(spam_part).ravel()  # the answer is not the true class
            log_same = np.log(spam_part + know_part).ravel()
            log_z, p_pair = layout.posterior_sums(log_other, log_same - log_other)
            # same[w, l]: expected number of answers l of labeller w that were the truth.
            same = layout.cell_sum_of_pairs(p_pair).reshape(n_labellers, n_classes)
            knows = know_part / (spam_part + know_part)
            strategy = layout.cell_counts - same * knows
            knowing = np.column_stack([strategy.sum(axis=1), (same * knows).sum(axis=1)])
            return float(log_z.sum()), strategy, knowing

        rng = np.random.default_rng(self.seed)
        best: tuple[float, FloatArray, FloatArray] | None = None
        for _ in range(self.n_restarts):
            spamming = rng.uniform(1, 1 + self.default_noise, size=(n_labellers, 2))
            thetas = rng.uniform(1, 1 + self.default_noise, size=(n_labellers, n_classes))
            spamming /= spamming.sum(axis=1, keepdims=True)
            thetas /= thetas.sum(axis=1, keepdims=True)
            log_lik, strategy, knowing = e_step(spamming, thetas)
            for _ in range(self.n_iter):
                spamming = _variational_normalise(knowing, spam_prior)
                thetas = _variational_normalise(strategy, theta_prior)
                log_lik, strategy, knowing = e_step(spamming, thetas)
            if best is None or log_lik > best[0]:
                best = (log_lik, spamming, thetas)
        if best is None:  # pragma: no cover - n_restarts >= 1 is checked in __init__
            raise InvalidInput("quality.bad_max_iter", field="n_restarts", value=self.n_restarts)
        self.log_marginal_likelihood_, self.spamming_, self.thetas_ = best
        spam_part = self.spamming_[:, :1] * self.thetas_
        log_other = np.log(spam_part).ravel()
        log_same = np.log(spam_part + self.spamming_[:, 1:]).ravel()
        posterior = layout.full_posterior(log_other, log_same - log_other)
        self.competence_ = pd.Series(
            self.spamming_[:, 1] / self.spamming_.sum(axis=1),
            index=encoded.labellers,
            name="competence",
        )
        return posterior


_SPARSE_MIN_ANSWERS = 20_000


class _PairLayout:
    """The answers regrouped by (item, answered class) pair, built once per fit.

    Under MACE, a class nobody answered on an item gets the same log joint as every other
    unanswered class of that item (all its answers are then "spamming"), so the item's
    normaliser needs ``exp`` only per distinct answered class plus one term for the rest:
    at 3 answers per item and 10 classes that is 3 exponentials per item instead of 10,
    and nothing of size items x classes is built until the final posterior.
    """

    def __init__(self, encoded: EncodedAnswers, gold_codes: IntArray) -> None:
        n_items, n_classes = encoded.n_items, encoded.n_classes
        self.n_classes = n_classes
        cells = encoded.labeller_codes.astype(np.int64) * n_classes + encoded.label_codes
        n_cells = encoded.n_labellers * n_classes
        item_label = encoded.item_codes.astype(np.int64) * n_classes + encoded.label_codes
        pairs, pair_of_answer = np.unique(item_label, return_inverse=True)  # sorted by item
        self.pair_item = (pairs // n_classes).astype(np.int64)
        self.pair_label = (pairs % n_classes).astype(np.int64)
        n_pairs = len(pairs)
        ones = np.ones(encoded.n_answers)
        # pair_cells[p, (w, l)]: answers of pair p given by labeller w (l is p's class).
        self.pair_cells = sp.csr_matrix(
            (ones, (pair_of_answer.ravel(), cells)), shape=(n_pairs, n_cells)
        )
        self.pair_cells.sum_duplicates()
        self.item_cells = sp.csr_matrix(
            (ones, (encoded.item_codes, cells)), shape=(n_items, n_cells)
        )
        self.item_cells.sum_duplicates()
        self.cell_counts = np.bincount(cells, minlength=n_cells).reshape(-1, n_classes)
        self.cell_counts = self.cell_counts.astype(np.float64)
        self.starts = np.flatnonzero(np.r_[True, self.pair_item[1:] != self.pair_item[:-1]])
        distinct = np.diff(np.r_[self.starts, n_pairs])
        self.n_unanswered = (n_classes - distinct).astype(np.float64)
        self.gold = gold_codes.astype(np.int64)
        self.clamp = self.gold >= 0
        self.pair_gold = self.gold[self.pair_item]
        self.log_k = float(np.log(n_classes))
        # scipy's sparse products cost ~50 us of dispatch each; MACE makes ~1,500 of them per
        # fit, so on small data (tests, calibration sessions) plain bincounts are faster.
        self.small = encoded.n_answers < _SPARSE_MIN_ANSWERS
        self.answer_cells = cells
        self.answer_items = encoded.item_codes
        self.answer_pairs = pair_of_answer.ravel()
        self.n_items, self.n_pairs, self.n_cells = n_items, n_pairs, n_cells

    def item_sum(self, table: FloatArray) -> FloatArray:
        """``sum over each item's answers of table[(labeller, answer)]``."""
        if self.small:
            return sparse_sum(self.answer_items, table[self.answer_cells], self.n_items)
        return np.asarray(self.item_cells @ table)

    def pair_sum(self, table: FloatArray) -> FloatArray:
        """``sum over each pair's answers of table[(labeller, answer)]``."""
        if self.small:
            return sparse_sum(self.answer_pairs, table[self.answer_cells], self.n_pairs)
        return np.asarray(self.pair_cells @ table)

    def cell_sum_of_pairs(self, per_pair: FloatArray) -> FloatArray:
        """``sum over each (labeller, answer) cell's answers of per_pair[pair]``."""
        if self.small:
            return sparse_sum(self.answer_cells, per_pair[self.answer_pairs], self.n_cells)
        return np.asarray(self.pair_cells.T @ per_pair)

    def posterior_sums(
        self, log_other: FloatArray, bonus: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Log normaliser per item and the posterior of each pair's class (gold clamped)."""
        base = self.item_sum(log_other) - self.log_k  # unanswered classes
        pair_bonus = self.pair_sum(bonus)
        # bonus >= 0 (knowing only adds probability), so shifting each item by its base
        # (the unanswered classes' log joint) leaves terms >= 1 that cannot underflow; only
        # if some term could overflow, shift by each item's largest term instead.
        if pair_bonus.max(initial=0.0) < 700.0:
            pair_exp = np.exp(pair_bonus)
            totals = np.bincount(self.pair_item, pair_exp, len(base)) + self.n_unanswered
            log_z = base + np.log(totals)
        else:
            pair_log = base[self.pair_item] + pair_bonus
            top = np.maximum.reduceat(pair_log, self.starts)
            pair_exp = np.exp(pair_log - top[self.pair_item])
            totals = np.add.reduceat(pair_exp, self.starts) + self.n_unanswered * np.exp(base - top)
            log_z = top + np.log(totals)
        p_pair = pair_exp / totals[self.pair_item]
        if self.clamp.any():
            clamped = self.pair_gold >= 0
            p_pair[clamped] = (self.pair_label[clamped] == self.pair_gold[clamped]).astype(float)
        return log_z, p_pair

    def full_posterior(self, log_other: FloatArray, bonus: FloatArray) -> FloatArray:
        """``(n_items, n_classes)`` posterior (built once, after fitting)."""
        base = self.item_sum(log_other) - self.log_k
        log_joint = np.repeat(base[:, None], self.n_classes, axis=1)
        log_joint[self.pair_item, self.pair_label] += self.pair_sum(bonus)
        posterior = log_normalise(log_joint)
        if self.clamp.any():
            posterior[self.clamp] = 0.0
            posterior[self.clamp, self.gold[self.clamp]] = 1.0
        return posterior

"""GLAD: labeller ability and item difficulty, fitted by EM, vectorised."""

from __future__ import annotations

__all__ = ["GLAD"]

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import (
    BaseAggregator,
    FloatArray,
    IntArray,
    log_normalise_with_partition,
    sparse_sum,
)
from labelops.quality.answers import EncodedAnswers

_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def _log_sigmoid(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log sigma(x)`` and ``sigma(x)`` from one ``exp(-|x|)``, stable for any sign.

    ``log sigma(-x) = log sigma(x) - x``, so callers never need a second pass; this replaces
    two ``np.logaddexp`` calls per evaluation, which dominated the M-step's cost.
    """
    decay = np.exp(-np.abs(x))
    log_sig = np.minimum(x, 0.0) - np.log1p(decay)
    sig = np.where(x >= 0, 1.0, decay) / (1.0 + decay)
    return log_sig, sig


class GLAD(BaseAggregator):
    """GLAD (Generative model of Labels, Abilities, and Difficulties).

    A labeller of ability ``alpha_w`` answers item ``j`` of inverse difficulty
    ``exp(beta_j)`` correctly with probability ``sigma(alpha_w exp(beta_j))``, and otherwise
    picks one of the other ``K - 1`` classes uniformly. The E-step gives item posteriors; the
    M-step maximises the expected log-likelihood plus N(1, 1) priors on ``alpha`` and
    ``beta`` by conjugate gradient. Objective and gradient are sums over answers computed
    with ``np.bincount``, so one evaluation costs O(answers), unlike the pandas melt of
    crowd-kit's version. Class priors are uniform and fixed, as in crowd-kit.

    Args:
        max_iter: Maximum EM iterations.
        tol: Stop when the log posterior per answer improves by less than this.
        m_step_max_iter: Conjugate-gradient iterations per M-step.
        m_step_tol: Conjugate-gradient tolerance.

    Attributes:
        labels_: Final label per item.
        probas_: Posterior per item and class.
        alphas_: Labeller ability (``labeller_id`` index); higher is better, 0 is random.
        betas_: Item log inverse difficulty (``item_id`` index); higher is easier.
        n_iter_: EM iterations run.
        loss_history_: Log posterior of the parameters (marginal log-likelihood of the
            answers plus the log prior) per answer after each iteration; non-decreasing.

    Reference: Whitehill, Ruvolo, Wu, Bergsma & Movellan (2009). Whose vote should count
    more: optimal integration of labels from labelers of unknown expertise. *NIPS 22*.
    """

    alphas_: pd.Series
    betas_: pd.Series
    n_iter_: int
    loss_history_: list[float]

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        m_step_max_iter: int = 25,
        m_step_tol: float = 1e-2,
    ) -> None:
        if max_iter < 1:
            raise InvalidInput("quality.bad_max_iter", field="max_iter", value=max_iter)
        self.max_iter = max_iter
        self.tol = tol
        self.m_step_max_iter = m_step_max_iter
        self.m_step_tol = m_step_tol

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        n_items, n_labellers, n_classes = encoded.n_items, encoded.n_labellers, encoded.n_classes
        items, labellers, labels = encoded.item_codes, encoded.labeller_codes, encoded.label_codes
        alphas = np.ones(n_labellers)
        betas = np.ones(n_items)
        if n_classes == 1:
            self.alphas_, self.betas_, self.n_iter_, self.loss_history_ = (
                pd.Series(alphas, index=encoded.labellers),
                pd.Series(betas, index=encoded.items),
                0,
                [],
            )
            return np.ones((n_items, 1))
        log_wrong = np.log(n_classes - 1)
        log_prior = np.full(n_classes, -np.log(n_classes))
        clamp = gold_codes >= 0

        flat_item_label = items.astype(np.int64) * n_classes + labels

        def log_prior_of(a: FloatArray, b: FloatArray) -> float:
            """N(1, 1) priors on abilities and log inverse difficulties."""
            squares = float(((a - 1) ** 2).sum() + ((b - 1) ** 2).sum())
            return float(-0.5 * squares - _HALF_LOG_2PI * (n_labellers + n_items))

        def e_step(a: FloatArray, b: FloatArray) -> tuple[FloatArray, float]:
            """Posterior and the log posterior of (a, b): log p(answers | a, b) + log p(a, b)."""
            strength = a[labellers] * np.exp(b[items])
            log_right, _ = _log_sigmoid(strength)
            # log p(wrong answer) = log sigma(-s) - log(K - 1) = log_right - s - log(K - 1)
            shift = strength + log_wrong
            base = sparse_sum(items, log_right - shift, n_items)
            bonus = sparse_sum(flat_item_label, shift, n_items * n_classes)
            posterior, log_partition = log_normalise_with_partition(
                base[:, None] + bonus.reshape(n_items, n_classes) + log_prior
            )
            if clamp.any():
                posterior[clamp] = 0.0
                posterior[clamp, gold_codes[clamp]] = 1.0
            return posterior, float(log_partition.sum()) + log_prior_of(a, b)

        def objective(x: FloatArray, p_right: FloatArray) -> tuple[float, FloatArray]:
            a, b = x[:n_labellers], x[n_labellers:]
            exp_b = np.exp(b)[items]
            strength = a[labellers] * exp_b
            log_right, right = _log_sigmoid(strength)
            # p log sigma(s) + (1 - p) (log sigma(-s) - log(K-1))
            #   = log sigma(s) - (1 - p) (s + log(K-1))
            q = float(log_right.sum() - ((1.0 - p_right) * (strength + log_wrong)).sum())
            q += log_prior_of(a, b)
            residual = p_right - right
            grad_a = sparse_sum(labellers, residual * exp_b, n_labellers) - (a - 1)
            grad_b = sparse_sum(items, residual * strength, n_items) - (b - 1)
            return -q, -np.concatenate([grad_a, grad_b])

        x = np.concatenate([alphas, betas])
        posterior, evidence = e_step(alphas, betas)
        loss = evidence / encoded.n_answers
        self.loss_history_ = []
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            result = minimize(
                objective,
                x,
                args=(posterior[items, labels],),
                jac=True,
                method="CG",
                tol=self.m_step_tol,
                options={"maxiter": self.m_step_max_iter},
            )
            x = np.asarray(result.x, dtype=np.float64)
            # Convergence is judged on the log posterior, which EM never decreases; the
            # expected complete log-likelihood Q that crowd-kit compares is not monotone
            # across E-steps and stops its loop after two iterations.
            posterior, evidence = e_step(x[:n_labellers], x[n_labellers:])
            new_loss = evidence / encoded.n_answers
            self.loss_history_.append(new_loss)
            if new_loss - loss < self.tol:
                break
            loss = new_loss
        self.alphas_ = pd.Series(x[:n_labellers], index=encoded.labellers, name="alpha")
        self.betas_ = pd.Series(x[n_labellers:], index=encoded.items, name="beta")
        return posterior

"""Dawid-Skene EM (full confusion matrices) and its one-coin variant, vectorised."""

from __future__ import annotations

__all__ = ["DawidSkene", "OneCoinDawidSkene"]

import numpy as np
import numpy.typing as npt
import pandas as pd

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import (
    BaseAggregator,
    FloatArray,
    IntArray,
    log_normalise,
    sparse_sum,
)
from labelops.quality.aggregation.majority_vote import vote_shares
from labelops.quality.answers import EncodedAnswers

_EPS = 1e-10  # the floor crowd-kit uses, so that log(0) never appears


def _clamp(posterior: FloatArray, gold_codes: IntArray) -> FloatArray:
    clamp = gold_codes >= 0
    if clamp.any():
        posterior[clamp] = 0.0
        posterior[clamp, gold_codes[clamp]] = 1.0
    return posterior


def _confusion_counts(encoded: EncodedAnswers, posterior: FloatArray) -> FloatArray:
    """Expected counts ``[labeller, true class, observed class]``: shape (L, K, K)."""
    n_labellers, n_classes = encoded.n_labellers, encoded.n_classes
    cell = encoded.labeller_codes.astype(np.int64) * n_classes + encoded.label_codes
    per_answer = posterior[encoded.item_codes]  # (n_answers, K): fine, not items x labellers
    counts = np.empty((n_labellers, n_classes, n_classes))
    for true_class in range(n_classes):
        counts[:, true_class, :] = sparse_sum(
            cell, per_answer[:, true_class], n_labellers * n_classes
        ).reshape(n_labellers, n_classes)
    return counts


def _log_likelihoods(
    encoded: EncodedAnswers, log_errors: FloatArray, log_priors: FloatArray
) -> FloatArray:
    """``log p(true = k) + sum_answers log e[labeller, k, answer]``, shape (n_items, K)."""
    per_answer = log_errors[encoded.labeller_codes, :, encoded.label_codes]  # (n_answers, K)
    out = np.empty((encoded.n_items, encoded.n_classes))
    for true_class in range(encoded.n_classes):
        out[:, true_class] = sparse_sum(
            encoded.item_codes, per_answer[:, true_class], encoded.n_items
        )
    return out + log_priors


def _elbo(log_joint: FloatArray, posterior: FloatArray) -> float:
    safe = np.clip(posterior, _EPS, None)
    return float((posterior * log_joint).sum() - (posterior * np.log(safe)).sum())


class DawidSkene(BaseAggregator):
    """Dawid-Skene: one confusion matrix per labeller, fitted by EM.

    The E-step computes item posteriors in log space; the M-step re-estimates class priors
    and each labeller's row-normalised confusion matrix from expected counts built with
    ``np.bincount`` over the answers (memory: items x classes and labellers x classes x
    classes, never items x labellers). Initialised from the majority vote; deterministic.

    .. math:: p(z_j = k \\mid y) \\propto p_k \\prod_{w} e^w_{k, y^w_j}

    Args:
        max_iter: Maximum EM iterations.
        tol: Stop when the evidence lower bound per answer improves by less than this.

    Attributes:
        labels_: Final label per item.
        probas_: Posterior per item and class.
        priors_: Estimated class prevalence, ``(n_classes,)`` Series.
        errors_: Confusion matrices, array ``(n_labellers, n_classes, n_classes)`` with
            ``errors_[w, k, l] = p(labeller w answers l | true class k)``.
        n_iter_: EM iterations run.
        loss_history_: ELBO per answer after each iteration.

    Reference: Dawid, A. P. & Skene, A. M. (1979). Maximum likelihood estimation of
    observer error-rates using the EM algorithm. *JRSS C* 28(1), 20-28.
    """

    priors_: pd.Series
    errors_: npt.NDArray[np.float64]
    n_iter_: int
    loss_history_: list[float]

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-5) -> None:
        if max_iter < 1:
            raise InvalidInput("quality.bad_max_iter", field="max_iter", value=max_iter)
        self.max_iter = max_iter
        self.tol = tol

    def _errors(self, encoded: EncodedAnswers, posterior: FloatArray) -> FloatArray:
        counts = np.clip(_confusion_counts(encoded, posterior), _EPS, None)
        return np.asarray(counts / counts.sum(axis=2, keepdims=True))

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        posterior, _ = vote_shares(encoded, np.ones(encoded.n_answers))
        posterior = _clamp(posterior, gold_codes)
        priors = posterior.mean(axis=0)
        errors = self._errors(encoded, posterior)
        loss = -np.inf
        self.loss_history_ = []
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            log_priors = np.log(np.clip(priors, _EPS, None))
            posterior = _clamp(
                log_normalise(_log_likelihoods(encoded, np.log(errors), log_priors)), gold_codes
            )
            priors = posterior.mean(axis=0)
            errors = self._errors(encoded, posterior)
            log_joint = _log_likelihoods(
                encoded, np.log(errors), np.log(np.clip(priors, _EPS, None))
            )
            new_loss = _elbo(log_joint, posterior) / encoded.n_answers
            self.loss_history_.append(new_loss)
            if new_loss - loss < self.tol:
                break
            loss = new_loss
        self.priors_ = pd.Series(priors, index=encoded.classes, name="prior")
        self.errors_ = errors
        return posterior


class OneCoinDawidSkene(DawidSkene):
    """Dawid-Skene with one accuracy per labeller ("one coin").

    Each labeller answers the true class with probability ``s_w`` and otherwise picks one of
    the other ``K - 1`` classes uniformly; EM as in :class:`DawidSkene`, but the M-step only
    estimates ``s_w`` as the labeller's expected accuracy. Fewer parameters: more stable
    with few answers per labeller.

    Attributes:
        skills_: Estimated accuracy per labeller (``labeller_id`` index).

    Reference: Zhang, Chen, Zhou & Jordan (2016). Spectral methods meet EM: a provably
    optimal algorithm for crowdsourcing. *JMLR* 17(102).
    """

    skills_: pd.Series

    def _errors(self, encoded: EncodedAnswers, posterior: FloatArray) -> FloatArray:
        n_classes = encoded.n_classes
        correct = posterior[encoded.item_codes, encoded.label_codes]
        answered = np.bincount(encoded.labeller_codes, minlength=encoded.n_labellers)
        skills = sparse_sum(encoded.labeller_codes, correct, encoded.n_labellers) / np.maximum(
            answered, 1
        )
        self._skills = skills
        off = (1 - skills) / max(n_classes - 1, 1)
        errors = np.repeat(off[:, None, None], n_classes, axis=1).repeat(n_classes, axis=2)
        idx = np.arange(n_classes)
        errors[:, idx, idx] = skills[:, None]
        return np.clip(errors, _EPS, 1 - _EPS)

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        posterior = super()._fit_encoded(encoded, gold_codes)
        self.skills_ = pd.Series(self._skills, index=encoded.labellers, name="skill")
        self.skills_.index.name = "labeller_id"
        return posterior

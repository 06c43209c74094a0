"""Dawid-Skene EM (full confusion matrices) and its one-coin variant, vectorised."""

from __future__ import annotations

__all__ = ["DawidSkene", "OneCoinDawidSkene"]

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from labelops.errors import InvalidInput
from labelops.quality.aggregation._base import (
    BaseAggregator,
    FloatArray,
    IntArray,
    answer_matrix,
)
from labelops.quality.answers import EncodedAnswers

_EPS = 1e-10  # the floor crowd-kit uses, so that log(0) never appears


def _clamp(posterior: FloatArray, gold_codes: IntArray) -> FloatArray:
    clamp = gold_codes >= 0
    if clamp.any():
        posterior[clamp] = 0.0
        posterior[clamp, gold_codes[clamp]] = 1.0
    return posterior


def _confusion_counts(transposed: sp.csc_matrix, posterior: FloatArray) -> FloatArray:
    """Expected counts ``[labeller, true class, observed class]``: shape (L, K, K).

    ``transposed @ posterior`` (``transposed`` is ``answer_matrix(...).T``) sums each item's
    posterior into the (labeller, answer) cells of its answers. ``.T`` of a CSR matrix is a
    CSC view, whose product walks the posterior rows in order and scatters into the small
    output; an explicit CSR transpose would gather posterior rows at random instead (7x
    slower at 1M answers).
    """
    n_classes = posterior.shape[1]
    cells = np.asarray(transposed @ posterior)  # (L * K_observed, K_true)
    return np.ascontiguousarray(cells.reshape(-1, n_classes, n_classes).transpose(0, 2, 1))


def _log_likelihoods(
    matrix: sp.csr_matrix, log_errors: FloatArray, log_priors: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``log p(true = k) + sum_answers log e[labeller, k, answer]``, shape (n_items, K).

    Also returns an upper bound of each row's maximum (every answer's best case), which
    costs one sparse matrix-vector product instead of a row-wise max over items x classes.
    """
    n_classes = log_errors.shape[1]
    table = log_errors.transpose(0, 2, 1).reshape(-1, n_classes)  # [(w, l), k]
    log_joint = np.asarray(matrix @ table)
    log_joint += log_priors
    upper = np.asarray(matrix @ table.max(axis=1)) + log_priors.max()
    return log_joint, upper


def _softmax(log_joint: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise softmax and its log normaliser (``logsumexp``) per row.

    The shifted scores ``log_joint - upper`` are differences computed in float64 and then
    rounded to float32, where ``exp`` is vectorised (this CPU class has no float64 SIMD
    ``exp``: 5x faster on a (333k, 10) posterior); normalising is float64 again, with row
    sums as a BLAS mat-vec rather than a reduction over a short axis. A posterior entry
    from a float32 ``exp`` is off by at most ~1e-7 of itself, far below the ``_EPS`` floor
    of the confusion counts. Scores are floored at -80 first (``exp`` slows down 2x on
    results that underflow float32); a floored term is below 1e-14 of its row's total
    unless the row is redone. Shifting by the upper bound keeps ``exp`` from overflowing;
    where the bound is so loose that a row's largest term falls below ``e^-46`` (float32
    precision would suffer), that row is redone in float64 with its exact maximum.
    """
    n_items, n_classes = log_joint.shape
    scores = np.empty((n_items, n_classes), dtype=np.float32)
    np.subtract(log_joint, upper[:, None], out=scores, casting="same_kind")
    np.maximum(scores, -80.0, out=scores)
    np.exp(scores, out=scores)
    # Normalise in float64 so that rows sum to 1 to float64 precision.
    posterior = scores.astype(np.float64)
    del scores
    totals = posterior @ np.ones(n_classes)
    shift = upper.copy()
    loose = totals < 1e-20
    posterior /= np.where(loose, 1.0, totals)[:, None]
    if loose.any():
        shift[loose] = log_joint[loose].max(axis=1)
        redo = np.exp(log_joint[loose] - shift[loose, None])
        totals[loose] = redo.sum(axis=1)
        posterior[loose] = redo / totals[loose, None]
    return posterior, shift + np.log(totals)


def _elbo(
    log_joint: FloatArray,
    posterior: FloatArray,
    previous_log_joint: FloatArray,
    log_normaliser: FloatArray,
    clamp: npt.NDArray[np.bool_],
) -> float:
    """``E_q[log p(y, z)] + H(q)`` for ``q = softmax(previous_log_joint)``.

    ``log q = previous_log_joint - log_normaliser`` exactly, so the entropy costs a dot
    product instead of a log over every item and class; clamped (gold) rows are one-hot
    and have zero entropy.
    """
    negative_entropy = np.einsum("ij,ij->i", posterior, previous_log_joint) - log_normaliser
    negative_entropy[clamp] = 0.0
    return float(np.einsum("ij,ij->", posterior, log_joint) - negative_entropy.sum())


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

    def _errors(self, transposed: sp.csc_matrix, posterior: FloatArray) -> FloatArray:
        counts = np.clip(_confusion_counts(transposed, posterior), _EPS, None)
        return np.asarray(counts / counts.sum(axis=2, keepdims=True))

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        matrix = answer_matrix(encoded)
        transposed = matrix.T
        clamp = gold_codes >= 0
        # Majority-vote shares (every item has an answer); no tie detection needed here.
        votes = encoded.item_class_counts()
        posterior = votes / votes.sum(axis=1, keepdims=True)
        posterior = _clamp(posterior, gold_codes)
        # Column means as a matrix-vector product: numpy's axis-0 mean is 5x slower here.
        ones = np.full(encoded.n_items, 1.0 / encoded.n_items)
        priors = ones @ posterior
        errors = self._errors(transposed, posterior)
        # The log joint after an M-step is exactly the next E-step's input: compute it once.
        log_joint, upper = _log_likelihoods(
            matrix, np.log(errors), np.log(np.clip(priors, _EPS, None))
        )
        loss = -np.inf
        self.loss_history_ = []
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            softmax, log_normaliser = _softmax(log_joint, upper)
            posterior = _clamp(softmax, gold_codes)
            previous_log_joint = log_joint
            priors = ones @ posterior
            errors = self._errors(transposed, posterior)
            log_joint, upper = _log_likelihoods(
                matrix, np.log(errors), np.log(np.clip(priors, _EPS, None))
            )
            elbo = _elbo(log_joint, posterior, previous_log_joint, log_normaliser, clamp)
            new_loss = elbo / encoded.n_answers
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

    def _errors(self, transposed: sp.csc_matrix, posterior: FloatArray) -> FloatArray:
        n_classes = posterior.shape[1]
        counts = _confusion_counts(transposed, posterior)
        answered = counts.sum(axis=(1, 2))
        skills: FloatArray = np.trace(counts, axis1=1, axis2=2) / np.maximum(answered, 1)
        self._skills = skills
        off = (1 - skills) / max(n_classes - 1, 1)
        errors = np.repeat(off[:, None, None], n_classes, axis=1).repeat(n_classes, axis=2)
        idx = np.arange(n_classes)
        errors[:, idx, idx] = skills[:, None]
        return np.asarray(np.clip(errors, _EPS, 1 - _EPS))

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        posterior = super()._fit_encoded(encoded, gold_codes)
        self.skills_ = pd.Series(self._skills, index=encoded.labellers, name="skill")
        self.skills_.index.name = "labeller_id"
        return posterior

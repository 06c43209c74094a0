"""Shared machinery of the aggregation estimators (private: import from the package)."""

from __future__ import annotations

__all__ = [
    "BaseAggregator",
    "answer_matrix",
    "encode_gold",
    "log_normalise",
    "log_normalise_with_partition",
    "sparse_sum",
]

from collections.abc import Hashable
from typing import Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from labelops.errors import InvalidInput
from labelops.quality.answers import EncodedAnswers, encode_answers

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]


def sparse_sum(codes: npt.NDArray[np.integer], weights: FloatArray, size: int) -> FloatArray:
    """``out[c] = sum(weights[codes == c])`` via bincount (no dense one-hot)."""
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64)


def answer_matrix(encoded: EncodedAnswers) -> sp.csr_matrix:
    """Answer counts as a sparse ``(n_items, n_labellers * n_classes)`` matrix.

    Column ``w * n_classes + l`` of row ``j`` counts how often labeller ``w`` answered ``l``
    on item ``j``. Every per-answer sum of a quantity that depends only on (labeller,
    answer) and the item becomes one sparse product: ``A @ T`` gathers a
    ``(labellers * classes, K)`` table into item rows, ``A.T @ P`` scatters item rows back
    into (labeller, answer) cells. That replaces a per-class loop of ``np.bincount`` over a
    gathered ``(n_answers, K)`` array (the cost of the E- and M-steps) by one pass over the
    non-zeros.
    """
    n_cells = encoded.n_labellers * encoded.n_classes
    columns = encoded.labeller_codes.astype(np.int64) * encoded.n_classes + encoded.label_codes
    matrix = sp.csr_matrix(
        (np.ones(encoded.n_answers), (encoded.item_codes, columns)),
        shape=(encoded.n_items, n_cells),
    )
    matrix.sum_duplicates()
    return matrix


def log_normalise(log_scores: FloatArray) -> FloatArray:
    """Row-wise softmax of log scores, shifted by the row max so exp never overflows.

    Works in one scratch array (in place after the first subtraction): on a
    ``(333k, 10)`` posterior, temporaries cost as much time as the arithmetic.
    """
    scores = log_scores - log_scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return np.asarray(scores)


def log_normalise_with_partition(log_scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise softmax and each row's log partition (``logsumexp``), shape ``(n,)``."""
    top = log_scores.max(axis=1, keepdims=True)
    scores = log_scores - top
    np.exp(scores, out=scores)
    totals = scores.sum(axis=1, keepdims=True)
    scores /= totals
    return np.asarray(scores), np.asarray((top + np.log(totals))[:, 0])


def encode_gold(gold: pd.Series | None, encoded: EncodedAnswers) -> IntArray:
    """Gold class code per item (``-1`` where there is no gold); gold for unknown items is ignored.

    Raises:
        InvalidInput: A gold label is not one of ``encoded.classes``.
    """
    codes = np.full(encoded.n_items, -1, dtype=np.int32)
    if gold is None or len(gold) == 0:
        return codes
    positions = encoded.items.get_indexer(gold.index)
    known = positions >= 0
    classes = encoded.classes.get_indexer(pd.Index(gold.to_numpy()[known]))
    if (classes < 0).any():
        bad = gold.to_numpy()[known][classes < 0][0]
        raise InvalidInput("quality.gold_unknown_label", field="label", value=str(bad))
    codes[positions[known]] = classes
    return codes


def _gold_classes(gold: pd.Series | None) -> list[Hashable]:
    return [] if gold is None else list(pd.unique(gold.to_numpy()))


class BaseAggregator:
    """Common API of the aggregation estimators (crowd-kit style).

    Subclasses implement ``_fit_encoded(encoded, gold_codes) -> posterior`` returning an
    ``(n_items, n_classes)`` array whose rows sum to 1.
    """

    labels_: pd.Series
    """Final label per item, indexed by ``item_id``."""
    probas_: pd.DataFrame
    """Posterior per item (rows) and class (columns); rows sum to 1."""
    encoded_: EncodedAnswers
    """The encoded answers the model was fitted on."""

    def _fit_encoded(self, encoded: EncodedAnswers, gold_codes: IntArray) -> FloatArray:
        raise NotImplementedError

    def fit(self, answers: pd.DataFrame | EncodedAnswers, *, gold: pd.Series | None = None) -> Self:
        """Fit on answers; gold labels (``item_id -> label``) are clamped during estimation.

        Args:
            answers: Canonical answers frame (validated) or its encoded form.
            gold: Known true labels of some items; items absent from ``answers`` are ignored.

        Returns:
            self, with ``labels_``, ``probas_`` and ``encoded_`` set.

        Raises:
            InvalidInput: No answers.
        """
        encoded = encode_answers(answers, classes=_gold_classes(gold))
        if encoded.n_answers == 0:
            raise InvalidInput("quality.no_answers")
        gold_codes = encode_gold(gold, encoded)
        # BLAS only sees small products here (conjugate-gradient vectors, K-column
        # mat-vecs); OpenBLAS worker threads spin-wait on them, and on a busy 2-core host
        # that made GLAD's M-step 5x slower. One BLAS thread, restored on exit.
        with threadpool_limits(limits=1, user_api="blas"):
            posterior = self._fit_encoded(encoded, gold_codes)
        clamp = gold_codes >= 0
        if clamp.any():
            posterior[clamp] = 0.0
            posterior[clamp, gold_codes[clamp]] = 1.0
        self.encoded_ = encoded
        self.probas_ = pd.DataFrame(posterior, index=encoded.items, columns=encoded.classes)
        self.probas_.index.name = "item_id"
        self.probas_.columns.name = "label"
        # argmax takes the first (lowest sorted) class on exact ties; MajorityVote reports ties.
        self.labels_ = pd.Series(
            encoded.classes.take(posterior.argmax(axis=1)), index=self.probas_.index, name="label"
        )
        return self

    def fit_predict(
        self, answers: pd.DataFrame | EncodedAnswers, *, gold: pd.Series | None = None
    ) -> pd.Series:
        """Fit and return ``labels_``."""
        return self.fit(answers, gold=gold).labels_

    def fit_predict_proba(
        self, answers: pd.DataFrame | EncodedAnswers, *, gold: pd.Series | None = None
    ) -> pd.DataFrame:
        """Fit and return ``probas_``."""
        return self.fit(answers, gold=gold).probas_

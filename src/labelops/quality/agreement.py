"""Inter-labeller agreement statistics, each with a confidence interval.

All statistics are computed from per-item class counts (an items x classes table), never
from a dense items x labellers matrix, so they scale to millions of answers. Every function
takes a canonical answers frame (see :mod:`labelops.quality.answers`) or its encoded form and
returns an :class:`AgreementResult` with a seeded bootstrap interval over items (and a
per-class, one-vs-rest breakdown).

When to use what (content-moderation labels are heavily skewed towards "compliant"):

* :func:`compute_percent_agreement`: share of agreeing labeller pairs. Easy to explain,
  but inflated by chance: two labellers who both answer "compliant" 95% of the time agree
  on ~90% of items by luck alone.
* :func:`compute_cohen_kappa`: exactly two labellers; chance-corrected. Cohen (1960),
  *A coefficient of agreement for nominal scales*, EPM 20(1).
* :func:`compute_fleiss_kappa`: many labellers, same number per item; chance-corrected
  with pooled class shares. Fleiss (1971), *Measuring nominal scale agreement among many
  raters*, Psych. Bull. 76(5). Kappas suffer the *prevalence paradox* (Feinstein &
  Cicchetti 1990): with 97% "compliant" answers, high raw agreement can give a low or
  negative kappa, because chance agreement is already near 1.
* :func:`compute_gwet_ac1`: many labellers; chance agreement modelled so that it stays
  small under skew, so AC1 does not collapse under the prevalence paradox. Read AC1 next to
  kappa for skewed policy labels. Gwet (2008), *Computing inter-rater reliability and its
  variance in the presence of high agreement*, BJMSP 61(1).
* :func:`compute_krippendorff_alpha`: any number of labellers, missing answers, nominal or
  ordinal classes (severity scales); the most general and the default for calibration
  sessions. Krippendorff (2004/2011), *Computing Krippendorff's alpha-reliability*.

Items with a single answer carry no agreement information and are left out (they are not
"pairable"); if nothing is pairable, or a statistic is undefined (e.g. every answer is the
same class, so chance agreement is 1), an :class:`~labelops.errors.InvalidInput` says so
rather than returning NaN.
"""

from __future__ import annotations

__all__ = [
    "AgreementMetric",
    "CiMethod",
    "AgreementResult",
    "ClassAgreement",
    "compute_agreement",
    "compute_cohen_kappa",
    "compute_fleiss_kappa",
    "compute_gwet_ac1",
    "compute_krippendorff_alpha",
    "compute_percent_agreement",
]

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from labelops.errors import InvalidInput
from labelops.quality.answers import EncodedAnswers, encode_answers
from labelops.quality.intervals import bootstrap_interval

AgreementMetric = Literal[
    "krippendorff_alpha", "fleiss_kappa", "cohen_kappa", "gwet_ac1", "percent"
]
Level = Literal["nominal", "ordinal"]
Duplicates = Literal["error", "last"]
CiMethod = Literal["bootstrap", "analytic"]
FloatArray = npt.NDArray[np.float64]
Statistic = Callable[[FloatArray], FloatArray]


@dataclass(frozen=True)
class ClassAgreement:
    """Agreement on one class against all others (one-vs-rest)."""

    label: Hashable
    """The class."""
    value: float
    """The statistic on the binarised answers."""
    ci_low: float | None
    """Lower bound of the bootstrap interval (None when ``n_resamples=0``)."""
    ci_high: float | None
    """Upper bound of the bootstrap interval."""


@dataclass(frozen=True)
class AgreementResult:
    """An agreement statistic with its interval and what it was computed on."""

    metric: str
    """``krippendorff_alpha``, ``fleiss_kappa``, ``cohen_kappa``, ``gwet_ac1`` or ``percent``."""
    value: float
    """The statistic: 1 is perfect agreement, 0 chance level (percent: share of agreeing pairs)."""
    ci_low: float | None
    """Lower bound of the interval (None for a bootstrap with ``n_resamples=0``)."""
    ci_high: float | None
    """Upper bound of the interval."""
    n_items: int
    """Items used (pairable: at least two answers)."""
    n_labellers: int
    """Labellers with at least one answer on a used item."""
    confidence: float = 0.95
    """Nominal coverage of the interval."""
    ci_method: str = "bootstrap"
    """``bootstrap`` (percentile, over items) or ``analytic``."""
    per_class: tuple[ClassAgreement, ...] = ()
    """One-vs-rest breakdown; classes for which the statistic is undefined are left out."""


# --------------------------------------------------------------------------- preparation


_CHUNK = 1 << 18  # answers per pass over the codes: bounds the int64 temporaries


def _chunks(n: int) -> list[slice]:
    return [slice(start, min(start + _CHUNK, n)) for start in range(0, n, _CHUNK)]


def _cell_keys(
    rows: npt.NDArray[np.int32], width: int, columns: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    """``rows * width + columns``: flat cell numbers of a (rows, width) grid."""
    keys = rows.astype(np.int64)
    keys *= width
    keys += columns
    return keys


def _chunked_bincount(
    rows: npt.NDArray[np.int32], width: int, columns: npt.NDArray[np.int32] | None, size: int
) -> npt.NDArray[np.int64]:
    """``np.bincount`` of the cell keys (of ``rows`` alone if ``columns`` is None), in chunks.

    ``np.bincount`` copies its input to int64, so one call over every answer would hold
    8 bytes per answer on top of the codes; chunks of 262,144 keep that to 2 MB.
    """
    counts = np.zeros(size, dtype=np.int64)
    for part in _chunks(rows.size):
        keys = rows[part] if columns is None else _cell_keys(rows[part], width, columns[part])
        counts += np.bincount(keys, minlength=size)
    return counts


def _encoded(
    answers: pd.DataFrame | EncodedAnswers, duplicates: Duplicates, *, resampled: bool
) -> EncodedAnswers:
    # A statistic does not depend on the order of items or labellers, so without a
    # bootstrap the encoder may pick the cheapest order. A bootstrap draws items by
    # position: there the order of first appearance keeps a seed's interval what it was.
    encoded = encode_answers(answers, id_order="appearance" if resampled else "any")
    width = max(encoded.n_labellers, 1)
    n_cells = encoded.n_items * width
    # Sorting millions of keys dominated alpha's cost; when the (item, labeller) grid is
    # not much larger than the answers, marking cells in a one-byte-per-cell bitmap says
    # "no duplicates" in one pass (an int64 bincount there cost 8 bytes per cell).
    if n_cells <= 4 * encoded.n_answers + 1_000_000:
        seen = np.zeros(n_cells, dtype=bool)
        for part in _chunks(encoded.n_answers):
            seen[_cell_keys(encoded.item_codes[part], width, encoded.labeller_codes[part])] = True
        if np.count_nonzero(seen) == encoded.n_answers:
            return encoded
        del seen
    key = _cell_keys(encoded.item_codes, width, encoded.labeller_codes)
    # Reverse so that np.unique's first occurrence is the last answer given.
    _, last_rev = np.unique(key[::-1], return_index=True)
    if last_rev.size == key.size:
        return encoded
    if duplicates == "error":
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        dup = first[counts > 1][0]
        raise InvalidInput(
            "quality.duplicate_answer",
            field="labeller_id",
            value=str(encoded.labellers[encoded.labeller_codes[dup]]),
            item=str(encoded.items[encoded.item_codes[dup]]),
            count=int((counts > 1).sum()),
        )
    keep = np.sort(key.size - 1 - last_rev)
    return EncodedAnswers(
        item_codes=encoded.item_codes[keep],
        labeller_codes=encoded.labeller_codes[keep],
        label_codes=encoded.label_codes[keep],
        items=encoded.items,
        labellers=encoded.labellers,
        classes=encoded.classes,
    )


def _pairable(encoded: EncodedAnswers) -> tuple[FloatArray, int]:
    """Class counts of pairable items and the number of labellers on them."""
    n_classes = encoded.n_classes
    flat = _chunked_bincount(
        encoded.item_codes, n_classes, encoded.label_codes, encoded.n_items * n_classes
    )
    counts = flat.reshape(encoded.n_items, n_classes).astype(np.float64)
    mask = counts.sum(axis=1) >= 2
    if not mask.any():
        raise InvalidInput("quality.no_pairable_items")
    if mask.all():
        answered = _chunked_bincount(encoded.labeller_codes, 1, None, encoded.n_labellers)
        return counts, int(np.count_nonzero(answered))
    used = encoded.labeller_codes[mask[encoded.item_codes]]
    answered = _chunked_bincount(used, 1, None, encoded.n_labellers)
    return counts[mask], int(np.count_nonzero(answered))


def _one_vs_rest(counts: FloatArray, k: int) -> FloatArray:
    return np.column_stack([counts[:, k], counts.sum(axis=1) - counts[:, k]])


# --------------------------------------------------------------------------- statistics


def _alpha_statistic(n_classes: int, level: Level) -> Statistic:
    """Alpha from summed coincidences, shape ``(B, K * K)`` -> ``(B,)``."""
    idx = np.arange(n_classes)

    def statistic(summed: FloatArray) -> FloatArray:
        o = summed.reshape(-1, n_classes, n_classes)
        n_v = o.sum(axis=1)
        n = n_v.sum(axis=1)
        e = (n_v[:, :, None] * n_v[:, None, :] - n_v[:, :, None] * np.eye(n_classes)) / (n - 1)[
            :, None, None
        ]
        if level == "nominal":
            d = np.broadcast_to(1.0 - np.eye(n_classes), o.shape)
        else:
            cum = np.concatenate([np.zeros((len(n_v), 1)), np.cumsum(n_v, axis=1)], axis=1)
            lo = np.minimum(idx[:, None], idx[None, :])
            hi = np.maximum(idx[:, None], idx[None, :])
            between = cum[:, hi + 1] - cum[:, lo]
            d = (between - (n_v[:, :, None] + n_v[:, None, :]) / 2) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = (e * d).sum(axis=(1, 2))
            value = 1 - (o * d).sum(axis=(1, 2)) / expected
        return np.where(expected > 0, value, np.nan)

    return statistic


def _alpha_parts(counts: FloatArray, level: Level) -> tuple[FloatArray, Statistic]:
    n_classes = counts.shape[1]
    totals = counts.sum(axis=1)
    # Per-unit coincidences o_u = (n_u n_u^T - diag(n_u)) / (m_u - 1), flattened.
    outer = counts[:, :, None] * counts[:, None, :]
    idx = np.arange(n_classes)
    outer[:, idx, idx] -= counts
    stats = (outer / (totals - 1)[:, None, None]).reshape(len(counts), -1)
    return stats, _alpha_statistic(n_classes, level)


def _alpha_point(counts: FloatArray, level: Level) -> float:
    """Alpha without per-unit coincidences: ``sum_u o_u = W^T C - diag(sum_u w_u)``.

    With ``W = C / (m - 1)`` row-wise, the coincidence matrix is one (K, K) product over
    the items x classes counts, instead of an items x K x K array (what the bootstrap needs).
    """
    weighted = counts / (counts.sum(axis=1) - 1)[:, None]
    coincidences = weighted.T @ counts
    coincidences[np.diag_indices_from(coincidences)] -= weighted.sum(axis=0)
    statistic = _alpha_statistic(counts.shape[1], level)
    return float(statistic(coincidences.reshape(1, -1))[0])


def _percent_agreement_per_item(counts: FloatArray) -> FloatArray:
    totals = counts.sum(axis=1)
    return np.asarray((counts * (counts - 1)).sum(axis=1) / (totals * (totals - 1)))


def _percent_parts(counts: FloatArray) -> tuple[FloatArray, Statistic]:
    stats = np.column_stack([_percent_agreement_per_item(counts), np.ones(len(counts))])
    return stats, lambda s: np.asarray(s[:, 0] / s[:, 1])


def _fleiss_parts(counts: FloatArray) -> tuple[FloatArray, Statistic]:
    n_classes = counts.shape[1]
    stats = np.column_stack(
        [_percent_agreement_per_item(counts), np.ones(len(counts)), counts, counts.sum(axis=1)]
    )

    def statistic(summed: FloatArray) -> FloatArray:
        observed = summed[:, 0] / summed[:, 1]
        shares = summed[:, 2 : 2 + n_classes] / summed[:, -1:]
        chance = (shares**2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (observed - chance) / (1 - chance)
        return np.where(chance < 1 - 1e-15, value, np.nan)

    return stats, statistic


def _gwet_parts(counts: FloatArray) -> tuple[FloatArray, Statistic]:
    n_classes = counts.shape[1]
    totals = counts.sum(axis=1)
    stats = np.column_stack(
        [_percent_agreement_per_item(counts), np.ones(len(counts)), counts / totals[:, None]]
    )

    def statistic(summed: FloatArray) -> FloatArray:
        observed = summed[:, 0] / summed[:, 1]
        shares = summed[:, 2:] / summed[:, 1:2]
        chance = (shares * (1 - shares)).sum(axis=1) / max(n_classes - 1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (observed - chance) / (1 - chance)
        return np.where(chance < 1 - 1e-15, value, np.nan)

    return stats, statistic


def _cohen_parts(pairs: npt.NDArray[np.int64], n_classes: int) -> tuple[FloatArray, Statistic]:
    stats = np.zeros((len(pairs), n_classes * n_classes))
    stats[np.arange(len(pairs)), pairs[:, 0] * n_classes + pairs[:, 1]] = 1.0
    off_diagonal = 1.0 - np.eye(n_classes)

    def statistic(summed: FloatArray) -> FloatArray:
        # Same arithmetic as sklearn.metrics.cohen_kappa_score, batched over replicates.
        confusion = summed.reshape(-1, n_classes, n_classes)
        total = confusion.sum(axis=(1, 2))
        expected = (confusion.sum(axis=2)[:, :, None] * confusion.sum(axis=1)[:, None, :]) / total[
            :, None, None
        ]
        denominator = (off_diagonal * expected).sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = 1 - (off_diagonal * confusion).sum(axis=(1, 2)) / denominator
        return np.where(denominator > 0, value, np.nan)

    return stats, statistic


# --------------------------------------------------------------------------- analytic intervals

Analytic = Callable[[FloatArray, float], tuple[float | None, float | None]]


def _cohen_analytic(confusion: FloatArray, confidence: float) -> tuple[float | None, float | None]:
    """Wald interval with the large-sample (non-null) standard error of Cohen's kappa.

    Fleiss, Cohen & Everitt (1969), *Large sample standard errors of kappa and weighted
    kappa*, Psych. Bull. 72(5), 323-327; the same formula as ``statsmodels``'
    ``cohens_kappa(...).std_kappa``. ``confusion`` is the (K, K) table of counts.
    """
    n = confusion.sum()
    p = confusion / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    chance = float(rows @ cols)
    kappa = (float(np.trace(p)) - chance) / (1 - chance)
    diagonal = np.diag(p) * (1 - (rows + cols) * (1 - kappa)) ** 2
    off = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    variance = (
        diagonal.sum() + (1 - kappa) ** 2 * off.sum() - (kappa - chance * (1 - kappa)) ** 2
    ) / ((1 - chance) ** 2 * n)
    half = float(sps.norm.ppf(0.5 + confidence / 2)) * float(np.sqrt(max(variance, 0.0)))
    return kappa - half, kappa + half


def _fleiss_analytic(counts: FloatArray, confidence: float) -> tuple[float | None, float | None]:
    """Linearisation interval for Fleiss' kappa (any number of answers per item).

    Gwet (2008, BJMSP 61(1); *Handbook of Inter-Rater Reliability*, 4th ed., 2014, ch. 5):
    ``var = sum_i (z_i)^2 / (n (n - 1))`` with each item's influence
    ``z_i = [(P_i - P) - 2 (1 - kappa) (r_i / r) (pe_i - pe)] / (1 - pe)``, where ``P_i`` is
    item ``i``'s share of agreeing pairs, ``pe_i = sum_k p_k r_ik / r_i`` and ``r_i / r``
    its number of answers over the mean (1 when every item has the same number, which is
    Gwet's formula; the factor follows from our pooled class shares otherwise). A
    t interval with ``n - 1`` degrees of freedom, as in Gwet's ``irrCAC``. Fleiss (1971)
    only gave the variance under the null hypothesis kappa = 0, which is a test, not an
    interval.
    """
    n = len(counts)
    totals = counts.sum(axis=1)
    per_item = _percent_agreement_per_item(counts)
    observed = float(per_item.mean())
    shares = counts.sum(axis=0) / totals.sum()
    chance = float(shares @ shares)
    kappa = (observed - chance) / (1 - chance)
    if n < 2:
        return None, None
    item_chance = (counts @ shares) / totals
    influence = (
        (per_item - observed) - 2 * (1 - kappa) * (totals / totals.mean()) * (item_chance - chance)
    ) / (1 - chance)
    variance = float((influence**2).sum()) / (n * (n - 1))
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1)) * float(np.sqrt(variance))
    return kappa - half, kappa + half


# --------------------------------------------------------------------------- driver


def _point(stats: FloatArray, statistic: Statistic) -> float:
    return float(statistic(stats.sum(axis=0)[None, :])[0])


def _interval(
    stats: FloatArray, statistic: Statistic, n_resamples: int, confidence: float, seed: int
) -> tuple[float | None, float | None]:
    if n_resamples == 0:
        return None, None
    interval = bootstrap_interval(
        stats, statistic, n_resamples=n_resamples, confidence=confidence, seed=seed
    )
    return interval.low, interval.high


def _result(
    metric: str,
    encoded: EncodedAnswers,
    counts: FloatArray,
    n_labellers: int,
    parts: Callable[[FloatArray], tuple[FloatArray, Statistic]],
    undefined_message: str,
    *,
    per_class: bool,
    n_resamples: int,
    confidence: float,
    seed: int,
    analytic: Analytic | None = None,
    point: Callable[[FloatArray], float] | None = None,
) -> AgreementResult:
    """Statistic, interval and per-class breakdown from items x classes ``counts``.

    ``parts`` gives per-item sufficient statistics (what the bootstrap resamples) and the
    statistic of their sums; ``point``, if given, computes the value from ``counts``
    directly and is used when no interval is asked for.
    """

    def interval(
        class_counts: FloatArray, class_stats: FloatArray, class_statistic: Statistic
    ) -> tuple[float | None, float | None]:
        if analytic is not None:
            return analytic(class_counts, confidence)
        return _interval(class_stats, class_statistic, n_resamples, confidence, seed)

    def evaluate(class_counts: FloatArray) -> tuple[float, float | None, float | None]:
        if point is not None and analytic is None and n_resamples == 0:
            return point(class_counts), None, None
        class_stats, class_statistic = parts(class_counts)
        class_value = _point(class_stats, class_statistic)
        if not np.isfinite(class_value):
            return class_value, None, None
        return (class_value, *interval(class_counts, class_stats, class_statistic))

    value, low, high = evaluate(counts)
    if not np.isfinite(value):
        raise InvalidInput(undefined_message, metric=metric)
    breakdown: list[ClassAgreement] = []
    if per_class and counts.shape[1] > 2:
        for k, label in enumerate(encoded.classes):
            class_value, class_low, class_high = evaluate(_one_vs_rest(counts, k))
            if not np.isfinite(class_value):
                continue
            breakdown.append(ClassAgreement(label, class_value, class_low, class_high))
    elif per_class:
        # With two classes one-vs-rest is the statistic itself, for both classes.
        breakdown = [ClassAgreement(label, value, low, high) for label in encoded.classes]
    return AgreementResult(
        metric=metric,
        value=value,
        ci_low=low,
        ci_high=high,
        n_items=len(counts),
        n_labellers=n_labellers,
        confidence=confidence,
        ci_method="analytic" if analytic is not None else "bootstrap",
        per_class=tuple(breakdown),
    )


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 0:
        raise InvalidInput("quality.bad_resamples", field="n_resamples", value=n_resamples)


def _check_ci_method(ci_method: str) -> None:
    if ci_method not in ("bootstrap", "analytic"):
        raise InvalidInput("quality.bad_ci_method", field="ci_method", value=ci_method)


def compute_krippendorff_alpha(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    level: Level = "nominal",
    per_class: bool = True,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    duplicates: Duplicates = "error",
) -> AgreementResult:
    """Krippendorff's alpha from sparse coincidence counts.

    .. math:: \\alpha = 1 - \\frac{D_o}{D_e}
              = 1 - (n - 1) \\frac{\\sum o_{ck} \\delta^2_{ck}}{\\sum n_c n_k \\delta^2_{ck}}

    Missing answers are fine (any labeller may skip any item). Ordinal distances use the
    sorted class order (encode labels so that sorting gives the scale order, e.g. 0-4).

    Args:
        answers: Canonical answers frame or its encoded form.
        level: ``nominal`` (classes unordered) or ``ordinal`` (a severity scale).
        per_class: Also compute one-vs-rest alpha per class.
        n_resamples: Bootstrap replicates over items (0: no interval).
        confidence: Two-sided coverage of the interval.
        seed: Bootstrap seed.
        duplicates: ``error`` if a labeller answered an item twice, ``last`` to keep the
            last answer.

    Returns:
        The statistic, in [-1, 1] for nominal data (1 = perfect agreement, 0 = chance).

    Raises:
        InvalidInput: No item has two answers, every pairable answer is the same class
            (alpha is undefined), a duplicate answer, or bad options.

    Example:
        >>> frame = pd.DataFrame({"item_id": [1, 1, 2, 2], "labeller_id": list("abab"),
        ...                       "label": ["x", "x", "y", "y"]})
        >>> compute_krippendorff_alpha(frame, n_resamples=0).value
        1.0

    Reference: Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.
    """
    if level not in ("nominal", "ordinal"):
        raise InvalidInput("quality.bad_level", field="level", value=level)
    _check_resamples(n_resamples)
    encoded = _encoded(answers, duplicates, resampled=n_resamples > 0)
    counts, n_labellers = _pairable(encoded)
    return _result(
        "krippendorff_alpha",
        encoded,
        counts,
        n_labellers,
        lambda c: _alpha_parts(c, level),
        "quality.alpha_undefined",
        per_class=per_class,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        point=lambda c: _alpha_point(c, level),
    )


def compute_fleiss_kappa(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    per_class: bool = True,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    duplicates: Duplicates = "error",
    ci_method: CiMethod = "bootstrap",
) -> AgreementResult:
    """Fleiss' kappa for many labellers.

    .. math:: \\kappa = \\frac{\\bar P - \\bar P_e}{1 - \\bar P_e},\\quad
              \\bar P_e = \\sum_j p_j^2

    With the same number of answers per item this equals
    ``statsmodels.stats.inter_rater.fleiss_kappa``; with varying numbers, ``P_i`` is each
    pairable item's share of agreeing pairs and ``p_j`` the pooled class shares.

    Args:
        answers: Canonical answers frame or its encoded form.
        per_class: Also compute one-vs-rest kappa per class.
        n_resamples: Bootstrap replicates over items (0: no interval).
        confidence: Two-sided coverage of the interval.
        seed: Bootstrap seed.
        duplicates: ``error`` or ``last`` (see :func:`compute_krippendorff_alpha`).
        ci_method: ``bootstrap`` (percentile, over items) or ``analytic`` (Gwet's
            linearisation standard error, t interval; ``n_resamples`` is then unused).

    Returns:
        The statistic (1 = perfect, 0 = chance, negative = worse than chance).

    Raises:
        InvalidInput: Nothing pairable, a single class used (chance agreement is 1), a
            duplicate answer, or bad options.

    Reference: Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    """
    _check_resamples(n_resamples)
    _check_ci_method(ci_method)
    encoded = _encoded(answers, duplicates, resampled=ci_method == "bootstrap" and n_resamples > 0)
    counts, n_labellers = _pairable(encoded)
    return _result(
        "fleiss_kappa",
        encoded,
        counts,
        n_labellers,
        _fleiss_parts,
        "quality.kappa_undefined",
        per_class=per_class,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        analytic=_fleiss_analytic if ci_method == "analytic" else None,
    )


def compute_gwet_ac1(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    per_class: bool = True,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    duplicates: Duplicates = "error",
) -> AgreementResult:
    """Gwet's AC1, robust to skewed class prevalence.

    .. math:: AC_1 = \\frac{p_a - p_e}{1 - p_e},\\quad
              p_e = \\frac{1}{K-1}\\sum_k \\pi_k (1 - \\pi_k)

    ``p_a`` is the share of agreeing pairs over pairable items and ``pi_k`` the mean share
    of class ``k`` within those items; ``K`` counts every class seen.

    Args:
        answers: Canonical answers frame or its encoded form.
        per_class: Also compute one-vs-rest AC1 per class.
        n_resamples: Bootstrap replicates over items (0: no interval).
        confidence: Two-sided coverage of the interval.
        seed: Bootstrap seed.
        duplicates: ``error`` or ``last``.

    Returns:
        The statistic (1 = perfect agreement).

    Raises:
        InvalidInput: Nothing pairable, a duplicate answer, or bad options.

    Reference: Gwet, K. L. (2008). Computing inter-rater reliability and its variance in
    the presence of high agreement. BJMSP 61(1), 29-48.
    """
    _check_resamples(n_resamples)
    encoded = _encoded(answers, duplicates, resampled=n_resamples > 0)
    counts, n_labellers = _pairable(encoded)
    return _result(
        "gwet_ac1",
        encoded,
        counts,
        n_labellers,
        _gwet_parts,
        "quality.ac1_undefined",
        per_class=per_class,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )


def compute_percent_agreement(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    per_class: bool = True,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    duplicates: Duplicates = "error",
) -> AgreementResult:
    """Share of agreeing labeller pairs, averaged over pairable items.

    Not chance-corrected: with skewed labels it looks high even for random labellers; read
    it next to AC1 or alpha.

    Args:
        answers: Canonical answers frame or its encoded form.
        per_class: Also compute one-vs-rest agreement per class.
        n_resamples: Bootstrap replicates over items (0: no interval).
        confidence: Two-sided coverage of the interval.
        seed: Bootstrap seed.
        duplicates: ``error`` or ``last``.

    Returns:
        The share in [0, 1].

    Raises:
        InvalidInput: Nothing pairable, a duplicate answer, or bad options.
    """
    _check_resamples(n_resamples)
    encoded = _encoded(answers, duplicates, resampled=n_resamples > 0)
    counts, n_labellers = _pairable(encoded)
    return _result(
        "percent",
        encoded,
        counts,
        n_labellers,
        _percent_parts,
        "quality.no_pairable_items",
        per_class=per_class,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )


def compute_cohen_kappa(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    labellers: tuple[Hashable, Hashable] | None = None,
    per_class: bool = True,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    duplicates: Duplicates = "error",
    ci_method: CiMethod = "bootstrap",
) -> AgreementResult:
    """Cohen's kappa between exactly two labellers, on the items both answered.

    .. math:: \\kappa = \\frac{p_o - p_e}{1 - p_e}

    Equals ``sklearn.metrics.cohen_kappa_score`` on the same pairs.

    Args:
        answers: Canonical answers frame or its encoded form.
        labellers: The two labellers to compare (required if the answers hold more).
        per_class: Also compute one-vs-rest kappa per class.
        n_resamples: Bootstrap replicates over items (0: no interval).
        confidence: Two-sided coverage of the interval.
        seed: Bootstrap seed.
        duplicates: ``error`` or ``last``.
        ci_method: ``bootstrap`` (percentile, over items) or ``analytic`` (the large-sample
            standard error of Fleiss, Cohen & Everitt 1969, normal interval; equals
            ``statsmodels``' ``cohens_kappa``; ``n_resamples`` is then unused).

    Returns:
        The statistic.

    Raises:
        InvalidInput: Not exactly two labellers, no item answered by both, both used one
            and the same class only (kappa undefined), or a duplicate answer.

    Reference: Cohen, J. (1960). A coefficient of agreement for nominal scales.
    """
    _check_resamples(n_resamples)
    _check_ci_method(ci_method)
    encoded = _encoded(answers, duplicates, resampled=ci_method == "bootstrap" and n_resamples > 0)
    if labellers is None:
        if encoded.n_labellers != 2:
            raise InvalidInput("quality.cohen_two_labellers", count=encoded.n_labellers)
        first, second = 0, 1
    else:
        positions = encoded.labellers.get_indexer(pd.Index(list(labellers)))
        if len(positions) != 2 or (positions < 0).any() or positions[0] == positions[1]:
            raise InvalidInput("quality.cohen_two_labellers", count=len(set(labellers)))
        first, second = int(positions[0]), int(positions[1])
    n_items = encoded.n_items
    label_of = np.full((2, n_items), -1, dtype=np.int64)
    for row, code in enumerate((first, second)):
        mine = encoded.labeller_codes == code
        label_of[row, encoded.item_codes[mine]] = encoded.label_codes[mine]
    both = (label_of >= 0).all(axis=0)
    if not both.any():
        raise InvalidInput("quality.no_pairable_items")
    pairs = label_of[:, both].T
    n_classes = encoded.n_classes

    def parts(_: FloatArray) -> tuple[FloatArray, Statistic]:
        return _cohen_parts(pairs, n_classes)

    def interval(
        class_stats: FloatArray, class_statistic: Statistic, size: int
    ) -> tuple[float | None, float | None]:
        if ci_method == "analytic":
            return _cohen_analytic(class_stats.sum(axis=0).reshape(size, size), confidence)
        return _interval(class_stats, class_statistic, n_resamples, confidence, seed)

    stats, statistic = parts(np.empty(0))
    value = _point(stats, statistic)
    if not np.isfinite(value):
        raise InvalidInput("quality.kappa_undefined", metric="cohen_kappa")
    low, high = interval(stats, statistic, n_classes)
    breakdown: list[ClassAgreement] = []
    if per_class:
        for k, label in enumerate(encoded.classes):
            binary = (pairs != k).astype(np.int64)
            class_stats, class_statistic = _cohen_parts(binary, 2)
            class_value = _point(class_stats, class_statistic)
            if not np.isfinite(class_value):
                continue
            class_low, class_high = interval(class_stats, class_statistic, 2)
            breakdown.append(ClassAgreement(label, class_value, class_low, class_high))
    return AgreementResult(
        metric="cohen_kappa",
        value=value,
        ci_low=low,
        ci_high=high,
        n_items=int(both.sum()),
        n_labellers=2,
        confidence=confidence,
        ci_method=ci_method,
        per_class=tuple(breakdown),
    )


def compute_agreement(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    metric: AgreementMetric,
    level: Level = "nominal",
    per_class: bool = True,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    duplicates: Duplicates = "error",
    ci_method: CiMethod = "bootstrap",
) -> AgreementResult:
    """Dispatch to one of the ``compute_*`` functions by name (for the CLI and services).

    Args:
        answers: Canonical answers frame or its encoded form.
        metric: Which statistic.
        level: Krippendorff's alpha level (ignored by the others).
        per_class: Also compute the one-vs-rest breakdown.
        n_resamples: Bootstrap replicates (0: no interval).
        confidence: Two-sided coverage.
        seed: Bootstrap seed.
        duplicates: ``error`` or ``last``.
        ci_method: ``bootstrap``, or ``analytic`` for ``cohen_kappa`` and ``fleiss_kappa``
            (the statistics with a standard large-sample standard error).

    Returns:
        The result of the chosen function.

    Raises:
        InvalidInput: Unknown metric, ``analytic`` asked of a statistic without one, or
            whatever the chosen function raises.
    """
    _check_ci_method(ci_method)
    if ci_method == "analytic" and metric not in ("cohen_kappa", "fleiss_kappa"):
        raise InvalidInput("quality.no_analytic_ci", field="ci_method", metric=metric)
    options = {
        "per_class": per_class,
        "n_resamples": n_resamples,
        "confidence": confidence,
        "seed": seed,
        "duplicates": duplicates,
    }
    if metric == "krippendorff_alpha":
        return compute_krippendorff_alpha(answers, level=level, **options)  # type: ignore[arg-type]
    if metric == "fleiss_kappa":
        return compute_fleiss_kappa(answers, ci_method=ci_method, **options)  # type: ignore[arg-type]
    if metric == "cohen_kappa":
        return compute_cohen_kappa(answers, ci_method=ci_method, **options)  # type: ignore[arg-type]
    if metric == "gwet_ac1":
        return compute_gwet_ac1(answers, **options)  # type: ignore[arg-type]
    if metric == "percent":
        return compute_percent_agreement(answers, **options)  # type: ignore[arg-type]
    raise InvalidInput("quality.bad_metric", field="metric", value=metric)

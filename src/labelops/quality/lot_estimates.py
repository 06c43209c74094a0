"""Unbiased estimates of a lot's label accuracy from an audit sample.

When to use what:

* :func:`estimate_lot_accuracy` without strata — the audit was a simple random sample
  (:func:`labelops.quality.sampling.draw_simple_random`, or the random part of
  :func:`labelops.quality.risk.draw_audit_sample`). Wilson interval (Wilson 1927) with
  the finite population correction applied through the effective sample size
  ``n / fpc``, ``fpc = (N - n) / (N - 1)`` (Cochran 1977, eq. 3.4).
* :func:`estimate_lot_accuracy` with ``strata`` — the audit was stratified
  (:func:`labelops.quality.sampling.draw_stratified`). Stratified estimator
  ``p = sum_h W_h p_h`` with ``W_h = N_h / N`` and variance
  ``sum_h W_h^2 (1 - f_h) p_h (1 - p_h) / (n_h - 1)`` (Cochran 1977, eq. 5.27 with
  the unbiased ``s_h^2``), turned into an interval by the Wilson formula at the
  effective sample size ``p (1 - p) / var`` (Korn & Graubard 1998, *Survey
  Methodology* 24(2)), which avoids zero-width intervals when strata are all correct.
* Never feed the risk-targeted part of an audit here: it is not a probability sample.
* :func:`compute_class_quality` — per-class precision and recall of the vendor's labels
  against the auditor's (optionally weighted by the design weights).
"""

from __future__ import annotations

__all__ = [
    "ClassQuality",
    "LotAccuracyEstimate",
    "compute_class_quality",
    "estimate_lot_accuracy",
]

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from labelops.errors import InvalidInput


@dataclass(frozen=True)
class LotAccuracyEstimate:
    """A lot's estimated label accuracy with its confidence interval."""

    accuracy_rate: float
    """Estimated share of correct labels in the lot, in [0, 1]."""
    ci_low: float
    """Lower bound of the interval."""
    ci_high: float
    """Upper bound of the interval."""
    confidence: float
    """Nominal two-sided coverage, e.g. 0.95."""
    standard_error: float
    """Standard error of ``accuracy_rate`` (with the finite population correction)."""
    n_audited: int
    """Labels audited."""
    population_size: int | None
    """Labels in the lot (None: treated as infinite)."""
    effective_sample_size: float
    """Sample size the Wilson interval was computed with (inf for a census)."""
    method: Literal["wilson_fpc", "stratified_wilson"]
    """Which estimator produced it."""


@dataclass(frozen=True)
class ClassQuality:
    """Precision and recall of the vendor's labels for one class, the auditor as truth."""

    label: Hashable
    """The class."""
    precision_rate: float
    """Of the labels the vendor gave this class, the share the auditor agreed with (nan if none)."""
    recall_rate: float
    """Of the units the auditor put in this class, the share the vendor found (nan if none)."""
    vendor_count: float
    """(Weighted) count of vendor labels of this class."""
    auditor_count: float
    """(Weighted) count of auditor labels of this class."""


def _wilson(p: float, n_eff: float, z: float) -> tuple[float, float]:
    if not np.isfinite(n_eff):
        return p, p
    denominator = 1.0 + z * z / n_eff
    centre = (p + z * z / (2.0 * n_eff)) / denominator
    half = z * np.sqrt(p * (1.0 - p) / n_eff + z * z / (4.0 * n_eff * n_eff)) / denominator
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def _flags(correct: Sequence[bool] | npt.ArrayLike) -> np.ndarray:
    values = np.asarray(correct)
    if values.ndim != 1 or values.size == 0:
        raise InvalidInput("estimates.empty", field="correct")
    if values.dtype != bool:
        if not np.all(np.isin(values, (0, 1))):
            raise InvalidInput("estimates.not_boolean", field="correct")
        values = values.astype(bool)
    flags: np.ndarray = values
    return flags


def estimate_lot_accuracy(
    correct: Sequence[bool] | npt.ArrayLike,
    *,
    strata: Sequence[Hashable] | npt.ArrayLike | None = None,
    weights: Sequence[float] | npt.ArrayLike | None = None,
    strata_sizes: Mapping[Hashable, int] | None = None,
    population: int | None = None,
    confidence: float = 0.95,
) -> LotAccuracyEstimate:
    """Estimate the share of correct labels in a lot from an audited sample.

    Args:
        correct: Auditor's verdict per audited label (True = correct), shape ``(n,)``.
        strata: Stratum per audited label, shape ``(n,)``; None for a simple random sample.
        weights: Design weight ``N_h / n_h`` per audited label, shape ``(n,)``
            (as :func:`labelops.quality.sampling.draw_stratified` returns); with
            ``strata`` they give ``N_h = sum of weights in stratum h``.
        strata_sizes: ``N_h`` per stratum, instead of ``weights``.
        population: Lot size N for a simple random sample (None = infinite, no fpc).
        confidence: Two-sided level in (0, 1).

    Returns:
        The estimate and interval.

    Raises:
        InvalidInput: empty or non-boolean flags, lengths that differ, a population
            smaller than the sample, weights below 1, or a stratum without a size.

    Example:
        >>> round(estimate_lot_accuracy([True] * 90 + [False] * 10).accuracy_rate, 2)
        0.9
    """
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("sampling.confidence_range", field="confidence", value=confidence)
    flags = _flags(correct)
    n = flags.size
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    if strata is None:
        if population is not None and population < n:
            raise InvalidInput(
                "estimates.population_too_small", field="population", value=population, n=n
            )
        p = float(flags.mean())
        fpc = 1.0 if population is None or population == 1 else (population - n) / (population - 1)
        n_eff = np.inf if fpc <= 0 else n / fpc
        low, high = _wilson(p, n_eff, z)
        return LotAccuracyEstimate(
            accuracy_rate=p,
            ci_low=low,
            ci_high=high,
            confidence=confidence,
            standard_error=float(np.sqrt(p * (1 - p) / n * fpc)),
            n_audited=n,
            population_size=population,
            effective_sample_size=float(n_eff),
            method="wilson_fpc",
        )
    labels = pd.Series(np.asarray(strata, dtype=object))
    if labels.size != n:
        raise InvalidInput(
            "estimates.length_mismatch", field="strata", value=labels.size, expected=n
        )
    frame = pd.DataFrame({"stratum": labels, "correct": flags})
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise InvalidInput(
                "estimates.length_mismatch", field="weights", value=w.size, expected=n
            )
        if not np.all(np.isfinite(w)) or np.any(w < 1.0 - 1e-9):
            raise InvalidInput("estimates.weights_invalid", field="weights")
        frame["weight"] = w
        sizes = frame.groupby("stratum", sort=False)["weight"].sum().round().astype(int)
    else:
        known = dict(strata_sizes or {})
        missing = [s for s in frame["stratum"].unique() if s not in known]
        if missing:
            raise InvalidInput(
                "estimates.strata_size_missing", field="strata_sizes", value=missing[0]
            )
        sizes = pd.Series({s: int(known[s]) for s in frame["stratum"].unique()})
    grouped = frame.groupby("stratum", sort=False)["correct"]
    n_h = grouped.size()
    p_h = grouped.mean()
    big_n_h = sizes.reindex(n_h.index).astype(float)
    if np.any(big_n_h < n_h):
        raise InvalidInput(
            "estimates.population_too_small", field="strata_sizes", value=int(big_n_h.sum()), n=n
        )
    total = float(big_n_h.sum())
    w_h = big_n_h / total
    p = float((w_h * p_h).sum())
    f_h = n_h / big_n_h
    # Within-stratum variance n_h / (n_h - 1) p_h q_h is 0 for an all-correct stratum,
    # which makes a dominant clean stratum look certain and the interval under-cover
    # (measured: ~80 % for a nominal 95 %). For the interval we therefore use the
    # Agresti-Coull adjusted rate p~_h = (x_h + z^2/2) / (n_h + z^2) per stratum
    # (Agresti & Coull 1998, *Am. Stat.* 52(2)); the reported standard error uses p_h.
    x_h = grouped.sum()
    p_adj = (x_h + z * z / 2.0) / (n_h + z * z)

    def variance(rate: pd.Series) -> float:
        s2 = np.where(n_h > 1, rate * (1 - rate) * n_h / np.maximum(n_h - 1, 1), rate * (1 - rate))
        return float((w_h**2 * (1 - f_h) * s2 / n_h).sum())

    var = variance(p_h)
    var_adj = variance(p_adj)
    p_tilde = float((w_h * p_adj).sum())
    census = bool(np.all(f_h >= 1.0))
    n_eff = np.inf if census or var_adj <= 0 else p_tilde * (1 - p_tilde) / var_adj
    low, high = _wilson(p, n_eff, z)
    return LotAccuracyEstimate(
        accuracy_rate=p,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        standard_error=float(np.sqrt(var)),
        n_audited=n,
        population_size=int(total),
        effective_sample_size=float(n_eff),
        method="stratified_wilson",
    )


def compute_class_quality(
    vendor_labels: Sequence[Hashable] | npt.ArrayLike,
    auditor_labels: Sequence[Hashable] | npt.ArrayLike,
    *,
    weights: Sequence[float] | npt.ArrayLike | None = None,
) -> tuple[ClassQuality, ...]:
    """Per-class precision and recall of the vendor's labels, the auditor's as truth.

    Args:
        vendor_labels: Label the vendor gave each audited unit, shape ``(n,)``.
        auditor_labels: Label the auditor says is right, shape ``(n,)``.
        weights: Optional design weights (``N_h / n_h``) so a stratified sample
            estimates the lot's precision and recall rather than the sample's.

    Returns:
        One entry per class seen in either column, sorted by ``str(label)``.

    Raises:
        InvalidInput: lengths differ or nothing was audited.
    """
    vendor = np.asarray(vendor_labels, dtype=object)
    auditor = np.asarray(auditor_labels, dtype=object)
    if vendor.size == 0:
        raise InvalidInput("estimates.empty", field="vendor_labels")
    if auditor.shape != vendor.shape:
        raise InvalidInput(
            "estimates.length_mismatch",
            field="auditor_labels",
            value=auditor.size,
            expected=vendor.size,
        )
    w = np.ones(vendor.size) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != vendor.shape:
        raise InvalidInput(
            "estimates.length_mismatch", field="weights", value=w.size, expected=vendor.size
        )
    result = []
    for label in sorted(set(vendor.tolist()) | set(auditor.tolist()), key=str):
        said = vendor == label
        truth = auditor == label
        hit = float(w[said & truth].sum())
        said_n, truth_n = float(w[said].sum()), float(w[truth].sum())
        result.append(
            ClassQuality(
                label=label,
                precision_rate=hit / said_n if said_n else float("nan"),
                recall_rate=hit / truth_n if truth_n else float("nan"),
                vendor_count=said_n,
                auditor_count=truth_n,
            )
        )
    return tuple(result)

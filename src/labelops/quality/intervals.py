"""Confidence intervals: Wilson, Clopper-Pearson and a seeded bootstrap over items.

When to use what:

* :func:`wilson_interval` for a proportion (a labeller's accuracy on gold, a lot's error
  rate): good coverage even for small ``n`` or rates near 0 or 1, and it accepts
  fractional ("expected") counts. Wilson, E. B. (1927), *Probable inference, the law of
  succession, and statistical inference*, JASA 22(158).
* :func:`clopper_pearson_interval` when the interval must never under-cover (audits with
  contractual consequences): exact but conservative. Clopper, C. J. & Pearson, E. S.
  (1934), *Biometrika* 26(4).
* :func:`bootstrap_interval` for agreement statistics, which have no simple sampling
  distribution: items are resampled with replacement and the statistic is recomputed from
  summed per-item sufficient statistics, all vectorised (Efron & Tibshirani 1993, *An
  Introduction to the Bootstrap*, percentile interval).
"""

from __future__ import annotations

__all__ = [
    "ConfidenceInterval",
    "bootstrap_interval",
    "clopper_pearson_interval",
    "wilson_bounds",
    "wilson_interval",
]

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from labelops.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]

_BATCH_CELLS = 4_000_000  # replicate x item cells per batch: ~32 MB of int64 counts


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided interval for an estimate."""

    low: float
    """Lower bound."""
    high: float
    """Upper bound."""
    confidence: float
    """Nominal coverage, e.g. 0.95."""


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("quality.bad_confidence", field="confidence", value=confidence)


def wilson_bounds(
    successes: npt.ArrayLike, n: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Vectorised Wilson score bounds.

    Args:
        successes: Successes (may be fractional expected counts), shape ``(m,)``.
        n: Trials, same shape, each > 0.
        confidence: Two-sided coverage in (0, 1).

    Returns:
        ``(low, high)`` arrays of shape ``(m,)``, within [0, 1].

    Raises:
        InvalidInput: ``confidence`` outside (0, 1), ``n`` <= 0 or successes outside [0, n].
    """
    _check_confidence(confidence)
    k = np.asarray(successes, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    if np.any(total <= 0):
        raise InvalidInput("quality.interval_no_trials", field="n", value=str(n))
    if np.any(k < 0) or np.any(k > total * (1 + 1e-12)):
        raise InvalidInput("quality.interval_bad_successes", field="successes", value=str(k))
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    p = np.clip(k / total, 0.0, 1.0)
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def wilson_interval(successes: float, n: float, *, confidence: float = 0.95) -> ConfidenceInterval:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: Number of successes in [0, n] (fractional expected counts allowed).
        n: Number of trials, > 0.
        confidence: Two-sided coverage in (0, 1).

    Returns:
        The interval, within [0, 1].

    Raises:
        InvalidInput: ``n`` <= 0, ``successes`` outside [0, n] or bad ``confidence``.

    Example:
        >>> round(wilson_interval(8, 10).low, 4)
        0.4902
    """
    low, high = wilson_bounds([successes], [n], confidence=confidence)
    return ConfidenceInterval(float(low[0]), float(high[0]), confidence)


def clopper_pearson_interval(
    successes: int, n: int, *, confidence: float = 0.95
) -> ConfidenceInterval:
    """Exact (Clopper-Pearson) interval for a binomial proportion.

    Args:
        successes: Integer successes in [0, n].
        n: Integer trials, > 0.
        confidence: Two-sided coverage in (0, 1).

    Returns:
        The interval; at least the nominal coverage for every true proportion.

    Raises:
        InvalidInput: ``n`` <= 0, ``successes`` outside [0, n] or bad ``confidence``.

    Example:
        >>> round(clopper_pearson_interval(0, 10).high, 4)
        0.3085
    """
    _check_confidence(confidence)
    if n <= 0:
        raise InvalidInput("quality.interval_no_trials", field="n", value=n)
    if not 0 <= successes <= n:
        raise InvalidInput("quality.interval_bad_successes", field="successes", value=successes)
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(sps.beta.ppf(alpha / 2, successes, n - successes + 1))
    high = (
        1.0 if successes == n else float(sps.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    )
    return ConfidenceInterval(low, high, confidence)


def bootstrap_interval(
    item_stats: FloatArray,
    statistic: Callable[[FloatArray], FloatArray],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap over items from per-item sufficient statistics.

    Each replicate draws ``n_items`` items with replacement; instead of rebuilding a frame,
    it counts how often each item was drawn and multiplies those counts into
    ``item_stats``, so a replicate costs one matrix product.

    Args:
        item_stats: Per-item sufficient statistics, shape ``(n_items, m)``; the statistic
            must depend on the data only through their column sums.
        statistic: Maps summed statistics, shape ``(B, m)``, to values, shape ``(B,)``;
            replicates where it is undefined may return NaN and are left out.
        n_resamples: Number of bootstrap replicates (B), > 0.
        confidence: Two-sided coverage in (0, 1).
        seed: Seed of the generator; the same seed gives the same interval.

    Returns:
        The percentile interval.

    Raises:
        InvalidInput: No items, ``n_resamples`` < 1, bad ``confidence``, or the statistic is
            undefined on more than half of the replicates.
    """
    _check_confidence(confidence)
    n_items = item_stats.shape[0]
    if n_items == 0:
        raise InvalidInput("quality.no_pairable_items")
    if n_resamples < 1:
        raise InvalidInput("quality.bad_resamples", field="n_resamples", value=n_resamples)
    rng = np.random.default_rng(seed)
    batch = max(1, min(n_resamples, _BATCH_CELLS // n_items))
    values: list[FloatArray] = []
    done = 0
    while done < n_resamples:
        size = min(batch, n_resamples - done)
        draws = rng.integers(0, n_items, size=(size, n_items))
        draws += (np.arange(size) * n_items)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n_items).reshape(size, n_items)
        values.append(np.asarray(statistic(counts.astype(np.float64) @ item_stats)))
        done += size
    replicates = np.concatenate(values)
    finite = replicates[np.isfinite(replicates)]
    if finite.size < n_resamples / 2:
        raise InvalidInput("quality.bootstrap_undefined", count=n_resamples - finite.size)
    alpha = 1 - confidence
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return ConfidenceInterval(float(low), float(high), confidence)

"""Intervals: known values, exactness, and coverage by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from labelops.errors import InvalidInput
from labelops.quality.agreement import (
    _cohen_analytic,
    _fleiss_analytic,
    _fleiss_parts,
    compute_cohen_kappa,
    compute_fleiss_kappa,
)
from labelops.quality.intervals import (
    bootstrap_interval,
    clopper_pearson_interval,
    wilson_bounds,
    wilson_interval,
)


def test_wilson_known_value():
    interval = wilson_interval(8, 10)
    assert interval.low == pytest.approx(0.4901624, abs=1e-6)
    assert interval.high == pytest.approx(0.9433178, abs=1e-6)


def test_clopper_pearson_matches_scipy():
    for k, n in [(0, 10), (3, 17), (17, 17), (50, 400)]:
        expected = binomtest(k, n).proportion_ci(0.95, method="exact")
        got = clopper_pearson_interval(k, n)
        assert got.low == pytest.approx(expected.low, abs=1e-9)
        assert got.high == pytest.approx(expected.high, abs=1e-9)


def test_bad_inputs_raise():
    with pytest.raises(InvalidInput):
        wilson_interval(1, 0)
    with pytest.raises(InvalidInput):
        wilson_interval(5, 3)
    with pytest.raises(InvalidInput):
        clopper_pearson_interval(1, 2, confidence=1.5)
    with pytest.raises(InvalidInput):
        bootstrap_interval(np.ones((3, 1)), lambda s: s[:, 0], n_resamples=0)


def test_wilson_coverage():
    rng = np.random.default_rng(0)
    p, n, runs = 0.07, 200, 2000
    successes = rng.binomial(n, p, size=runs)
    low, high = wilson_bounds(successes, np.full(runs, n))
    assert wilson_interval(int(successes[0]), n).low == pytest.approx(low[0])
    assert abs(np.mean((low <= p) & (p <= high)) - 0.95) < 0.02


CONFUSION = np.array([[0.85, 0.15], [0.25, 0.75]])
PRIOR = [0.7, 0.3]


def _kappa_samples(runs: int, n_items: int, n_labellers: int, seed: int) -> np.ndarray:
    """``(runs, n_items, n_labellers)`` binary answers of planted labellers, vectorised.

    The same generator as ``simulate_answers(..., labeller_confusions=CONFUSION)`` with
    every labeller on every item, drawn for all runs at once so that a coverage study of
    a few hundred runs costs milliseconds.
    """
    rng = np.random.default_rng(seed)
    truth = rng.choice(2, size=(runs, n_items, 1), p=PRIOR)
    wrong = rng.random((runs, n_items, n_labellers)) >= CONFUSION[truth, truth]
    return np.where(wrong, 1 - truth, truth)


def _population_kappa(n_labellers: int) -> float:
    labels = _kappa_samples(1, 400_000, n_labellers, seed=999)[0]
    if n_labellers == 2:
        confusion = np.zeros((2, 2))
        np.add.at(confusion, (labels[:, 0], labels[:, 1]), 1)
        low, high = _cohen_analytic(confusion, 0.95)
    else:
        counts = np.column_stack([(labels == 0).sum(axis=1), (labels == 1).sum(axis=1)])
        low, high = _fleiss_analytic(counts.astype(float), 0.95)
    assert low is not None and high is not None
    return (low + high) / 2


def test_bootstrap_coverage_of_fleiss_kappa():
    """300 simulated studies of 150 items x 4 labellers: the 95% percentile bootstrap.

    The population value is kappa on 400k items from the same generator; coverage must be
    within 0.05 of 0.95 (binomial sd at 300 runs is 0.0126; the percentile bootstrap
    under-covers slightly at 150 items). ``compute_fleiss_kappa`` is the same
    ``bootstrap_interval`` over ``_fleiss_parts`` (checked on one run below).
    """
    population = _population_kappa(4)
    samples = _kappa_samples(300, 150, 4, seed=1)
    covered = 0
    for run, labels in enumerate(samples):
        counts = np.column_stack([(labels == 0).sum(axis=1), (labels == 1).sum(axis=1)])
        stats, statistic = _fleiss_parts(counts.astype(float))
        interval = bootstrap_interval(stats, statistic, n_resamples=200, seed=run)
        covered += interval.low <= population <= interval.high
    assert abs(covered / 300 - 0.95) < 0.05
    frame = _frame(samples[0])
    result = compute_fleiss_kappa(frame, n_resamples=200, seed=0, per_class=False)
    assert (result.ci_low, result.ci_high) == (interval_of(samples[0], seed=0))


def interval_of(labels: np.ndarray, *, seed: int) -> tuple[float, float]:
    counts = np.column_stack([(labels == 0).sum(axis=1), (labels == 1).sum(axis=1)])
    stats, statistic = _fleiss_parts(counts.astype(float))
    interval = bootstrap_interval(stats, statistic, n_resamples=200, seed=seed)
    return interval.low, interval.high


def _frame(labels: np.ndarray) -> pd.DataFrame:
    items, labellers = np.indices(labels.shape)
    return pd.DataFrame(
        {"item_id": items.ravel(), "labeller_id": labellers.ravel(), "label": labels.ravel()}
    )


@pytest.mark.parametrize("n_labellers", [2, 4])
def test_analytic_coverage_of_kappa(n_labellers):
    """Analytic 95% intervals over 1000 simulated studies of 150 items.

    Cohen (2 labellers): Fleiss-Cohen-Everitt standard error; Fleiss (4): Gwet's
    linearisation. Coverage must be within 0.025 of 0.95 (binomial sd at 1000 runs is
    0.007; Wald-type intervals under-cover slightly at 150 items). The public functions
    give the same interval as the formula on one run (checked below).
    """
    population = _population_kappa(n_labellers)
    samples = _kappa_samples(1000, 150, n_labellers, seed=2)
    covered = 0
    for labels in samples:
        if n_labellers == 2:
            confusion = np.zeros((2, 2))
            np.add.at(confusion, (labels[:, 0], labels[:, 1]), 1)
            low, high = _cohen_analytic(confusion, 0.95)
        else:
            counts = np.column_stack([(labels == 0).sum(axis=1), (labels == 1).sum(axis=1)])
            low, high = _fleiss_analytic(counts.astype(float), 0.95)
        assert low is not None and high is not None
        covered += low <= population <= high
    assert abs(covered / 1000 - 0.95) < 0.025
    compute = compute_cohen_kappa if n_labellers == 2 else compute_fleiss_kappa
    result = compute(_frame(samples[-1]), ci_method="analytic", per_class=False)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-12)

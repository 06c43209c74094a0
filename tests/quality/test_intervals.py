"""Intervals: known values, exactness, and coverage by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from labelops.errors import InvalidInput
from labelops.quality.agreement import compute_fleiss_kappa
from labelops.quality.intervals import (
    bootstrap_interval,
    clopper_pearson_interval,
    wilson_interval,
)
from labelops.quality.simulate import simulate_answers


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
    covered = [wilson_interval(k, n).low <= p <= wilson_interval(k, n).high for k in successes]
    assert abs(np.mean(covered) - 0.95) < 0.02


def test_bootstrap_coverage_of_fleiss_kappa():
    """300 simulations with planted labellers: the 95% interval covers the population kappa.

    The population value is the kappa of one very large sample from the same generator;
    coverage must be within 0.05 of 0.95 (binomial sd at 300 runs is 0.0126; percentile
    bootstrap under-covers slightly at 150 items).
    """
    confusions = np.tile(np.array([[0.85, 0.15], [0.25, 0.75]]), (4, 1, 1))
    common = {"labels_per_item": 4, "class_prior": [0.7, 0.3], "labeller_confusions": confusions}
    population = compute_fleiss_kappa(
        simulate_answers(200_000, 4, 2, seed=999, **common).answers, n_resamples=0, per_class=False
    ).value
    covered = 0
    runs = 300
    for seed in range(runs):
        sim = simulate_answers(150, 4, 2, seed=seed, **common)
        result = compute_fleiss_kappa(sim.answers, n_resamples=200, seed=seed, per_class=False)
        covered += result.ci_low <= population <= result.ci_high
    assert abs(covered / runs - 0.95) < 0.05

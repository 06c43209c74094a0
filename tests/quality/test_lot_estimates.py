"""Lot accuracy estimates: hand-checked values, coverage over seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labelops.errors import InvalidInput
from labelops.quality.lot_estimates import compute_class_quality, estimate_lot_accuracy
from labelops.quality.sampling import draw_simple_random, draw_stratified


def test_wilson_without_fpc_matches_the_textbook_value():
    est = estimate_lot_accuracy([True] * 90 + [False] * 10)
    # Wilson 95 % for 90/100: [0.8256, 0.9448] (Newcombe 1998, method 3)
    assert est.accuracy_rate == pytest.approx(0.9)
    assert est.ci_low == pytest.approx(0.8256, abs=5e-4)
    assert est.ci_high == pytest.approx(0.9448, abs=5e-4)
    assert est.method == "wilson_fpc" and est.n_audited == 100


def test_fpc_narrows_the_interval_and_a_census_is_exact():
    flags = [True] * 90 + [False] * 10
    wide = estimate_lot_accuracy(flags)
    narrow = estimate_lot_accuracy(flags, population=200)
    assert narrow.ci_high - narrow.ci_low < wide.ci_high - wide.ci_low
    assert narrow.effective_sample_size == pytest.approx(100 / (100 / 199))
    census = estimate_lot_accuracy(flags, population=100)
    assert (census.ci_low, census.ci_high) == (0.9, 0.9)
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy(flags, population=50)


def test_stratified_estimate_by_hand():
    # stratum a: N=900, 10 audited, 9 correct; stratum b: N=100, 10 audited, 5 correct
    correct = [True] * 9 + [False] + [True] * 5 + [False] * 5
    strata = ["a"] * 10 + ["b"] * 10
    est = estimate_lot_accuracy(correct, strata=strata, strata_sizes={"a": 900, "b": 100})
    assert est.accuracy_rate == pytest.approx(0.9 * 0.9 + 0.1 * 0.5)
    var = (
        0.81 * (1 - 10 / 900) * (0.9 * 0.1 * 10 / 9) / 10 + 0.01 * (1 - 0.1) * (0.25 * 10 / 9) / 10
    )
    assert est.standard_error == pytest.approx(math.sqrt(var))
    assert est.ci_low < est.accuracy_rate < est.ci_high
    weights = [90.0] * 10 + [10.0] * 10
    same = estimate_lot_accuracy(correct, strata=strata, weights=weights)
    assert same.accuracy_rate == pytest.approx(est.accuracy_rate)
    assert same.population_size == 1000


def test_pure_strata_keep_the_interval_open():
    est = estimate_lot_accuracy(
        [True] * 20, strata=["a"] * 10 + ["b"] * 10, strata_sizes={"a": 500, "b": 50}
    )
    assert est.accuracy_rate == 1.0 and est.ci_low < 0.95 and est.ci_high == 1.0


def test_bad_input():
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy([])
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy([0, 2, 1])
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy([True, False], strata=["a"])
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy([True, False], strata=["a", "b"], strata_sizes={"a": 3})
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy([True, False], strata=["a", "a"], weights=[0.5, 0.5])
    with pytest.raises(InvalidInput):
        estimate_lot_accuracy([True], confidence=1.5)


def test_wilson_fpc_covers_the_true_lot_accuracy():
    rng = np.random.default_rng(11)
    lot_size, n, runs, hits = 2000, 120, 500, 0
    correct = rng.random(lot_size) < 0.93
    truth = correct.mean()
    for seed in range(runs):
        ids = draw_simple_random(np.arange(lot_size), n, seed=seed).ids
        est = estimate_lot_accuracy(correct[list(ids)], population=lot_size)
        hits += est.ci_low <= truth <= est.ci_high
    assert 0.92 <= hits / runs <= 0.985, hits / runs


def test_stratified_interval_covers_the_true_lot_accuracy():
    rng = np.random.default_rng(12)
    sizes = {"ok": 1800, "adult": 150, "scam": 50}
    rates = {"ok": 0.97, "adult": 0.8, "scam": 0.6}
    ids, strata, correct = [], [], []
    for name, size in sizes.items():
        start = len(ids)
        ids += list(range(start, start + size))
        strata += [name] * size
        correct += list(rng.random(size) < rates[name])
    correct_arr = np.array(correct)
    truth = correct_arr.mean()
    frame = {name: [i for i, s in zip(ids, strata, strict=True) if s == name] for name in sizes}
    runs, hits, estimates = 500, 0, []
    for seed in range(runs):
        draw = draw_stratified(frame, 150, allocation="equal", seed=seed).sample
        est = estimate_lot_accuracy(
            correct_arr[draw["id"].to_numpy(dtype=int)],
            strata=draw["stratum"].tolist(),
            weights=draw["weight"].to_numpy(),
        )
        estimates.append(est.accuracy_rate)
        hits += est.ci_low <= truth <= est.ci_high
    # nominal 95 %; the Agresti-Coull-adjusted variance makes it slightly conservative
    assert 0.93 <= hits / runs <= 0.995, hits / runs
    # unbiased: the mean of the estimates is within 4 standard errors of the truth
    se = np.std(estimates) / np.sqrt(runs)
    assert abs(np.mean(estimates) - truth) <= 4 * se


def test_class_quality():
    vendor = ["ok", "ok", "adult", "adult", "scam", "ok"]
    auditor = ["ok", "adult", "adult", "adult", "ok", "ok"]
    by_label = {q.label: q for q in compute_class_quality(vendor, auditor)}
    assert by_label["ok"].precision_rate == pytest.approx(2 / 3)
    assert by_label["ok"].recall_rate == pytest.approx(2 / 3)
    assert by_label["adult"].precision_rate == 1.0
    assert by_label["adult"].recall_rate == pytest.approx(2 / 3)
    assert by_label["scam"].precision_rate == 0.0 and math.isnan(by_label["scam"].recall_rate)
    weighted = {
        q.label: q for q in compute_class_quality(vendor, auditor, weights=[1, 3, 1, 1, 1, 1])
    }
    assert weighted["adult"].recall_rate == pytest.approx(2 / 5)
    with pytest.raises(InvalidInput):
        compute_class_quality(["a"], ["a", "b"])

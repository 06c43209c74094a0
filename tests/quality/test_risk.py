"""Risk scores and the two-part audit sample."""

from __future__ import annotations

import numpy as np
import pytest

from labelops.errors import InvalidInput
from labelops.quality.lot_estimates import estimate_lot_accuracy
from labelops.quality.risk import DEFAULT_RISK_WEIGHTS, compute_label_risk, draw_audit_sample


def test_each_feature_raises_risk():
    base = compute_label_risk(
        posterior_disagreement=[0.1, 0.1],
        labeller_error=[0.1, 0.1],
        item_disagreement=[0.1, 0.1],
        handle_time_s=[10.0, 10.0],
        median_handle_time_s=[10.0, 10.0],
    )
    assert base[0] == base[1]
    for name, worse in [
        ("posterior_disagreement", [0.1, 0.8]),
        ("labeller_error", [0.1, 0.5]),
        ("item_disagreement", [0.1, 0.6]),
        ("handle_time_s", [10.0, 2.0]),
    ]:
        kwargs = {
            "posterior_disagreement": [0.1, 0.1],
            "labeller_error": [0.1, 0.1],
            "item_disagreement": [0.1, 0.1],
            "handle_time_s": [10.0, 10.0],
            "median_handle_time_s": [10.0, 10.0],
        }
        kwargs[name] = worse
        scores = compute_label_risk(**kwargs)
        assert scores[1] > scores[0], name


def test_combination_is_the_documented_logistic_sum():
    scores = compute_label_risk(posterior_disagreement=[0.5], labeller_error=[0.2])
    w = DEFAULT_RISK_WEIGHTS
    linear = w["intercept"] + w["posterior_disagreement"] * 0.5 + w["labeller_error"] * 0.2
    assert scores[0] == pytest.approx(1 / (1 + np.exp(-linear)))


def test_missing_values_contribute_nothing_and_slow_labels_are_not_rewarded():
    scores = compute_label_risk(
        posterior_disagreement=[np.nan, 0.0],
        handle_time_s=[100.0, np.nan],
        median_handle_time_s=[10.0, 10.0],
    )
    assert scores[0] == pytest.approx(scores[1])
    assert np.all((scores > 0) & (scores < 1))


def test_bad_features():
    with pytest.raises(InvalidInput):
        compute_label_risk()
    with pytest.raises(InvalidInput):
        compute_label_risk(posterior_disagreement=[0.1], labeller_error=[0.1, 0.2])
    with pytest.raises(InvalidInput):
        compute_label_risk(item_disagreement=[1.5])
    with pytest.raises(InvalidInput):
        compute_label_risk(handle_time_s=[0.0], median_handle_time_s=[3.0])


def test_audit_sample_parts_are_separate_and_reproducible():
    ids = [f"l{i}" for i in range(100)]
    risk = np.linspace(0, 1, 100)
    sample = draw_audit_sample(ids, random_n=10, targeted_n=15, risk_scores=risk, seed=5)
    assert sample == draw_audit_sample(ids, random_n=10, targeted_n=15, risk_scores=risk, seed=5)
    assert len(sample.random_ids) == 10 and len(sample.targeted_ids) == 15
    assert not set(sample.random_ids) & set(sample.targeted_ids)
    # targeted = the 15 riskiest among those not drawn at random
    rest = [i for i in reversed(ids) if i not in sample.random_ids]
    assert list(sample.targeted_ids) == rest[:15]
    assert sample.part_of(sample.random_ids[0]) == "random"
    assert sample.part_of(sample.targeted_ids[0]) == "targeted"
    assert sample.part_of("nope") is None


def test_random_part_ignores_risk_and_stays_unbiased():
    rng = np.random.default_rng(3)
    n_lot = 1000
    wrong = rng.random(n_lot) < 0.1
    risk = np.where(wrong, 0.9, 0.1) + rng.normal(0, 0.05, n_lot)
    estimates, targeted_hits = [], []
    for seed in range(200):
        sample = draw_audit_sample(
            np.arange(n_lot), random_n=50, targeted_n=50, risk_scores=risk, seed=seed
        )
        random_idx = np.array(sample.random_ids, dtype=int)
        estimates.append(estimate_lot_accuracy(~wrong[random_idx]).accuracy_rate)
        targeted_hits.append(wrong[np.array(sample.targeted_ids, dtype=int)].mean())
    truth = 1 - wrong.mean()
    assert abs(np.mean(estimates) - truth) <= 4 * np.std(estimates) / np.sqrt(200)
    assert np.mean(targeted_hits) > 0.9  # the targeted part finds the planted errors


def test_audit_sample_sizes_checked():
    with pytest.raises(InvalidInput):
        draw_audit_sample([1, 2, 3], random_n=2, targeted_n=2, risk_scores=[0, 0, 0], seed=0)
    with pytest.raises(InvalidInput):
        draw_audit_sample([1, 2, 3], random_n=-1, targeted_n=0, risk_scores=[0, 0, 0], seed=0)
    with pytest.raises(InvalidInput):
        draw_audit_sample([1, 2, 3], random_n=1, targeted_n=0, risk_scores=[0, 0], seed=0)
    with pytest.raises(InvalidInput):
        draw_audit_sample([1, 1], random_n=1, targeted_n=0, risk_scores=[0, 0], seed=0)

"""Risk scores and the two-part audit sample."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from labelops.errors import InvalidInput
from labelops.quality.aggregation import DawidSkene
from labelops.quality.lot_estimates import estimate_lot_accuracy
from labelops.quality.risk import (
    DEFAULT_RISK_WEIGHTS,
    compute_label_risk,
    draw_audit_sample,
    estimate_label_error,
)
from labelops.quality.simulate import simulate_answers


@pytest.mark.parametrize("combine", ["sum", "stand-in"])
def test_each_feature_raises_risk(combine):
    # Under "stand-in" the posterior is missing (NaN), so the other features count.
    posterior = [0.1, 0.1] if combine == "sum" else [np.nan, np.nan]
    base_kwargs = {
        "posterior_disagreement": posterior,
        "labeller_error": [0.1, 0.1],
        "item_disagreement": [0.1, 0.1],
        "handle_time_s": [10.0, 10.0],
        "median_handle_time_s": [10.0, 10.0],
    }
    base = compute_label_risk(**base_kwargs, combine=combine)
    assert base[0] == base[1]
    for name, worse in [
        ("posterior_disagreement", [0.1, 0.8]),
        ("labeller_error", [0.1, 0.5]),
        ("item_disagreement", [0.1, 0.6]),
        ("handle_time_s", [10.0, 2.0]),
    ]:
        kwargs = {**base_kwargs, name: worse}
        scores = compute_label_risk(**kwargs, combine=combine)
        assert scores[1] > scores[0], name


def test_stand_in_features_count_only_where_the_posterior_is_missing():
    # The posterior already holds labeller reliability and item agreement: a weak labeller
    # must not outrank an equally contradicted label from a reliable one.
    scores = compute_label_risk(
        posterior_disagreement=[0.9, 0.9, np.nan],
        labeller_error=[0.05, 0.6, 0.6],
        item_disagreement=[0.0, 0.5, 0.5],
        handle_time_s=[10.0, 10.0, 10.0],
        median_handle_time_s=[10.0, 20.0, 10.0],
    )
    w = DEFAULT_RISK_WEIGHTS
    expected = [
        w["intercept"] + w["posterior_disagreement"] * 0.9,
        w["intercept"] + w["posterior_disagreement"] * 0.9 + w["speed"] * math.log(2.0),
        w["intercept"] + w["labeller_error"] * 0.6 + w["item_disagreement"] * 0.5,
    ]
    assert scores == pytest.approx([1 / (1 + math.exp(-x)) for x in expected])
    summed = compute_label_risk(
        posterior_disagreement=[0.9], labeller_error=[0.6], item_disagreement=[0.5], combine="sum"
    )
    linear = (
        sum(
            w[k] * v
            for k, v in [
                ("posterior_disagreement", 0.9),
                ("labeller_error", 0.6),
                ("item_disagreement", 0.5),
            ]
        )
        + w["intercept"]
    )
    assert summed[0] == pytest.approx(1 / (1 + math.exp(-linear)))


def test_combination_is_the_documented_logistic_sum():
    scores = compute_label_risk(posterior_disagreement=[0.5], labeller_error=[0.2], combine="sum")
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
        compute_label_risk(posterior_disagreement=[0.1], combine="mean")  # type: ignore[arg-type]
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


def _reference_label_error(answers, posterior, gold, smoothing):
    """The documented formula, written out with loops (slow, obviously right)."""
    classes = sorted(set(answers["label"]) | set(posterior.columns) | set(gold.values()))
    items = list(dict.fromkeys(answers["item_id"]))
    q = {}
    for item in items:
        if item in gold:
            q[item] = {k: float(k == gold[item]) for k in classes}
        else:
            row = {k: float(posterior.loc[item].get(k, 0.0)) for k in classes}
            q[item] = {k: v / sum(row.values()) for k, v in row.items()}
    confusion = {}
    for labeller in set(answers["labeller_id"]):
        mine = answers[answers["labeller_id"] == labeller]
        for k in classes:
            total = sum(q[i][k] for i in mine["item_id"]) + len(classes) * smoothing
            for lab in classes:
                hits = sum(
                    q[i][k] for i, y in zip(mine["item_id"], mine["label"], strict=True) if y == lab
                )
                confusion[labeller, k, lab] = (hits + smoothing) / total
    prior = {
        k: (sum(q[i][k] for i in items) + smoothing) / (len(items) + len(classes) * smoothing)
        for k in classes
    }
    out = []
    for item, label in zip(answers["item_id"], answers["label"], strict=True):
        if item in gold:
            out.append(float(label != gold[item]))
            continue
        on_item = answers[answers["item_id"] == item]
        joint = {
            k: prior[k]
            * math.prod(
                confusion[w, k, y]
                for w, y in zip(on_item["labeller_id"], on_item["label"], strict=True)
            )
            for k in classes
        }
        out.append(1.0 - joint[label] / sum(joint.values()))
    return np.array(out)


def test_label_error_matches_the_formula_written_out():
    rng = np.random.default_rng(4)
    answers = pd.DataFrame(
        {
            "item_id": np.repeat(np.arange(12), 4),
            "labeller_id": rng.choice(["a", "b", "c", "d", "e", "f"], size=48),
            "label": rng.choice(["ok", "spam", "scam"], size=48, p=[0.5, 0.3, 0.2]),
        }
    ).drop_duplicates(["item_id", "labeller_id"], ignore_index=True)
    posterior = DawidSkene().fit(answers).probas_
    gold = pd.Series({0: "spam", 5: "ok"})
    for smoothing in (1.0, 0.3):
        got = estimate_label_error(answers, posterior, gold=gold, smoothing=smoothing)
        want = _reference_label_error(answers, posterior, gold.to_dict(), smoothing)
        assert got.probability == pytest.approx(want, abs=1e-9)
        on_gold = answers["item_id"].isin(gold.index).to_numpy()
        assert np.all(np.isinf(got.log_odds[on_gold]))
        assert np.all(np.isfinite(got.log_odds[~on_gold]))
        assert got.confusion.shape == (len(got.labellers), 3, 3)
        assert got.confusion.sum(axis=2) == pytest.approx(np.ones((len(got.labellers), 3)))


def test_gold_mistakes_lower_trust_in_a_labeller():
    # Two labellers disagree on item 9; b was wrong on every gold item, a right.
    gold = pd.Series(dict.fromkeys(range(8), "x"))
    answers = pd.DataFrame(
        {
            "item_id": [*range(8), *range(8), 9, 9],
            "labeller_id": ["a"] * 8 + ["b"] * 8 + ["a", "b"],
            "label": ["x"] * 8 + ["y"] * 8 + ["x", "y"],
        }
    )
    flat = pd.DataFrame({"x": 0.5, "y": 0.5}, index=[*range(8), 9])
    without = estimate_label_error(answers, flat)
    with_gold = estimate_label_error(answers, flat, gold=gold)
    a_on_9, b_on_9 = 16, 17
    assert with_gold.probability[b_on_9] > 0.9 > 0.1 > with_gold.probability[a_on_9]
    assert with_gold.probability[b_on_9] > without.probability[b_on_9]
    assert list(with_gold.probability[:16]) == [0.0] * 8 + [1.0] * 8


def test_label_error_ranks_errors_better_than_the_raw_posterior():
    # Many labellers with few answers each (24): unsmoothed confusion matrices overfit and
    # the raw posterior ties hundreds of labels at 1.0; the smoothed estimate does not.
    sim = simulate_answers(600, 150, 4, labels_per_item=6, accuracy_range=(0.35, 0.9), seed=1)
    answers = sim.answers
    wrong = answers["label"].to_numpy() != sim.true_labels.reindex(answers["item_id"]).to_numpy()
    posterior = DawidSkene().fit(answers).probas_
    raw = (
        1.0
        - posterior.to_numpy()[
            posterior.index.get_indexer(answers["item_id"]),
            posterior.columns.get_indexer(answers["label"]),
        ]
    )
    estimate = estimate_label_error(answers, posterior)
    tie_break = np.random.default_rng(0).random(len(answers))

    def precision_at(scores, k=150):
        return wrong[np.lexsort((tie_break, -scores))[:k]].mean()

    assert precision_at(estimate.log_odds) >= 0.97
    assert precision_at(estimate.log_odds) > precision_at(raw)
    assert precision_at(estimate.probability) >= 0.97


def test_label_error_bad_input():
    answers = pd.DataFrame({"item_id": [1, 2], "labeller_id": ["a", "a"], "label": ["x", "y"]})
    posterior = pd.DataFrame({"x": [1.0], "y": [0.0]}, index=[1])
    with pytest.raises(InvalidInput):
        estimate_label_error(answers, posterior)  # item 2 has no posterior
    full = pd.DataFrame({"x": [1.0, 0.0], "y": [0.0, 1.0]}, index=[1, 2])
    with pytest.raises(InvalidInput):
        estimate_label_error(answers, full, smoothing=0.0)
    one_class = estimate_label_error(
        answers.assign(label="x"), pd.DataFrame({"x": [1.0, 1.0]}, index=[1, 2])
    )
    assert list(one_class.probability) == [0.0, 0.0]

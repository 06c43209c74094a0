"""Aggregators: toy cases, ties, gold clamping, planted truth, invariants, scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelops.errors import InvalidInput
from labelops.quality.aggregation import (
    GLAD,
    MACE,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
    make_aggregator,
)
from labelops.quality.simulate import simulate_answers

ALL = [MajorityVote, WeightedMajorityVote, DawidSkene, OneCoinDawidSkene, GLAD, MACE]


def test_majority_vote_reports_ties(toy_answers):
    model = MajorityVote().fit(toy_answers)
    assert model.labels_.loc[1] == "ok" and model.labels_.loc[3] == "bad"
    assert model.tied_.loc[5] and not model.tied_.loc[1]
    assert model.labels_.loc[5] == "bad"  # documented rule: first tied class in sorted order
    assert model.probas_.loc[2, "ok"] == pytest.approx(2 / 3)


def test_gold_is_clamped(toy_answers):
    gold = pd.Series({5: "ok", 3: "ok"})
    for estimator in ALL:
        model = estimator().fit(toy_answers, gold=gold)
        assert model.labels_.loc[5] == "ok" and model.labels_.loc[3] == "ok"
        assert model.probas_.loc[3, "ok"] == 1.0


def test_gold_with_unknown_label_raises(toy_answers):
    # A gold class nobody used is fine (it becomes a class) ...
    model = DawidSkene().fit(toy_answers, gold=pd.Series({1: "new"}))
    assert "new" in model.probas_.columns
    with pytest.raises(InvalidInput):
        make_aggregator("nope")


def test_weighted_majority_uses_given_skills(toy_answers):
    model = WeightedMajorityVote(skills=pd.Series({"a": 5.0, "b": 1.0, "c": 1.0}))
    labels = model.fit_predict(toy_answers)
    assert labels.loc[4] == "ok" and labels.loc[5] == "ok"
    assert model.skills_.loc["a"] == 5.0


@pytest.mark.parametrize("estimator", [DawidSkene, OneCoinDawidSkene, GLAD, MACE])
def test_planted_truth_is_recovered(estimator):
    sim = simulate_answers(2000, 30, 3, labels_per_item=5, accuracy_range=(0.55, 0.9), seed=7)
    labels = estimator().fit_predict(sim.answers)
    accuracy = float((labels.reindex(sim.true_labels.index) == sim.true_labels).mean())
    majority = float(
        (
            MajorityVote().fit_predict(sim.answers).reindex(sim.true_labels.index)
            == sim.true_labels
        ).mean()
    )
    assert accuracy >= majority - 0.01
    assert accuracy > 0.9


def test_dawid_skene_recovers_confusions_and_spammers():
    sim = simulate_answers(3000, 20, 2, labels_per_item=5, spammer_fraction=0.2, seed=3)
    model = DawidSkene().fit(sim.answers)
    order = model.encoded_.labellers.get_indexer(pd.Index(range(20)))
    estimated = model.errors_[order]
    assert np.abs(estimated - sim.confusions).max() < 0.12
    mace = MACE().fit(sim.answers)
    competence = mace.competence_.reindex(range(20)).to_numpy()
    assert competence[sim.spammers].max() < competence[~sim.spammers].min()


def test_deterministic():
    sim = simulate_answers(300, 10, 3, seed=1)
    for estimator in ALL:
        one = estimator().fit_predict_proba(sim.answers)
        two = estimator().fit_predict_proba(sim.answers)
        pd.testing.assert_frame_equal(one, two)


answers_strategy = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 5), st.sampled_from(["a", "b", "c"])),
    min_size=1,
    max_size=60,
)


@settings(max_examples=25, deadline=None)
@given(rows=answers_strategy)
def test_probabilities_are_distributions(rows):
    frame = pd.DataFrame(rows, columns=["item_id", "labeller_id", "label"])
    for estimator in ALL:
        probas = estimator().fit_predict_proba(frame)
        values = probas.to_numpy()
        assert np.isfinite(values).all()
        assert (values >= 0).all() and (values <= 1 + 1e-12).all()
        np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-9)
        assert set(probas.index) == set(frame["item_id"])


@settings(max_examples=15, deadline=None)
@given(rows=answers_strategy, seed=st.integers(0, 100))
def test_permuting_labeller_ids_changes_nothing(rows, seed):
    frame = pd.DataFrame(rows, columns=["item_id", "labeller_id", "label"])
    names = np.arange(6)
    mapping = dict(zip(names, np.random.default_rng(seed).permutation(names), strict=True))
    renamed = frame.assign(labeller_id=frame["labeller_id"].map(mapping))
    for estimator in (MajorityVote, DawidSkene, OneCoinDawidSkene, GLAD):
        one = estimator().fit_predict_proba(frame)
        two = estimator().fit_predict_proba(renamed).loc[one.index, one.columns]
        np.testing.assert_allclose(one.to_numpy(), two.to_numpy(), atol=1e-6)


def test_empty_answers_raise():
    with pytest.raises(InvalidInput):
        DawidSkene().fit(pd.DataFrame({"item_id": [], "labeller_id": [], "label": []}))

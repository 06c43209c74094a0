"""Labeller accuracy from gold and from the model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelops.quality.simulate import simulate_answers
from labelops.quality.skill import estimate_labeller_accuracy


def test_gold_and_model_sources(toy_answers):
    results = estimate_labeller_accuracy(toy_answers, gold=pd.Series({1: "ok", 2: "ok"}))
    assert {r.source for r in results} == {"gold"}
    a = next(r for r in results if r.labeller_id == "b")
    assert a.accuracy_rate == 0.5 and a.n_answers == 2
    assert a.ci_low < 0.5 < a.ci_high
    assert a.confusion.sum() == 2


def test_model_estimate_tracks_planted_accuracy():
    sim = simulate_answers(3000, 15, 3, labels_per_item=5, seed=5)
    gold = sim.true_labels.iloc[:300]
    results = estimate_labeller_accuracy(sim.answers, gold=gold, min_gold_answers=200)
    by_id = {r.labeller_id: r for r in results}
    sources = {r.source for r in results}
    assert sources <= {"gold", "model"} and "model" in sources
    estimated = np.array([by_id[w].accuracy_rate for w in range(15)])
    assert np.abs(estimated - sim.accuracies).max() < 0.06
    for w in range(15):
        assert by_id[w].ci_low <= by_id[w].accuracy_rate <= by_id[w].ci_high

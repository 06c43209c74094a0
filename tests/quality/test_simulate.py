"""The planted-truth simulator."""

from __future__ import annotations

import numpy as np
import pytest

from labelops.errors import InvalidInput
from labelops.quality.simulate import simulate_answers


def test_shapes_and_determinism():
    one = simulate_answers(500, 12, 4, labels_per_item=3, spammer_fraction=0.25, seed=2)
    two = simulate_answers(500, 12, 4, labels_per_item=3, spammer_fraction=0.25, seed=2)
    assert len(one.answers) == 1500 and one.spammers.sum() == 3
    assert one.answers.equals(two.answers)
    np.testing.assert_allclose(one.confusions.sum(axis=2), 1.0)
    per_item = one.answers.groupby("item_id")["labeller_id"].nunique()
    assert (per_item == 3).all()


def test_planted_accuracy_shows_in_answers():
    sim = simulate_answers(20_000, 5, 2, labels_per_item=5, accuracy_range=(0.8, 0.8), seed=4)
    truth = sim.true_labels.to_numpy()[sim.answers["item_id"].to_numpy()]
    assert (sim.answers["label"].to_numpy() == truth).mean() == pytest.approx(0.8, abs=0.01)


def test_bad_settings_raise():
    with pytest.raises(InvalidInput):
        simulate_answers(10, 2, 2, labels_per_item=3)
    with pytest.raises(InvalidInput):
        simulate_answers(10, 5, 2, class_prior=[0.5, 0.6])

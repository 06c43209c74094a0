"""Our aggregators against crowd-kit's on every categorical dataset with gold.

Our accuracy must be within 0.5 percentage points of crowd-kit's same method, or better.
crowd-kit runs live in this test wherever that is affordable. crowd-kit's MACE reseeds
every restart with the same ``random_state``, so its 10 restarts are identical and
``n_restarts=1`` gives the same result ten times faster. crowd-kit's GLAD takes 5-20 s per
dataset here (and minutes on jn-product), so for the larger sets we compare against the
accuracy it reached in a recorded run of ``bench/aggregation.py --oracle-table`` (same
crowd-kit 1.4.2, same data); those constants are the only recorded figures.
"""

from __future__ import annotations

import crowdkit.aggregation as ck
import pytest

from labelops.quality.aggregation import GLAD, MACE, DawidSkene, MajorityVote, OneCoinDawidSkene
from labelops.quality.answers import to_crowdkit

DATASETS = [
    "d_Duck_Identification",
    "d_jn-product",
    "s4_Dog_data",
    "s4_Face_Sentiment_Identification",
    "rte",
    "temp",
    "wsd",
]

OURS = {
    "majority": MajorityVote,
    "dawid-skene": DawidSkene,
    "one-coin": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": MACE,
}

# crowd-kit 1.4.2 GLAD / MACE accuracies where running it here is too slow for a unit test.
RECORDED = {
    ("d_Duck_Identification", "glad"): 0.7222,
    ("s4_Dog_data", "glad"): 0.8340,
    ("rte", "glad"): 0.9250,
    ("temp", "glad"): 0.9351,
    ("d_jn-product", "glad"): 0.9282,  # crowd-kit took 96 s
    ("d_jn-product", "dawid-skene"): 0.9397,
    ("d_jn-product", "one-coin"): 0.9084,
    ("s4_Face_Sentiment_Identification", "glad"): 0.6301,
}

# crowd-kit's MACE builds its strategy matrix with ``groupby("worker")`` (sorted names) but
# indexes it with ``pd.factorize`` codes (first-appearance order), so each worker gets
# another worker's spamming distribution. On jn-product this accident scores 0.929; the
# correct model scores 0.827, and our MACE with crowd-kit's row order reproduces 0.9296.
KNOWN_CROWDKIT_BUGS = {("d_jn-product", "mace")}


def _crowdkit(method: str):
    if method == "majority":
        return ck.MajorityVote()
    if method == "dawid-skene":
        return ck.DawidSkene(n_iter=100)
    if method == "one-coin":
        return ck.OneCoinDawidSkene(n_iter=100)
    if method == "glad":
        return ck.GLAD()
    return ck.MACE(n_restarts=1)


def _accuracy(labels, truth) -> float:
    return float((labels.reindex(truth.index).astype(str) == truth.astype(str)).mean())


@pytest.mark.parametrize("method", list(OURS))
@pytest.mark.parametrize("name", DATASETS)
def test_accuracy_matches_crowdkit(crowd_dataset, name, method):
    answers, truth = crowd_dataset(name)
    ours = _accuracy(OURS[method]().fit_predict(answers), truth)
    if (name, method) in RECORDED:
        theirs = RECORDED[(name, method)]
    elif (name, method) in KNOWN_CROWDKIT_BUGS:
        pytest.skip("crowd-kit MACE worker-row misalignment; see KNOWN_CROWDKIT_BUGS")
    else:
        theirs = _accuracy(_crowdkit(method).fit_predict(to_crowdkit(answers)), truth)
    assert ours >= theirs - 0.005, f"{name} {method}: ours {ours:.4f} vs crowd-kit {theirs:.4f}"

"""Our aggregators against crowd-kit's on every categorical dataset with gold.

Our accuracy must be within 0.5 percentage points of crowd-kit's same method, or better.
crowd-kit runs live here only where it takes well under a second: majority vote on every
dataset and Dawid-Skene on the small ones. Its GLAD, MACE and one-coin Dawid-Skene take
1-100 s per dataset on this machine (GLAD minutes on jn-product), so for those we compare
against the accuracy crowd-kit reached in a recorded run (same crowd-kit 1.4.2, same data),
regenerated with ``python bench/aggregation.py --oracle-table``. crowd-kit's MACE reseeds
every restart with the same ``random_state``, so its 10 restarts are identical and the
recorded figures use ``n_restarts=1``.
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

# crowd-kit 1.4.2 accuracies from ``python bench/aggregation.py --oracle-table``.
RECORDED = {
    ("d_Duck_Identification", "glad"): 0.7222,
    ("d_Duck_Identification", "mace"): 0.8056,
    ("d_Duck_Identification", "one-coin"): 0.5833,
    ("d_jn-product", "dawid-skene"): 0.9397,
    ("d_jn-product", "glad"): 0.9282,
    ("d_jn-product", "one-coin"): 0.9084,
    ("s4_Dog_data", "dawid-skene"): 0.8426,
    ("s4_Dog_data", "glad"): 0.8340,
    ("s4_Dog_data", "mace"): 0.8302,
    ("s4_Dog_data", "one-coin"): 0.8302,
    ("s4_Face_Sentiment_Identification", "dawid-skene"): 0.6404,
    ("s4_Face_Sentiment_Identification", "glad"): 0.6301,
    ("s4_Face_Sentiment_Identification", "mace"): 0.6353,
    ("s4_Face_Sentiment_Identification", "one-coin"): 0.6113,
    ("rte", "glad"): 0.9250,
    ("rte", "mace"): 0.9250,
    ("rte", "one-coin"): 0.9250,
    ("temp", "glad"): 0.9351,
    ("temp", "mace"): 0.9394,
    ("temp", "one-coin"): 0.9394,
    ("wsd", "glad"): 0.9944,
    ("wsd", "mace"): 0.9944,
    ("wsd", "one-coin"): 0.9944,
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

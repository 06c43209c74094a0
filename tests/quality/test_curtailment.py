"""Curtailed inspection of a single sampling plan, against a table of cases worked by hand."""

from __future__ import annotations

import pytest

from labelops.errors import InvalidInput
from labelops.quality.sampling import curtail

X, o = True, False  # nonconforming, conforming

# (flags in inspection order, n, Re, accept_early) -> (decision, curtailed_at)
CASES = [
    # Re = 1 (Ac = 0): the first defect rejects; acceptance is certain only at the end.
    ((), 5, 1, True, (None, None)),
    ((o, o, o, o), 5, 1, True, (None, None)),
    ((o, o, o, o, o), 5, 1, True, ("accepted", 5)),
    ((o, X), 5, 1, True, ("rejected", 2)),
    ((o, X, o, o, o), 5, 1, True, ("rejected", 2)),  # finished for the estimate
    # Re = 3 (Ac = 2), n = 8.
    ((X, X), 8, 3, True, (None, None)),
    ((X, o, X, X), 8, 3, True, ("rejected", 4)),
    ((X, o, X, X, o, o, o, o), 8, 3, True, ("rejected", 4)),
    # 0 found, 6 inspected, 2 left: 0 + 2 < 3, accepted at unit 6.
    ((o, o, o, o, o, o), 8, 3, True, ("accepted", 6)),
    ((o, o, o, o, o), 8, 3, True, (None, None)),  # 3 left could still reach Re
    # 1 found at unit 6 (1 + 2 left = Re): open; unit 7 conforming: 1 + 1 < 3 -> accepted.
    ((o, o, o, o, o, X), 8, 3, True, (None, None)),
    ((o, o, o, o, o, X, o), 8, 3, True, ("accepted", 7)),
    ((o, o, o, o, o, X, o, X), 8, 3, True, ("accepted", 7)),  # stays where first reached
    # Without early acceptance only rejection curtails.
    ((o, o, o, o, o, o), 8, 3, False, (None, None)),
    ((o, o, o, o, o, o, o, o), 8, 3, False, (None, None)),
    ((X, X, X), 8, 3, False, ("rejected", 3)),
    # Reduced inspection, Ac = 1 / Re = 4 (a count of 2 or 3 still accepts the lot).
    ((X, X, X), 5, 4, True, (None, None)),
    ((X, X, X, o), 5, 4, True, (None, None)),  # 3 + 1 left could still reach Re
    ((X, X, o, o), 5, 4, True, ("accepted", 4)),
    ((X, X, X, X), 5, 4, True, ("rejected", 4)),
    # A sample smaller than Re can never reject.
    ((), 2, 3, True, ("accepted", 0)),
]


@pytest.mark.parametrize(("flags", "n", "reject", "early", "expected"), CASES)
def test_curtailment_table(flags, n, reject, early, expected):
    result = curtail(list(flags), sample_size=n, reject=reject, accept_early=early)
    assert (result.decision, result.curtailed_at) == expected
    assert result.certain is (expected[0] is not None)
    assert result.n_inspected == len(flags)
    assert result.n_defects == sum(flags)


def test_a_curtailed_decision_is_the_full_samples_decision():
    """Whatever the remaining units turn out to be, the final decision is the same."""
    import itertools

    n, reject = 6, 2
    for flags in itertools.product((o, X), repeat=n):
        full = "rejected" if sum(flags) >= reject else "accepted"
        for k in range(n + 1):
            early = curtail(list(flags[:k]), sample_size=n, reject=reject)
            if early.decision is not None:
                assert early.decision == full, (flags, k)
        assert curtail(list(flags), sample_size=n, reject=reject).decision == full


@pytest.mark.parametrize(("flags", "n", "reject"), [((o,) * 4, 3, 1), ((), 0, 1), ((), 5, 0)])
def test_curtailment_refuses_impossible_input(flags, n, reject):
    with pytest.raises(InvalidInput):
        curtail(list(flags), sample_size=n, reject=reject)

"""Sampling plans against MIL-STD-105E Tables I and II-A/B/C, OC curves, sample designs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from labelops.errors import InvalidInput
from labelops.quality.sampling import (
    AQL_VALUES,
    draw_simple_random,
    draw_stratified,
    find_code_letter,
    find_sampling_plan,
    probability_of_acceptance,
    size_for_margin,
    tighter_accept_number,
)
from labelops.quality.sampling_tables import CODE_LETTERS, LEVELS, MASTER_TABLES

# (lot size, AQL, level, inspection) -> (code letter, plan letter, n, Ac, Re), transcribed
# by hand from MIL-STD-105E Table I and Tables II-A (normal), II-B (tightened), II-C
# (reduced); the comment names the arrow followed, if any.
PUBLISHED = [
    # normal, Table II-A
    (1000, 1.0, "II", "normal", ("J", "J", 80, 2, 3)),
    (1000, 0.10, "II", "normal", ("J", "K", 125, 0, 1)),  # down arrow
    (1000, 0.15, "II", "normal", ("J", "J", 80, 0, 1)),
    (1000, 0.25, "II", "normal", ("J", "H", 50, 0, 1)),  # up arrow
    (1000, 0.40, "II", "normal", ("J", "K", 125, 1, 2)),  # down arrow
    (1000, 0.65, "II", "normal", ("J", "J", 80, 1, 2)),
    (1000, 2.5, "II", "normal", ("J", "J", 80, 5, 6)),
    (1000, 4.0, "II", "normal", ("J", "J", 80, 7, 8)),
    (1000, 6.5, "II", "normal", ("J", "J", 80, 10, 11)),
    (1000, 10, "II", "normal", ("J", "J", 80, 14, 15)),
    (1000, 15, "II", "normal", ("J", "J", 80, 21, 22)),
    (1000, 25, "II", "normal", ("J", "H", 50, 21, 22)),  # up arrow
    (500, 1.5, "II", "normal", ("H", "H", 50, 2, 3)),
    (200, 2.5, "II", "normal", ("G", "G", 32, 2, 3)),
    (100, 4.0, "II", "normal", ("F", "F", 20, 2, 3)),
    (100, 0.65, "II", "normal", ("F", "F", 20, 0, 1)),
    (100, 1.0, "II", "normal", ("F", "E", 13, 0, 1)),  # up arrow
    (100, 1.5, "II", "normal", ("F", "G", 32, 1, 2)),  # down arrow
    (50, 6.5, "II", "normal", ("D", "D", 8, 1, 2)),
    (20, 10, "II", "normal", ("C", "C", 5, 1, 2)),
    (10, 15, "II", "normal", ("B", "B", 3, 1, 2)),
    (5, 25, "II", "normal", ("A", "A", 2, 1, 2)),
    (5, 1000, "II", "normal", ("A", "A", 2, 30, 31)),
    (10, 1000, "II", "normal", ("B", "B", 3, 44, 45)),
    (3200, 0.65, "II", "normal", ("K", "K", 125, 2, 3)),
    (3000, 1.0, "II", "normal", ("K", "K", 125, 3, 4)),
    (10000, 0.40, "II", "normal", ("L", "L", 200, 2, 3)),
    (35000, 0.25, "II", "normal", ("M", "M", 315, 2, 3)),
    (150000, 0.15, "II", "normal", ("N", "N", 500, 2, 3)),
    (500000, 0.10, "II", "normal", ("P", "P", 800, 2, 3)),
    (600000, 0.065, "II", "normal", ("Q", "Q", 1250, 2, 3)),
    (600000, 0.010, "II", "normal", ("Q", "Q", 1250, 0, 1)),
    (13, 6.5, "I", "normal", ("A", "A", 2, 0, 1)),
    (1000, 1.0, "III", "normal", ("K", "K", 125, 3, 4)),
    (1000, 2.5, "S-3", "normal", ("E", "F", 20, 1, 2)),  # down arrow
    (100000, 4.0, "S-1", "normal", ("D", "E", 13, 1, 2)),  # down arrow
    (2000, 0.65, "S-4", "normal", ("G", "F", 20, 0, 1)),  # up arrow
    (2000, 1.0, "S-4", "normal", ("G", "H", 50, 1, 2)),  # down arrow
    # tightened, Table II-B
    (1000, 1.0, "II", "tightened", ("J", "J", 80, 1, 2)),
    (1000, 2.5, "II", "tightened", ("J", "J", 80, 3, 4)),
    (1000, 4.0, "II", "tightened", ("J", "J", 80, 5, 6)),
    (1000, 6.5, "II", "tightened", ("J", "J", 80, 8, 9)),
    (1000, 15, "II", "tightened", ("J", "J", 80, 18, 19)),
    (1000, 0.25, "II", "tightened", ("J", "J", 80, 0, 1)),
    (1000, 0.65, "II", "tightened", ("J", "K", 125, 1, 2)),  # down arrow
    (1000, 0.40, "II", "tightened", ("J", "L", 200, 1, 2)),  # down arrow, two rows
    (1000, 0.15, "II", "tightened", ("J", "K", 125, 0, 1)),  # down arrow
    (500, 1.5, "II", "tightened", ("H", "H", 50, 1, 2)),
    (3200, 1.0, "II", "tightened", ("K", "K", 125, 2, 3)),
    (200, 0.65, "II", "tightened", ("G", "G", 32, 0, 1)),
    (5, 40, "II", "tightened", ("A", "A", 2, 1, 2)),
    (10, 1000, "II", "tightened", ("B", "B", 3, 41, 42)),
    (600000, 0.010, "II", "tightened", ("Q", "R", 2000, 0, 1)),  # down arrow
    (600000, 0.025, "III", "tightened", ("R", "S", 3150, 1, 2)),  # down to row S
    # reduced, Table II-C (gap between Ac and Re kept)
    (1000, 1.0, "II", "reduced", ("J", "J", 32, 1, 3)),
    (1000, 2.5, "II", "reduced", ("J", "J", 32, 2, 5)),
    (1000, 0.65, "II", "reduced", ("J", "J", 32, 0, 2)),
    (1000, 0.15, "II", "reduced", ("J", "J", 32, 0, 1)),
    (1000, 4.0, "II", "reduced", ("J", "J", 32, 3, 6)),
    (1000, 6.5, "II", "reduced", ("J", "J", 32, 5, 8)),
    (1000, 0.25, "II", "reduced", ("J", "H", 20, 0, 1)),  # up arrow
    (1000, 0.40, "II", "reduced", ("J", "K", 50, 0, 2)),  # down arrow
    (100, 2.5, "II", "reduced", ("F", "F", 8, 0, 2)),
    (3200, 1.0, "II", "reduced", ("K", "K", 50, 1, 4)),
    (10000, 1.0, "II", "reduced", ("L", "L", 80, 2, 5)),
]


# (inspection, code letter, AQL) -> (plan letter, n, Ac, Re) after following the arrows,
# cross-checked cell by cell against the resolved plans of J. S. Lawson's R package
# AQLSchemes (R/AAZ14Single.R; GitHub copy fjgonzalezmgt/AQLSchemesCust at commit
# c42ea7df9abdbc5d57b014cf5a5b3fb868cf98b0) and, for Table II-A, the row text of the
# MIL-STD-105E "legible copy" (scribd.com/document/563507790) and of
# scribd.com/document/455925809. They cover the AQL 25-1000 columns of II-A/II-B/II-C,
# row S of II-B and II-C throughout; see sampling_tables' docstring for the cells no
# source confirmed (II-C rows A-B at AQL >= 25, arrows that leave the table).
VERIFIED_CELLS = [
    ("normal", "A", "25", ("A", 2, 1, 2)),
    ("normal", "A", "1000", ("A", 2, 30, 31)),
    ("normal", "B", "1000", ("B", 3, 44, 45)),
    ("normal", "C", "650", ("C", 5, 44, 45)),
    ("normal", "C", "1000", ("B", 3, 44, 45)),
    ("normal", "D", "400", ("D", 8, 44, 45)),
    ("normal", "E", "150", ("E", 13, 30, 31)),
    ("normal", "E", "250", ("E", 13, 44, 45)),
    ("normal", "F", "65", ("F", 20, 21, 22)),
    ("normal", "F", "100", ("E", 13, 21, 22)),  # fixed: was F 30/31
    ("normal", "F", "150", ("E", 13, 30, 31)),  # fixed: was F 44/45
    ("normal", "F", "250", ("E", 13, 44, 45)),
    ("normal", "G", "40", ("G", 32, 21, 22)),
    ("normal", "G", "65", ("F", 20, 21, 22)),
    ("normal", "H", "25", ("H", 50, 21, 22)),
    ("normal", "K", "1000", ("B", 3, 44, 45)),
    ("normal", "R", "25", ("H", 50, 21, 22)),
    ("normal", "R", "40", ("G", 32, 21, 22)),
    ("tightened", "A", "25", ("B", 3, 1, 2)),
    ("tightened", "A", "40", ("A", 2, 1, 2)),
    ("tightened", "A", "1000", ("A", 2, 27, 28)),
    ("tightened", "B", "1000", ("B", 3, 41, 42)),
    ("tightened", "C", "650", ("C", 5, 41, 42)),
    ("tightened", "E", "250", ("E", 13, 41, 42)),
    ("tightened", "F", "65", ("F", 20, 18, 19)),
    ("tightened", "F", "100", ("E", 13, 18, 19)),  # fixed: was F 27/28
    ("tightened", "F", "150", ("E", 13, 27, 28)),  # fixed: was F 41/42
    ("tightened", "G", "40", ("G", 32, 18, 19)),
    ("tightened", "H", "25", ("H", 50, 18, 19)),
    ("tightened", "R", "40", ("G", 32, 18, 19)),
    ("tightened", "Q", "0.025", ("S", 3150, 1, 2)),  # row S
    ("tightened", "R", "0.025", ("S", 3150, 1, 2)),  # row S
    ("tightened", "P", "0.015", ("Q", 1250, 0, 1)),
    ("tightened", "R", "0.010", ("R", 2000, 0, 1)),
    ("reduced", "A", "6.5", ("A", 2, 0, 1)),
    ("reduced", "C", "10", ("C", 2, 0, 2)),
    ("reduced", "C", "650", ("C", 2, 21, 24)),
    ("reduced", "D", "1.5", ("D", 3, 0, 1)),
    ("reduced", "D", "400", ("D", 3, 21, 24)),
    ("reduced", "E", "100", ("E", 5, 10, 13)),
    ("reduced", "E", "250", ("E", 5, 21, 24)),
    ("reduced", "F", "2.5", ("F", 8, 0, 2)),
    ("reduced", "F", "65", ("F", 8, 10, 13)),
    ("reduced", "F", "100", ("E", 5, 10, 13)),  # fixed: was F 14/17
    ("reduced", "F", "150", ("E", 5, 14, 17)),  # fixed: was F 21/24
    ("reduced", "G", "1.5", ("G", 13, 0, 2)),
    ("reduced", "G", "40", ("G", 13, 10, 13)),
    ("reduced", "H", "1.5", ("H", 20, 1, 3)),
    ("reduced", "H", "25", ("H", 20, 10, 13)),
    ("reduced", "J", "2.5", ("J", 32, 2, 5)),
    ("reduced", "K", "1.5", ("K", 50, 2, 5)),
    ("reduced", "L", "0.65", ("L", 80, 1, 4)),
    ("reduced", "M", "0.10", ("N", 200, 0, 2)),
    ("reduced", "N", "0.25", ("N", 200, 1, 4)),
    ("reduced", "P", "0.040", ("Q", 500, 0, 2)),
    ("reduced", "P", "1.5", ("P", 315, 10, 13)),
    ("reduced", "Q", "0.010", ("Q", 500, 0, 1)),
    ("reduced", "Q", "1.0", ("Q", 500, 10, 13)),
    ("reduced", "Q", "1.5", ("P", 315, 10, 13)),
    ("reduced", "R", "0.025", ("R", 800, 0, 2)),
    ("reduced", "R", "0.040", ("R", 800, 1, 3)),
    ("reduced", "R", "0.65", ("R", 800, 10, 13)),
]

# The largest lot of each code letter at level II (R exists only at level III).
_LOT_OF_LETTER = {
    "A": 8,
    "B": 15,
    "C": 25,
    "D": 50,
    "E": 90,
    "F": 150,
    "G": 280,
    "H": 500,
    "J": 1200,
    "K": 3200,
    "L": 10_000,
    "M": 35_000,
    "N": 150_000,
    "P": 500_000,
    "Q": 1_000_000,
}


@pytest.mark.parametrize(("inspection", "letter", "aql", "expected"), VERIFIED_CELLS)
def test_cells_verified_against_a_second_transcription(inspection, letter, aql, expected):
    if letter == "R":
        plan = find_sampling_plan(1_000_000, aql, level="III", inspection=inspection)
    else:
        plan = find_sampling_plan(_LOT_OF_LETTER[letter], aql, inspection=inspection)
    assert plan.code_letter == letter
    got = (plan.plan_letter, plan.table_sample_size, plan.accept, plan.reject)
    assert got == expected
    assert plan.arrow_resolution is None


def test_reduced_gap_accepts_the_lot_between_ac_and_re():
    # 105E reduced inspection: count <= Ac accept; count >= Re reject; in between the lot
    # is accepted (and normal inspection reinstated, see quality.switching).
    plan = find_sampling_plan(3200, 1.0, inspection="reduced")  # K: n = 50, 1/4
    assert (plan.sample_size, plan.accept, plan.reject) == (50, 1, 4)
    rate = np.array([0.01, 0.05, 0.1])
    expected = sps.binom.cdf(plan.reject - 1, plan.sample_size, rate)
    assert probability_of_acceptance(plan, rate) == pytest.approx(expected)
    assert np.all(probability_of_acceptance(plan, rate) > sps.binom.cdf(1, 50, rate))


@pytest.mark.parametrize(("lot_size", "aql", "level", "inspection", "expected"), PUBLISHED)
def test_plans_match_the_published_tables(lot_size, aql, level, inspection, expected):
    plan = find_sampling_plan(lot_size, aql, level=level, inspection=inspection)
    got = (plan.code_letter, plan.plan_letter, plan.sample_size, plan.accept, plan.reject)
    assert got == expected
    assert plan.inspection == inspection and plan.level == level
    assert plan.full_inspection is False


def test_table_i_corners():
    assert find_code_letter(2, level="S-1") == "A"
    assert find_code_letter(8, level="III") == "B"
    assert find_code_letter(9, level="III") == "C"
    assert find_code_letter(1200) == "J"
    assert find_code_letter(1201) == "K"
    assert find_code_letter(500_000) == "P"
    assert find_code_letter(500_001) == "Q"
    assert find_code_letter(10**9, level="III") == "R"
    assert find_code_letter(10**9, level="S-4") == "K"


def test_sample_at_least_the_lot_means_full_inspection():
    plan = find_sampling_plan(2, 0.65)  # A, arrow down to F (n = 20) > lot of 2
    assert (plan.plan_letter, plan.table_sample_size) == ("F", 20)
    assert plan.full_inspection and plan.sample_size == 2
    assert (plan.accept, plan.reject) == (0, 1)
    exact = find_sampling_plan(2, 1000)  # n = 2 = lot size: still 100 %
    assert exact.full_inspection and exact.sample_size == 2


def test_arrows_leaving_the_table_are_resolved_and_reported():
    top = find_sampling_plan(5, 10)  # II-A row A, AQL 10 is an up arrow with nothing above
    assert (top.plan_letter, top.sample_size, top.accept, top.reject) == ("A", 2, 0, 1)
    assert top.arrow_resolution is not None and "6.5" in top.arrow_resolution
    bottom = find_sampling_plan(600_000, 0.015, level="III")  # row R, down arrow
    assert (bottom.plan_letter, bottom.sample_size, bottom.accept) == ("R", 2000, 1)
    assert bottom.arrow_resolution is not None
    assert find_sampling_plan(1000, 1.0).arrow_resolution is None


def test_every_cell_of_every_table_resolves():
    for inspection in ("normal", "tightened", "reduced"):
        for aql in AQL_VALUES:
            for lot in (
                2,
                9,
                16,
                26,
                51,
                91,
                151,
                281,
                501,
                1201,
                3201,
                10001,
                35001,
                150001,
                500001,
            ):
                for level in LEVELS:
                    plan = find_sampling_plan(lot, aql, level=level, inspection=inspection)
                    assert 0 <= plan.accept < plan.reject
                    assert 1 <= plan.sample_size <= lot


def test_reduced_plans_keep_the_gap_and_tightened_is_stricter():
    reduced = find_sampling_plan(1000, 2.5, inspection="reduced")
    assert reduced.reject - reduced.accept == 3
    normal = find_sampling_plan(1000, 2.5)
    tightened = find_sampling_plan(1000, 2.5, inspection="tightened")
    assert tightened.sample_size == normal.sample_size and tightened.accept < normal.accept


@pytest.mark.parametrize("aql", [0.02, 3.0, "x", 2000, -1])
def test_aql_outside_the_series_lists_the_allowed_values(aql):
    with pytest.raises(InvalidInput) as info:
        find_sampling_plan(1000, aql)
    assert info.value.field == "aql"
    assert "0.010" in str(info.value) and "1000" in str(info.value)


def test_aql_spellings_are_equivalent():
    assert find_sampling_plan(1000, "1.0") == find_sampling_plan(1000, 1)
    assert find_sampling_plan(1000, "0.1") == find_sampling_plan(1000, 0.10)


@pytest.mark.parametrize("lot_size", [0, -5])
def test_empty_lot_is_an_error(lot_size):
    with pytest.raises(InvalidInput) as info:
        find_sampling_plan(lot_size, 1.0)
    assert info.value.field == "lot_size"


def test_lot_of_one_is_rejected_with_the_reason():
    with pytest.raises(InvalidInput) as info:
        find_sampling_plan(1, 1.0)
    assert info.value.message_id == "sampling.lot_of_one"
    assert "100%" in info.value.render("en") and "全數檢驗" in info.value.render("zh-Hant")


def test_unknown_level_and_inspection():
    with pytest.raises(InvalidInput, match="S-4"):
        find_sampling_plan(100, 1.0, level="IV")
    with pytest.raises(InvalidInput, match="tightened"):
        find_sampling_plan(100, 1.0, inspection="strict")


def test_tighter_accept_number():
    assert tighter_accept_number(find_sampling_plan(1000, 2.5)) == 3  # J 1.5 = 3/4
    assert tighter_accept_number(find_sampling_plan(1000, 0.65)) is None  # J 0.40 is an arrow
    assert tighter_accept_number(find_sampling_plan(600000, 0.010)) is None


# --- monotonicity (Hypothesis) ---------------------------------------------------------

_SIZES = {letter: MASTER_TABLES["normal"][letter][0] for letter in CODE_LETTERS}


@settings(max_examples=300, deadline=None)
@given(
    lots=st.lists(st.integers(2, 2_000_000), min_size=2, max_size=2),
    aql=st.sampled_from(AQL_VALUES),
    level=st.sampled_from(LEVELS),
    inspection=st.sampled_from(["normal", "tightened", "reduced"]),
)
def test_sample_size_never_shrinks_as_the_lot_grows(lots, aql, level, inspection):
    # Holds for the code letter's sample size and, in every table as typed here, for the
    # effective sample size after arrows and the 100 % rule (min(n, lot size)).
    small, large = sorted(lots)
    a = find_sampling_plan(small, aql, level=level, inspection=inspection)
    b = find_sampling_plan(large, aql, level=level, inspection=inspection)
    assert _SIZES[a.code_letter] <= _SIZES[b.code_letter]
    assert a.sample_size <= b.sample_size


# --- operating characteristic ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lot_size", "aql", "inspection"),
    [
        (1000, 1.0, "normal"),
        (1000, 2.5, "reduced"),
        (3000, 0.65, "tightened"),
    ],
)
def test_simulated_acceptance_follows_the_oc_curve(lot_size, aql, inspection):
    plan = find_sampling_plan(lot_size, aql, inspection=inspection)
    rng = np.random.default_rng(20240604)
    lots = 2000
    for rate in (0.0, 0.005, 0.01, 0.02, 0.04, 0.08):
        defectives = round(rate * lot_size)
        # Real draws: each lot's first `defectives` units are bad; sample n without
        # replacement by taking the n smallest of i.i.d. random keys.
        keys = rng.random((lots, lot_size))
        sample = np.argpartition(keys, plan.sample_size - 1, axis=1)[:, : plan.sample_size]
        found = (sample < defectives).sum(axis=1)
        accepted = float(np.mean(found < plan.reject))
        expected = float(probability_of_acceptance(plan, rate, model="hypergeometric")[0])
        se = max(np.sqrt(expected * (1 - expected) / lots), 1.0 / lots)
        assert abs(accepted - expected) <= 4 * se, (rate, accepted, expected)


def test_oc_models_agree_for_large_lots():
    plan = find_sampling_plan(500_000, 0.65)
    rates = np.array([0.001, 0.01, 0.03])
    binomial = probability_of_acceptance(plan, rates)
    hyper = probability_of_acceptance(plan, rates, model="hypergeometric")
    poisson = probability_of_acceptance(plan, rates, model="poisson")
    np.testing.assert_allclose(binomial, hyper, atol=0.01)
    np.testing.assert_allclose(binomial, poisson, atol=0.02)
    assert probability_of_acceptance(plan, 0.0)[0] == 1.0
    with pytest.raises(InvalidInput):
        probability_of_acceptance(plan, 1.5)


# --- sample designs ----------------------------------------------------------------------


def test_size_for_margin_textbook_values():
    assert size_for_margin(0.05) == 385  # 1.96^2 * 0.25 / 0.0025 = 384.1
    assert size_for_margin(0.03) == 1068
    assert size_for_margin(0.05, population=1000) == 278  # Cochran's finite correction
    assert size_for_margin(0.05, expected_rate=0.1) == 139
    assert size_for_margin(0.05, population=10) <= 10
    with pytest.raises(InvalidInput):
        size_for_margin(0.0)
    with pytest.raises(InvalidInput):
        size_for_margin(0.05, confidence=1.0)


def test_draw_simple_random_is_reproducible_and_uniform():
    ids = [f"label-{i}" for i in range(50)]
    first = draw_simple_random(ids, 10, seed=7)
    assert first == draw_simple_random(ids, 10, seed=7)
    assert first != draw_simple_random(ids, 10, seed=8)
    assert len(set(first.ids)) == 10 and set(first.ids) <= set(ids)
    assert first.sampling_fraction == 0.2
    counts = np.zeros(50)
    for seed in range(400):
        for unit in draw_simple_random(range(50), 10, seed=seed).ids:
            counts[unit] += 1
    # each unit is drawn with probability 0.2: 400 draws -> 80 +- chi-square noise
    assert sps.chisquare(counts).pvalue > 0.001
    with pytest.raises(InvalidInput):
        draw_simple_random(ids, 51, seed=1)
    with pytest.raises(InvalidInput):
        draw_simple_random(["a", "a"], 1, seed=1)


def test_draw_stratified_allocations_and_weights():
    strata = {
        "ok": list(range(900)),
        "adult": list(range(900, 990)),
        "scam": list(range(990, 1000)),
    }
    proportional = draw_stratified(strata, 100, allocation="proportional", seed=3)
    sizes = dict(zip(proportional.strata.stratum, proportional.strata.sample_size, strict=True))
    assert sizes == {"adult": 9, "ok": 90, "scam": 1}
    equal = draw_stratified(strata, 60, allocation="equal", seed=3)
    sizes = dict(zip(equal.strata.stratum, equal.strata.sample_size, strict=True))
    assert sizes == {"adult": 25, "ok": 25, "scam": 10}  # scam capped at its 10 units
    neyman = draw_stratified(
        strata,
        100,
        allocation="neyman",
        min_per_stratum=5,
        expected_rates={"ok": 0.02, "adult": 0.3, "scam": 0.4},
        seed=3,
    )
    sizes = dict(zip(neyman.strata.stratum, neyman.strata.sample_size, strict=True))
    assert sum(sizes.values()) == 100 and sizes["scam"] >= 5 and sizes["adult"] > 9
    sample = neyman.sample
    assert sample["id"].is_unique
    # weights N_h / n_h sum to the population size
    assert sample["weight"].sum() == pytest.approx(1000)
    assert draw_stratified(strata, 100, seed=3).sample.equals(
        draw_stratified(strata, 100, seed=3).sample
    )


def test_draw_stratified_accepts_a_frame_and_rejects_bad_input():
    import pandas as pd

    frame = pd.DataFrame({"id": range(20), "stratum": ["a"] * 15 + ["b"] * 5})
    draw = draw_stratified(frame, 8, allocation="proportional", seed=0)
    assert len(draw.sample) == 8
    with pytest.raises(InvalidInput):
        draw_stratified(frame, 8, allocation="best", seed=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        draw_stratified(frame, 5, min_per_stratum=3, seed=0)  # needs 6 > 5
    with pytest.raises(InvalidInput):
        draw_stratified(frame, 21, seed=0)
    with pytest.raises(InvalidInput):
        draw_stratified(frame.drop(columns="stratum"), 2, seed=0)

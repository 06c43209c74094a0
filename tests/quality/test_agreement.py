"""Agreement statistics: field libraries as oracles on real data, bad cases, invariants."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from labelops.errors import InvalidInput
from labelops.quality.agreement import (
    compute_agreement,
    compute_cohen_kappa,
    compute_fleiss_kappa,
    compute_gwet_ac1,
    compute_krippendorff_alpha,
    compute_percent_agreement,
)
from real_data import is_full


def _reliability(answers: pd.DataFrame) -> np.ndarray:
    wide = answers.pivot_table(
        index="labeller_id", columns="item_id", values="label", aggfunc="last"
    )
    return wide.to_numpy(dtype=float)


# ------------------------------------------------------------------ oracles on real data


def test_cohen_matches_sklearn_on_hs_brexit(hs_brexit, data_dir):
    pair = hs_brexit[hs_brexit["labeller_id"].isin(["Ann1", "Ann4"])]
    wide = pair.pivot(index="item_id", columns="labeller_id", values="label")
    expected = cohen_kappa_score(wide["Ann1"], wide["Ann4"])
    result = compute_cohen_kappa(pair, n_resamples=200)
    assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.n_items == (1120 if is_full(data_dir) else 120) and result.n_labellers == 2
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low < result.value < result.ci_high


def test_cohen_matches_sklearn_multiclass(crowd_dataset):
    answers, _ = crowd_dataset("s4_Dog_data")
    top = answers["labeller_id"].value_counts().index[:2].tolist()
    pair = answers[answers["labeller_id"].isin(top)]
    wide = pair.pivot(index="item_id", columns="labeller_id", values="label").dropna()
    expected = cohen_kappa_score(wide[top[0]], wide[top[1]])
    assert compute_cohen_kappa(pair, n_resamples=0).value == pytest.approx(expected, abs=1e-9)
    chosen = compute_cohen_kappa(answers, labellers=(top[0], top[1]), n_resamples=0)
    assert chosen.value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("name", ["s4_Dog_data", "d_Duck_Identification"])
def test_fleiss_matches_statsmodels(crowd_dataset, name):
    answers, _ = crowd_dataset(name)
    table = pd.crosstab(answers["item_id"], answers["label"]).to_numpy()
    result = compute_fleiss_kappa(answers, n_resamples=100)
    assert result.value == pytest.approx(fleiss_kappa(table), abs=1e-9)


def test_fleiss_matches_statsmodels_on_hs_brexit(hs_brexit):
    table = pd.crosstab(hs_brexit["item_id"], hs_brexit["label"]).to_numpy()
    result = compute_fleiss_kappa(hs_brexit, n_resamples=0)
    assert result.value == pytest.approx(fleiss_kappa(table), abs=1e-9)


def test_alpha_matches_krippendorff_with_missing_data(md_agreement):
    # 819 workers, 5 per item: a very sparse reliability matrix.
    expected = krippendorff.alpha(_reliability(md_agreement), level_of_measurement="nominal")
    result = compute_krippendorff_alpha(md_agreement, n_resamples=100, duplicates="last")
    assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.n_labellers == md_agreement["labeller_id"].nunique()


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_alpha_matches_krippendorff_on_dog(crowd_dataset, level):
    answers, _ = crowd_dataset("s4_Dog_data")
    answers = answers.assign(label=answers["label"].astype(int))
    expected = krippendorff.alpha(_reliability(answers), level_of_measurement=level)
    result = compute_krippendorff_alpha(answers, level=level, n_resamples=0)
    assert result.value == pytest.approx(expected, abs=1e-9)


def test_alpha_on_adult_content_with_duplicates(data_dir):
    path = data_dir / "gal-adultcontent" / "AdultContent2" / "labels.txt"
    frame = pd.read_csv(path, sep="\t", header=None, names=["labeller_id", "item_id", "label"])
    with pytest.raises(InvalidInput) as caught:
        compute_krippendorff_alpha(frame, n_resamples=0)
    assert caught.value.message_id == "quality.duplicate_answer"
    last = frame.drop_duplicates(["item_id", "labeller_id"], keep="last")
    codes = last.assign(label=last["label"].map({"G": 0, "P": 1, "R": 2, "X": 3}))
    expected = krippendorff.alpha(_reliability(codes), level_of_measurement="nominal")
    result = compute_krippendorff_alpha(frame, duplicates="last", n_resamples=0)
    assert result.value == pytest.approx(expected, abs=1e-9)


def test_gwet_ac1_two_raters_by_hand():
    # Gwet (2008) two-rater formula on a 2x2 table a=40, b=9, c=6, d=45.
    a, b, c, d = 40, 9, 6, 45
    first = [0] * (a + b) + [1] * (c + d)
    second = [0] * a + [1] * b + [0] * c + [1] * d
    n = a + b + c + d
    frame = pd.DataFrame(
        {
            "item_id": list(range(n)) * 2,
            "labeller_id": ["x"] * n + ["y"] * n,
            "label": first + second,
        }
    )
    pa = (a + d) / n
    pi = ((a + b) / n + (a + c) / n) / 2
    pe = 2 * pi * (1 - pi)
    result = compute_gwet_ac1(frame, n_resamples=0)
    assert result.value == pytest.approx((pa - pe) / (1 - pe), abs=1e-12)
    assert compute_percent_agreement(frame, n_resamples=0).value == pytest.approx(pa)


def test_per_class_breakdown_and_dispatch(toy_answers):
    result = compute_agreement(toy_answers, metric="fleiss_kappa", n_resamples=50)
    assert {c.label for c in result.per_class} == {"bad", "ok"}
    assert result.n_items == 5 and result.n_labellers == 3
    with pytest.raises(InvalidInput):
        compute_agreement(toy_answers, metric="nope", n_resamples=0)  # type: ignore[arg-type]


def test_bootstrap_is_seeded(toy_answers):
    one = compute_krippendorff_alpha(toy_answers, n_resamples=200, seed=3)
    two = compute_krippendorff_alpha(toy_answers, n_resamples=200, seed=3)
    assert (one.ci_low, one.ci_high) == (two.ci_low, two.ci_high)


# ------------------------------------------------------------------ bad cases


def test_nothing_pairable_raises():
    frame = pd.DataFrame({"item_id": [1, 2], "labeller_id": ["a", "b"], "label": ["x", "y"]})
    for compute in (compute_krippendorff_alpha, compute_fleiss_kappa, compute_percent_agreement):
        with pytest.raises(InvalidInput) as caught:
            compute(frame, n_resamples=0)
        assert caught.value.message_id == "quality.no_pairable_items"


def test_single_category_alpha_undefined():
    frame = pd.DataFrame(
        {"item_id": [1, 1, 2, 2], "labeller_id": list("abab"), "label": ["ok"] * 4}
    )
    with pytest.raises(InvalidInput) as caught:
        compute_krippendorff_alpha(frame)
    assert caught.value.message_id == "quality.alpha_undefined"
    assert "undefined" in caught.value.render("en")
    assert caught.value.render("zh-Hant") != caught.value.render("en")
    with pytest.raises(InvalidInput):
        compute_fleiss_kappa(frame)
    with pytest.raises(InvalidInput):
        compute_cohen_kappa(frame)


def test_single_answer_items_and_labellers_are_handled(toy_answers):
    extra = pd.DataFrame({"item_id": [9], "labeller_id": ["z"], "label": ["ok"]})
    with_single = pd.concat([toy_answers, extra], ignore_index=True)
    base = compute_krippendorff_alpha(toy_answers, n_resamples=0)
    result = compute_krippendorff_alpha(with_single, n_resamples=0)
    assert result.value == pytest.approx(base.value)
    assert result.n_items == base.n_items


def test_cohen_needs_two_labellers(toy_answers):
    with pytest.raises(InvalidInput) as caught:
        compute_cohen_kappa(toy_answers)
    assert caught.value.message_id == "quality.cohen_two_labellers"


def test_bad_options(toy_answers):
    with pytest.raises(InvalidInput):
        compute_krippendorff_alpha(toy_answers, level="ratio")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        compute_fleiss_kappa(toy_answers, n_resamples=-1)


# ------------------------------------------------------------------ properties

labels_strategy = st.lists(
    st.lists(st.integers(0, 3), min_size=2, max_size=5), min_size=3, max_size=25
)


def _frame(rows: list[list[int]], names: list[str] | None = None) -> pd.DataFrame:
    records = []
    for item, row in enumerate(rows):
        for position, label in enumerate(row):
            labeller = names[position] if names else f"w{position}"
            records.append((item, labeller, label))
    return pd.DataFrame(records, columns=["item_id", "labeller_id", "label"])


@settings(max_examples=40, deadline=None)
@given(truth=st.lists(st.integers(0, 3), min_size=3, max_size=30), n_labellers=st.integers(2, 6))
def test_identical_labellers_agree_perfectly(truth, n_labellers):
    if len(set(truth)) < 2:
        truth = [*truth, (truth[0] + 1) % 4]
    frame = _frame([[t] * n_labellers for t in truth])
    for compute in (compute_krippendorff_alpha, compute_fleiss_kappa, compute_gwet_ac1):
        assert compute(frame, n_resamples=0).value == pytest.approx(1.0)
    assert compute_percent_agreement(frame, n_resamples=0).value == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(rows=labels_strategy, seed=st.integers(0, 1000))
def test_permuting_labeller_ids_changes_nothing(rows, seed):
    frame = _frame(rows)
    names = sorted(frame["labeller_id"].unique())
    shuffled = np.random.default_rng(seed).permutation(names)
    renamed = frame.assign(
        labeller_id=frame["labeller_id"].map(dict(zip(names, shuffled, strict=True)))
    )
    renamed = renamed.sample(frac=1.0, random_state=seed)
    for compute in (compute_krippendorff_alpha, compute_fleiss_kappa, compute_gwet_ac1):
        try:
            expected = compute(frame, n_resamples=0).value
        except InvalidInput:
            with pytest.raises(InvalidInput):
                compute(renamed, n_resamples=0)
            continue
        assert compute(renamed, n_resamples=0).value == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------ analytic intervals


def test_cohen_analytic_interval_matches_statsmodels(hs_brexit, crowd_dataset):
    from scipy.stats import norm
    from statsmodels.stats.inter_rater import cohens_kappa

    answers, _ = crowd_dataset("s4_Dog_data")
    top = answers["labeller_id"].value_counts().index[:2].tolist()
    dog = answers[answers["labeller_id"].isin(top)]
    brexit = hs_brexit[hs_brexit["labeller_id"].isin(["Ann1", "Ann4"])]
    for pair in (brexit, dog):
        wide = pair.pivot(index="item_id", columns="labeller_id", values="label").dropna()
        table = pd.crosstab(wide.iloc[:, 0], wide.iloc[:, 1]).to_numpy()
        oracle = cohens_kappa(table)
        result = compute_cohen_kappa(pair, ci_method="analytic")
        half = norm.ppf(0.975) * oracle.std_kappa
        assert result.ci_method == "analytic"
        assert result.value == pytest.approx(oracle.kappa, abs=1e-9)
        assert result.ci_low == pytest.approx(oracle.kappa - half, abs=1e-9)
        assert result.ci_high == pytest.approx(oracle.kappa + half, abs=1e-9)
        for entry in result.per_class:
            assert entry.ci_low is not None and entry.ci_low < entry.value < entry.ci_high


def _gwet_fleiss_interval(counts: np.ndarray) -> tuple[float, float]:
    """Gwet's linearisation interval written out as in irrCAC ``fleiss.kappa.raw``."""
    from scipy.stats import t

    n = len(counts)
    r = counts.sum(axis=1)
    pa_i = (counts * (counts - 1)).sum(axis=1) / (r * (r - 1))
    pa = pa_i.mean()
    pi = (counts / r[:, None]).mean(axis=0)
    pe = (pi**2).sum()
    kappa = (pa - pe) / (1 - pe)
    kappa_i = (pa_i - pe) / (1 - pe)
    pe_i = (counts @ pi) / r
    kappa_star = kappa_i - 2 * (1 - kappa) * (pe_i - pe) / (1 - pe)
    se = np.sqrt(((kappa_star - kappa) ** 2).sum() / (n * (n - 1)))
    half = t.ppf(0.975, n - 1) * se
    return kappa - half, kappa + half


def test_fleiss_analytic_interval_is_gwets_on_a_balanced_design():
    from labelops.quality.simulate import simulate_answers

    sim = simulate_answers(400, 9, 3, labels_per_item=4, seed=11)
    counts = pd.crosstab(sim.answers["item_id"], sim.answers["label"]).to_numpy(dtype=float)
    low, high = _gwet_fleiss_interval(counts)
    result = compute_fleiss_kappa(sim.answers, ci_method="analytic")
    assert result.ci_low == pytest.approx(low, abs=1e-12)
    assert result.ci_high == pytest.approx(high, abs=1e-12)
    bootstrap = compute_fleiss_kappa(sim.answers, n_resamples=2000, per_class=False)
    # Same sampling model (items drawn independently): the widths agree within 10%.
    ratio = (high - low) / (bootstrap.ci_high - bootstrap.ci_low)
    assert 0.9 < ratio < 1.1


def test_analytic_interval_only_where_standard(toy_answers):
    with pytest.raises(InvalidInput) as caught:
        compute_agreement(toy_answers, metric="krippendorff_alpha", ci_method="analytic")
    assert caught.value.message_id == "quality.no_analytic_ci"
    with pytest.raises(InvalidInput):
        compute_fleiss_kappa(toy_answers, ci_method="exact")  # type: ignore[arg-type]
    result = compute_agreement(toy_answers, metric="fleiss_kappa", ci_method="analytic")
    assert result.ci_method == "analytic" and result.ci_low < result.value < result.ci_high

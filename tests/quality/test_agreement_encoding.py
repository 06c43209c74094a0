"""The integer fast path of encode_answers gives exactly what pd.factorize gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelops.quality.agreement import compute_krippendorff_alpha
from labelops.quality.answers import _sorted_index, encode_answers


def _reference(frame: pd.DataFrame, classes: list[object] | None):
    items_codes, items = pd.factorize(frame["item_id"], sort=False)
    labeller_codes, labellers = pd.factorize(frame["labeller_id"], sort=False)
    class_index = _sorted_index([*pd.unique(frame["label"]), *(classes or [])])
    return (
        items_codes,
        pd.Index(items),
        labeller_codes,
        pd.Index(labellers),
        class_index.get_indexer(pd.Index(frame["label"])),
        class_index,
    )


@pytest.mark.parametrize("seed", range(8))
def test_fast_path_matches_factorize(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    frame = pd.DataFrame(
        {
            "item_id": rng.integers(-50, 500, n) if seed % 2 else rng.integers(0, 10**12, n),
            "labeller_id": rng.integers(0, 20, n).astype(np.uint16 if seed % 3 else np.int64),
            "label": rng.integers(-2, 5, n).astype(np.int8) if seed % 2 else rng.integers(0, 3, n),
        }
    )
    classes: list[object] | None = [7] if seed % 4 == 1 else None
    encoded = encode_answers(frame, classes=classes)
    codes, items, labeller_codes, labellers, label_codes, class_index = _reference(frame, classes)
    np.testing.assert_array_equal(encoded.item_codes, codes)
    np.testing.assert_array_equal(encoded.labeller_codes, labeller_codes)
    np.testing.assert_array_equal(encoded.label_codes, label_codes)
    assert encoded.items.equals(items) and encoded.items.dtype == items.dtype
    assert encoded.labellers.equals(labellers)
    assert encoded.classes.equals(class_index) and encoded.classes.dtype == class_index.dtype


def test_fast_path_over_several_chunks_keeps_first_appearance_order():
    # Labeller 49 first appears in the last rows; every item within the first chunk.
    labellers = np.repeat(np.arange(50), 12_000)
    items = np.tile(np.arange(12_000)[::-1], 50)
    frame = pd.DataFrame({"item_id": items, "labeller_id": labellers, "label": labellers % 3})
    encoded = encode_answers(frame)
    codes, index, labeller_codes, labeller_index, *_ = _reference(frame, None)
    np.testing.assert_array_equal(encoded.item_codes, codes)
    np.testing.assert_array_equal(encoded.labeller_codes, labeller_codes)
    assert encoded.items.equals(index) and encoded.labellers.equals(labeller_index)
    unordered = encode_answers(frame, id_order="any")
    assert list(unordered.items) == list(range(12_000))
    np.testing.assert_array_equal(unordered.items.take(unordered.item_codes), items)


def test_alpha_does_not_depend_on_id_order():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "item_id": rng.permutation(np.repeat(np.arange(400), 3)),
            "labeller_id": np.tile(np.arange(3), 400),
            "label": rng.integers(0, 4, 1200),
        }
    ).drop_duplicates(["item_id", "labeller_id"])
    as_text = frame.astype({"item_id": str, "labeller_id": str})
    fast = compute_krippendorff_alpha(frame, n_resamples=50)
    slow = compute_krippendorff_alpha(as_text, n_resamples=50)
    # With a bootstrap, items keep their order of first appearance: the same draws.
    assert (fast.value, fast.ci_low, fast.ci_high) == pytest.approx(
        (slow.value, slow.ci_low, slow.ci_high), abs=1e-12
    )
    assert fast.n_items == slow.n_items and fast.n_labellers == slow.n_labellers
    # Without one, the encoder may sort integer ids instead; the value is the same.
    point = compute_krippendorff_alpha(frame, n_resamples=0)
    assert point.value == pytest.approx(slow.value, abs=1e-12)
    assert [c.value for c in point.per_class] == pytest.approx([c.value for c in slow.per_class])

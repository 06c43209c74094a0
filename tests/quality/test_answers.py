"""The canonical answers frame: validation, encoding, crowd-kit contract, binary relevance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelops.errors import InvalidInput, InvalidRows
from labelops.quality.answers import (
    AnswersEncoder,
    encode_answers,
    split_binary_relevance,
    to_crowdkit,
    validate_answers,
)


def test_missing_column_is_named():
    with pytest.raises(InvalidInput) as caught:
        validate_answers(pd.DataFrame({"item_id": [1], "label": ["x"]}), file="a.csv")
    assert caught.value.field == "labeller_id"
    assert "a.csv" in caught.value.render("en")


def test_offending_rows_are_listed():
    frame = pd.DataFrame(
        {
            "item_id": [1, 2, None, 4],
            "labeller_id": ["a", " ", "b", "c"],
            "label": ["ok", "ok", "ok", "weird"],
            "weight": [1, 1, -1, 1],
        }
    )
    with pytest.raises(InvalidRows) as caught:
        validate_answers(frame, file="f.csv", allowed_labels={"ok", "bad"})
    problems = {(p.line, p.field, p.message_id) for p in caught.value.problems}
    assert problems == {
        (3, "labeller_id", "quality.empty_value"),
        (4, "item_id", "quality.empty_value"),
        (5, "label", "quality.label_not_allowed"),
        (4, "weight", "quality.bad_number"),
    }
    assert "weird" in caught.value.render("zh-Hant")


def test_valid_frame_is_returned_in_canonical_order(toy_answers):
    out = validate_answers(toy_answers.assign(extra=1)[["label", "item_id", "labeller_id"]])
    assert list(out.columns) == ["item_id", "labeller_id", "label"]
    assert list(to_crowdkit(out).columns) == ["task", "worker", "label"]


def test_encoder_in_chunks_equals_encode_answers(toy_answers):
    whole = encode_answers(toy_answers)
    encoder = AnswersEncoder()
    for start in range(0, len(toy_answers), 4):
        encoder.add(toy_answers.iloc[start : start + 4])
    chunked = encoder.finish()
    for name in ("item_codes", "labeller_codes", "label_codes"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name))
    assert list(chunked.classes) == ["bad", "ok"]
    pd.testing.assert_frame_equal(chunked.to_frame(), whole.to_frame())


def test_binary_relevance():
    frame = pd.DataFrame(
        {"item_id": [1, 2], "labeller_id": ["a", "a"], "label": ["adult|weapons", "adult"]}
    )
    split = split_binary_relevance(frame, separator="|", labels=["adult", "weapons", "drugs"])
    assert split["adult"]["label"].tolist() == [True, True]
    assert split["weapons"]["label"].tolist() == [True, False]
    assert split["drugs"]["label"].tolist() == [False, False]

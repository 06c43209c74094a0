"""Demo items and taxonomy: deterministic, varied, skewed like real traffic, zh-Hant clean."""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

import pytest

from labelops.demo import LABEL_SHARES, DemoItem, generate_demo_items, load_demo_taxonomy
from labelops.errors import InvalidInput
from labelops.text import find_simplified_chars, find_spans, looks_simplified

N = 3000


@lru_cache(maxsize=1)
def _items() -> tuple[DemoItem, ...]:
    return tuple(generate_demo_items(N))


def test_taxonomy_contract() -> None:
    taxonomy = load_demo_taxonomy()
    assert (taxonomy["key"], taxonomy["version"], taxonomy["mode"]) == ("ads-policy", 1, "single")
    keys = [label["key"] for label in taxonomy["labels"]]
    assert keys[0] == "compliant"
    assert sorted(keys) == sorted(LABEL_SHARES)  # the same ten labels
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("label", load_demo_taxonomy()["labels"], ids=lambda label: label["key"])
def test_taxonomy_label_is_bilingual_and_traditional(label: dict[str, object]) -> None:
    for part in ("name", "definition"):
        texts = label[part]
        assert isinstance(texts, dict) and set(texts) == {"en", "zh-Hant"}
        assert texts["en"].strip() and texts["zh-Hant"].strip()
        assert find_simplified_chars(texts["zh-Hant"]) == []
    examples = label["examples"]
    assert isinstance(examples, list) and 2 <= len(examples) <= 3
    assert all(isinstance(example, str) and not looks_simplified(example) for example in examples)


def test_deterministic_for_a_seed() -> None:
    assert generate_demo_items(200, seed=3) == generate_demo_items(200, seed=3)
    assert generate_demo_items(200, seed=3) != generate_demo_items(200, seed=4)


def test_no_duplicate_texts_or_ids() -> None:
    items = _items()
    assert len(items) == N
    assert len({item.text for item in items}) == N
    assert len({item.external_id for item in items}) == N
    assert items[0].external_id == "demo-7-00001"


def test_class_skew() -> None:
    counts = Counter(item.true_label for item in _items())
    assert counts["compliant"] == 2100  # exactly 70 %
    violations = {label: count for label, count in counts.items() if label != "compliant"}
    assert sum(violations.values()) == 900
    assert len(violations) == 9  # every violation class is present
    assert counts["misleading_claims"] > counts["gambling"] > counts["weapons"]
    assert counts["hate_harassment"] == min(counts.values())


def test_language_and_market_mix() -> None:
    items = _items()
    zh_share = sum(item.language == "zh-Hant" for item in items) / len(items)
    assert 0.72 <= zh_share <= 0.78
    for item in items:
        expected = {"TW", "HK"} if item.language == "zh-Hant" else {"US", "SG", "HK", "TW"}
        assert item.market in expected


def test_true_labels_are_taxonomy_keys() -> None:
    keys = {label["key"] for label in load_demo_taxonomy()["labels"]}
    assert {item.true_label for item in _items()} <= keys


def test_zh_hant_items_have_no_simplified_characters() -> None:
    offenders = [item.text for item in _items() if looks_simplified(item.text)]
    assert offenders == []


def test_items_carry_realistic_signals() -> None:
    items = _items()
    scams = [item for item in items if item.true_label in ("financial_scam", "gambling")]
    with_contact = [item for item in scams if find_spans(item.text)]
    assert len(with_contact) / len(scams) > 0.6
    assert any("NT$" in item.text for item in items)
    assert any("HK$" in item.text or "港幣" in item.text for item in items)


def test_metadata_is_json_ready() -> None:
    item = _items()[0]
    assert set(item.metadata) == {
        "placement",
        "format",
        "landing_domain",
        "campaign_id",
        "daily_budget_usd",
    }
    json.dumps([item.metadata for item in _items()])
    assert hash(item)  # frozen and hashable even with a metadata dict


def test_sizes_at_the_edges() -> None:
    assert generate_demo_items(0) == []
    assert [item.true_label for item in generate_demo_items(1)] == ["compliant"]
    with pytest.raises(InvalidInput) as info:
        generate_demo_items(-1)
    assert info.value.field == "n"


def test_five_thousand_items_stay_unique() -> None:
    items = generate_demo_items(5000, seed=11)
    assert len({item.text for item in items}) == 5000

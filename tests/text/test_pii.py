"""Finding and masking phone numbers, LINE IDs and e-mail addresses in ad text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelops.text import find_pii, mask_pii

SAMPLES = Path(__file__).parents[1] / "data" / "confidentiality" / "cofacts_contacts.jsonl"
TAGS = {"phone": "[PHONE]", "line_id": "[LINE_ID]", "email": "[EMAIL]"}

CASES: list[tuple[str, str]] = [
    ("洽詢 0912-345-678 或 service@shop.com.tw，謝謝", "洽詢 [PHONE] 或 [EMAIL]，謝謝"),
    ("加LINE: abc123 現折NT$200", "加LINE: [LINE_ID] 現折NT$200"),
    ("官方LINE @win168 客服24小時", "官方LINE [LINE_ID] 客服24小時"),
    ("寄信至 abc＠gmail．com 唷", "寄信至 [EMAIL] 唷"),
    ("0912345678@gmail.com 聯絡", "[EMAIL] 聯絡"),
    ("email me: john.doe+ads@example.co.uk.", "email me: [EMAIL]."),
    ("香港熱線 +852 9123 4567 即日送貨", "香港熱線 [PHONE] 即日送貨"),
    ("加好友 https://line.me/R/ti/p/@abc123 或 lin.ee/AbC12", "加好友 [LINE_ID] 或 [LINE_ID]"),
    # Not personal data: URLs, prices, LINE Pay, a bare @ without a host.
    (
        "詳情 https://shop.example.com.tw/p/123 只要$99",
        "詳情 https://shop.example.com.tw/p/123 只要$99",
    ),
    ("付款用 LINE Pay 享回饋 a@b", "付款用 LINE Pay 享回饋 a@b"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:16] for c in CASES])
def test_mask_pii_cases(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_only_the_kinds_asked_are_masked() -> None:
    text = "電話 0912-345-678 信箱 a.b@shop.com.tw 加賴 vip8888"
    assert mask_pii(text, kinds={"email"}) == "電話 0912-345-678 信箱 [EMAIL] 加賴 vip8888"
    assert [s.kind for s in find_pii(text)] == ["phone", "email", "line_id"]


def test_real_zh_hant_messages_mask_exactly_their_contacts() -> None:
    """Real Cofacts messages: each hand-listed contact becomes its tag, every other
    character (Traditional Chinese, emoji, line breaks) is unchanged."""
    records = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 9
    for record in records:
        expected = record["text"]
        for value, kind in record["pii"]:
            expected = expected.replace(value, TAGS[kind])
        masked = mask_pii(record["text"])
        assert masked == expected, record["id"]
        for value, _kind in record["pii"]:
            assert value not in masked


def test_a_repeated_id_is_masked_everywhere() -> None:
    text = "LINE:ci2005\n之前加cici2005請轉加 ci2005"
    assert mask_pii(text) == "LINE:[LINE_ID]\n之前加ci[LINE_ID]請轉加 [LINE_ID]"


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("加賴LINE:@.0912-345678abc中文 ＠．com")), max_size=60)
)
def test_spans_are_sorted_disjoint_and_masking_keeps_the_rest(text: str) -> None:
    spans = find_pii(text)
    last = 0
    for span in spans:
        assert last <= span.start < span.end <= len(text)
        last = span.end
    pieces = [text[a.end : b.start] for a, b in zip(spans, spans[1:], strict=False)]
    masked = mask_pii(text)
    for piece in pieces:
        assert piece in masked
    if not spans:
        assert masked == text

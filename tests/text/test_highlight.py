"""URL / phone / price / LINE ID spans in Traditional Chinese and English ad text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelops.text import Span, find_spans

CASES: list[tuple[str, list[tuple[str, str]]]] = [
    ("加LINE: abc123 現折NT$200", [("abc123", "line_id"), ("NT$200", "price")]),
    (
        "限時特價 NT$1,200 免運，洽詢 0912-345-678",
        [("NT$1,200", "price"), ("0912-345-678", "phone")],
    ),
    ("門市電話 (02)2345-6789 營業至晚上十點", [("(02)2345-6789", "phone")]),
    (
        "客服專線 02-2345-6789 / 0800-123-456",
        [("02-2345-6789", "phone"), ("0800-123-456", "phone")],
    ),
    ("台灣客服 +886 912 345 678", [("+886 912 345 678", "phone")]),
    ("總公司 +886-2-2345-6789", [("+886-2-2345-6789", "phone")]),
    ("苗栗門市 037-123456", [("037-123456", "phone")]),
    ("香港熱線 +852 9123 4567 即日送貨", [("+852 9123 4567", "phone")]),
    ("WhatsApp: 9123 4567 查詢", [("9123 4567", "phone")]),
    ("Call (415) 555-0134 today", [("(415) 555-0134", "phone")]),
    ("只要$99 任選三件", [("$99", "price")]),
    ("原價 1,999元 今天 999 元", [("1,999元", "price"), ("999 元", "price")]),
    ("港幣 300 有找", [("港幣 300", "price")]),
    ("HK$88 一盒 旺角取貨", [("HK$88", "price")]),
    ("新台幣 5000 元 月費", [("新台幣 5000 元", "price")]),
    ("＄３９９ 限量", [("＄３９９", "price")]),
    ("月入10萬元 不是夢", [("10萬元", "price")]),
    ("一盒 300蚊 包郵", [("300蚊", "price")]),
    ("US$25 off, only 3 left", [("US$25", "price")]),
    ("2024元旦 特賣", []),
    (
        "詳情 https://shop.example.com.tw/p/123?ref=fb。",
        [("https://shop.example.com.tw/p/123?ref=fb", "url")],
    ),
    ("官網 www.abc-store.com 立即下單", [("www.abc-store.com", "url")]),
    ("前往 bit.ly/3xYz 領取", [("bit.ly/3xYz", "url")]),
    ("查看 www．scam．com 了解", [("www．scam．com", "url")]),
    ("Learn more at example.com.", [("example.com", "url")]),
    (
        "(see https://en.wikipedia.org/wiki/Foo_(bar))",
        [("https://en.wikipedia.org/wiki/Foo_(bar)", "url")],
    ),
    ("點我 lin.ee/AbC12 加好友", [("lin.ee/AbC12", "url")]),
    ("加賴 vip8888 領彩金", [("vip8888", "line_id")]),
    ("官方LINE @win168 客服24小時", [("@win168", "line_id")]),
    ("LINE ID：lucky_bet99 私訊", [("lucky_bet99", "line_id")]),
    ("搜尋 @888abcd 立即諮詢", [("@888abcd", "line_id")]),
    (
        "打給我 0912345678 或加line:abc.def",
        [("0912345678", "phone"), ("abc.def", "line_id")],
    ),
    ("付款用 LINE Pay 享回饋", []),
    ("信箱 service@shop.com.tw 聯絡", []),
    ("2023-2024 年度 訂單編號 20240115123", []),
    ("加LINE好友 抽獎", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:20] for c in CASES])
def test_examples(text: str, expected: list[tuple[str, str]]) -> None:
    found = [(text[s.start : s.end], s.kind) for s in find_spans(text)]
    assert found == expected


def test_offsets_are_str_indexes_not_bytes() -> None:
    text = "🎉限時優惠🎉 NT$1,200"
    (span,) = find_spans(text)
    assert span == Span(7, 15, "price")
    assert text[span.start : span.end] == "NT$1,200"


def test_overlap_prefers_the_url() -> None:
    text = "https://line.me/R/ti/p/@abc123"
    assert find_spans(text) == [Span(0, len(text), "url")]


AD_ALPHABET = st.sampled_from(
    list("0123456789０９+-()$＄.．,:：@/ ")
    + [
        "NT$",
        "HK$",
        "09",
        "+886",
        "+852",
        "元",
        "港幣",
        "加LINE",
        "LINE ID",
        "www.",
        ".com",
        ".tw",
        "https://",
        "電話",
        "優惠",
        "a",
        "Z",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(AD_ALPHABET, max_size=40).map("".join)))
def test_spans_are_sorted_disjoint_and_in_range(text: str) -> None:
    spans = find_spans(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert span.kind in {"url", "phone", "price", "line_id"}
    for left, right in zip(spans, spans[1:], strict=False):
        assert left.end <= right.start

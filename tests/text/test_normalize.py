"""Content hashing (NFC only inside the hash) and Simplified detection / conversion."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelops.errors import InvalidInput
from labelops.text import content_hash, find_simplified_chars, looks_simplified, to_traditional

# "Café" and Hangul decompose under NFD; CJK ideographs do not, so a mixed ad line is the
# realistic case where a Mac export and a Windows export of the same text differ.
AD_TEXT = "台北信義區 Café 開幕！拿鐵 NT$120，한국 손님 환영"


def test_hash_is_stable_across_nfc_and_nfd() -> None:
    nfd = unicodedata.normalize("NFD", AD_TEXT)
    assert nfd != AD_TEXT
    assert content_hash(nfd) == content_hash(AD_TEXT)


def test_hash_never_alters_the_text() -> None:
    nfd = unicodedata.normalize("NFD", AD_TEXT)
    before = (nfd, AD_TEXT)
    content_hash(nfd)
    content_hash(AD_TEXT)
    assert (nfd, AD_TEXT) == before


def test_hash_keeps_traditional_and_simplified_apart() -> None:
    # No conversion happens: the Traditional and Simplified spellings are different items.
    assert content_hash("限時優惠") != content_hash("限时优惠")


def test_hash_shape_and_none() -> None:
    digest = content_hash(None)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert digest == content_hash("")


def test_media_boundaries_cannot_collide() -> None:
    assert content_hash("ab", [b"c"]) != content_hash("a", [b"bc"])
    assert content_hash("", [b"ab", b"c"]) != content_hash("", [b"a", b"bc"])
    assert content_hash("", [b""]) != content_hash("", [])
    assert content_hash("x", [b"img"]) != content_hash("x")


def test_media_must_be_a_sequence_of_blobs() -> None:
    with pytest.raises(TypeError):
        content_hash("x", b"raw bytes")  # type: ignore[arg-type]


@given(st.text(), st.lists(st.binary(max_size=8), max_size=3))
def test_hash_depends_only_on_nfc_form(text: str, media: list[bytes]) -> None:
    assert content_hash(text, media) == content_hash(unicodedata.normalize("NFC", text), media)


@pytest.mark.parametrize(
    "text",
    [
        "台灣限定優惠，全館免運",
        "台北市信義區里長服務處",
        "皇后大道中 范先生 批准 干擾 佣金 灶咖",
        "香港旺角嘅舖頭，啲貨好平",
        "Free shipping on all orders",
        "",
    ],
)
def test_traditional_and_other_text_is_not_flagged(text: str) -> None:
    assert not looks_simplified(text)
    assert find_simplified_chars(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("台湾限定优惠", ["湾", "优"]),
        ("什么是最好的投资", ["么", "资"]),
        ("一体成型 限時", ["体"]),
        ("软件下载", ["软", "载"]),
    ],
)
def test_simplified_is_flagged(text: str, expected: list[str]) -> None:
    assert looks_simplified(text)
    assert find_simplified_chars(text) == expected


def test_to_traditional_variants() -> None:
    assert to_traditional("软件下载") == "軟體下載"
    assert to_traditional("软件下载", variant="t") == "軟件下載"
    assert to_traditional("台湾", variant="hk") == "台灣"
    assert not looks_simplified(to_traditional("投资理财 稳赚不赔"))


def test_to_traditional_leaves_traditional_alone() -> None:
    assert to_traditional("限時優惠，全館免運") == "限時優惠，全館免運"


def test_to_traditional_rejects_unknown_variant() -> None:
    with pytest.raises(InvalidInput) as info:
        to_traditional("软件", variant="cn")  # type: ignore[arg-type]
    assert info.value.field == "variant"
    assert "tw" in info.value.render("en")

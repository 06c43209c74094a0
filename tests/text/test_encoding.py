"""Strict UTF-8 decoding and the Big5 / UTF-16 hints."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelops.errors import InvalidInput
from labelops.text import decode_utf8_strict, find_encoding_problem

ROWS = ["external_id,text", "ad-1,Summer sale", "ad-2,限時優惠 全館免運", "ad-3,加LINE領折價券"]


def test_utf8_round_trip_is_byte_exact() -> None:
    text = "\n".join(ROWS) + "\r\n結尾"
    assert decode_utf8_strict(text.encode("utf-8"), file="ads.csv") == text


def test_bom_is_stripped() -> None:
    data = codecs.BOM_UTF8 + "廣告".encode()
    assert decode_utf8_strict(data, file="ads.csv") == "廣告"
    assert find_encoding_problem(data) is None


def test_big5_file_names_line_and_encoding() -> None:
    data = "\n".join(ROWS).encode("big5")
    with pytest.raises(InvalidInput) as info:
        decode_utf8_strict(data, file="ads.csv")
    error = info.value
    assert error.file == "ads.csv"
    assert error.line == 3  # the first line with non-ASCII bytes
    assert error.message_id == "text.not_utf8_big5"
    assert "looks like Big5" in error.render("en")
    assert "re-save as UTF-8" in error.render("en")
    assert "Big5" in error.render("zh-Hant") and "另存為 UTF-8" in error.render("zh-Hant")


def test_big5_after_utf8_lines_counts_lines_in_the_raw_bytes() -> None:
    data = ("第一列\n第二列\n".encode()) + "第三列 港幣 300".encode("big5hkscs") + b"\n"
    problem = find_encoding_problem(data)
    assert problem is not None
    assert (problem.line, problem.suspected) == (3, "big5")
    assert problem.byte_offset == len("第一列\n第二列\n".encode())


def test_big5_in_a_very_long_line_is_still_recognised() -> None:
    data = b'{"rows": "' + b"x" * 5000 + "網購優惠 全館八折 ".encode("big5") * 50 + b'"}'
    problem = find_encoding_problem(data)
    assert problem is not None and problem.suspected == "big5" and problem.line == 1


def test_binary_junk_is_not_called_big5() -> None:
    problem = find_encoding_problem(b"ok\n\xff\x00\x01\x02garbage\n")
    assert problem is not None
    assert (problem.line, problem.suspected) == (2, "unknown")
    with pytest.raises(InvalidInput) as info:
        decode_utf8_strict(b"ok\n\xff\x00\x01", file="x.jsonl")
    assert info.value.message_id == "text.not_utf8"


def test_utf16_is_named() -> None:
    with pytest.raises(InvalidInput) as info:
        decode_utf8_strict("id\ttext\n1\t廣告".encode("utf-16"), file="export.txt")
    assert info.value.message_id == "text.not_utf8_utf16"
    assert "UTF-16" in info.value.render("en")


@given(st.text())
def test_any_utf8_decodes_to_itself(text: str) -> None:
    if text.startswith("\ufeff"):
        text = "x" + text
    assert decode_utf8_strict(text.encode("utf-8"), file="f") == text

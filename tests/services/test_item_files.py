"""Item files: every bad-input case, byte-exact round trips, Label Studio, streaming."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelops.errors import InvalidInput, InvalidRows, RowProblem
from labelops.i18n import catalog
from labelops.services.item_files import (
    ImportedAnnotation,
    ItemRow,
    detect_item_format,
    iter_item_batches,
    read_item_file,
)
from real_data import is_full

COFACTS_DEV = Path("cofacts-flow-categories-zhtw") / "dev.csv"


def write_jsonl(path: Path, objs: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(obj) + b"\n" for obj in objs))
    return path


def only_problem(problems: list[RowProblem]) -> RowProblem:
    assert len(problems) == 1, problems
    return problems[0]


# --- happy path ------------------------------------------------------------------------


def test_jsonl_reads_every_field(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {
                "external_id": 17,
                "text": "限時優惠",
                "image": ["a.jpg", "b.jpg"],
                "audio": "c.mp3",
                "media": [{"kind": "video", "path": "d.mp4"}],
                "advertiser": 42,
                "market": "TW",
                "language": "zh-Hant",
                "metadata": {"campaign": "x"},
                "priority": 3,
                "vendor_ref": "r1",
            }
        ],
    )
    result = read_item_file(path)
    assert result.problems == [] and result.n_rows == 1
    assert result.rows == [
        ItemRow(
            line=1,
            external_id="17",
            text="限時優惠",
            media=(("video", "d.mp4"), ("image", "a.jpg"), ("image", "b.jpg"), ("audio", "c.mp3")),
            advertiser="42",
            market="TW",
            language="zh-Hant",
            metadata={"campaign": "x", "vendor_ref": "r1"},
            priority=3,
        )
    ]


def test_media_only_item_is_valid(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"external_id": "m", "video": "v.mp4"}])
    assert read_item_file(path).rows[0].media == (("video", "v.mp4"),)


def test_sql_and_html_strings_are_plain_data(tmp_path: Path) -> None:
    texts = ["'; DROP TABLE items; --", "<script>alert('x')</script>&amp;", "  spaced\t\n  "]
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"external_id": str(i), "text": t} for i, t in enumerate(texts)]
    )
    assert [row.text for row in read_item_file(path).rows] == texts


# --- bad input, one test each ------------------------------------------------------------


def test_empty_file_is_a_file_level_error(tmp_path: Path) -> None:
    for name in ("a.jsonl", "a.csv", "a.parquet", "a.json"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InvalidInput) as caught:
            read_item_file(tmp_path / name)
        assert caught.value.message_id == "itemfiles.empty_file"
        assert caught.value.file == name
        assert "file is empty" in caught.value.render("en").lower()


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"\xef\xbb\xbf\n  \r\n")
    with pytest.raises(InvalidInput, match="empty"):
        read_item_file(tmp_path / "a.jsonl")


def test_malformed_json_line_reports_its_line_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"external_id": "a", "text": "x"}\n{"external_id": "b", "text": \n'
        b'{"external_id": "c", "text": "z"}\n'
    )
    result = read_item_file(path)
    problem = only_problem(result.problems)
    assert (problem.line, problem.message_id) == (2, "errors.json.ends_early")
    assert [row.external_id for row in result.rows] == ["a", "c"]
    assert result.n_rows == 3


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"external_id": "a", "text": "x"}, [1, 2]])
    problem = only_problem(read_item_file(path).problems)
    assert (problem.line, problem.message_id) == (2, "itemfiles.not_an_object")


def test_csv_missing_external_id_column_names_it(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.csv")
    assert caught.value.message_id == "itemfiles.missing_column"
    assert caught.value.field == "external_id" and caught.value.line == 1
    assert "'external_id'" in caught.value.render("en")


def test_csv_without_text_or_media_column(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("external_id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.csv")
    assert caught.value.message_id == "itemfiles.missing_content_column"
    assert "'text'" in caught.value.render("en")


def test_big5_csv_says_big5_with_the_line(tmp_path: Path) -> None:
    body = "external_id,text\n1,ok\n2,限時優惠\n".encode("big5")
    (tmp_path / "a.csv").write_bytes(body)
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.csv")
    assert caught.value.message_id == "text.not_utf8_big5"
    assert caught.value.line == 3
    assert "Big5" in caught.value.render("en")


def test_big5_line_in_jsonl_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"external_id": "a", "text": "ok"}\n'
        + '{"external_id": "b", "text": "限時優惠"}\n'.encode("big5")
    )
    result = read_item_file(path)
    problem = only_problem(result.problems)
    assert (problem.line, problem.message_id) == (2, "text.not_utf8_big5")
    assert [row.external_id for row in result.rows] == ["a"]


def test_big5_label_studio_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes('[{"id": 1, "data": {"text": "優惠"}}]'.encode("big5"))
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.json")
    assert caught.value.message_id == "text.not_utf8_big5"


def test_text_over_the_limit_reports_its_size(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"external_id": "big", "text": "廣" * 400},
            {"external_id": "ok", "text": "x"},
        ],
    )
    result = read_item_file(path, max_text_bytes=1000)
    problem = only_problem(result.problems)
    assert (problem.line, problem.field, problem.message_id) == (
        1,
        "text",
        "itemfiles.text_too_large",
    )
    assert problem.params == {"size_bytes": 1200, "limit_bytes": 1000}
    assert [row.external_id for row in result.rows] == ["ok"]


def test_50_mb_text_is_rejected_quickly(tmp_path: Path) -> None:
    big = "a" * 50_000_000
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_bytes(
        b'{"external_id":"big","text":"' + big.encode() + b'"}\n{"external_id":"ok","text":"x"}\n'
    )
    csv_path = tmp_path / "a.csv"  # 20 MB keeps the suite fast
    csv_path.write_bytes(b'external_id,text\nbig,"' + big[:20_000_000].encode() + b'"\nok,x\n')
    for path, size in ((jsonl, 50_000_000), (csv_path, 20_000_000)):
        start = time.process_time()
        result = read_item_file(path)
        elapsed = time.process_time() - start
        problem = only_problem(result.problems)
        assert problem.message_id == "itemfiles.text_too_large"
        assert problem.params["size_bytes"] == size
        assert [row.external_id for row in result.rows] == ["ok"]
        assert elapsed < 5, f"{path.name}: {elapsed:.1f} s; reading must stay linear"


def test_empty_external_id(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"external_id": "  ", "text": "x"}])
    problem = only_problem(read_item_file(path).problems)
    assert (problem.line, problem.field, problem.message_id) == (
        1,
        "external_id",
        "itemfiles.empty_external_id",
    )


def test_missing_external_id(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    problem = only_problem(read_item_file(path).problems)
    assert (problem.field, problem.message_id) == ("external_id", "itemfiles.missing_field")


def test_duplicate_external_id_names_the_first_line(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"external_id": "a", "text": "1"},
            {"external_id": "b", "text": "2"},
            {"external_id": "a", "text": "3"},
        ],
    )
    result = read_item_file(path)
    problem = only_problem(result.problems)
    assert (problem.line, problem.field, problem.message_id) == (
        3,
        "external_id",
        "itemfiles.duplicate_external_id",
    )
    assert problem.params == {"external_id": "a", "first_line": 1}
    assert [row.text for row in result.rows] == ["1", "2"]


def test_duplicates_are_found_across_stream_batches(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"external_id": str(i % 5), "text": "x"} for i in range(7)]
    )
    batches = list(iter_item_batches(path, format="jsonl", batch_size=3))
    assert [b.n_rows for b in batches] == [3, 3, 1]
    problems = [p for b in batches for p in b.problems]
    assert [(p.line, p.params["first_line"]) for p in problems] == [(6, 1), (7, 2)]


def test_metadata_not_an_object(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"external_id": "a", "text": "x", "metadata": "campaign=1"}]
    )
    problem = only_problem(read_item_file(path).problems)
    assert (problem.field, problem.message_id) == ("metadata", "itemfiles.wrong_type")
    assert problem.params == {"expected": "object", "got": "string"}


def test_priority_not_an_int(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"external_id": "a", "text": "x", "priority": 1.5},
            {"external_id": "b", "text": "x", "priority": True},
        ],
    )
    problems = read_item_file(path).problems
    assert [(p.line, p.field, p.message_id) for p in problems] == [
        (1, "priority", "itemfiles.wrong_type"),
        (2, "priority", "itemfiles.wrong_type"),
    ]


def test_csv_priority_not_an_int(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("external_id,text,priority\na,x,high\n", encoding="utf-8")
    problem = only_problem(read_item_file(tmp_path / "a.csv").problems)
    assert (problem.line, problem.field, problem.message_id) == (
        2,
        "priority",
        "itemfiles.not_an_integer",
    )


def test_csv_metadata_must_be_json_object(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        'external_id,text,metadata\na,x,"{""k"": 1}"\nb,x,not json\nc,x,[1]\n', encoding="utf-8"
    )
    result = read_item_file(tmp_path / "a.csv")
    assert result.rows[0].metadata == {"k": 1}
    assert [(p.line, p.field, p.message_id) for p in result.problems] == [
        (3, "metadata", "errors.json.bad_value"),
        (4, "metadata", "itemfiles.wrong_type"),
    ]


def test_nul_character_is_rejected(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"external_id": "a", "text": "bad\x00text"},
            {"external_id": "b", "text": "x", "metadata": {"k": "v\x00"}},
        ],
    )
    problems = read_item_file(path).problems
    assert [(p.line, p.field, p.message_id) for p in problems] == [
        (1, "text", "itemfiles.nul_character"),
        (2, "metadata.k", "itemfiles.nul_character"),
    ]


def test_raw_nul_byte_in_csv(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"external_id,text\na,x\x00y\n")
    problem = only_problem(read_item_file(tmp_path / "a.csv").problems)
    assert (problem.line, problem.field, problem.message_id) == (
        2,
        "text",
        "itemfiles.nul_character",
    )


def test_neither_text_nor_media(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"external_id": "a", "text": ""}])
    problem = only_problem(read_item_file(path).problems)
    assert problem.message_id == "itemfiles.no_text_or_media"


def test_bad_media_entries(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"external_id": "a", "media": [{"kind": "pdf", "path": "x.pdf"}]},
            {"external_id": "b", "image": 5},
        ],
    )
    problems = read_item_file(path).problems
    assert [(p.line, p.field, p.message_id) for p in problems] == [
        (1, "media[0].kind", "itemfiles.bad_media_kind"),
        (2, "image", "itemfiles.wrong_type"),
    ]


def test_unknown_field_clashing_with_metadata(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"external_id": "a", "text": "x", "k": 1, "metadata": {"k": 2}}]
    )
    problem = only_problem(read_item_file(path).problems)
    assert (problem.field, problem.message_id) == ("k", "itemfiles.metadata_conflict")


def test_every_bad_row_is_reported_with_renderable_messages(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"external_id": "", "text": "x"},
            {"external_id": "b", "priority": "1"},
            {"external_id": "c", "text": "ok"},
        ],
    )
    result = read_item_file(path)
    assert {p.line for p in result.problems} == {1, 2}
    error = InvalidRows("a.jsonl", result.problems)
    for lang, first, second in (("en", "line 1", "line 2"), ("zh-Hant", "第 1 行", "第 2 行")):
        text = error.render(lang)
        assert first in text and second in text and "itemfiles." not in text


def test_every_message_id_in_the_module_is_in_the_catalog() -> None:
    import re

    services = Path(__file__).resolve().parents[2] / "src" / "labelops" / "services"
    source = "\n".join(
        (services / name).read_text(encoding="utf-8")
        for name in ("item_files.py", "_item_schema.py", "_item_readers.py")
    )
    used = set(re.findall(r'"((?:itemfiles|text)\.[a-z_0-9]+)"', source))
    assert used and used <= set(catalog())


# --- byte-exact text --------------------------------------------------------------------


def test_crlf_inside_quoted_csv_field_round_trips(tmp_path: Path) -> None:
    text = "第一行\r\n第二行\n第三行\r結尾 "
    with open(tmp_path / "a.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["external_id", "text"], ["a", text], ["b", "x"]])
    result = read_item_file(tmp_path / "a.csv")
    assert result.problems == []
    assert result.rows[0].text == text
    assert result.rows[1].line == 6  # row a spans lines 2-5: \r\n, \n and \r each end one


def test_csv_bom_and_empty_cells(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(
        "\ufeffexternal_id,text,image,market,extra\na,,p.jpg,,\nb,文,,TW,v\n".encode()
    )
    rows = read_item_file(tmp_path / "a.csv").rows
    assert rows[0] == ItemRow(2, "a", None, (("image", "p.jpg"),), None, None, None, {}, None)
    assert (rows[1].text, rows[1].market, rows[1].metadata) == ("文", "TW", {"extra": "v"})


def test_cofacts_dev_round_trips_byte_exact_in_every_format(
    tmp_path: Path, real_data: Path
) -> None:
    with open(real_data / COFACTS_DEV, encoding="utf-8", newline="") as fh:
        source = [(row["id"], row["text"]) for row in csv.DictReader(fh)]
    assert len(source) == (1491 if is_full(real_data) else 202)
    first: dict[str, str] = {}
    for external_id, text in source:  # ids are unique; a repeat would keep its first text
        first.setdefault(external_id, text)
    unique = list(first.items())
    items = [{"external_id": i, "text": t} for i, t in unique]
    write_jsonl(tmp_path / "c.jsonl", items)
    with open(tmp_path / "c.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["external_id", "text"], *unique])
    pq.write_table(pa.Table.from_pylist(items), tmp_path / "c.parquet")
    expected = {i: t.encode("utf-8") for i, t in unique}
    for name in ("c.jsonl", "c.csv", "c.parquet"):
        result = read_item_file(tmp_path / name)
        assert result.problems == [], name
        got = {row.external_id: (row.text or "").encode("utf-8") for row in result.rows}
        assert got == expected, name


# --- Parquet ----------------------------------------------------------------------------


def test_parquet_types_and_problems(tmp_path: Path) -> None:
    table = pa.table(
        {
            "external_id": pa.array([1, 2, 3], pa.int64()),
            "text": ["甲", None, "丙"],
            "image": [None, ["a.jpg"], None],
            "metadata": ['{"k": 1}', None, "oops"],
            "priority": pa.array([1.0, None, 2.0]),
        }
    )
    pq.write_table(table, tmp_path / "a.parquet")
    result = read_item_file(tmp_path / "a.parquet")
    assert [(r.external_id, r.text, r.media, r.metadata, r.priority) for r in result.rows] == [
        ("1", "甲", (), {"k": 1}, 1),
        ("2", None, (("image", "a.jpg"),), {}, None),
    ]
    problem = only_problem(result.problems)
    assert (problem.line, problem.field) == (3, "metadata")
    assert problem.message_id.startswith("errors.json.")


def test_not_a_parquet_file(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(b"external_id,text\n")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.parquet")
    assert caught.value.message_id == "itemfiles.bad_parquet"


# --- Label Studio -----------------------------------------------------------------------


LS_EXPORT = [
    {
        "id": 101,
        "data": {"text": "免費領取紅包", "image": "upload/1/a.png"},
        "annotations": [
            {
                "id": 1,
                "completed_by": 7,
                "was_cancelled": False,
                "lead_time": 12.5,
                "created_at": "2024-05-01T10:00:00.123456Z",
                "result": [
                    {
                        "id": "r1",
                        "type": "choices",
                        "from_name": "label",
                        "to_name": "text",
                        "value": {"choices": ["scam"]},
                    },
                    {
                        "id": "r2",
                        "type": "textarea",
                        "from_name": "note",
                        "to_name": "text",
                        "value": {"text": ["because"]},
                    },
                ],
            },
            {
                "id": 2,
                "completed_by": {"id": 8, "email": "amy@vendor.tw"},
                "lead_time": 3,
                "created_at": "2024-05-01T11:00:00",
                "result": [
                    {
                        "type": "choices",
                        "value": {"choices": ["scam", "gambling"]},
                        "from_name": "label",
                        "to_name": "text",
                    }
                ],
            },
            {"id": 3, "completed_by": 9, "was_cancelled": True, "result": []},
        ],
        "predictions": [{"model_version": "m1", "score": 0.9, "result": []}],
        "meta": {},
    },
    {
        "id": 102,
        "data": {"external_id": "ad-2", "text": "正常廣告", "market": "HK"},
        "annotations": [],
    },
]


def test_label_studio_export(tmp_path: Path) -> None:
    (tmp_path / "export.json").write_bytes(orjson.dumps(LS_EXPORT))
    result = read_item_file(tmp_path / "export.json")
    assert result.problems == []
    assert [(r.line, r.external_id, r.market) for r in result.rows] == [
        (1, "101", None),
        (2, "ad-2", "HK"),
    ]
    assert result.rows[0].media == (("image", "upload/1/a.png"),)
    assert result.rows[1].metadata == {"label_studio_task_id": 102}
    first, second = result.annotations
    assert first == ImportedAnnotation("101", "7", ("scam",), 12.5, first.created_at, line=1)
    assert first.created_at is not None and first.created_at.isoformat() == (
        "2024-05-01T10:00:00.123456+00:00"
    )
    assert (second.annotator, second.labels, second.lead_time_s) == (
        "amy@vendor.tw",
        ("scam", "gambling"),
        3.0,
    )
    assert second.created_at is not None and second.created_at.utcoffset() is not None


def test_label_studio_upload_paths_are_absolute_and_refused(tmp_path: Path) -> None:
    """Label Studio's own ``/data/upload/...`` paths name files outside the media root."""
    task = {"id": 7, "data": {"text": "x", "image": "/data/upload/1/a.png"}}
    (tmp_path / "export.json").write_bytes(orjson.dumps([task]))
    result = read_item_file(tmp_path / "export.json")
    assert result.rows == []
    assert [(p.line, p.field, p.message_id) for p in result.problems] == [
        (1, "image", "media.path_absolute")
    ]


def test_label_studio_not_an_array(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b'"hello"')
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.json")
    assert caught.value.message_id == "itemfiles.not_a_task_array"


def test_label_studio_malformed_json_has_a_line(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b'[\n{"id": 1, "data": {"text": "x"}},\n{"id": 2,\n')
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.json", format="label-studio")
    assert caught.value.message_id == "errors.json.ends_early"
    assert caught.value.line is not None and caught.value.line >= 3


def test_label_studio_bad_task_is_a_row_problem(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(
        orjson.dumps(
            [
                {"id": 1, "data": {"text": "x"}},
                {"id": 2, "data": "x"},
                {
                    "id": 3,
                    "data": {"text": "y"},
                    "annotations": [
                        {
                            "completed_by": 1,
                            "created_at": "yesterday",
                            "result": [{"type": "choices", "value": {"choices": ["a"]}}],
                        }
                    ],
                },
            ]
        )
    )
    result = read_item_file(tmp_path / "a.json")
    assert [(p.line, p.field, p.message_id) for p in result.problems] == [
        (2, "data", "itemfiles.wrong_type"),
        (3, "annotations[0].created_at", "itemfiles.bad_datetime"),
    ]
    assert [r.external_id for r in result.rows] == ["1"]


# --- format detection and options -----------------------------------------------------


def test_detect_item_format(tmp_path: Path) -> None:
    assert detect_item_format("x.JSONL") == "jsonl"
    assert detect_item_format("x.pq") == "parquet"
    (tmp_path / "items.txt").write_bytes(b'\n{"external_id": 1}\n')
    assert detect_item_format(tmp_path / "items.txt") == "jsonl"
    (tmp_path / "items.dat").write_bytes(b"hello")
    with pytest.raises(InvalidInput) as caught:
        detect_item_format(tmp_path / "items.dat")
    assert caught.value.message_id == "itemfiles.unknown_format"


def test_header_only_csv_has_no_rows(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("external_id,text\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "a.csv")
    assert caught.value.message_id == "itemfiles.no_rows"


def test_csv_row_with_wrong_field_count(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("external_id,text\na,x,extra\n", encoding="utf-8")
    problem = only_problem(read_item_file(tmp_path / "a.csv").problems)
    assert (problem.line, problem.message_id) == (2, "itemfiles.wrong_field_count")


def test_bad_batch_size(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"external_id": "a", "text": "x"}])
    with pytest.raises(InvalidInput):
        next(iter_item_batches(path, batch_size=0))


def test_file_name_option_is_used_in_errors(tmp_path: Path) -> None:
    (tmp_path / "tmp123.csv").write_bytes(b"")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(tmp_path / "tmp123.csv", file_name="vendor_upload.csv")
    assert caught.value.file == "vendor_upload.csv"


# --- column maps ------------------------------------------------------------------------


def test_real_cofacts_csv_reads_with_its_id_column_mapped(real_data: Path) -> None:
    """The real file keys rows by ``id`` and has an unnamed index column and a ``label``."""
    with open(real_data / COFACTS_DEV, encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    with pytest.raises(InvalidInput):
        read_item_file(real_data / COFACTS_DEV)
    result = read_item_file(real_data / COFACTS_DEV, columns={"external_id": "id"})
    assert result.problems == []
    assert [(r.external_id, r.text) for r in result.rows] == [
        (row["id"], row["text"]) for row in source
    ]
    assert result.rows[0].metadata == {"#1": source[0][""], "label": source[0]["label"]}


def test_every_format_maps_its_columns_to_the_same_rows(tmp_path: Path) -> None:
    items = [
        {"ad_id": "a-1", "body": "限時優惠，立即下單", "brand": "某品牌", "score": 1},
        {"ad_id": "a-2", "body": "免費領取", "brand": "X", "score": 2},
    ]
    write_jsonl(tmp_path / "m.jsonl", items)
    with open(tmp_path / "m.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([list(items[0]), *[list(i.values()) for i in items]])
    pq.write_table(pa.Table.from_pylist(items), tmp_path / "m.parquet")
    (tmp_path / "m.json").write_bytes(
        orjson.dumps([{"id": n, "data": item} for n, item in enumerate(items, start=1)])
    )
    columns = {"external_id": "ad_id", "text": "body", "advertiser": "brand"}
    for name in ("m.jsonl", "m.csv", "m.parquet", "m.json"):
        result = read_item_file(tmp_path / name, columns=columns)
        assert result.problems == [], name
        got = [(r.external_id, r.text, r.advertiser) for r in result.rows]
        assert got == [("a-1", "限時優惠，立即下單", "某品牌"), ("a-2", "免費領取", "X")], name
        assert result.rows[0].metadata.get("score") in (1, "1"), name


def test_a_json_key_mapped_to_a_field_the_row_already_has_is_a_row_problem(
    tmp_path: Path,
) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [{"id": "a", "text": "x"}, {"id": "b", "external_id": "own", "text": "y"}, {"text": "z"}],
    )
    result = read_item_file(path, columns={"external_id": "id"})
    assert [r.external_id for r in result.rows] == ["a"]
    assert [(p.line, p.field, p.message_id) for p in result.problems] == [
        (2, "external_id", "itemfiles.mapped_field_clash"),
        (3, "external_id", "itemfiles.missing_field"),
    ]
    assert "'id'" in result.problems[0].render("en")
    assert "「id」" in result.problems[0].render("zh-Hant")


@pytest.mark.parametrize(
    ("header", "columns", "message_id", "field"),
    [
        ("id,text", {"external_id": "ad_id"}, "itemfiles.mapped_column_missing", "external_id"),
        (
            "id,external_id,text",
            {"external_id": "id"},
            "itemfiles.mapped_field_clash",
            "external_id",
        ),
        (
            "id,text",
            {"external_id": "id", "colour": "text"},
            "itemfiles.column_map_unknown_field",
            "colour",
        ),
        (
            "id,text",
            {"external_id": "id", "advertiser": "id"},
            "itemfiles.column_map_shared_column",
            "advertiser",
        ),
        ("id,text", {"external_id": ""}, "itemfiles.column_map_empty_column", "external_id"),
    ],
)
def test_a_bad_column_map_is_a_file_level_error(
    tmp_path: Path, header: str, columns: dict[str, str], message_id: str, field: str
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(f"{header}\n{','.join('1' for _ in header.split(','))}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(path, columns=columns)
    assert (caught.value.message_id, caught.value.field) == (message_id, field)
    for lang in ("en", "zh-Hant"):
        rendered = caught.value.render(lang)
        assert "{" not in rendered and field in rendered, rendered


# --- files made elsewhere: positions, TSV without a header, files without ids -----------

SMS_SPAM = Path("sms-spam-collection-en") / "SMSSpamCollection.tsv"
COLD_DEV = Path("cold-zh-offensive") / "dev.csv"
TG_SPAM = Path("tg-spam-zh") / "train.csv"


def test_an_unnamed_column_is_named_and_mapped_by_its_position(real_data: Path) -> None:
    """The real COLD file's first column has no name (after a BOM); ``#1`` maps it, and its
    ids repeat across topics (the dataset says so), which the reader reports row by row."""
    with open(real_data / COLD_DEV, encoding="utf-8-sig", newline="") as fh:
        source = list(csv.reader(fh))[1:]
    first_line: dict[str, int] = {}
    repeats = []
    for line, row in enumerate(source, start=2):
        if row[0] in first_line:
            repeats.append((line, row[0], first_line[row[0]]))
        first_line.setdefault(row[0], line)
    result = read_item_file(real_data / COLD_DEV, columns={"external_id": "#1", "text": "TEXT"})
    assert (
        repeats
        and [(p.line, p.params["external_id"], p.params["first_line"]) for p in result.problems]
        == repeats
    )
    assert {p.message_id for p in result.problems} == {"itemfiles.duplicate_external_id"}
    assert len(result.rows) == len(source) - len(repeats)
    by_position = read_item_file(real_data / COLD_DEV, columns={"external_id": "#1", "text": "#5"})
    assert [(r.external_id, r.text) for r in by_position.rows] == [
        (r.external_id, r.text) for r in result.rows
    ]


def test_the_real_sms_tsv_reads_without_a_header_and_with_hash_ids(real_data: Path) -> None:
    """The SMS Spam Collection is ``label<TAB>text`` with no header and no ids; its texts
    hold quotes, which TSV keeps as they are."""
    lines = (real_data / SMS_SPAM).read_text(encoding="utf-8").splitlines()
    source = [line.split("\t") for line in lines]
    with pytest.raises(InvalidInput) as caught:
        read_item_file(real_data / SMS_SPAM, header=False, columns={"text": "#2"})
    assert caught.value.message_id == "itemfiles.missing_column"
    assert "#1, #2" in caught.value.render("en") and "--hash-ids" in caught.value.render("en")
    result = read_item_file(
        real_data / SMS_SPAM, header=False, columns={"text": "#2"}, hash_ids=True
    )
    assert result.problems == [] and result.n_rows == len(source)
    assert [(r.line, r.text, r.metadata) for r in result.rows] == [
        (line, text, {"#1": label}) for line, (label, text) in enumerate(source, start=1)
    ]
    assert sum('"' in r.text for r in result.rows if r.text) == sum('"' in t for _, t in source)
    ids = [r.external_id for r in result.rows]
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    # The same row, the same id; different rows, different ids.
    assert len(set(ids)) == len({tuple(row) for row in source})
    again = read_item_file(
        real_data / SMS_SPAM, header=False, columns={"text": "#2"}, hash_ids=True
    )
    assert [r.external_id for r in again.rows] == ids


def test_the_real_tg_spam_csv_reads_with_hash_ids_and_its_bad_rows_reported(
    real_data: Path,
) -> None:
    with open(real_data / TG_SPAM, encoding="utf-8", newline="") as fh:
        source = list(csv.reader(fh))
    result = read_item_file(real_data / TG_SPAM, columns={"text": "input"}, hash_ids=True)
    problems = {(p.message_id, p.field) for p in result.problems}
    assert problems == {
        ("itemfiles.no_text_or_media", "text"),
        ("itemfiles.wrong_field_count", None),
    }
    good = [row for row in source[1:] if len(row) == 2 and row[1]]
    assert [(r.text, r.metadata["target"]) for r in result.rows] == [(t, g) for g, t in good]
    distinct_rows = {tuple(row) for row in good}
    assert len({r.external_id for r in result.rows}) == len(distinct_rows)


def test_hash_ids_depend_on_every_field_of_the_row(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"text": "限時優惠", "label": "spam"},
            {"text": "限時優惠", "label": "ham"},
            {"label": "spam", "text": "限時優惠"},
        ],
    )
    ids = [r.external_id for r in read_item_file(path, hash_ids=True).rows]
    assert ids[0] != ids[1] and ids[0] == ids[2]
    # The documented id, computed independently: SHA-256 of the row as compact JSON with
    # sorted keys, first 16 hex digits.
    canonical = json.dumps(
        {"label": "spam", "text": "限時優惠"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert ids[0] == hashlib.sha256(canonical.encode()).hexdigest()[:16]


def test_a_tsv_is_known_by_its_suffix_and_quotes_are_plain_characters(tmp_path: Path) -> None:
    path = tmp_path / "ads.tsv"
    path.write_text('external_id\ttext\na\t"加LINE" 領"紅包\nb\tx,y\n', encoding="utf-8")
    assert detect_item_format(path) == "tsv"
    rows = read_item_file(path).rows
    assert [(r.external_id, r.text) for r in rows] == [("a", '"加LINE" 領"紅包'), ("b", "x,y")]
    with pytest.raises(InvalidInput) as caught:  # as CSV, the header is one column
        read_item_file(path, format="csv")
    assert caught.value.message_id == "itemfiles.missing_column"


@pytest.mark.parametrize(
    ("name", "content", "options", "message_id"),
    [
        (
            "a.jsonl",
            '{"text": "x"}\n',
            {"columns": {"text": "#1"}},
            "itemfiles.position_not_tabular",
        ),
        ("a.jsonl", '{"text": "x"}\n', {"header": False}, "itemfiles.no_header_not_delimited"),
        (
            "a.json",
            '[{"id": 1, "data": {"text": "x"}}]',
            {"hash_ids": True},
            "itemfiles.hash_ids_label_studio",
        ),
        (
            "a.csv",
            "external_id,text\na,x\n",
            {"hash_ids": True},
            "itemfiles.hash_ids_with_id_column",
        ),
        (
            "a.csv",
            "id,text\na,x\n",
            {"columns": {"external_id": "#3"}},
            "itemfiles.mapped_column_missing",
        ),
        (
            "a.csv",
            "id,text\na,x\n",
            {"columns": {"external_id": "#0"}},
            "itemfiles.column_map_bad_position",
        ),
        (
            "a.csv",
            "id,text\na,x\n",
            {"columns": {"external_id": "id", "advertiser": "#1"}},
            "itemfiles.column_map_shared_column",
        ),
    ],
)
def test_a_layout_the_file_cannot_take_is_a_file_level_error(
    tmp_path: Path, name: str, content: str, options: dict[str, Any], message_id: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_item_file(path, **options)
    assert caught.value.message_id == message_id
    for lang in ("en", "zh-Hant"):
        rendered = caught.value.render(lang)
        assert "{" not in rendered, rendered


def test_a_jsonl_row_with_its_own_id_is_a_row_problem_with_hash_ids(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}, {"external_id": "e", "text": "y"}])
    result = read_item_file(path, hash_ids=True)
    assert [r.text for r in result.rows] == ["x"]
    assert [(p.line, p.field, p.message_id) for p in result.problems] == [
        (2, "external_id", "itemfiles.hash_ids_with_ids")
    ]
    assert "--hash-ids" in result.problems[0].render("zh-Hant")

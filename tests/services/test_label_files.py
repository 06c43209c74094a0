"""Label files: determinism, round trips through the item reader, Label Studio tasks."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from labelops.errors import InvalidInput
from labelops.services.item_files import read_item_file
from labelops.services.label_files import write_final_labels, write_raw_labels

FORMATS = ("jsonl", "csv", "parquet", "label-studio")
T0 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def final_rows() -> list[dict[str, Any]]:
    return [
        {
            "external_id": "ad-2",
            "final_label": "scam",
            "method": "dawid_skene",
            "confidence": 0.93,
            "status": "final",
            "text": "免費領取\r\n紅包",
            "snapshot_id": 4,
            "n_labels": 3,
        },
        {
            "external_id": "ad-1",
            "final_label": ["gambling", "scam"],
            "method": "majority_vote",
            "confidence": Decimal("0.5"),
            "status": "final",
            "text": "線上娛樂城\n首儲送千",
            "snapshot_id": 4,
            "n_labels": 2,
            "labels": [{"labeller": "v/1", "label": "scam", "active_ms": 8000}],
        },
        {
            "external_id": "ad-3",
            "final_label": None,
            "method": "none",
            "confidence": None,
            "status": "pending",
            "text": "'; DROP TABLE x; -- <b>",
            "snapshot_id": 4,
            "n_labels": 0,
        },
    ]


def raw_rows() -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"ad-{i % 3}",
            "labeller": f"v/{i % 2}",
            "label": "scam",
            "revision": i // 6 + 1,
            "served_at": T0 + timedelta(seconds=i),
            "submitted_at": T0 + timedelta(seconds=i + 7),
            "active_ms": 6500 + i,
        }
        for i in range(12)
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_final_labels_are_byte_identical_whatever_the_input_order(tmp_path: Path, fmt: Any) -> None:
    rows = final_rows()
    first = write_final_labels(rows, tmp_path / "a", format=fmt)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    shuffled = [dict(reversed(list(row.items()))) for row in shuffled]  # key order too
    second = write_final_labels(shuffled, tmp_path / "b", format=fmt)
    assert first.sha256 == second.sha256
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    assert first.n_rows == 3 and first.n_bytes == (tmp_path / "a").stat().st_size


@pytest.mark.parametrize("fmt", ("jsonl", "csv", "parquet"))
def test_raw_labels_are_byte_identical_whatever_the_input_order(tmp_path: Path, fmt: Any) -> None:
    rows = raw_rows()
    first = write_raw_labels(rows, tmp_path / "a", format=fmt)
    second = write_raw_labels(rows[::-1], tmp_path / "b", format=fmt)
    assert first.sha256 == second.sha256


def test_final_jsonl_is_sorted_with_sorted_keys(tmp_path: Path) -> None:
    write_final_labels(final_rows(), tmp_path / "f.jsonl")
    lines = (tmp_path / "f.jsonl").read_bytes().splitlines()
    decoded = [orjson.loads(line) for line in lines]
    assert [d["external_id"] for d in decoded] == ["ad-1", "ad-2", "ad-3"]
    assert list(decoded[0]) == sorted(decoded[0])
    assert decoded[0]["final_label"] == ["gambling", "scam"] and decoded[0]["confidence"] == 0.5
    assert decoded[1]["text"] == "免費領取\r\n紅包"


def test_final_csv_round_trips_text_exactly(tmp_path: Path) -> None:
    write_final_labels(final_rows(), tmp_path / "f.csv", format="csv")
    with open(tmp_path / "f.csv", encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert list(records[0])[:5] == ["external_id", "final_label", "method", "confidence", "status"]
    assert [r["text"] for r in records] == [
        r["text"] for r in sorted(final_rows(), key=lambda r: r["external_id"])
    ]
    assert records[0]["final_label"] == '["gambling","scam"]'
    assert records[2]["confidence"] == ""
    # The export can be imported again as items (text + unknown columns to metadata).
    items = read_item_file(tmp_path / "f.csv")
    assert items.problems == [] and items.rows[1].text == "免費領取\r\n紅包"


def test_final_parquet_columns(tmp_path: Path) -> None:
    write_final_labels(final_rows(), tmp_path / "f.parquet", format="parquet")
    table = pq.read_table(tmp_path / "f.parquet")
    assert table.column_names[:5] == [
        "external_id",
        "final_label",
        "method",
        "confidence",
        "status",
    ]
    assert table.column("final_label").to_pylist() == [["gambling", "scam"], ["scam"], None]
    assert table.column("text").to_pylist()[1] == "免費領取\r\n紅包"
    labels = table.column("labels").to_pylist()[0]
    assert orjson.loads(labels) == [{"active_ms": 8000, "label": "scam", "labeller": "v/1"}]


def test_final_label_studio_tasks_import_back(tmp_path: Path) -> None:
    write_final_labels(
        final_rows(),
        tmp_path / "f.json",
        format="label-studio",
        label_studio_as="annotations",
        from_name="policy",
        to_name="ad",
    )
    tasks = orjson.loads((tmp_path / "f.json").read_bytes())
    assert tasks[0]["data"] == {"external_id": "ad-1", "text": "線上娛樂城\n首儲送千"}
    assert tasks[0]["annotations"][0]["result"] == [
        {
            "from_name": "policy",
            "to_name": "ad",
            "type": "choices",
            "value": {"choices": ["gambling", "scam"]},
        }
    ]
    assert tasks[2]["annotations"] == []
    assert tasks[0]["meta"]["method"] == "majority_vote"
    back = read_item_file(tmp_path / "f.json")
    assert [r.external_id for r in back.rows] == ["ad-1", "ad-2", "ad-3"]
    assert [(a.external_id, a.labels) for a in back.annotations] == [
        ("ad-1", ("gambling", "scam")),
        ("ad-2", ("scam",)),
    ]


def test_final_label_studio_predictions_carry_method_and_score(tmp_path: Path) -> None:
    write_final_labels(final_rows(), tmp_path / "f.json", format="label-studio")
    tasks = orjson.loads((tmp_path / "f.json").read_bytes())
    assert tasks[1]["predictions"] == [
        {
            "model_version": "dawid_skene",
            "score": 0.93,
            "result": [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["scam"]},
                }
            ],
        }
    ]


def test_raw_labels_jsonl_order_and_timing(tmp_path: Path) -> None:
    write_raw_labels(raw_rows(), tmp_path / "r.jsonl")
    decoded = [orjson.loads(line) for line in (tmp_path / "r.jsonl").read_bytes().splitlines()]
    keys = [(d["external_id"], d["labeller"], d["revision"]) for d in decoded]
    assert keys == sorted(keys) and len(keys) == 12
    assert decoded[0]["served_at"] == "2024-06-01T08:00:00+00:00"


def test_raw_labels_csv_has_rfc3339_times(tmp_path: Path) -> None:
    write_raw_labels(raw_rows(), tmp_path / "r.csv", format="csv")
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert first["submitted_at"] == "2024-06-01T08:00:07+00:00"
    assert first["active_ms"] == "6500"


def test_raw_labels_refuse_label_studio(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        write_raw_labels(raw_rows(), tmp_path / "r.json", format="label-studio")
    assert caught.value.message_id == "itemfiles.export_format_unsupported"


def test_missing_required_field_names_row_and_field(tmp_path: Path) -> None:
    rows = final_rows()
    del rows[1]["status"]
    with pytest.raises(InvalidInput) as caught:
        write_final_labels(rows, tmp_path / "f.jsonl")
    assert (caught.value.line, caught.value.field) == (2, "status")
    assert not (tmp_path / "f.jsonl").exists()


def test_duplicate_external_id_is_refused(tmp_path: Path) -> None:
    rows = final_rows() + [final_rows()[0]]
    with pytest.raises(InvalidInput) as caught:
        write_final_labels(rows, tmp_path / "f.jsonl")
    assert caught.value.message_id == "itemfiles.export_duplicate"


def test_unserialisable_value_leaves_no_file(tmp_path: Path) -> None:
    rows = final_rows()
    rows[0]["extra"] = object()
    with pytest.raises(InvalidInput) as caught:
        write_final_labels(rows, tmp_path / "f.jsonl")
    assert caught.value.message_id == "itemfiles.export_unserialisable"
    assert list(tmp_path.iterdir()) == []

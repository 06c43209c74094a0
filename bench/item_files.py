"""Throughput of item-file parsing and label-file export.

Generates a JSONL file of N items with Traditional Chinese ad text (seeded), then times:

* ``read_item_file`` (parse + validate, all rows in memory),
* ``iter_item_batches`` (streaming, 10,000-row batches),
* the floor: plain ``orjson.loads`` per line with no validation,
* CSV and Parquet reads of the same items,
* ``write_final_labels`` and ``write_raw_labels`` to JSONL (and final labels to Parquet).

Run: ``.venv/bin/python bench/item_files.py [N]`` (default 1,000,000).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a sibling bench script
# (bench/queue.py) would shadow the standard library's ``queue`` that pyarrow imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import gc
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from labelops.services.item_files import iter_item_batches, read_item_file
from labelops.services.label_files import write_final_labels, write_raw_labels

_PHRASES = [
    "限時優惠！全館商品下殺五折",
    "免費領取iPhone 16，只要加LINE好友",
    "保證獲利，每月穩賺百分之二十",
    "台北市信義區新建案，首付只要九十九萬",
    "減肥神藥，七天瘦十公斤不復胖",
    "正品名牌包，工廠直營價",
    "線上娛樂城，首儲送一千",
    "醫師推薦保健食品，改善三高",
    "點擊連結領取紅包 https://bit.ly/x",
    "週年慶滿千送百，\r\n會員再享九折",
    "「誠徵」在家工作，日領三千",
    "香港六合彩內幕消息，包中",
]


def _items(n: int) -> list[dict[str, object]]:
    rng = random.Random(20240601)
    items: list[dict[str, object]] = []
    for i in range(n):
        text = "，".join(rng.choices(_PHRASES, k=rng.randint(1, 4)))
        item: dict[str, object] = {
            "external_id": f"ad-{i:08d}",
            "text": text,
            "advertiser": f"adv-{rng.randint(1, 5000)}",
            "market": "TW",
            "language": "zh-Hant",
        }
        if i % 10 == 0:
            item["image"] = f"s3://creatives/{i}.jpg"
            item["metadata"] = {"campaign": rng.randint(1, 100), "source": "bpo"}
        items.append(item)
    return items


def _time(label: str, n: int, fn: object) -> object:
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()  # type: ignore[operator]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        f"{label:<42} wall {seconds:6.2f} s {n / seconds:>10,.0f} rows/s"
        f"   cpu {cpu:6.2f} s {n / cpu:>10,.0f} rows/s"
    )
    return result


def main(n: int) -> None:
    """Generate ``n`` items, time every reader and writer, print rows per second."""
    items = _items(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jsonl = folder / "items.jsonl"
        jsonl.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
        size_mb = jsonl.stat().st_size / 1e6
        print(f"{n:,} items, JSONL {size_mb:.0f} MB")
        # The bench's own million input dicts would otherwise be re-scanned by every
        # cyclic-GC pass and charged to the code under test.
        gc.collect()
        gc.freeze()

        def floor() -> int:
            return sum(1 for line in jsonl.read_bytes().split(b"\n") if line and orjson.loads(line))

        _time("orjson.loads per line (no validation)", n, floor)
        result = _time("read_item_file jsonl", n, lambda: read_item_file(jsonl))
        if result.problems or len(result.rows) != n:  # type: ignore[attr-defined]
            raise SystemExit("unexpected problems in generated items")
        _time(
            "iter_item_batches jsonl (10k batches)",
            n,
            lambda: sum(len(b.rows) for b in iter_item_batches(jsonl, format="jsonl")),
        )

        table = pa.Table.from_pylist(
            [
                {
                    **item,
                    "metadata": orjson.dumps(item["metadata"]).decode()
                    if "metadata" in item
                    else None,
                }
                for item in items
            ]
        )
        parquet = folder / "items.parquet"
        pq.write_table(table, parquet)
        csv_path = folder / "items.csv"
        table.to_pandas().to_csv(csv_path, index=False)
        _time("read_item_file csv", n, lambda: read_item_file(csv_path))
        _time("read_item_file parquet", n, lambda: read_item_file(parquet))
        del result, table
        gc.collect()

        rng = random.Random(7)
        finals = [
            {
                "external_id": item["external_id"],
                "final_label": rng.choice(["ok", "scam"]),
                "method": "dawid_skene",
                "confidence": round(rng.random(), 4),
                "status": "final",
                "snapshot_id": 3,
                "n_labels": 3,
            }
            for item in items
        ]
        rng.shuffle(finals)
        gc.collect()
        gc.freeze()
        _time(
            "write_final_labels jsonl",
            n,
            lambda: write_final_labels(finals, folder / "final.jsonl"),
        )
        _time(
            "write_final_labels parquet",
            n,
            lambda: write_final_labels(finals, folder / "final.parquet", format="parquet"),
        )
        t0 = datetime(2024, 6, 1, tzinfo=UTC)
        raws = [
            {
                "external_id": item["external_id"],
                "labeller": f"vendor-a/{i % 40}",
                "label": "ok",
                "revision": 1,
                "served_at": t0 + timedelta(seconds=i),
                "submitted_at": t0 + timedelta(seconds=i + 9),
                "active_ms": 8700,
            }
            for i, item in enumerate(items)
        ]
        gc.collect()
        gc.freeze()
        _time("write_raw_labels jsonl", n, lambda: write_raw_labels(raws, folder / "raw.jsonl"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)

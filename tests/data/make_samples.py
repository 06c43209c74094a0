"""Cut the committed real-data samples (``tests/data/<dataset>/``) from the full sets.

Run from the repository with the full sets beside it (``../shared/data``):
``python tests/data/make_samples.py [FULL_DATA_FOLDER]``. Every cut is deterministic (first rows or first
items in file order, plus the rows a test needs, named below); CSV/TSV records keep their
exact bytes and JSON items their content: a sample is the full file with rows left out, laid out as the full set, so
a test reads ``real_data / "<dataset>/<file>"`` with either root. Each dataset folder
gets a ``NOTICE.md`` copied from the dataset's ``DATASET.md`` (source, licence) with
what was cut.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1].parent / "shared" / "data"


def _records(path: Path, delimiter: str = ",") -> list[tuple[list[str], str]]:
    """Every CSV record of ``path`` with its exact text (header first)."""
    text = path.read_text(encoding="utf-8")
    lines = io.StringIO(text, newline="").readlines()  # the lines csv counts (not U+2028)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, start = [], 0
    for fields in reader:
        records.append((fields, "".join(lines[start : reader.line_num])))
        start = reader.line_num
    return records


def _write(relative: str, chunks: Iterable[str]) -> None:
    target = HERE / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        handle.writelines(chunks)


def _keep(relative: str, keep: Callable[[int, list[str]], bool], delimiter: str = ",") -> str:
    """Write the header and the records ``keep(index, fields)`` accepts; say how many."""
    records = _records(FULL / relative, delimiter)
    kept = [raw for index, (fields, raw) in enumerate(records[1:]) if keep(index, fields)]
    _write(relative, [records[0][1], *kept])
    return f"`{relative}`: {len(kept)} of {len(records) - 1} rows"


def _keep_items(relative: str, column: int, chosen: set[str], delimiter: str = ",") -> str:
    """Write the header and the records whose ``column`` is one of ``chosen``."""
    return _keep(relative, lambda _, fields: fields[column] in chosen, delimiter)


def _first_items(relative: str, column: int, n_items: int, delimiter: str = ",") -> set[str]:
    """The first ``n_items`` item ids of a long answer file, in file order."""
    chosen: dict[str, None] = {}
    for fields, _ in _records(FULL / relative, delimiter)[1:]:
        if len(chosen) == n_items and fields[column] not in chosen:
            continue
        chosen.setdefault(fields[column], None)
    return set(chosen)


def cofacts() -> list[str]:
    """First 200 rows, plus both rows of the text ``dev.csv`` holds twice."""
    relative = "cofacts-flow-categories-zhtw/dev.csv"
    records = _records(FULL / relative)[1:]
    repeated = {t for t, n in Counter(f[2] for f, _ in records).items() if n > 1}
    return [_keep(relative, lambda i, f: i < 200 or f[2] in repeated)]


def sms() -> list[str]:
    """First 300 lines (the file's BOM stays on the first)."""
    relative = "sms-spam-collection-en/SMSSpamCollection.tsv"
    lines = io.StringIO((FULL / relative).read_text(encoding="utf-8"), newline="").readlines()
    _write(relative, lines[:300])
    return [f"`{relative}`: 300 of {len(lines)} lines"]


def cold() -> list[str]:
    """First 200 rows (the BOM and header stay)."""
    return [_keep("cold-zh-offensive/dev.csv", lambda i, _: i < 200)]


def tg_spam() -> list[str]:
    """First 300 rows, plus every malformed row (no text, or commas making 3+ fields)."""
    return [_keep("tg-spam-zh/train.csv", lambda i, f: i < 300 or len(f) != 2 or not f[1])]


def truth_inference() -> list[str]:
    """The first items (file order) of each set with all their answers and truths."""
    sizes = {
        "d_Duck_Identification": 16,
        "d_jn-product": 150,
        "s4_Dog_data": 50,
        "s4_Face_Sentiment_Identification": 50,
    }
    notes = []
    for name, n_items in sizes.items():
        folder = f"truth-inference-survey/{name}"
        truths = {f[0] for f, _ in _records(FULL / folder / "truth.csv")[1:]}
        chosen: set[str] = set()
        for fields, _ in _records(FULL / folder / "answer.csv")[1:]:
            if len(chosen) < n_items and fields[0] in truths:
                chosen.add(fields[0])
        notes.append(_keep_items(f"{folder}/answer.csv", 0, chosen))
        notes.append(_keep_items(f"{folder}/truth.csv", 0, chosen))
    return notes


def snow() -> list[str]:
    """The first 50 items (file order) of rte, temp and wsd with all their answers."""
    notes = []
    for name in ("rte", "temp", "wsd"):
        relative = f"snow2008-rte-temp/all_collected_data/{name}.standardized.tsv"
        chosen = _first_items(relative, 2, 50, "\t")
        notes.append(_keep_items(relative, 2, chosen, "\t"))
    return notes


def lewidi() -> list[str]:
    """The first items of each split of HS-Brexit and MD-Agreement, records unchanged."""
    notes = []
    for name, n_items in (("HS-Brexit", 40), ("MD-Agreement", 60)):
        for split in ("train", "dev", "test"):
            relative = f"lewidi2023-offensive-abuse/{name}/{name}_{split}.json"
            full = json.loads((FULL / relative).read_text(encoding="utf-8"))
            kept = dict(list(full.items())[:n_items])
            _write(relative, [json.dumps(kept, ensure_ascii=False, indent=1), "\n"])
            notes.append(f"`{relative}`: {len(kept)} of {len(full)} items")
    return notes


def adult_content() -> list[str]:
    """All labels of the first 40 sites (file order) and of the first 10 sites where one
    worker labelled a site twice (the duplicates the agreement test needs)."""
    relative = "gal-adultcontent/AdultContent2/labels.txt"
    records = _records(FULL / relative, "\t")
    rows = [fields for fields, _ in records]
    order: dict[str, None] = {}
    for fields in rows:
        order.setdefault(fields[1], None)
    first = set(list(order)[:40])
    pairs = Counter((f[0], f[1]) for f in rows)
    repeated: dict[str, None] = {}
    for fields in rows:
        if pairs[(fields[0], fields[1])] > 1 and len(repeated) < 10:
            repeated.setdefault(fields[1], None)
    chosen = first | set(repeated)
    kept = [raw for fields, raw in records if fields[1] in chosen]
    _write(relative, kept)
    return [f"`{relative}`: {len(kept)} of {len(records)} labels ({len(chosen)} sites)"]


CUTS: dict[str, tuple[Callable[[], list[str]], list[str]]] = {
    "cofacts-flow-categories-zhtw": (cofacts, []),
    "sms-spam-collection-en": (sms, ["readme.txt"]),
    "cold-zh-offensive": (cold, ["LICENSE"]),
    "tg-spam-zh": (tg_spam, ["LICENSE"]),
    "truth-inference-survey": (truth_inference, []),
    "snow2008-rte-temp": (snow, []),
    "lewidi2023-offensive-abuse": (lewidi, []),
    "gal-adultcontent": (adult_content, ["LICENSE-2.0.html"]),
}


def main() -> None:
    """Cut every sample and write its NOTICE.md."""
    if not FULL.is_dir():
        sys.exit(f"full data sets not present: {FULL}")
    for dataset, (cut, licences) in CUTS.items():
        folder = HERE / dataset
        shutil.rmtree(folder, ignore_errors=True)
        notes = cut()
        for name in licences:
            shutil.copy(FULL / dataset / name, folder / name)
        origin = (FULL / dataset / "DATASET.md").read_text(encoding="utf-8")
        header = origin.split("\n## ", 1)[0].rstrip()
        cut_doc = " ".join((cut.__doc__ or "").split())
        lines = [
            f"# Sample of {dataset} (for the tests)",
            "",
            "A small cut of the full data set (`../shared/data/" + dataset + "`), made by",
            "`tests/data/make_samples.py`: " + cut_doc,
            "CSV/TSV records keep their exact bytes, JSON items their content; nothing was edited.",
            "",
            *[f"- {note}" for note in notes],
            "",
            "## Source and licence (from the data set's DATASET.md)",
            "",
            header.replace("# ", "### ", 1),
            "",
        ]
        (folder / "NOTICE.md").write_text("\n".join(lines), encoding="utf-8")
        sys.stdout.write(f"{dataset}: {'; '.join(notes)}\n")


if __name__ == "__main__":
    main()

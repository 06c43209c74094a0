"""Fixtures of the quality tests: loaders of the real data sets.

They read the root conftest's ``real_data``: the committed samples always, the full sets
in ``../shared/data`` when present (skipped, saying so, when not); one rule for the suite.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

TIS_SETS = [
    "d_Duck_Identification",
    "d_jn-product",
    "s4_Dog_data",
    "s4_Face_Sentiment_Identification",
]
SNOW_SETS = ["rte", "temp", "wsd"]


@pytest.fixture(scope="session")
def data_dir(real_data: Path) -> Path:
    """The root of the real data sets this test runs on (sample or full)."""
    return real_data


def load_truth_inference(data_dir: Path, name: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = data_dir / "truth-inference-survey" / name
    answers = pd.read_csv(folder / "answer.csv", dtype=str).rename(
        columns={"question": "item_id", "worker": "labeller_id", "answer": "label"}
    )
    truth = pd.read_csv(folder / "truth.csv", dtype=str).set_index("question")["truth"]
    return answers, truth


def load_snow(data_dir: Path, name: str) -> tuple[pd.DataFrame, pd.Series]:
    path = data_dir / "snow2008-rte-temp" / "all_collected_data" / f"{name}.standardized.tsv"
    frame = pd.read_csv(path, sep="\t", dtype=str)
    answers = frame.rename(
        columns={"orig_id": "item_id", "!amt_worker_ids": "labeller_id", "response": "label"}
    )[["item_id", "labeller_id", "label"]]
    truth = frame.groupby("orig_id")["gold"].first()
    return answers, truth


def load_lewidi(data_dir: Path, name: str) -> pd.DataFrame:
    rows = []
    for split in ("train", "dev", "test"):
        path = data_dir / "lewidi2023-offensive-abuse" / name / f"{name}_{split}.json"
        for item_id, record in json.loads(path.read_text(encoding="utf-8")).items():
            labellers = str(record["annotators"]).split(",")
            labels = str(record["annotations"]).split(",")
            for labeller, label in zip(labellers, labels, strict=True):
                rows.append((f"{split}-{item_id}", labeller.strip(), int(label)))
    return pd.DataFrame(rows, columns=["item_id", "labeller_id", "label"])


@pytest.fixture(scope="session")
def crowd_dataset(data_dir: Path) -> Callable[[str], tuple[pd.DataFrame, pd.Series]]:
    cache: dict[str, tuple[pd.DataFrame, pd.Series]] = {}

    def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
        if name not in cache:
            cache[name] = (
                load_snow(data_dir, name)
                if name in SNOW_SETS
                else load_truth_inference(data_dir, name)
            )
        return cache[name]

    return load


@pytest.fixture(scope="session")
def hs_brexit(data_dir: Path) -> pd.DataFrame:
    return load_lewidi(data_dir, "HS-Brexit")


@pytest.fixture(scope="session")
def md_agreement(data_dir: Path) -> pd.DataFrame:
    return load_lewidi(data_dir, "MD-Agreement")


@pytest.fixture()
def toy_answers() -> pd.DataFrame:
    """5 items x 3 labellers, checkable by hand."""
    return pd.DataFrame(
        {
            "item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5],
            "labeller_id": ["a", "b", "c"] * 4 + ["a", "b"],
            "label": [
                "ok",
                "ok",
                "ok",
                "ok",
                "bad",
                "ok",
                "bad",
                "bad",
                "bad",
                "ok",
                "ok",
                "bad",
                "ok",
                "bad",
            ],
        }
    )

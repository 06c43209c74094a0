"""Audit yield: wrong labels found per 100 audited, random vs risk-targeted selection.

For each real crowdsourcing dataset in ../shared/data (workers = vendor labellers, gold
answers = what the auditor would say), the lot is every label on an item with gold. Risk
features use no gold:

* posterior disagreement: 1 - P(true class = this label) from crowd-kit's Dawid-Skene
  fitted on all labels of the lot (Dawid & Skene 1979);
* labeller error: 1 - the labeller's agreement with the Dawid-Skene answer on OTHER items
  (leave-this-item-out, Beta(1, 1) smoothed);
* item disagreement: 1 - share of the item's labels equal to its plurality label.

Each seed draws a simple random part and a risk-targeted part of the same size with
labelops.quality.risk.draw_audit_sample (the targeted part comes from the units the
random part left). The yield is errors (label != gold) per 100 audited labels; the
table reports the mean over 20 seeds. The targeted yield cannot exceed
100 * min(1, errors in lot / sample size): "cap" shows that ceiling.

Run: .venv/bin/python bench/audit_yield.py
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a sibling bench script
# (bench/queue.py) would shadow the standard library's ``queue`` that pyarrow imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import math
import time

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene
from rich.console import Console
from rich.table import Table

from labelops.quality.risk import compute_label_risk, draw_audit_sample

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEEDS = 20


def _survey(name: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = DATA / "truth-inference-survey" / name
    answers = pd.read_csv(folder / "answer.csv").rename(
        columns={"question": "task", "answer": "label"}
    )
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    return answers[["task", "worker", "label"]], truth


def _snow(name: str) -> tuple[pd.DataFrame, pd.Series]:
    path = DATA / "snow2008-rte-temp" / "all_collected_data" / f"{name}.standardized.tsv"
    frame = pd.read_csv(path, sep="\t")
    answers = frame.rename(
        columns={"orig_id": "task", "!amt_worker_ids": "worker", "response": "label"}
    )[["task", "worker", "label"]]
    truth = frame.groupby("orig_id")["gold"].first()
    return answers, truth


DATASETS = {
    "duck (survey)": lambda: _survey("d_Duck_Identification"),
    "jn-product (survey)": lambda: _survey("d_jn-product"),
    "dog (survey)": lambda: _survey("s4_Dog_data"),
    "face-sentiment (survey)": lambda: _survey("s4_Face_Sentiment_Identification"),
    "rte (snow2008)": lambda: _snow("rte"),
    "temp (snow2008)": lambda: _snow("temp"),
    "wsd (snow2008)": lambda: _snow("wsd"),
}
NO_GOLD = {
    "gal-adultcontent AdultContent2": "gold.txt is sealed in holdout/ (not in shared data)",
    "gal-hitspam CrowdFlower": "gold.txt is sealed in holdout/ (not in shared data)",
}


def risk_features(answers: pd.DataFrame) -> np.ndarray:
    """Risk per label row of ``answers`` (task, worker, label) without gold."""
    frame = answers.reset_index(drop=True).copy()
    frame["label"] = frame["label"].astype(str)
    proba = DawidSkene(n_iter=100).fit_predict_proba(frame)
    stacked = proba.stack()
    key = pd.MultiIndex.from_arrays([frame["task"], frame["label"]])
    posterior = stacked.reindex(key).fillna(0.0).to_numpy()
    answer = proba.idxmax(axis=1)
    agrees = (frame["label"].to_numpy() == answer.reindex(frame["task"]).to_numpy()).astype(float)
    frame["agrees"] = agrees
    per_worker = frame.groupby("worker")["agrees"].agg(["sum", "count"])
    own = frame.groupby(["worker", "task"])["agrees"].agg(["sum", "count"])
    idx = pd.MultiIndex.from_arrays([frame["worker"], frame["task"]])
    worker_sum = per_worker["sum"].reindex(frame["worker"]).to_numpy()
    worker_n = per_worker["count"].reindex(frame["worker"]).to_numpy()
    other_sum = worker_sum - own["sum"].reindex(idx).to_numpy()
    other_n = worker_n - own["count"].reindex(idx).to_numpy()
    labeller_accuracy = (other_sum + 1.0) / (other_n + 2.0)
    counts = frame.groupby(["task", "label"]).size()
    top_share = (counts.groupby(level=0).max() / counts.groupby(level=0).sum()).reindex(
        frame["task"]
    )
    return compute_label_risk(
        posterior_disagreement=1.0 - posterior,
        labeller_error=1.0 - labeller_accuracy,
        item_disagreement=1.0 - top_share.to_numpy(),
    )


def main() -> None:
    console = Console(width=130)
    table = Table(title=f"Audit yield: errors found per 100 audited labels (mean of {SEEDS} seeds)")
    for column in (
        "dataset",
        "labels",
        "error %",
        "n/part",
        "random",
        "targeted",
        "ratio",
        "cap",
        "max ratio",
        "s",
    ):
        table.add_column(column, justify="right" if column != "dataset" else "left")
    for name, load in DATASETS.items():
        started = time.perf_counter()
        answers, truth = load()
        lot = answers[answers["task"].isin(truth.index)].reset_index(drop=True)
        wrong = (
            lot["label"].astype(str).to_numpy() != truth.reindex(lot["task"]).astype(str).to_numpy()
        )
        risk = risk_features(lot)
        n = max(50, min(200, math.ceil(0.05 * len(lot))))
        random_yield, targeted_yield = [], []
        for seed in range(SEEDS):
            sample = draw_audit_sample(
                np.arange(len(lot)), random_n=n, targeted_n=n, risk_scores=risk, seed=seed
            )
            random_yield.append(100 * wrong[np.array(sample.random_ids, dtype=int)].mean())
            targeted_yield.append(100 * wrong[np.array(sample.targeted_ids, dtype=int)].mean())
        r, t = float(np.mean(random_yield)), float(np.mean(targeted_yield))
        cap = 100 * min(1.0, wrong.sum() / n)
        table.add_row(
            name,
            str(len(lot)),
            f"{100 * wrong.mean():.1f}",
            str(n),
            f"{r:.1f}",
            f"{t:.1f}",
            f"{t / r:.2f}x" if r else "inf",
            f"{cap:.0f}" + (" (capped)" if t >= cap - 0.5 else ""),
            f"{cap / r:.2f}x" if r else "inf",
            f"{time.perf_counter() - started:.1f}",
        )
    console.print(table)
    for name, why in NO_GOLD.items():
        console.print(f"skipped {name}: {why}")
    console.print(
        "ratio = targeted / random yield; cap = the most errors per 100 a part of that size"
        " can find; max ratio = cap / random, the best ratio possible on that lot."
    )


if __name__ == "__main__":
    main()

"""Audit yield: wrong labels found per 100 audited, random vs risk-targeted selection.

For each real crowdsourcing dataset in ../shared/data (workers = vendor labellers, gold
answers = what the auditor would say), every item has a gold answer. Each seed splits the
items at random, as a project does:

* GOLD_SHARE of the items are the project's **gold items** (mixed into the queue, answers
  known to the system before any audit); they are never audited;
* the rest are the **lot**: every label on them can be drawn for audit, and their gold
  answers are used only to score the audit (label != gold), never by the risk score.

The risk score sees only what a real auditor has before auditing:

* posterior disagreement: labelops.quality.risk.estimate_label_error on top of labelops'
  Dawid-Skene fitted on all labels with the gold items clamped (Dawid & Skene 1979): the
  probability that this label is wrong, from labeller confusion matrices smoothed with an
  add-one prior, in which the gold items count at their known class;
* labeller error: 1 - the labeller's accuracy on the gold items (Beta(1, 1) smoothed;
  missing if they labelled no gold item);
* item disagreement: 1 - share of the item's labels equal to its plurality label.
(The datasets have no handle times, so the speed feature is absent.)

Each seed then draws a simple random part and a risk-targeted part of the same size with
labelops.quality.risk.draw_audit_sample (the targeted part comes from the units the
random part left). The yield is errors (label != gold) per 100 audited labels; the table
reports the mean over SEEDS seeds. The targeted yield cannot exceed
100 * min(1, errors in lot / sample size): "cap" shows that ceiling and "max ratio" the
best ratio possible; where it is below the 3x target (error rate above 1/3), the table
says so.

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
from rich.console import Console
from rich.table import Table

from labelops.quality.aggregation import DawidSkene
from labelops.quality.risk import compute_label_risk, draw_audit_sample, estimate_label_error

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEEDS = 20
GOLD_SHARE = 0.1
"""Share of the items that are the project's gold items (a typical gold rate)."""


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


def risk_features(answers: pd.DataFrame, gold: pd.Series) -> np.ndarray:
    """Risk per label row of ``answers`` (task, worker, label).

    ``gold`` holds the answers of the gold items only (``task -> label``): the labels on
    those items are known right or wrong, the others are what the audit will judge.
    """
    frame = pd.DataFrame(
        {
            "item_id": answers["task"].to_numpy(),
            "labeller_id": answers["worker"].to_numpy(),
            "label": answers["label"].astype(str).to_numpy(),
        }
    )
    gold = gold.astype(str)
    posterior = DawidSkene().fit(frame, gold=gold).probas_
    error = estimate_label_error(frame, posterior, gold=gold)
    on_gold = frame["item_id"].isin(gold.index).to_numpy()
    correct = frame["label"].to_numpy() == gold.reindex(frame["item_id"]).to_numpy()
    tally = pd.DataFrame({"labeller_id": frame["labeller_id"], "correct": correct})[on_gold]
    per_labeller = tally.groupby("labeller_id")["correct"].agg(["sum", "count"])
    gold_accuracy = ((per_labeller["sum"] + 1.0) / (per_labeller["count"] + 2.0)).reindex(
        frame["labeller_id"]
    )
    counts = frame.groupby(["item_id", "label"]).size()
    top_share = (counts.groupby(level=0).max() / counts.groupby(level=0).sum()).reindex(
        frame["item_id"]
    )
    return compute_label_risk(
        posterior_disagreement=error.probability,
        labeller_error=1.0 - gold_accuracy.to_numpy(dtype=float),
        item_disagreement=1.0 - top_share.to_numpy(dtype=float),
    )


def split_gold(truth: pd.Series, seed: int) -> tuple[pd.Series, pd.Index]:
    """Seeded split of the items with a gold answer: (gold items, lot items)."""
    rng = np.random.default_rng(10_000 + seed)
    items = truth.index.to_numpy()
    is_gold = rng.random(items.size) < GOLD_SHARE
    return truth[is_gold], pd.Index(items[~is_gold])


def measure(answers: pd.DataFrame, truth: pd.Series, seed: int) -> dict[str, float]:
    """One seed: random and targeted yield, cap, lot size and sample size."""
    gold, lot_items = split_gold(truth, seed)
    risk = risk_features(answers, gold)
    in_lot = answers["task"].isin(lot_items).to_numpy()
    lot = answers[in_lot]
    wrong = lot["label"].astype(str).to_numpy() != truth.reindex(lot["task"]).astype(str).to_numpy()
    n = max(50, min(200, math.ceil(0.05 * len(lot))))
    sample = draw_audit_sample(
        np.arange(len(lot)), random_n=n, targeted_n=n, risk_scores=risk[in_lot], seed=seed
    )
    return {
        "labels": len(lot),
        "error": wrong.mean(),
        "n": n,
        "random": 100 * wrong[np.array(sample.random_ids, dtype=int)].mean(),
        "targeted": 100 * wrong[np.array(sample.targeted_ids, dtype=int)].mean(),
        "cap": 100 * min(1.0, wrong.sum() / n),
    }


def main() -> None:
    console = Console(width=140)
    table = Table(
        title=f"Audit yield: errors found per 100 audited labels (mean of {SEEDS} seeds;"
        f" {GOLD_SHARE:.0%} of items are gold, never audited)"
    )
    for column in (
        "dataset",
        "lot labels",
        "error %",
        "n/part",
        "random",
        "targeted",
        "ratio",
        "cap",
        "max ratio",
        "3x target",
        "s",
    ):
        table.add_column(column, justify="right" if column != "dataset" else "left")
    for name, load in DATASETS.items():
        started = time.perf_counter()
        answers, truth = load()
        answers = answers.reset_index(drop=True)
        runs = pd.DataFrame([measure(answers, truth, seed) for seed in range(SEEDS)]).mean()
        r, t, cap = runs["random"], runs["targeted"], runs["cap"]
        ratio, best = (t / r, cap / r) if r else (math.inf, math.inf)
        verdict = "met" if ratio >= 3 else ("unattainable" if best < 3 else "missed")
        table.add_row(
            name,
            f"{runs['labels']:.0f}",
            f"{100 * runs['error']:.1f}",
            f"{runs['n']:.0f}",
            f"{r:.1f}",
            f"{t:.1f}",
            f"{ratio:.2f}x",
            f"{cap:.0f}" + (" (capped)" if t >= cap - 0.5 else ""),
            f"{best:.2f}x",
            verdict,
            f"{time.perf_counter() - started:.1f}",
        )
    console.print(table)
    for name, why in NO_GOLD.items():
        console.print(f"skipped {name}: {why}")
    console.print(
        "ratio = targeted / random yield; cap = the most errors per 100 a part of that size"
        " can find; max ratio = cap / random, the best ratio possible on that lot;"
        " 'unattainable' = max ratio < 3 (error rate above about 1/3)."
    )


if __name__ == "__main__":
    main()

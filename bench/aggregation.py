"""Benchmark: our aggregators and Krippendorff's alpha against crowd-kit / krippendorff.

Runs in one process and prints seconds, peak traced memory (tracemalloc) and accuracy for
each method on (a) AdultContent2 (92,721 real labels; its gold file is sealed in the
holdout, so "accuracy" there is agreement with crowd-kit's labels) and (b) a planted-truth
simulation of 1,000,000 labels (333,334 items x 3, 200 labellers, 10 classes); then alpha on
100k units x 50 labellers.

    python bench/aggregation.py            # --quick (default): crowd-kit GLAD/MACE on a
                                           # 100k-label subsample of the simulation
    python bench/aggregation.py --full     # crowd-kit GLAD (~1,600 s) and MACE (~660 s) at 1M
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from labelops.quality.aggregation import GLAD, MACE, DawidSkene, MajorityVote
from labelops.quality.agreement import compute_krippendorff_alpha
from labelops.quality.answers import to_crowdkit
from labelops.quality.simulate import simulate_answers

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def measure(run: Callable[[], Any]) -> tuple[Any, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def accuracy(labels: pd.Series, truth: pd.Series) -> float:
    return float((labels.reindex(truth.index).astype(str) == truth.astype(str)).mean())


def compare(
    title: str,
    answers: pd.DataFrame,
    truth: pd.Series | None,
    ck_answers: pd.DataFrame,
    ck_note: str,
    skip_ck: set[str],
) -> None:
    import crowdkit.aggregation as ck

    print(f"\n== {title}: {len(answers):,} labels ({ck_note})")
    print(
        f"{'method':8s} {'ours s':>9s} {'ck s':>9s} {'speedup':>8s} {'ours MB':>9s} {'ck MB':>9s}"
        f" {'ours acc':>9s} {'ck acc':>9s}"
    )
    pairs = [
        ("MV", MajorityVote, ck.MajorityVote),
        ("DS", DawidSkene, ck.DawidSkene),
        ("GLAD", GLAD, ck.GLAD),
        ("MACE", MACE, ck.MACE),
    ]
    ck_frame = to_crowdkit(ck_answers)
    for name, ours, theirs in pairs:
        labels, seconds, peak = measure(lambda ours=ours: ours().fit_predict(answers))
        if name in skip_ck:
            print(f"{name:8s} {seconds:9.2f} {'skipped':>9s}")
            continue
        ck_labels, ck_seconds, ck_peak = measure(
            lambda theirs=theirs: theirs().fit_predict(ck_frame)
        )
        if truth is None:
            ours_acc, ck_acc = accuracy(labels, ck_labels), 1.0  # agreement with crowd-kit
        else:
            ours_acc, ck_acc = accuracy(labels, truth), accuracy(ck_labels, truth)
        if len(ck_answers) != len(answers):
            sub_ours = ours().fit_predict(ck_answers)
            ours_acc = accuracy(sub_ours, truth) if truth is not None else ours_acc
        print(
            f"{name:8s} {seconds:9.2f} {ck_seconds:9.2f} {ck_seconds / seconds:7.1f}x"
            f" {peak:9.1f} {ck_peak:9.1f} {ours_acc:9.4f} {ck_acc:9.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="crowd-kit GLAD/MACE at 1M labels")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-sim", action="store_true")
    parser.add_argument("--skip-alpha", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    if not args.skip_real:
        path = DATA / "gal-adultcontent" / "AdultContent2" / "labels.txt"
        adult = pd.read_csv(path, sep="\t", header=None, names=["labeller_id", "item_id", "label"])
        compare(
            "AdultContent2 (acc = agreement with crowd-kit; gold sealed)",
            adult,
            None,
            adult,
            "crowd-kit on the same data",
            set(),
        )

    if not args.skip_sim:
        sim = simulate_answers(
            333_334,
            200,
            10,
            labels_per_item=3,
            accuracy_range=(0.5, 0.95),
            spammer_fraction=0.1,
            seed=0,
        )
        answers = sim.answers.iloc[:1_000_000]
        if args.full:
            compare("simulation 1M", answers, sim.true_labels, answers, "crowd-kit at 1M", set())
        else:
            compare(
                "simulation 1M, MV/DS",
                answers,
                sim.true_labels,
                answers,
                "crowd-kit at 1M",
                {"GLAD", "MACE"},
            )
            sub = answers[answers["item_id"] < 33_334]
            compare(
                "simulation 100k subsample (quick mode: crowd-kit GLAD/MACE here, not at 1M)",
                sub,
                sim.true_labels.iloc[:33_334],
                sub,
                "both on the 100k subsample",
                {"MV", "DS"},
            )
            for name, ours in (("GLAD", GLAD), ("MACE", MACE)):
                labels, seconds, peak = measure(lambda ours=ours: ours().fit_predict(answers))
                print(
                    f"{name:8s} ours at 1M: {seconds:.2f} s, {peak:.1f} MB, "
                    f"acc {accuracy(labels, sim.true_labels):.4f}"
                )

    if not args.skip_alpha:
        rng = np.random.default_rng(0)
        truth = rng.integers(0, 4, size=100_000)
        noisy = np.where(rng.random((50, 100_000)) < 0.8, truth, rng.integers(0, 4, (50, 100_000)))
        data = noisy.astype(float)
        data[rng.random(data.shape) < 0.3] = np.nan  # 30% missing
        labeller, unit = np.nonzero(~np.isnan(data))
        frame = pd.DataFrame(
            {"item_id": unit, "labeller_id": labeller, "label": noisy[labeller, unit]}
        )
        theirs, ck_s, ck_mb = measure(
            lambda: krippendorff.alpha(data, level_of_measurement="nominal")
        )
        ours, s, mb = measure(
            lambda: compute_krippendorff_alpha(frame, n_resamples=0, per_class=False)
        )
        print(f"\n== Krippendorff alpha, 100k units x 50 labellers ({len(frame):,} answers)")
        print(f"krippendorff: {ck_s:.2f} s {ck_mb:.1f} MB alpha={theirs:.9f}")
        print(f"ours (no CI): {s:.2f} s {mb:.1f} MB alpha={ours.value:.9f}")
        boot, s2, mb2 = measure(
            lambda: compute_krippendorff_alpha(frame, n_resamples=1000, per_class=False)
        )
        print(
            f"ours + 1000 bootstrap CI: {s2:.2f} s {mb2:.1f} MB [{boot.ci_low:.4f}, {boot.ci_high:.4f}]"
        )


if __name__ == "__main__":
    main()

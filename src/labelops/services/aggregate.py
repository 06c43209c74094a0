"""Project final labels from the quality core's estimators (Dawid-Skene, GLAD, MACE...).

Labels on gold tasks take part in the fit with their known answers clamped, so each
labeller's skill is learned from gold as well as from agreement; gold tasks themselves
get no final label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from labelops.quality import make_aggregator, split_binary_relevance

__all__ = ["AggregateInput", "ItemResult", "aggregate_with_model"]

ItemResult = tuple[list[str] | None, float, bool]
"""(final label keys or None, confidence in [0, 1], tied)."""


class AggregateInput:
    """Votes of one project, keyed by task id."""

    def __init__(
        self,
        votes: Mapping[int, list[list[str]]],
        labellers: Mapping[int, list[int]],
        *,
        gold: Mapping[int, list[str]] | None = None,
    ) -> None:
        self.votes = votes
        self.labellers = labellers
        self.gold = dict(gold or {})

    def frame(self) -> pd.DataFrame:
        """The long answers frame (multi-label answers joined with ``|``)."""
        items: list[int] = []
        workers: list[int] = []
        labels: list[str] = []
        for task_id, task_votes in self.votes.items():
            for labeller_id, value in zip(self.labellers[task_id], task_votes, strict=True):
                items.append(task_id)
                workers.append(labeller_id)
                labels.append("|".join(value))
        return pd.DataFrame({"item_id": items, "labeller_id": workers, "label": labels})


def aggregate_with_model(
    method: str, data: AggregateInput, targets: set[int], *, multi_label: bool
) -> dict[int, ItemResult]:
    """Fit ``method`` on every vote and return a result for each task in ``targets``."""
    frame = data.frame()
    if frame.empty or not targets:
        return {}
    if not multi_label:
        gold = pd.Series(
            {task: value[0] for task, value in data.gold.items() if value}, dtype=object
        )
        model = make_aggregator(method).fit(frame, gold=gold if len(gold) else None)
        probas = model.probas_
        out: dict[int, ItemResult] = {}
        for task_id in targets:
            if task_id not in probas.index:
                continue
            best = str(model.labels_.loc[task_id])
            out[task_id] = ([best], float(probas.loc[task_id].to_numpy().max()), False)
        return out
    return _multi_label(method, frame, data, targets)


def _multi_label(
    method: str, frame: pd.DataFrame, data: AggregateInput, targets: set[int]
) -> dict[int, ItemResult]:
    frame = frame.assign(label=frame["label"].str.split("|"))
    chosen: dict[int, list[str]] = {task: [] for task in targets}
    confidence: dict[int, list[float]] = {task: [] for task in targets}
    for key, binary in split_binary_relevance(frame).items():
        gold = pd.Series(
            {task: ("yes" if key in value else "no") for task, value in data.gold.items()},
            dtype=object,
        )
        model = make_aggregator(method).fit(binary, gold=gold if len(gold) else None)
        for task_id in targets:
            if task_id not in model.probas_.index:
                continue
            if _is_yes(model.labels_.loc[task_id]):
                chosen[task_id].append(str(key))
            confidence[task_id].append(float(model.probas_.loc[task_id].to_numpy().max()))
    return {
        task: (sorted(chosen[task]), sum(confidence[task]) / max(len(confidence[task]), 1), False)
        for task in targets
        if confidence[task]
    }


def _is_yes(value: object) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


ModelAggregate = Callable[[str, AggregateInput, set[int]], dict[int, ItemResult]]

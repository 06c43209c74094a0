"""Acceptance-sampling plans for lots of labels, and the random sample designs of an audit.

When to use what:

* :func:`find_sampling_plan` — the auditor accepts or rejects a vendor's lot by
  inspecting ``n`` labels and counting the wrong ones (single sampling by attributes,
  MIL-STD-105E = ANSI/ASQ Z1.4 = ISO 2859-1, Tables I and II-A/B/C). Pair it with
  :mod:`labelops.quality.switching` to move between normal, tightened and reduced
  inspection from lot to lot.
* :func:`probability_of_acceptance` — the plan's operating characteristic (OC): how often
  a lot with a given error rate passes.
* :func:`size_for_margin` — how many labels to audit to estimate a lot's accuracy within
  a margin of error (not a pass / fail decision).
* :func:`draw_simple_random` / :func:`draw_stratified` — the seeded, reproducible draws.
  Stratify by final label when violation classes are rare: they are oversampled and each
  unit carries the weight ``N_h / n_h`` so :mod:`labelops.quality.lot_estimates` stays
  unbiased.

References: MIL-STD-105E (1989), *Sampling procedures and tables for inspection by
attributes*; ISO 2859-1:1999; Cochran, W. G. (1977), *Sampling Techniques*, 3rd ed.,
Wiley (sections 4.4 and 5.5 for sizes, 5.9 for Neyman allocation).
"""

from __future__ import annotations

__all__ = [
    "AQL_VALUES",
    "Allocation",
    "Curtailment",
    "Inspection",
    "InspectionLevel",
    "SampleDraw",
    "SamplingPlan",
    "StratifiedDraw",
    "curtail",
    "draw_simple_random",
    "draw_stratified",
    "find_code_letter",
    "find_sampling_plan",
    "probability_of_acceptance",
    "size_for_margin",
    "tighter_accept_number",
]

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, cast

import numpy as np
import pandas as pd
from scipy import stats as sps

from labelops.errors import InvalidInput
from labelops.quality.sampling_tables import (
    AQL_LABELS,
    LEVELS,
    LOT_SIZE_UPPER_BOUNDS,
    MASTER_TABLES,
    TABLE_I,
)

Inspection = Literal["normal", "tightened", "reduced"]
InspectionLevel = Literal["I", "II", "III", "S-1", "S-2", "S-3", "S-4"]
Allocation = Literal["neyman", "proportional", "equal"]

AQL_VALUES: tuple[float, ...] = tuple(float(label) for label in AQL_LABELS)
"""The AQL series 0.010 ... 1000 accepted by :func:`find_sampling_plan`."""

_INSPECTIONS: tuple[str, ...] = ("normal", "tightened", "reduced")
_AQL_DECIMALS = tuple(Decimal(label) for label in AQL_LABELS)


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan: inspect ``sample_size`` units, count the nonconforming ones.

    The lot is accepted when the count is at most ``accept`` and rejected when it is at
    least ``reject``. On reduced inspection ``reject`` can exceed ``accept + 1``; a count
    strictly between them accepts the lot but reinstates normal inspection.
    """

    code_letter: str
    """Sample size code letter of the lot (Table I)."""
    plan_letter: str
    """Code letter whose plan is used: differs from ``code_letter`` when an arrow was followed."""
    sample_size: int
    """Units to inspect; equals ``lot_size`` when ``full_inspection``."""
    accept: int
    """Acceptance number Ac."""
    reject: int
    """Rejection number Re."""
    inspection: Inspection
    """Severity: ``normal``, ``tightened`` or ``reduced``."""
    level: InspectionLevel
    """Inspection level of Table I."""
    aql: float
    """Acceptance quality limit (percent nonconforming up to 10, nonconformities per 100 above)."""
    lot_size: int
    """Units in the lot."""
    table_sample_size: int
    """Sample size printed in the table for ``plan_letter`` (before the 100 % rule)."""
    full_inspection: bool
    """True when the table's sample size is at least the lot size: inspect every unit
    (the standard's footnote), with the table's Ac and Re."""
    arrow_resolution: str | None = None
    """How an arrow pointing off the printed table was resolved (None when it was not)."""


def _check_level(level: str) -> InspectionLevel:
    if level not in LEVELS:
        raise InvalidInput(
            "sampling.level_unknown", field="level", value=level, allowed=", ".join(LEVELS)
        )
    return cast(InspectionLevel, level)


def _check_inspection(inspection: str) -> Inspection:
    if inspection not in _INSPECTIONS:
        raise InvalidInput(
            "sampling.inspection_unknown",
            field="inspection",
            value=inspection,
            allowed=", ".join(_INSPECTIONS),
        )
    return cast(Inspection, inspection)


def _aql_index(aql: float | str) -> int:
    try:
        wanted = Decimal(str(aql).strip())
    except InvalidOperation:
        wanted = None
    if wanted is not None:
        for index, value in enumerate(_AQL_DECIMALS):
            if value == wanted:
                return index
    raise InvalidInput(
        "sampling.aql_unknown", field="aql", value=aql, allowed=", ".join(AQL_LABELS)
    )


def find_code_letter(lot_size: int, *, level: str = "II") -> str:
    """The sample size code letter of MIL-STD-105E Table I.

    Args:
        lot_size: Units in the lot, at least 2.
        level: ``"I"``, ``"II"`` (default), ``"III"`` or ``"S-1"`` ... ``"S-4"``.

    Returns:
        A letter ``"A"`` ... ``"R"``.

    Raises:
        InvalidInput: ``lot_size`` below 2 or ``level`` unknown.

    Example:
        >>> find_code_letter(1000)
        'J'
    """
    checked_level = _check_level(level)
    _check_lot_size(lot_size)
    for bound, row in zip(LOT_SIZE_UPPER_BOUNDS, TABLE_I, strict=True):
        if bound is None or lot_size <= bound:
            return row[checked_level]
    raise AssertionError("unreachable: the last Table I row is open-ended")  # pragma: no cover


def _check_lot_size(lot_size: int) -> None:
    if isinstance(lot_size, bool) or not isinstance(lot_size, int | np.integer):
        raise InvalidInput("sampling.lot_size_type", field="lot_size", value=lot_size)
    if lot_size == 1:
        # Table I starts at 2. A single label is not sampled: it is reviewed (100 %).
        raise InvalidInput("sampling.lot_of_one", field="lot_size", value=lot_size)
    if lot_size < 1:
        raise InvalidInput("sampling.lot_size_too_small", field="lot_size", value=lot_size)


def _parse_cell(cell: str) -> tuple[int, int] | None:
    if "/" not in cell:
        return None
    accept, reject = cell.split("/")
    return int(accept), int(reject)


def _follow_arrows(
    inspection: Inspection, letter: str, column: int
) -> tuple[str, int, int, int, str | None]:
    """Follow arrows from ``(letter, column)``: plan letter, n, Ac, Re, off-table note."""
    table = MASTER_TABLES[inspection]
    letters = list(table)
    row = letters.index(letter)
    cell = table[letter][1][column]
    step = 0 if "/" in cell else (1 if cell == "v" else -1)
    while True:
        plan = _parse_cell(table[letters[row]][1][column])
        if plan is not None:
            size = table[letters[row]][0]
            return letters[row], size, plan[0], plan[1], None
        nxt = row + step
        if 0 <= nxt < len(letters) and table[letters[nxt]][1][column] != "-":
            row = nxt
            continue
        # The arrow runs off the printed table. Arrows up inside the 0/1 ... 1/2 band
        # always lead to an Ac = 0 plan and arrows down to an Ac >= 1 plan; off the
        # table we keep that intent with the nearest plan in the same row: to the left
        # (tighter AQL) for an arrow up, to the right (looser AQL) for an arrow down.
        direction = -1 if step < 0 else 1
        col = column
        while 0 <= col < len(AQL_LABELS):
            plan = _parse_cell(table[letters[row]][1][col])
            if plan is not None:
                size = table[letters[row]][0]
                note = (
                    f"arrow {'up' if step < 0 else 'down'} leaves Table "
                    f"{_TABLE_NAMES[inspection]} at row {letters[row]}, AQL "
                    f"{AQL_LABELS[column]}; used the plan of AQL {AQL_LABELS[col]} in that row"
                )
                return letters[row], size, plan[0], plan[1], note
            col += direction
        raise AssertionError("unreachable: every row holds a plan")  # pragma: no cover


_TABLE_NAMES = {"normal": "II-A", "tightened": "II-B", "reduced": "II-C"}


def find_sampling_plan(
    lot_size: int,
    aql: float | str,
    *,
    level: str = "II",
    inspection: str = "normal",
) -> SamplingPlan:
    """The single sampling plan of MIL-STD-105E (ANSI/ASQ Z1.4, ISO 2859-1) for a lot.

    Table I gives the lot's code letter; Table II-A (normal), II-B (tightened) or II-C
    (reduced) gives ``(n, Ac, Re)`` at the AQL. An arrow sends you to the first plan
    below (``v``) or above (``^``) in the same AQL column, and that plan's sample size
    is used (``plan_letter`` names it). When the sample size equals or exceeds the lot
    size, every unit is inspected: ``sample_size = lot_size``, ``full_inspection = True``
    and the table's Ac / Re still decide.

    Arrows that leave the printed table (II-A row A at AQL 10, II-A row R at 0.015,
    II-B row S at 0.015, II-C rows A and R) are resolved with the nearest plan in the
    same row, on the side the arrow's band implies; ``arrow_resolution`` says so.

    Args:
        lot_size: Units (labels) in the lot, at least 2.
        aql: One of :data:`AQL_VALUES` (``1.0``, ``"1.0"`` and ``1`` are the same).
        level: Inspection level ``"I"``, ``"II"`` (default), ``"III"``, ``"S-1"`` ... ``"S-4"``.
        inspection: ``"normal"`` (default), ``"tightened"`` or ``"reduced"``.

    Returns:
        The plan actually used.

    Raises:
        InvalidInput: an AQL outside the series (the message lists the allowed values),
            an unknown level or inspection, a lot size of 0 or less, or a lot of 1
            (Table I starts at 2: review the single label instead of sampling it).

    Example:
        >>> plan = find_sampling_plan(1000, 1.0)
        >>> (plan.code_letter, plan.sample_size, plan.accept, plan.reject)
        ('J', 80, 2, 3)
    """
    checked_level = _check_level(level)
    checked_inspection = _check_inspection(inspection)
    column = _aql_index(aql)
    code_letter = find_code_letter(lot_size, level=checked_level)
    plan_letter, size, accept, reject, note = _follow_arrows(
        checked_inspection, code_letter, column
    )
    full = size >= lot_size
    return SamplingPlan(
        code_letter=code_letter,
        plan_letter=plan_letter,
        sample_size=int(lot_size) if full else size,
        accept=accept,
        reject=reject,
        inspection=checked_inspection,
        level=checked_level,
        aql=AQL_VALUES[column],
        lot_size=int(lot_size),
        table_sample_size=size,
        full_inspection=full,
        arrow_resolution=note,
    )


def tighter_accept_number(plan: SamplingPlan) -> int | None:
    """Ac of the same code letter's plan one AQL step tighter, on normal inspection.

    Used by the ISO 2859-1:1999 switching score (a lot with Ac >= 2 scores only if it
    would also have passed at the next tighter AQL). Only a real plan in the same row
    counts; an arrow cell or the first AQL has none.

    Args:
        plan: A plan from :func:`find_sampling_plan`.

    Returns:
        The acceptance number, or None when the tighter cell is an arrow or absent.
    """
    column = AQL_LABELS.index(_label_of(plan.aql))
    if column == 0:
        return None
    cell = MASTER_TABLES["normal"][plan.plan_letter][1][column - 1]
    parsed = _parse_cell(cell)
    return None if parsed is None else parsed[0]


def _label_of(aql: float) -> str:
    return AQL_LABELS[_aql_index(aql)]


def probability_of_acceptance(
    plan: SamplingPlan,
    defect_rate: float | Sequence[float] | np.ndarray,
    *,
    model: Literal["binomial", "hypergeometric", "poisson"] = "binomial",
) -> np.ndarray:
    """Operating characteristic: probability that a lot is accepted.

    A lot is accepted when fewer than ``Re`` nonconforming units are found (on reduced
    inspection a count between Ac and Re accepts the lot but ends reduced inspection).

    Args:
        plan: The plan.
        defect_rate: Fraction of nonconforming units in the lot (or, for
            ``model="poisson"``, nonconformities per unit), scalar or shape ``(k,)``.
        model: ``"binomial"`` (infinite lot, type B OC, the standard's curves),
            ``"hypergeometric"`` (finite lot of ``plan.lot_size``, type A OC, using
            ``round(rate * lot_size)`` nonconforming units) or ``"poisson"``
            (nonconformities per 100 units, AQL above 10).

    Returns:
        Probabilities in [0, 1], shape of ``defect_rate`` (at least 1-d).

    Raises:
        InvalidInput: a rate outside [0, 1] (binomial, hypergeometric) or negative.
    """
    rates = np.atleast_1d(np.asarray(defect_rate, dtype=float))
    upper = np.inf if model == "poisson" else 1.0
    if np.any(~np.isfinite(rates)) or np.any(rates < 0) or np.any(rates > upper):
        raise InvalidInput("sampling.rate_range", field="defect_rate", value=rates.tolist())
    threshold = plan.reject - 1
    if model == "binomial":
        return np.asarray(sps.binom.cdf(threshold, plan.sample_size, rates), dtype=float)
    if model == "poisson":
        return np.asarray(sps.poisson.cdf(threshold, plan.sample_size * rates), dtype=float)
    defectives = np.rint(rates * plan.lot_size).astype(int)
    result: np.ndarray = np.asarray(
        sps.hypergeom.cdf(threshold, plan.lot_size, defectives, plan.sample_size), dtype=float
    )
    return result


@dataclass(frozen=True)
class Curtailment:
    """Where a single sampling plan's decision stands part-way through the sample.

    ``decision`` is ``accepted`` or ``rejected`` once it is certain, else None;
    ``curtailed_at`` is how many units had been inspected when it became certain (it
    stays where it was first reached while the inspector finishes the sample).
    """

    decision: Literal["accepted", "rejected"] | None
    curtailed_at: int | None
    n_inspected: int
    n_defects: int

    @property
    def certain(self) -> bool:
        """Whether the rest of the sample can no longer change the decision."""
        return self.decision is not None


def curtail(
    defects: Sequence[bool], *, sample_size: int, reject: int, accept_early: bool = True
) -> Curtailment:
    """Curtailed inspection of a single sampling plan (ISO 2859-1 section 10.5 and
    MIL-STD-105E 11.5 allow stopping as soon as the decision is known).

    The lot is rejected as soon as ``reject`` (Re) nonconforming units are found, and,
    with ``accept_early``, accepted as soon as the units left could no longer reach Re
    (defects found + units left < Re). Disputed verdicts may change the flags: the
    decision is recomputed from the sequence given, in inspection order.

    Args:
        defects: One flag per inspected unit, in the order inspected (True = nonconforming).
        sample_size: Units the plan inspects (n).
        reject: Rejection number Re (the lot is accepted with fewer defects).
        accept_early: Also curtail on certain acceptance (the decision only; the
            switching rules still want the count).

    Returns:
        The decision once certain, the unit at which it became so, and the counts.

    Raises:
        InvalidInput: More units than the sample, a sample size below 1 or Re below 1.
    """
    if sample_size < 1:
        raise InvalidInput("sampling.sample_size_range", field="sample_size", value=sample_size)
    if reject < 1:
        raise InvalidInput("sampling.reject_range", field="reject", value=reject)
    if len(defects) > sample_size:
        raise InvalidInput(
            "sampling.too_many_inspected",
            field="defects",
            value=len(defects),
            n=sample_size,
        )
    found = 0
    for inspected, defective in enumerate(defects, start=1):
        found += bool(defective)
        if found >= reject:
            return Curtailment("rejected", inspected, len(defects), sum(map(bool, defects)))
        if accept_early and found + (sample_size - inspected) < reject:
            # Later flags cannot reach Re even if every one is a defect.
            return Curtailment("accepted", inspected, len(defects), sum(map(bool, defects)))
    if accept_early and not defects and sample_size < reject:
        return Curtailment("accepted", 0, 0, 0)
    return Curtailment(None, None, len(defects), found)


# ---------------------------------------------------------------- sample designs


@dataclass(frozen=True)
class SampleDraw:
    """A simple random sample without replacement."""

    ids: tuple[Hashable, ...]
    """Sampled unit ids, in draw order."""
    population_size: int
    """Units in the population (N)."""
    sampling_fraction: float
    """n / N."""
    seed: int
    """Seed of the numpy Generator that drew the sample."""


@dataclass(frozen=True)
class StratifiedDraw:
    """A stratified random sample with design weights."""

    sample: pd.DataFrame
    """One row per sampled unit: ``id``, ``stratum``, ``weight`` (= N_h / n_h)."""
    strata: pd.DataFrame
    """One row per stratum: ``stratum``, ``population_size``, ``sample_size``, ``weight``."""
    seed: int
    """Seed of the numpy Generator that drew the sample."""


def size_for_margin(
    margin: float,
    *,
    confidence: float = 0.95,
    expected_rate: float = 0.5,
    population: int | None = None,
) -> int:
    """Simple random sample size for a wanted margin of error on a proportion.

    ``n0 = z^2 p (1 - p) / e^2`` (normal approximation), then the finite population
    correction ``n = n0 / (1 + (n0 - 1) / N)`` (Cochran 1977, eq. 4.1-4.2), rounded up.

    Args:
        margin: Half-width of the interval wanted, in (0, 1) (0.03 = +/- 3 points).
        confidence: Two-sided confidence level in (0, 1).
        expected_rate: Guess of the proportion; 0.5 (default) is the worst case.
        population: Lot size N, or None for an infinite population.

    Returns:
        The sample size, at most ``population``.

    Raises:
        InvalidInput: an argument out of range.

    Example:
        >>> size_for_margin(0.05)
        385
    """
    if not 0.0 < margin < 1.0:
        raise InvalidInput("sampling.margin_range", field="margin", value=margin)
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("sampling.confidence_range", field="confidence", value=confidence)
    if not 0.0 <= expected_rate <= 1.0:
        raise InvalidInput("sampling.rate_range", field="expected_rate", value=expected_rate)
    if population is not None and population < 1:
        raise InvalidInput("sampling.population_too_small", field="population", value=population)
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    n0 = z * z * expected_rate * (1.0 - expected_rate) / (margin * margin)
    if population is None:
        return max(1, math.ceil(n0 - 1e-9))
    n = n0 / (1.0 + (n0 - 1.0) / population)
    return int(min(population, max(1, math.ceil(n - 1e-9))))


def _unique_ids(ids: Sequence[Hashable] | pd.Series | np.ndarray, field: str) -> list[Hashable]:
    values = list(ids)
    if len(set(values)) != len(values):
        duplicate = next(v for v, count in Counter(values).items() if count > 1)
        raise InvalidInput("sampling.ids_not_unique", field=field, value=duplicate)
    return values


def draw_simple_random(
    population_ids: Sequence[Hashable] | pd.Series | np.ndarray, n: int, *, seed: int
) -> SampleDraw:
    """Draw ``n`` units without replacement, every subset equally likely.

    Args:
        population_ids: Unique unit ids, shape ``(N,)``.
        n: Sample size, 0 <= n <= N.
        seed: Seed of ``numpy.random.default_rng``; the same seed gives the same sample.

    Returns:
        The sample.

    Raises:
        InvalidInput: duplicate ids or ``n`` out of range.
    """
    values = _unique_ids(population_ids, "population_ids")
    if n < 0 or n > len(values):
        raise InvalidInput("sampling.n_out_of_range", field="n", value=n, population=len(values))
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(values), size=n, replace=False) if n else np.array([], dtype=int)
    return SampleDraw(
        ids=tuple(values[int(i)] for i in picked),
        population_size=len(values),
        sampling_fraction=n / len(values) if values else 0.0,
        seed=seed,
    )


def _strata_frame(
    strata: Mapping[Hashable, Sequence[Hashable]] | pd.DataFrame,
) -> pd.DataFrame:
    if isinstance(strata, pd.DataFrame):
        for column in ("id", "stratum"):
            if column not in strata.columns:
                raise InvalidInput("sampling.column_missing", field=column)
        frame = strata[["id", "stratum"]].reset_index(drop=True)
    else:
        frame = pd.DataFrame(
            [(unit, stratum) for stratum, ids in strata.items() for unit in ids],
            columns=["id", "stratum"],
        )
    if frame.empty:
        raise InvalidInput("sampling.strata_empty", field="strata")
    _unique_ids(frame["id"].tolist(), "id")
    return frame


def _allocate(
    sizes: np.ndarray,
    n: int,
    *,
    allocation: Allocation,
    min_per_stratum: int,
    std_devs: np.ndarray,
) -> np.ndarray:
    """Integer allocation summing to ``n``, each within [min(min, N_h), N_h]."""
    floor = np.minimum(sizes, min_per_stratum)
    if floor.sum() > n:
        raise InvalidInput(
            "sampling.min_per_stratum_too_big",
            field="min_per_stratum",
            value=min_per_stratum,
            n=n,
            needed=int(floor.sum()),
        )
    if allocation == "equal":
        score = np.ones_like(sizes, dtype=float)
    elif allocation == "proportional":
        score = sizes.astype(float)
    else:
        score = sizes * std_devs
        if score.sum() <= 0:  # no spread anywhere: Neyman degenerates to proportional
            score = sizes.astype(float)
    alloc = floor.astype(int).copy()
    # Proportional fill with caps (strata cannot give more than N_h units); the last
    # few units go one at a time to the stratum with the largest unmet share.
    remaining = n - int(alloc.sum())
    while remaining > 0:
        room = sizes - alloc
        weights = np.where(room > 0, score, 0.0)
        if weights.sum() <= 0:
            weights = (room > 0).astype(float)
        ideal = remaining * weights / weights.sum()
        add = np.minimum(np.floor(ideal).astype(int), room)
        if add.sum() == 0:
            index = int(np.argmax(np.where(room > 0, ideal, -np.inf)))
            alloc[index] += 1
            remaining -= 1
            continue
        alloc += add
        remaining -= int(add.sum())
    result: np.ndarray = alloc
    return result


def draw_stratified(
    strata: Mapping[Hashable, Sequence[Hashable]] | pd.DataFrame,
    n: int,
    *,
    allocation: Allocation = "neyman",
    min_per_stratum: int = 0,
    expected_rates: Mapping[Hashable, float] | None = None,
    seed: int,
) -> StratifiedDraw:
    """Stratified random sample (e.g. strata = final label) with design weights.

    Allocation of ``n`` over strata of sizes ``N_h``:

    * ``"proportional"``: ``n_h ~ N_h``;
    * ``"neyman"``: ``n_h ~ N_h S_h`` with ``S_h = sqrt(p_h (1 - p_h))`` from
      ``expected_rates`` (expected error rate per stratum; 0.5 when not given, which makes
      it proportional) — Neyman (1934), Cochran (1977) section 5.5;
    * ``"equal"``: the same ``n_h`` everywhere, which oversamples rare violation classes.

    ``min_per_stratum`` is guaranteed first (capped at ``N_h``), so rare classes are
    always audited; then each unit carries the weight ``N_h / n_h``, which keeps the
    accuracy estimate unbiased (:func:`labelops.quality.lot_estimates.estimate_lot_accuracy`).

    Args:
        strata: ``stratum -> unit ids``, or a frame with columns ``id`` and ``stratum``.
        n: Total sample size, at most the number of units.
        allocation: ``"neyman"`` (default), ``"proportional"`` or ``"equal"``.
        min_per_stratum: Units guaranteed per stratum (fewer if the stratum is smaller).
        expected_rates: Expected error rate per stratum, for Neyman allocation.
        seed: Seed of ``numpy.random.default_rng``.

    Returns:
        The sample with weights and the per-stratum allocation.

    Raises:
        InvalidInput: duplicate ids, empty strata, ``n`` out of range, unknown allocation,
            or a ``min_per_stratum`` that needs more than ``n`` units.
    """
    if allocation not in ("neyman", "proportional", "equal"):
        raise InvalidInput(
            "sampling.allocation_unknown",
            field="allocation",
            value=allocation,
            allowed="neyman, proportional, equal",
        )
    if min_per_stratum < 0:
        raise InvalidInput(
            "sampling.min_per_stratum_negative", field="min_per_stratum", value=min_per_stratum
        )
    frame = _strata_frame(strata)
    groups = frame.groupby("stratum", sort=True, dropna=False)["id"]
    names = list(groups.groups)
    members = [groups.get_group(name).tolist() for name in names]
    sizes = np.array([len(m) for m in members], dtype=int)
    if n < 0 or n > int(sizes.sum()):
        raise InvalidInput(
            "sampling.n_out_of_range", field="n", value=n, population=int(sizes.sum())
        )
    rates = np.array([float((expected_rates or {}).get(name, 0.5)) for name in names], dtype=float)
    if np.any((rates < 0) | (rates > 1)):
        raise InvalidInput("sampling.rate_range", field="expected_rates", value=rates.tolist())
    alloc = _allocate(
        sizes,
        n,
        allocation=allocation,
        min_per_stratum=min_per_stratum,
        std_devs=np.sqrt(rates * (1.0 - rates)),
    )
    rng = np.random.default_rng(seed)
    rows: list[tuple[Hashable, Hashable, float]] = []
    for name, ids, size, take in zip(names, members, sizes, alloc, strict=True):
        if take == 0:
            continue
        picked = rng.choice(len(ids), size=int(take), replace=False)
        weight = float(size) / float(take)
        rows.extend((ids[int(i)], name, weight) for i in picked)
    sample = pd.DataFrame(rows, columns=["id", "stratum", "weight"])
    table = pd.DataFrame(
        {
            "stratum": names,
            "population_size": sizes,
            "sample_size": alloc,
            "weight": [s / a if a else float("nan") for s, a in zip(sizes, alloc, strict=True)],
        }
    )
    return StratifiedDraw(sample=sample, strata=table, seed=seed)

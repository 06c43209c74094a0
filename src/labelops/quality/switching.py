"""Switching rules between normal, tightened and reduced inspection, lot after lot.

A pure state machine: :class:`SwitchingState` is immutable and
:func:`next_inspection_state` returns the state for the next lot from the result of the
current one. The service layer stores the state per vendor and project.

What is implemented (ISO 2859-1:1999 clause 9, which 105E section 8.3 matches except
where noted):

* **Start** on normal inspection with switching score 0.
* **Normal -> tightened** when 2 lots out of 5 or fewer consecutive lots are not accepted
  on original inspection (we keep the last 5 normal-inspection results).
* **Tightened -> normal** when 5 consecutive lots are accepted on original inspection.
* **Normal -> reduced** (ISO 2859-1:1999 9.3.3, the switching score replaces 105E's
  limit numbers, which are not implemented): the score starts at 0 and, for each lot on
  normal inspection, if the plan's Ac >= 2 it gains 3 when the lot would also have been
  accepted at the AQL one step tighter (same code letter), else it is reset to 0; if Ac
  is 0 or 1 it gains 2 when the lot is accepted, else it is reset to 0. Reduced
  inspection starts when the score reaches 30 **and** production is steady **and** the
  responsible authority approves (``reduced_approved``).
* **Reduced -> normal** when a lot is not accepted, when the count falls between Ac and
  Re (the lot is accepted but normal is reinstated — 105E 8.3.4), when production is
  irregular or delayed, or when other conditions warrant it.
* **Discontinuation** (ISO 2859-1:1999 9.4): when the cumulative number of lots not
  accepted during one spell of tightened inspection reaches 5. (105E 8.3.5 instead
  discontinues after 10 consecutive lots on tightened; set ``discontinue_after_rejections``
  to change the count.) Resume with :func:`resume_after_discontinuation`, which starts
  tightened inspection after the vendor's corrective action.

Reference: ISO 2859-1:1999 *Sampling procedures for inspection by attributes*, clause 9
and Figure 1; MIL-STD-105E (1989) section 8.3.
"""

from __future__ import annotations

__all__ = [
    "LotResult",
    "SwitchingState",
    "next_inspection_state",
    "resume_after_discontinuation",
]

from dataclasses import dataclass, replace
from typing import Literal

from labelops.errors import Conflict, InvalidInput

InspectionState = Literal["normal", "tightened", "reduced", "discontinued"]

_SCORE_TO_REDUCE = 30
_WINDOW = 5


@dataclass(frozen=True)
class LotResult:
    """The outcome of inspecting one lot with its sampling plan."""

    nonconforming_count: int
    """Nonconforming units (wrong labels) found in the sample."""
    accept: int
    """Ac of the plan used."""
    reject: int
    """Re of the plan used."""
    tighter_accept: int | None = None
    """Ac at the AQL one step tighter, same code letter
    (:func:`labelops.quality.sampling.tighter_accept_number`); only needed on normal
    inspection with Ac >= 2. None counts as "not accepted at the tighter AQL"."""
    production_irregular: bool = False
    """Production was irregular or delayed (ends reduced inspection, blocks reducing)."""
    other_conditions_warrant_normal: bool = False
    """Other conditions warrant normal inspection (ends reduced inspection)."""

    @property
    def accepted(self) -> bool:
        """Whether the lot is accepted: fewer than Re nonconforming units."""
        return self.nonconforming_count < self.reject


@dataclass(frozen=True)
class SwitchingState:
    """Where a vendor's stream of lots stands in the switching scheme."""

    inspection: InspectionState = "normal"
    """Severity for the next lot."""
    recent_normal_results: tuple[bool, ...] = ()
    """Accepted / not accepted for the last (up to 5) lots on normal inspection."""
    switching_score: int = 0
    """ISO 2859-1:1999 switching score (normal inspection only)."""
    consecutive_accepted_tightened: int = 0
    """Consecutive lots accepted on the current tightened spell."""
    rejected_on_tightened: int = 0
    """Lots not accepted during the current tightened spell."""
    reduced_approved: bool = True
    """The responsible authority approves reduced inspection."""
    discontinue_after_rejections: int = 5
    """Lots not accepted on tightened inspection before inspection is discontinued."""
    lots_inspected: int = 0
    """Lots seen so far."""


def _check(lot: LotResult) -> None:
    reason = None
    if lot.nonconforming_count < 0:
        reason = "nonconforming_count < 0"
    elif lot.accept < 0 or lot.reject <= lot.accept:
        reason = "need 0 <= accept < reject"
    if reason is not None:
        raise InvalidInput("switching.lot_invalid", field="lot", value=lot, reason=reason)


def _normal(state: SwitchingState) -> SwitchingState:
    return replace(
        state,
        inspection="normal",
        recent_normal_results=(),
        switching_score=0,
        consecutive_accepted_tightened=0,
        rejected_on_tightened=0,
    )


def _updated_score(score: int, lot: LotResult) -> int:
    if not lot.accepted:
        return 0
    if lot.accept >= 2:
        tighter_ok = (
            lot.tighter_accept is not None and lot.nonconforming_count <= lot.tighter_accept
        )
        return score + 3 if tighter_ok else 0
    return score + 2


def next_inspection_state(state: SwitchingState, lot: LotResult) -> SwitchingState:
    """The switching state after one more lot (see the module docstring for the rules).

    Args:
        state: State before the lot; its ``inspection`` is the severity the lot was
            inspected with.
        lot: The lot's result under that severity's plan.

    Returns:
        The new state; its ``inspection`` is the severity for the next lot.

    Raises:
        Conflict: inspection is discontinued (resume with
            :func:`resume_after_discontinuation` first).
        InvalidInput: an inconsistent lot result.

    Example:
        >>> state = SwitchingState()
        >>> for found in (4, 4):
        ...     state = next_inspection_state(state, LotResult(found, accept=2, reject=3))
        >>> state.inspection
        'tightened'
    """
    _check(lot)
    if state.inspection == "discontinued":
        raise Conflict("switching.discontinued")
    seen = replace(state, lots_inspected=state.lots_inspected + 1)

    if state.inspection == "normal":
        recent = (*state.recent_normal_results, lot.accepted)[-_WINDOW:]
        if recent.count(False) >= 2:
            return replace(_normal(seen), inspection="tightened", consecutive_accepted_tightened=0)
        score = _updated_score(state.switching_score, lot)
        if score >= _SCORE_TO_REDUCE and state.reduced_approved and not lot.production_irregular:
            return replace(_normal(seen), inspection="reduced")
        return replace(seen, recent_normal_results=recent, switching_score=score)

    if state.inspection == "tightened":
        if lot.accepted:
            streak = state.consecutive_accepted_tightened + 1
            if streak >= _WINDOW:
                return _normal(seen)
            return replace(seen, consecutive_accepted_tightened=streak)
        rejected = state.rejected_on_tightened + 1
        if rejected >= state.discontinue_after_rejections:
            return replace(
                seen,
                inspection="discontinued",
                rejected_on_tightened=rejected,
                consecutive_accepted_tightened=0,
            )
        return replace(seen, rejected_on_tightened=rejected, consecutive_accepted_tightened=0)

    # reduced
    between = lot.accept < lot.nonconforming_count < lot.reject
    if (
        not lot.accepted
        or between
        or lot.production_irregular
        or lot.other_conditions_warrant_normal
    ):
        return _normal(seen)
    return seen


def resume_after_discontinuation(state: SwitchingState) -> SwitchingState:
    """Resume a discontinued scheme on tightened inspection (after corrective action).

    Raises:
        Conflict: the state is not discontinued.
    """
    if state.inspection != "discontinued":
        raise Conflict("switching.not_discontinued", inspection=state.inspection)
    return replace(_normal(state), inspection="tightened", consecutive_accepted_tightened=0)

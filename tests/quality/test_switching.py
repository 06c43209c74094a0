"""Every transition of the ISO 2859-1:1999 switching rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from labelops.errors import Conflict, InvalidInput
from labelops.quality.switching import (
    LotResult,
    SwitchingState,
    next_inspection_state,
    resume_after_discontinuation,
)

GOOD = LotResult(0, accept=2, reject=3, tighter_accept=1)  # passes even one step tighter
BAD = LotResult(3, accept=2, reject=3, tighter_accept=1)
PASS_ONLY_HERE = LotResult(2, accept=2, reject=3, tighter_accept=1)  # accepted, not tighter


def run(state, lots):
    for lot in lots:
        state = next_inspection_state(state, lot)
    return state


def test_starts_on_normal():
    state = SwitchingState()
    assert (state.inspection, state.switching_score) == ("normal", 0)


def test_two_rejections_in_five_lots_tighten():
    state = run(SwitchingState(), [BAD, GOOD, GOOD, GOOD, BAD])
    assert state.inspection == "tightened"
    assert state.recent_normal_results == () and state.switching_score == 0


def test_two_rejections_six_lots_apart_do_not_tighten():
    state = run(SwitchingState(), [BAD, GOOD, GOOD, GOOD, GOOD, BAD])
    assert state.inspection == "normal"


def test_consecutive_rejections_tighten():
    assert run(SwitchingState(), [BAD, BAD]).inspection == "tightened"


def test_five_accepted_on_tightened_return_to_normal():
    tightened = run(SwitchingState(), [BAD, BAD])
    assert run(tightened, [GOOD] * 4).inspection == "tightened"
    back = run(tightened, [GOOD] * 5)
    assert back.inspection == "normal" and back.switching_score == 0


def test_a_rejection_on_tightened_restarts_the_streak():
    tightened = run(SwitchingState(), [BAD, BAD])
    state = run(tightened, [GOOD] * 4 + [BAD] + [GOOD] * 4)
    assert state.inspection == "tightened" and state.consecutive_accepted_tightened == 4
    assert run(state, [GOOD]).inspection == "normal"


def test_five_rejections_on_tightened_discontinue():
    tightened = run(SwitchingState(), [BAD, BAD])
    state = run(tightened, [BAD, GOOD, BAD, GOOD, BAD, BAD])
    assert state.inspection == "tightened" and state.rejected_on_tightened == 4
    state = run(state, [BAD])
    assert state.inspection == "discontinued"
    with pytest.raises(Conflict):
        next_inspection_state(state, GOOD)
    resumed = resume_after_discontinuation(state)
    assert resumed.inspection == "tightened" and resumed.rejected_on_tightened == 0
    with pytest.raises(Conflict):
        resume_after_discontinuation(resumed)


def test_switching_score_ac_two_or_more_adds_three():
    state = run(SwitchingState(), [GOOD] * 9)
    assert (state.inspection, state.switching_score) == ("normal", 27)
    state = run(state, [GOOD])  # score 30: reduce
    assert state.inspection == "reduced" and state.switching_score == 0


def test_switching_score_resets_when_not_accepted_at_the_tighter_aql():
    state = run(SwitchingState(), [GOOD] * 9 + [PASS_ONLY_HERE])
    assert (state.inspection, state.switching_score) == ("normal", 0)
    missing_tighter = LotResult(0, accept=2, reject=3, tighter_accept=None)
    assert run(SwitchingState(), [GOOD, missing_tighter]).switching_score == 0


def test_switching_score_ac_zero_or_one_adds_two():
    small = LotResult(0, accept=0, reject=1)
    one_found = LotResult(1, accept=1, reject=2)
    state = run(SwitchingState(), [small] * 14)
    assert (state.inspection, state.switching_score) == ("normal", 28)
    assert run(state, [one_found]).inspection == "reduced"  # accepted with Ac 1: +2 -> 30
    assert run(state, [LotResult(1, accept=0, reject=1)]).switching_score == 0


def test_rejection_resets_the_score():
    state = run(SwitchingState(), [GOOD] * 5 + [BAD])
    assert (state.inspection, state.switching_score) == ("normal", 0)


def test_reduction_needs_approval_and_steady_production():
    unapproved = run(SwitchingState(reduced_approved=False), [GOOD] * 12)
    assert unapproved.inspection == "normal" and unapproved.switching_score == 36
    irregular = replace(GOOD, production_irregular=True)
    state = run(SwitchingState(), [GOOD] * 9 + [irregular])
    assert state.inspection == "normal" and state.switching_score == 30
    assert run(state, [GOOD]).inspection == "reduced"


@pytest.fixture()
def reduced():
    state = run(SwitchingState(), [GOOD] * 10)
    assert state.inspection == "reduced"
    return state


def test_reduced_stays_while_lots_pass(reduced):
    lot = LotResult(1, accept=1, reject=4)
    assert run(reduced, [lot] * 20).inspection == "reduced"


def test_reduced_rejection_returns_to_normal(reduced):
    assert next_inspection_state(reduced, LotResult(4, accept=1, reject=4)).inspection == "normal"


def test_reduced_count_between_ac_and_re_accepts_but_returns_to_normal(reduced):
    lot = LotResult(2, accept=1, reject=4)
    assert lot.accepted
    assert next_inspection_state(reduced, lot).inspection == "normal"


@pytest.mark.parametrize("flag", ["production_irregular", "other_conditions_warrant_normal"])
def test_reduced_other_conditions_return_to_normal(reduced, flag):
    lot = replace(LotResult(0, accept=1, reject=4), **{flag: True})
    assert next_inspection_state(reduced, lot).inspection == "normal"


def test_inconsistent_lot_is_rejected():
    with pytest.raises(InvalidInput):
        next_inspection_state(SwitchingState(), LotResult(-1, accept=0, reject=1))
    with pytest.raises(InvalidInput):
        next_inspection_state(SwitchingState(), LotResult(0, accept=2, reject=2))


def test_lots_are_counted():
    assert run(SwitchingState(), [GOOD, BAD, GOOD]).lots_inspected == 3

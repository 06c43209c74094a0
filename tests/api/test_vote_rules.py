"""The live final label's vote rules against a table of cases written by hand.

Each case: one item, ``overlap`` = the number of votes, each labeller's answer posted
through the API (the real submit path: on PostgreSQL a single-label vote is computed in
SQL by ``live_final_refresh_cte_pg``, on SQLite and for multi-label in Python by
``compute_item_vote``); every other answer is posted with ``?next=true``, the other
submit path. The stored live final label must be the one in the table: the expected
values are written out here, not computed by the code under test. Runs on both
databases (``LABELOPS_DATABASE_URL``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from factories import TAXONOMY, make_taxonomy, make_world
from labelops.services import imports, projects, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import FinalLabel

FINAL, TIE = "final", "needs_adjudication"


@dataclass(frozen=True)
class Case:
    """Votes (one list of keys per labeller) and the live final label they must give."""

    votes: list[list[str]]
    status: str
    value: list[str] | None
    confidence: float | None
    """None: not pinned (a multi-label vote where no key was decided)."""
    multi: bool = False


def _single(*keys: str) -> list[list[str]]:
    return [[key] for key in keys]


CASES = {
    # single label: the key with the top count wins; two keys at the top count tie.
    "2:2:1 is a tie": Case(_single("gambling", "adult", "gambling", "adult", "compliant"), TIE, None, 0.4),
    "1:1 is a tie": Case(_single("gambling", "adult"), TIE, None, 0.5),
    "2:2 is a tie": Case(_single("adult", "compliant", "compliant", "adult"), TIE, None, 0.5),
    "1:1:1 is a tie": Case(_single("adult", "gambling", "compliant"), TIE, None, 0.333333),
    "3:1 wins": Case(_single("adult", "compliant", "adult", "adult"), FINAL, ["adult"], 0.75),
    "2:1 with overlap 3 wins": Case(_single("compliant", "gambling", "gambling"), FINAL, ["gambling"], 0.666667),
    "3:2 wins": Case(_single("adult", "gambling", "adult", "gambling", "adult"), FINAL, ["adult"], 0.6),
    "2:1:1 plurality wins": Case(_single("compliant", "adult", "gambling", "compliant"), FINAL, ["compliant"], 0.5),
    "unanimous": Case(_single("financial_scam", "financial_scam", "financial_scam"), FINAL, ["financial_scam"], 1.0),
    # multi label: each key is in when more than half chose it; exactly half is a tie.
    # Confidence: the mean, over the keys decided (in or out), of the share deciding it.
    "multi: both keys in": Case(
        [["adult", "gambling"], ["adult"], ["adult", "gambling"]],
        FINAL, ["adult", "gambling"], (1 + 2 / 3) / 2, multi=True,
    ),
    "multi: minority keys out": Case(
        [["adult", "gambling"], ["adult"], ["compliant"]],
        FINAL, ["adult"], 2 / 3, multi=True,
    ),
    "multi: 3 of 4 in, 1 of 4 out": Case(
        [["adult"], ["adult"], ["gambling", "compliant"], ["adult"]],
        FINAL, ["adult"], 0.75, multi=True,
    ),
    "multi: one key chosen by half is a tie": Case(
        [["adult", "gambling"], ["adult"], ["gambling"], ["adult"]],
        TIE, None, 0.75, multi=True,
    ),
    "multi: 1:1 is a tie": Case([["adult"], ["gambling"]], TIE, None, None, multi=True),
    "multi: unanimous": Case(
        [["gambling", "adult"], ["adult", "gambling"], ["adult", "gambling"]],
        FINAL, ["adult", "gambling"], 1.0, multi=True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_the_live_final_label_follows_the_table(client, session, name):
    case = CASES[name]
    world = make_world(session, n_items=0, n_labellers=len(case.votes))
    taxonomy_id = (
        make_taxonomy(session, {**TAXONOMY, "key": "ads-multi", "mode": "multi"})
        if case.multi
        else world.taxonomy_id
    )
    project = projects.create_project(
        session,
        SYSTEM_ACTOR,
        "vote",
        taxonomy_id=taxonomy_id,
        overlap=len(case.votes),
        vendor_ids=[world.vendor_ids["A"]],
    )
    imports.import_item_records(
        session, SYSTEM_ACTOR, project.id, [{"external_id": "x", "text": "廣告"}]
    )
    for index, keys in enumerate(case.votes, start=1):
        username = f"labeller-a{index}"
        served = queue.next_task(session, world.actors[username], project.id)
        assert served is not None, username
        body = {"labels": keys} if case.multi else {"label": keys[0]}
        response = client.post(
            f"/api/assignments/{served.assignment_id}/label" + ("?next=true" if index % 2 else ""),
            json=body,
            headers={"Authorization": f"Bearer {world.tokens[username]}"},
        )
        assert response.status_code in (200, 201), response.text
    session.expire_all()
    final = session.scalars(
        select(FinalLabel).where(
            FinalLabel.project_id == project.id, FinalLabel.snapshot_id.is_(None)
        )
    ).one()
    assert (final.status, final.value, final.n_labels) == (case.status, case.value, len(case.votes))
    if case.confidence is not None:
        assert final.confidence == pytest.approx(case.confidence, abs=1e-6)

"""Project quality statistics over the API, checked against the ``krippendorff`` package
on a matrix built here from the answers given, and scoped to the caller's vendor."""

from __future__ import annotations

import krippendorff
import numpy as np

from factories import make_world
from labelops.services import labelling, queue

ANSWERS = {  # labeller -> answer on the n-th task served
    "labeller-a1": ["gambling", "compliant", "compliant", "adult", "compliant", "gambling"],
    "labeller-a2": ["gambling", "compliant", "adult", "adult", "compliant", "compliant"],
    "labeller-a3": ["gambling", "gambling", "compliant", "adult", "compliant", "gambling"],
    "labeller-b1": ["compliant"] * 6,
    "labeller-b2": ["compliant"] * 6,
}


def _label_everything(session, world) -> dict[tuple[str, str], str]:
    """Each labeller answers as ``ANSWERS`` says; returns (labeller, item) -> answer."""
    given = {}
    for name, answers in ANSWERS.items():
        actor = world.actors[name]
        project_id = world.project_ids[name[-2].upper()]
        for answer in answers:
            served = queue.next_task(session, actor, project_id)
            assert served is not None
            labelling.submit_label(session, actor, served.assignment_id, [answer])
            given[(name, str(served.item["external_id"]))] = answer
    return given


def test_agreement_over_api_equals_the_krippendorff_package_on_the_answers(client, session):
    world = make_world(session, n_items=6, overlap=3)
    given = _label_everything(session, world)
    # The reliability matrix (labellers x items) of vendor A's answers, built from what
    # was posted, not read back through the code under test.
    labellers = sorted({name for name, _ in given if name.startswith("labeller-a")})
    items = sorted({item for name, item in given if name in labellers})
    keys = sorted(set(given.values()))
    matrix = np.array(
        [[keys.index(given[(name, item)]) for item in items] for name in labellers], dtype=float
    )
    assert matrix.shape == (3, 6)
    expected = krippendorff.alpha(matrix, level_of_measurement="nominal")
    response = client.get(
        f"/api/projects/{world.project_ids['A']}/quality/agreement",
        params={"metric": "krippendorff-alpha"},
        headers={"Authorization": f"Bearer {world.tokens['auditor']}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert abs(body["value"] - expected) < 1e-12
    assert body["ci_low"] <= body["value"] <= body["ci_high"]
    assert (body["n_items"], body["n_labellers"]) == (6, 3)


def test_vendor_manager_sees_only_own_vendor_and_labellers_get_sources(client, session):
    world = make_world(session, n_items=6, overlap=3)
    _label_everything(session, world)
    manager_b = {"Authorization": f"Bearer {world.tokens['manager-b']}"}
    denied = client.get(
        f"/api/projects/{world.project_ids['A']}/quality/agreement", headers=manager_b
    )
    assert denied.status_code == 404
    mine = client.get(
        f"/api/projects/{world.project_ids['A']}/quality/labellers",
        headers={"Authorization": f"Bearer {world.tokens['manager-a']}"},
    )
    assert mine.status_code == 200
    assert {row["labeller"] for row in mine.json()} == {"labeller-a1", "labeller-a2", "labeller-a3"}
    assert {row["source"] for row in mine.json()} == {"model"}
    for row in mine.json():
        assert 0 <= row["ci_low"] <= row["accuracy_rate"] <= row["ci_high"] <= 1

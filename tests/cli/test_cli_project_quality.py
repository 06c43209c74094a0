"""``labelops quality agreement|labellers --project``: the same numbers as the API."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from factories import make_world
from labelops.cli import app
from labelops.quality import compute_agreement
from labelops.services import labelling, project_quality, queue


def _label(session, world):
    answers = {
        "labeller-a1": ["gambling", "compliant", "adult"],
        "labeller-a2": ["gambling", "adult", "adult"],
        "labeller-a3": ["compliant", "compliant", "adult"],
    }
    for name, values in answers.items():
        actor = world.actors[name]
        for value in values:
            served = queue.next_task(session, actor, world.project_ids["A"])
            assert served is not None
            labelling.submit_label(session, actor, served.assignment_id, [value])


def test_project_agreement_and_labellers_from_the_cli(cli_env, session):
    world = make_world(session, n_items=3, overlap=3)
    _label(session, world)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "quality",
            "agreement",
            "--project",
            "project-a",
            "--vendor",
            "vendor-A",
            "--metric",
            "fleiss-kappa",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    frame = project_quality.load_project_answers(
        session, world.actors["admin"], world.project_ids["A"]
    )
    expected = compute_agreement(
        frame[["item_id", "labeller_id", "label"]], metric="fleiss_kappa", n_resamples=0
    )
    assert abs(payload["value"] - expected.value) < 1e-6
    assert (payload["n_items"], payload["n_labellers"]) == (3, 3)
    labellers = runner.invoke(app, ["quality", "labellers", "--project", "project-a", "--json"])
    assert labellers.exit_code == 0, labellers.output
    assert {row["labeller"] for row in json.loads(labellers.output)} == {
        "labeller-a1",
        "labeller-a2",
        "labeller-a3",
    }


def test_file_and_project_together_is_an_error(cli_env, session, tmp_path):
    make_world(session, n_items=1)
    answers = tmp_path / "a.csv"
    answers.write_text("item,labeller,label\n1,a,x\n1,b,x\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["quality", "agreement", str(answers), "--project", "project-a"]
    )
    assert result.exit_code == 2
    assert "--project" in result.output

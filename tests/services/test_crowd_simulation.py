"""Real crowd workers replayed through the queue: the truth-inference survey's Duck
set (39 workers who each labelled all 108 images) becomes 39 labellers answering as
they did (on every fourth image, for time); the final labels must equal an independent
majority vote of the CSV."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select

from labelops.services import directory, finals, imports, labelling, projects, queue, taxonomies
from labelops.services.auth import actor_for_user
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import FinalLabel, Item, Task
from labelops.types import Role
from real_data import is_full

DUCK = Path("truth-inference-survey") / "d_Duck_Identification" / "answer.csv"


def test_duck_workers_through_the_queue_match_independent_majority(session, real_data):
    answers: dict[str, dict[str, str]] = defaultdict(dict)
    with open(real_data / DUCK, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            answers[row["worker"]][row["question"]] = row["answer"]
    every_item = sorted({question for given in answers.values() for question in given})
    assert (len(answers), len(every_item)) == (39, 108 if is_full(real_data) else 16)
    # A fixed quarter of the images keeps the run short; all 39 workers take part.
    items = every_item[::4]

    vendor = directory.create_vendor(session, SYSTEM_ACTOR, "crowd")
    spec = taxonomies.parse_taxonomy(
        {
            "key": "duck",
            "version": 1,
            "mode": "single",
            "labels": [
                {"key": key, "name": {"en": name, "zh-Hant": zh}}
                for key, name, zh in (("0", "no duck", "沒有鴨子"), ("1", "duck", "有鴨子"))
            ],
        }
    )
    taxonomy, _ = taxonomies.create_taxonomy(session, SYSTEM_ACTOR, spec)
    project = projects.create_project(
        session,
        SYSTEM_ACTOR,
        "duck",
        taxonomy_id=taxonomy.id,
        overlap=len(answers),
        vendor_ids=[vendor.id],
    )
    imports.import_item_records(
        session, SYSTEM_ACTOR, project.id, [{"external_id": q, "text": f"image {q}"} for q in items]
    )
    labellers = {
        worker: actor_for_user(
            directory.create_user(
                session, SYSTEM_ACTOR, f"worker-{worker}", role=Role.LABELLER, vendor_id=vendor.id
            ).user
        )
        for worker in sorted(answers)
    }
    # Interleave the workers, as a live crowd would.
    active = dict(labellers)
    while active:
        for worker, actor in list(active.items()):
            served = queue.next_task(session, actor, project.id)
            if served is None:
                del active[worker]
                continue
            external_id = str(served.item["external_id"])
            labelling.submit_label(
                session, actor, served.assignment_id, [answers[worker][external_id]]
            )

    expected = {}
    for question in items:
        votes = Counter(answers[worker][question] for worker in answers)
        (top, count), *rest = votes.most_common()
        expected[question] = None if rest and rest[0][1] == count else top
    live = dict(
        session.execute(
            select(Item.external_id, FinalLabel.value)
            .join(Task, Task.item_id == Item.id)
            .join(FinalLabel, FinalLabel.task_id == Task.id)
            .where(FinalLabel.snapshot_id.is_(None))
        ).all()
    )
    assert {q: (v[0] if v else None) for q, v in live.items()} == expected

    summary = finals.finalize_project(session, SYSTEM_ACTOR, project.id)
    assert summary.n_final == sum(1 for v in expected.values() if v is not None)
    assert summary.n_incomplete == 0

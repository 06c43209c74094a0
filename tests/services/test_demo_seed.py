"""The demo seed: a complete, clickable world, seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from labelops.services.demo import DEMO_PROJECT, N_GOLD, seed_demo
from labelops.store.audit_models import Audit
from labelops.store.models import FinalLabel, GoldAnswer, Label, Project, Task, User, Vendor


def test_demo_seeds_everything_once(session):
    first = seed_demo(session, n_items=200, n_prelabelled=30)
    again = seed_demo(session, n_items=200, n_prelabelled=30)
    assert first.created and not again.created
    project_id = session.scalar(select(Project.id).where(Project.name == DEMO_PROJECT))
    counts = {
        "vendors": session.scalar(select(func.count(Vendor.id))),
        "labellers": session.scalar(select(func.count(User.id)).where(User.role == "labeller")),
        "auditors": session.scalar(select(func.count(User.id)).where(User.role == "auditor")),
        "tasks": session.scalar(select(func.count(Task.id)).where(Task.project_id == project_id)),
        "gold": session.scalar(select(func.count(GoldAnswer.id))),
    }
    assert counts == {"vendors": 2, "labellers": 6, "auditors": 1, "tasks": 200, "gold": N_GOLD}
    assert session.scalar(select(func.count(Label.id))) >= 90
    assert session.scalar(select(func.count(FinalLabel.id))) > 0
    assert session.scalar(select(func.count(Audit.id))) == 1

"""Retention: purge a project's items and what hangs off them; pseudonymise labellers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import World, make_world
from labelops.errors import InvalidInput, PermissionDenied
from labelops.services import (
    audits,
    disputes,
    export,
    finals,
    gold,
    imports,
    labelling,
    lots,
    queue,
    retention,
    rework,
)
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import AuditEvent, Base, Item, Label, Project, Task, User
from labelops.store.types import utcnow

SECRET = "保密測試廣告 ZQXJ-8841 加賴 secretline77"


def _worked(session: Session, world: World) -> None:
    """Vendor A labels project A; an audit with one defect, a dispute, rework, gold and a
    snapshot hang off its labels. Project B shares one item with A."""
    project_id = world.project_ids["A"]
    imports.import_item_records(
        session,
        SYSTEM_ACTOR,
        world.project_ids["B"],
        [{"external_id": "a-00000", "text": _text(session, "a-00000")}],
    )
    gold.mark_gold(
        session,
        SYSTEM_ACTOR,
        project_id,
        "a-00001",
        ["gambling"],
        explanation_en="GOLD-EXPLANATION-7731",
        explanation_zh="黃金說明七七三一",
    )
    actor = world.actors["labeller-a1"]
    when = utcnow() - timedelta(minutes=5)
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, ["gambling"], now=when)
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(session, auditor, lot.id, seed=8)
    first = True
    while (view := audits.next_audit_item(session, auditor, audit.id)) is not None:
        audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["compliant"])
        verdict = "incorrect" if first else "correct"
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            view.label_id,
            verdict,
            **(
                {"error_type": "over_flagging", "severity": "major", "comment": "VERDICT-NOTE-5521"}
                if first
                else {}
            ),
        )
        if first:
            disputes.open_dispute(
                session, world.actors["manager-a"], audit.id, view.label_id, "不同意"
            )
        first = False
    if audits.get_audit(session, auditor, audit.id).decision == "rejected":
        rework.create_rework(session, auditor, audit.id)


def _text(session: Session, external_id: str) -> str:
    return session.scalar(select(Item.text).where(Item.external_id == external_id)) or ""


def _rows_per_table(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_purge_deletes_every_row_below_the_project_and_nothing_else(session: Session) -> None:
    world = make_world(session, n_items=12, overlap=1)
    _worked(session, world)
    project_a, project_b = world.project_ids["A"], world.project_ids["B"]
    before = _rows_per_table(session)
    assert before["audit_samples"] and before["audit_disputes"] and before["gold_answers"]
    b_tasks = session.scalar(select(func.count()).where(Task.project_id == project_b))

    dry = retention.purge_project(session, SYSTEM_ACTOR, project_a, dry_run=True)
    assert dry.dry_run and not dry.vacuumed
    assert _rows_per_table(session) == before  # a dry run changes nothing
    assert dry.counts["items"] == 11 and dry.items_kept == 1  # a-00000 is B's too
    assert dry.counts["tasks"] == 12 and dry.counts["labels"] == 11  # the gold task is not served

    done = retention.purge_project(session, SYSTEM_ACTOR, project_a)
    assert done.counts == dry.counts and done.items_kept == 1
    after = _rows_per_table(session)
    for table in retention.PURGED_TABLES:
        assert after[table] == before[table] - done.counts[table], table
    for table in Base.metadata.sorted_tables:
        if "project_id" in table.c and table.name in retention.PURGED_TABLES:
            left = session.scalar(
                select(func.count()).select_from(table).where(table.c.project_id == project_a)
            )
            assert left == 0, table.name
    assert session.get(Project, project_a) is not None  # the project and its settings stay
    assert session.scalar(select(func.count()).where(Task.project_id == project_b)) == b_tasks
    assert _text(session, "a-00000") and not _text(session, "a-00002")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).one()
    assert event.after["counts"] == done.counts and event.entity_id == str(project_a)
    assert "限時優惠" not in str(event.after)  # counts, never the content
    assert done.counts["audit_events.text"] >= 3  # gold, verdict, dispute, import events
    quoted = str([(e.before, e.after) for e in session.scalars(select(AuditEvent))])
    for text in ("GOLD-EXPLANATION-7731", "黃金說明七七三一", "VERDICT-NOTE-5521", "不同意"):
        assert text not in quoted
    assert "a-00001" not in quoted  # the gold item's external id


def test_purge_covers_every_table_that_hangs_off_items() -> None:
    """A new table referencing items, tasks or labels must be purged too."""
    assert retention._tables_below_items() <= set(retention.PURGED_TABLES)


def test_only_admins_purge(session: Session) -> None:
    world = make_world(session, n_items=2, overlap=1)
    with pytest.raises(PermissionDenied):
        retention.purge_project(session, world.actors["auditor"], world.project_ids["A"])


def test_purged_text_is_gone_from_the_sqlite_file(session: Session, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the file-level proof is for SQLite")
    world = make_world(session, n_items=3, overlap=1)
    imports.import_item_records(
        session, SYSTEM_ACTOR, world.project_ids["A"], [{"external_id": "s-1", "text": SECRET}]
    )
    finals.finalize_project(session, SYSTEM_ACTOR, world.project_ids["A"])
    path = Path(database_url.removeprefix("sqlite:///"))
    needle = SECRET.encode("utf-8")

    def on_disk() -> bool:
        files = [path, path.with_name(path.name + "-wal")]
        return any(needle in f.read_bytes() for f in files if f.exists())

    assert on_disk()
    retention.purge_project(session, SYSTEM_ACTOR, world.project_ids["A"])
    assert session.scalar(select(func.count()).select_from(Item).where(Item.text == SECRET)) == 0
    assert not on_disk()


def test_pseudonymise_a_vendors_labellers_keeps_ids_and_statistics(
    session: Session, tmp_path: Path
) -> None:
    world = make_world(session, n_items=6, overlap=1)
    project_id = world.project_ids["A"]
    actor = world.actors["labeller-a1"]
    while (served := queue.next_task(session, actor, project_id)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, ["gambling"])
    a1 = actor.user_id
    labels_before = session.scalar(select(func.count()).where(Label.labeller_id == a1))
    vendor_a = world.vendor_ids["A"]

    dry = retention.pseudonymise_labellers(session, SYSTEM_ACTOR, vendor_id=vendor_a, dry_run=True)
    assert dry.counts["users"] == 3
    assert session.get(User, a1).username == "labeller-a1"

    report = retention.pseudonymise_labellers(session, SYSTEM_ACTOR, vendor_id=vendor_a)
    assert report.counts == dry.counts and len(report.user_ids) == 3
    session.expire_all()
    assert session.get(User, a1).username == f"anon-{a1}"
    assert session.get(User, a1).display_name == f"anon-{a1}"
    assert session.get(User, world.actors["labeller-b1"].user_id).username == "labeller-b1"
    assert session.get(User, world.actors["manager-a"].user_id).username == "manager-a"
    assert session.scalar(select(func.count()).where(Label.labeller_id == a1)) == labels_before
    names = set(session.scalars(select(AuditEvent.actor_name)))
    assert "labeller-a1" not in names
    created = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "user.create", AuditEvent.entity_id == str(a1)
        )
    ).one()
    assert created.after["username"] == f"anon-{a1}"
    assert "labeller-a1" not in str(
        [(e.before, e.after) for e in session.scalars(select(AuditEvent))]
    )
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    out = tmp_path / "raw.jsonl"
    export.export_project(session, SYSTEM_ACTOR, project_id, out, raw=True)
    assert f"anon-{a1}" in out.read_text("utf-8") and "labeller-a1" not in out.read_text("utf-8")
    again = retention.pseudonymise_labellers(session, SYSTEM_ACTOR, vendor_id=vendor_a)
    assert again.counts["users"] == 0  # stable: a second run changes nothing


def test_pseudonymise_by_project_and_its_rules(session: Session) -> None:
    world = make_world(session, n_items=3, overlap=1)
    project_id = world.project_ids["B"]
    actor = world.actors["labeller-b2"]
    served = queue.next_task(session, actor, project_id)
    assert served is not None
    labelling.submit_label(session, actor, served.assignment_id, ["gambling"])
    report = retention.pseudonymise_labellers(session, SYSTEM_ACTOR, project_id=project_id)
    assert report.user_ids == [actor.user_id]
    with pytest.raises(InvalidInput):
        retention.pseudonymise_labellers(session, SYSTEM_ACTOR)
    with pytest.raises(PermissionDenied):
        retention.pseudonymise_labellers(
            session, world.actors["manager-b"], vendor_id=world.vendor_ids["B"]
        )

"""The command line's confidentiality commands: ``audit-events``, ``export --mask-pii``,
``retention purge-project`` and ``retention pseudonymise``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from factories import make_world
from labelops.cli import app
from labelops.services import audits, finals, imports, labelling, lots, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Item, Task, User

SAMPLES = Path(__file__).parents[1] / "data" / "confidentiality" / "cofacts_contacts.jsonl"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture()
def world(cli_env: dict[str, str], session: Session):  # type: ignore[no-untyped-def]
    return make_world(session, n_items=4, overlap=1)


def test_audit_events_filters_and_pages(world) -> None:  # type: ignore[no-untyped-def]
    code, out = _run("audit-events", "--action", "project.create", "--json")
    assert code == 0, out
    page = json.loads(out)
    assert [e["after"]["name"] for e in page["events"]] == ["project-b", "project-a"]
    assert page["events"][0]["created_at"].endswith("+00:00")  # times carry their zone
    code, out = _run("audit-events", "--project", "project-a", "--json")
    actions = {(e["action"], e["entity_type"]) for e in json.loads(out)["events"]}
    assert actions == {("project.create", "project"), ("items.import", "import")}
    code, out = _run("audit-events", "--action", "user.*", "--limit", "2", "--json")
    first = json.loads(out)
    assert len(first["events"]) == 2 and first["has_more"]
    code, out = _run(
        "audit-events", "--action", "user.*", "--limit", "2", "--offset", "2", "--json"
    )
    assert {e["id"] for e in json.loads(out)["events"]}.isdisjoint(
        {e["id"] for e in first["events"]}
    )
    code, out = _run("audit-events", "--since", "2099-01-01T00:00:00+08:00", "--json")
    assert code == 0 and json.loads(out)["events"] == []
    code, out = _run("audit-events", "--since", "2026-01-01")
    assert code == 2 and "time zone" in out
    code, out = _run("audit-events", "--actor", "cli", "--entity-type", "vendor")
    assert code == 0 and "vendor.create" in out
    code, out = _run("audit-events", "--entity-type", "vendor", "--csv")
    assert code == 0 and out.splitlines()[0].startswith("id,created_at,actor_id")


def test_export_mask_pii_writes_a_manifest_and_an_audit_event(
    world, session: Session, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    records = [json.loads(line) for line in SAMPLES.read_text("utf-8").splitlines()]
    project_id = world.project_ids["A"]
    imports.import_item_records(
        session,
        SYSTEM_ACTOR,
        project_id,
        [{"external_id": f"cofacts-{r['id']}", "text": r["text"]} for r in records],
    )
    labeller = world.actors["labeller-a1"]
    while (served := queue.next_task(session, labeller, project_id)) is not None:
        labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    plain, masked = tmp_path / "plain.jsonl", tmp_path / "masked.csv"
    assert _run("export", "project-a", "--out", str(plain))[0] == 0
    code, out = _run("export", "project-a", "--out", str(masked), "--format", "csv", "--mask-pii")
    assert code == 0 and "masked" in out
    text = masked.read_text("utf-8")
    for record in records:
        for value, _kind in record["pii"]:
            assert value in plain.read_text("utf-8")
            assert value not in text
    assert "[LINE_ID]" in text and "[PHONE]" in text and "[EMAIL]" in text
    assert "自行連絡" in text and "圓山大飯店" in text  # zh-Hant around the tags unharmed
    manifest = json.loads((tmp_path / "masked.csv.manifest.json").read_text("utf-8"))
    assert manifest["pii_masked"] is True
    assert manifest["masked_kinds"] == ["email", "line_id", "phone"]
    assert manifest["n_items"] == 4 + len(records) and manifest["format"] == "csv"
    assert json.loads((tmp_path / "plain.jsonl.manifest.json").read_text())["pii_masked"] is False
    code, out = _run("audit-events", "--action", "export.run", "--json")
    events = json.loads(out)["events"]
    assert [e["after"]["pii_masked"] for e in events] == [True, False]
    assert events[0]["after"]["via"] == "cli" and events[0]["after"]["n_items"] == 13
    assert events[0]["entity_id"] == str(project_id) and events[0]["actor_name"] == "cli"


def test_retention_commands(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    project_id = world.project_ids["A"]
    code, out = _run("retention", "purge-project", "project-a", "--dry-run", "--json")
    assert code == 0, out
    assert json.loads(out)["counts"]["items"] == 4 and json.loads(out)["dry_run"]
    code, out = _run("retention", "purge-project", "project-a")
    assert code == 2 and "--yes" in out
    assert session.scalar(select(func.count()).where(Task.project_id == project_id)) == 4
    session.rollback()  # no read transaction of this test in the way of the VACUUM
    code, out = _run("retention", "purge-project", "project-a", "--yes", "--json")
    assert code == 0 and json.loads(out)["counts"]["tasks"] == 4
    assert json.loads(out)["vacuumed"] is (session.get_bind().dialect.name == "sqlite")
    assert session.scalar(select(func.count()).where(Task.project_id == project_id)) == 0
    assert session.scalar(select(func.count()).select_from(Item)) == 4  # B's stay
    code, out = _run("retention", "pseudonymise", "--vendor", "vendor-A", "--json")
    assert code == 0 and json.loads(out)["counts"]["users"] == 3
    session.rollback()
    names = set(session.scalars(select(User.username)))
    assert "labeller-a1" not in names and "labeller-b1" in names
    code, out = _run("retention", "pseudonymise", "--vendor", "vendor-A", "--dry-run")
    assert code == 0 and "0" in out
    code, out = _run("audit-events", "--action", "retention.*", "--json")
    assert [e["action"] for e in json.loads(out)["events"]] == [
        "retention.pseudonymise",
        "retention.purge",
    ]


def test_listing_an_audit_sample_on_the_command_line_is_recorded(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    project_id = world.project_ids["A"]
    labeller = world.actors["labeller-a1"]
    while (served := queue.next_task(session, labeller, project_id)) is not None:
        labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(session, auditor, lot.id, seed=1)
    session.commit()
    code, out = _run("audit", "items", str(audit.id), "--json")
    assert code == 0, out
    code, out = _run("audit-events", "--action", "items.read_bulk", "--json")
    (event,) = json.loads(out)["events"]
    assert event["after"]["via"] == "cli" and event["after"]["n_items"] == len(
        json.loads(_run("audit", "items", str(audit.id), "--json")[1])
    )

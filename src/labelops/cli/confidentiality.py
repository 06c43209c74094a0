"""``labelops audit-events`` (the audit trail) and ``labelops retention`` (purge a
project, pseudonymise labellers). Local commands act as the machine's operator."""

from __future__ import annotations

import csv
import io
import json as jsonlib
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from labelops.cli._common import cli_command, console, emit_json, settings
from labelops.errors import InvalidInput
from labelops.i18n import translate
from labelops.services import audit_trail, directory, projects, retention
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import AuditEvent

__all__ = ["audit_events", "event_record", "retention_app"]

retention_app = typer.Typer(
    help="Retention: delete a project's items and labels, pseudonymise labellers.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _t(message_id: str, **params: object) -> str:
    return translate(message_id, settings().lang, **params)


def _time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("errors.lot.naive_time", field=field, value=value) from exc
    if parsed.tzinfo is None:
        raise InvalidInput("errors.lot.naive_time", field=field, value=value)
    return parsed


def event_record(event: AuditEvent) -> dict[str, Any]:
    """One audit event as plain JSON-able values (time in ISO 8601 with its zone)."""
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "vendor_id": event.vendor_id,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
    }


@cli_command
def audit_events(
    actor: Annotated[
        str | None, typer.Option(help="Who: the user name recorded (cli for this command line).")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="What: an action, e.g. export.run, or a prefix: export.*")
    ] = None,
    entity_type: Annotated[
        str | None, typer.Option(help="On what: project, user, audit, import...")
    ] = None,
    entity_id: Annotated[str | None, typer.Option(help="The entity's id.")] = None,
    project: Annotated[
        str | None, typer.Option(help="Events on or naming this project (its name).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time, with its zone: 2026-12-01T00:00+08:00")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time, with its zone.")] = None,
    limit: Annotated[int, typer.Option(help="Events per page.")] = 50,
    offset: Annotated[int, typer.Option(help="Events to skip (newest first).")] = 0,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    json: JsonOption = False,
) -> None:
    """The audit trail, newest first: who did what, when, before and after."""
    from labelops.cli.main import open_session

    query = audit_trail.EventQuery(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=_time(since, "since"),
        until=_time(until, "until"),
    )
    with open_session() as session:
        if project is not None:
            project_id = projects.get_project_by_name(session, SYSTEM_ACTOR, project).id
            query = audit_trail.EventQuery(**{**query.__dict__, "project_id": project_id})
        page = audit_trail.find_events(session, SYSTEM_ACTOR, query, limit=limit, offset=offset)
        records = [event_record(event) for event in page.events]
    if json:
        emit_json(
            {
                "events": records,
                "offset": page.offset,
                "limit": page.limit,
                "has_more": page.has_more,
            }
        )
        return
    if as_csv:
        buffer = io.StringIO()
        columns = list(records[0]) if records else ["id", "created_at", "actor_name", "action"]
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow(
                {
                    key: jsonlib.dumps(value, ensure_ascii=False, sort_keys=True)
                    if isinstance(value, dict)
                    else value
                    for key, value in record.items()
                }
            )
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(
        "id",
        _t("confid.col.time"),
        _t("confid.col.actor"),
        _t("confid.col.action"),
        _t("confid.col.entity"),
        _t("confid.col.details"),
    )
    for record in records:
        details = {k: v for k, v in (("before", record["before"]), ("after", record["after"])) if v}
        table.add_row(
            str(record["id"]),
            record["created_at"],
            record["actor_name"],
            record["action"],
            f"{record['entity_type']} {record['entity_id'] or ''}".strip(),
            jsonlib.dumps(details, ensure_ascii=False, sort_keys=True) if details else "",
        )
    console.print(table)
    if page.has_more:
        console.print(_t("confid.cli.more", offset=page.offset + page.limit), markup=False)


@retention_app.command("purge-project")
@cli_command
def purge_project(
    project: str,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete (no question asked).")] = False,
    json: JsonOption = False,
) -> None:
    """Delete a project's items, labels and all that hangs off them (the project stays).

    On SQLite the database file is rebuilt afterwards (VACUUM), so the text is gone from
    the file. Without --yes nothing is deleted: the counts are shown and the command fails.
    """
    from labelops.cli.main import open_session

    with open_session() as session:
        project_id = projects.get_project_by_name(session, SYSTEM_ACTOR, project).id
        report = retention.purge_project(
            session, SYSTEM_ACTOR, project_id, dry_run=dry_run or not yes
        )
    if json:
        emit_json(report.__dict__)
    else:
        table = Table(_t("confid.col.table"), _t("confid.col.rows"))
        for name, count in report.counts.items():
            table.add_row(name, str(count))
        console.print(table)
        message = "confid.cli.purge_dry" if report.dry_run else "confid.cli.purged"
        console.print(_t(message, project=project, kept=report.items_kept), markup=False)
    if not dry_run and not yes:
        raise InvalidInput("confid.cli.needs_yes", field="yes")


@retention_app.command("pseudonymise")
@cli_command
def pseudonymise(
    vendor: Annotated[str | None, typer.Option(help="All labellers of this vendor.")] = None,
    project: Annotated[
        str | None, typer.Option(help="All labellers who worked on this project.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change; change nothing.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Rename labellers to stable pseudonyms (anon-<id>); ids and statistics stay."""
    from labelops.cli.main import open_session

    with open_session() as session:
        vendor_id = directory.get_vendor_by_name(session, vendor).id if vendor else None
        project_id = (
            projects.get_project_by_name(session, SYSTEM_ACTOR, project).id if project else None
        )
        report = retention.pseudonymise_labellers(
            session, SYSTEM_ACTOR, vendor_id=vendor_id, project_id=project_id, dry_run=dry_run
        )
    if json:
        emit_json(report.__dict__)
        return
    table = Table(_t("confid.col.table"), _t("confid.col.rows"))
    for name, count in report.counts.items():
        table.add_row(name, str(count))
    console.print(table)
    message = "confid.cli.pseudonymise_dry" if report.dry_run else "confid.cli.pseudonymised"
    console.print(_t(message, n=len(report.user_ids)), markup=False)

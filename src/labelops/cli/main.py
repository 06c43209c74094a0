"""Root command and the foundation's sub-commands.

Every command parses, calls one service and renders (Rich table, or ``--json``).
Local commands act as the operator of this machine (``SYSTEM_ACTOR``, an admin).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from labelops.cli._common import cli_command, console, emit_json, err_console, settings
from labelops.errors import InvalidInput
from labelops.i18n import translate
from labelops.services import directory, export, finals, imports, projects, taxonomies
from labelops.services.item_files import parse_column_map
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.engine import create_engine_for, make_session_factory, require_current_schema
from labelops.types import ExportFormat, ImportFormat, Role

__all__ = ["app", "main"]

app = typer.Typer(help="labelops: ads-integrity labelling operations.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
vendor_app = typer.Typer(help="Vendors (BPO companies).", no_args_is_help=True)
user_app = typer.Typer(help="Users, roles and tokens.", no_args_is_help=True)
taxonomy_app = typer.Typer(help="Versioned taxonomies.", no_args_is_help=True)
project_app = typer.Typer(help="Labelling projects.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(vendor_app, name="vendor")
app.add_typer(user_app, name="user")
token_app = typer.Typer(help="API tokens of a user.", no_args_is_help=True)
user_app.add_typer(token_app, name="token")
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(project_app, name="project")

for _module, _name in (("labelops.cli.quality", "quality"), ("labelops.cli.audit", "audit")):
    try:
        app.add_typer(importlib.import_module(_module).app, name=_name)
    except ModuleNotFoundError:  # an area not installed in this build
        pass
import labelops.cli.audit_workflow  # noqa: E402, F401  (adds the workflow to ``audit``)
from labelops.cli.confidentiality import audit_events, retention_app  # noqa: E402

app.add_typer(retention_app, name="retention")
app.command("audit-events")(audit_events)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _t(message_id: str, /, **params: object) -> str:
    return translate(message_id, settings().lang, **params)


def open_session(*, check_schema: bool = True) -> Session:
    """A session on the configured database (schema checked)."""
    engine = create_engine_for(settings().resolved_database_url)
    if check_schema:
        require_current_schema(engine)
    return make_session_factory(engine)()


@db_app.command("upgrade")
@cli_command
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database schema."""
    config = settings()
    engine = create_engine_for(config.resolved_database_url)
    from labelops.store.migrate import upgrade as run_upgrade  # Alembic: only here

    run_upgrade(engine, revision)
    console.print(_t("cli.db.upgraded", url=engine.url.render_as_string(hide_password=True)))


@app.command("serve")
@cli_command
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the REST API and the web workspace."""
    from labelops.api import create_app

    app = create_app(settings())  # fail fast, in this process, on an un-migrated database
    app.state.engine.dispose()
    console.print(_t("cli.serve.listening", url=f"http://{host}:{port}"))
    sys.stdout.flush()
    # Replace this process with a bare server (``labelops.server``): the command line has
    # loaded every sub-command (pandas, scipy...), which the server does not need.
    arguments = [
        sys.executable,
        "-m",
        "labelops.server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    os.execv(sys.executable, arguments)


@vendor_app.command("add")
@cli_command
def vendor_add(name: str, json: JsonOption = False) -> None:
    """Add a vendor."""
    with open_session() as session:
        vendor = directory.create_vendor(session, SYSTEM_ACTOR, name)
    if json:
        emit_json({"id": vendor.id, "name": vendor.name})
    else:
        console.print(_t("cli.vendor.added", name=vendor.name, id=vendor.id))


@vendor_app.command("list")
@cli_command
def vendor_list(json: JsonOption = False) -> None:
    """List vendors."""
    with open_session() as session:
        vendors = directory.list_vendors(session, SYSTEM_ACTOR)
    if json:
        emit_json([{"id": v.id, "name": v.name} for v in vendors])
        return
    table = Table("id", _t("cli.col.name"))
    for vendor in vendors:
        table.add_row(str(vendor.id), vendor.name)
    console.print(table)


@user_app.command("add")
@cli_command
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, auditor, vendor_manager or labeller.")],
    vendor: Annotated[str | None, typer.Option(help="Vendor name (vendor roles).")] = None,
    password: Annotated[str | None, typer.Option(help="Password for the web login.")] = None,
    json: JsonOption = False,
) -> None:
    """Add a user; prints their API token once."""
    with open_session() as session:
        vendor_id = directory.get_vendor_by_name(session, vendor).id if vendor else None
        created = directory.create_user(
            session,
            SYSTEM_ACTOR,
            username,
            role=role,
            vendor_id=vendor_id,
            password=password,
            token_days=settings().token_days,
        )
    if json:
        emit_json(
            {
                "username": created.user.username,
                "role": created.user.role,
                "token": created.token,
                "id": created.user.id,
                "vendor": vendor,
            }
        )
    else:
        console.print(_t("cli.user.added", username=created.user.username, role=created.user.role))
        console.print(_t("cli.user.token_once", token=created.token), markup=False)


@user_app.command("list")
@cli_command
def user_list(json: JsonOption = False) -> None:
    """List users."""
    with open_session() as session:
        users = directory.list_users(session, SYSTEM_ACTOR)
    if json:
        emit_json(
            [
                {"id": u.id, "username": u.username, "role": u.role, "vendor_id": u.vendor_id}
                for u in users
            ]
        )
        return
    table = Table("id", _t("cli.col.username"), _t("cli.col.role"), _t("cli.col.vendor"))
    for user in users:
        table.add_row(str(user.id), user.username, user.role, str(user.vendor_id or ""))
    console.print(table)


@user_app.command("delete")
@cli_command
def user_delete(username: str) -> None:
    """Delete a user and revoke their tokens."""
    with open_session() as session:
        users = [u for u in directory.list_users(session, SYSTEM_ACTOR) if u.username == username]
        if not users:
            from labelops.errors import NotFound

            raise NotFound("errors.user.not_found", user=username)
        directory.delete_user(session, SYSTEM_ACTOR, users[0].id)
    console.print(_t("cli.user.deleted", username=username))


@user_app.command("passwd")
@cli_command
def user_passwd(
    username: str,
    password: Annotated[
        str | None, typer.Option(help="The new password (asked for when not given).")
    ] = None,
) -> None:
    """Set a user's web password (ends their web sessions)."""
    if password is None:
        password = typer.prompt(_t("cli.user.password_prompt"), hide_input=True)
    with open_session() as session:
        user = directory.get_user_by_name(session, SYSTEM_ACTOR, username)
        directory.set_password(session, SYSTEM_ACTOR, user.id, password)
    console.print(_t("cli.user.password_set", username=username))


@user_app.command("disable")
@cli_command
def user_disable(username: str) -> None:
    """Disable a user: no login, no token works, their web sessions end."""
    with open_session() as session:
        user = directory.get_user_by_name(session, SYSTEM_ACTOR, username)
        directory.disable_user(session, SYSTEM_ACTOR, user.id)
    console.print(_t("cli.user.disabled", username=username))


@user_app.command("enable")
@cli_command
def user_enable(username: str) -> None:
    """Enable a disabled user again."""
    with open_session() as session:
        user = directory.get_user_by_name(session, SYSTEM_ACTOR, username)
        directory.enable_user(session, SYSTEM_ACTOR, user.id)
    console.print(_t("cli.user.enabled", username=username))


@token_app.command("add")
@cli_command
def token_add(
    username: str,
    name: Annotated[str, typer.Option(help="A name to tell the token apart.")] = "default",
    days: Annotated[
        int | None, typer.Option(help="Days until it expires (default LABELOPS_TOKEN_DAYS).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Issue another API token for a user; prints it once."""
    with open_session() as session:
        user = directory.get_user_by_name(session, SYSTEM_ACTOR, username)
        token = directory.create_token(
            session, SYSTEM_ACTOR, user.id, name=name, expires_days=days or settings().token_days
        )
        row = directory.list_tokens(session, SYSTEM_ACTOR, user.id)[0]
    if json:
        emit_json(
            {
                "id": row.id,
                "token": token,
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            }
        )
    else:
        console.print(_t("cli.user.token_once", token=token), markup=False)


@token_app.command("list")
@cli_command
def token_list(username: str, json: JsonOption = False) -> None:
    """List a user's tokens (prefix only, never the secret)."""
    with open_session() as session:
        user = directory.get_user_by_name(session, SYSTEM_ACTOR, username)
        rows = directory.list_tokens(session, SYSTEM_ACTOR, user.id)

    def when(value: object) -> str:
        return value.isoformat() if hasattr(value, "isoformat") else ""

    listed = [
        {
            "id": r.id,
            "name": r.name,
            "prefix": r.prefix,
            "created_at": when(r.created_at),
            "expires_at": when(r.expires_at),
            "last_used_at": when(r.last_used_at),
            "revoked_at": when(r.revoked_at),
        }
        for r in rows
    ]
    if json:
        emit_json(listed)
        return
    table = Table(
        "id",
        _t("cli.col.name"),
        _t("cli.col.prefix"),
        _t("cli.col.expires"),
        _t("cli.col.last_used"),
        _t("cli.col.revoked"),
    )
    for entry in listed:
        table.add_row(
            str(entry["id"]),
            str(entry["name"]),
            f"{entry['prefix'] or 'lo_'}…",
            str(entry["expires_at"]),
            str(entry["last_used_at"]),
            str(entry["revoked_at"]),
        )
    console.print(table)


@token_app.command("revoke")
@cli_command
def token_revoke(token_id: int) -> None:
    """Revoke one token by its id (see: labelops user token list)."""
    with open_session() as session:
        directory.revoke_token(session, SYSTEM_ACTOR, token_id)
    console.print(_t("cli.token.revoked", id=token_id))


@taxonomy_app.command("add")
@cli_command
def taxonomy_add(file: Path, json: JsonOption = False) -> None:
    """Add a taxonomy version from a YAML or JSON file."""
    spec = taxonomies.read_taxonomy_file(file)
    with open_session() as session:
        taxonomy, created = taxonomies.create_taxonomy(session, SYSTEM_ACTOR, spec)
    if json:
        emit_json(
            {
                "id": taxonomy.id,
                "key": taxonomy.key,
                "version": taxonomy.version,
                "created": created,
            }
        )
    else:
        message = "cli.taxonomy.added" if created else "cli.taxonomy.unchanged"
        console.print(_t(message, key=taxonomy.key, version=taxonomy.version))


@taxonomy_app.command("list")
@cli_command
def taxonomy_list(json: JsonOption = False) -> None:
    """List taxonomy versions."""
    with open_session() as session:
        rows = [
            (t.id, t.key, t.version, t.mode, taxonomies.label_keys(session, t.id))
            for t in taxonomies.list_taxonomies(session, SYSTEM_ACTOR)
        ]
    if json:
        emit_json(
            [
                {"id": i, "key": k, "version": v, "mode": m, "labels": labels}
                for i, k, v, m, labels in rows
            ]
        )
        return
    table = Table("id", "key", _t("cli.col.version"), _t("cli.col.mode"), _t("cli.col.labels"))
    for i, k, v, m, labels in rows:
        table.add_row(str(i), k, str(v), m, ", ".join(labels))
    console.print(table)


@project_app.command("create")
@cli_command
def project_create(
    name: str,
    taxonomy: Annotated[str, typer.Option(help="KEY@VERSION")],
    overlap: Annotated[int, typer.Option(help="Labels wanted per item.")],
    gold_rate: Annotated[float, typer.Option(help="Share of gold tasks served.")] = 0.0,
    vendor: Annotated[list[str] | None, typer.Option(help="Vendor name (repeatable).")] = None,
    sla_hours: Annotated[float | None, typer.Option(help="Hours until an item is final.")] = None,
    json: JsonOption = False,
) -> None:
    """Create a labelling project."""
    with open_session() as session:
        version = taxonomies.get_taxonomy_by_ref(session, taxonomy)
        vendor_ids = [directory.get_vendor_by_name(session, v).id for v in vendor or []]
        project = projects.create_project(
            session,
            SYSTEM_ACTOR,
            name,
            taxonomy_id=version.id,
            overlap=overlap,
            gold_rate=gold_rate,
            vendor_ids=vendor_ids,
            sla_hours=sla_hours,
        )
    if json:
        emit_json({"id": project.id, "name": project.name})
    else:
        console.print(_t("cli.project.created", name=project.name, id=project.id))


@project_app.command("list")
@cli_command
def project_list(json: JsonOption = False) -> None:
    """List projects with their progress."""
    with open_session() as session:
        rows = []
        for project in projects.list_projects(session, SYSTEM_ACTOR):
            progress = projects.get_project_progress(session, SYSTEM_ACTOR, project.id)
            rows.append((project, progress))
    if json:
        emit_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "overlap": p.overlap,
                    "gold_rate": p.gold_rate,
                    **g.__dict__,
                }
                for p, g in rows
            ]
        )
        return
    table = Table(
        "id", _t("cli.col.name"), _t("cli.col.tasks"), _t("cli.col.labels"), _t("cli.col.final")
    )
    for project, progress in rows:
        table.add_row(
            str(project.id),
            project.name,
            str(progress.n_tasks),
            str(progress.n_labels),
            str(progress.n_final),
        )
    console.print(table)


def _progress() -> Progress:
    """A progress bar on stderr, shown only on a terminal: stdout carries the result
    alone (``--json`` prints exactly one JSON document)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


_READ_AHEAD_BYTES = 16 * 1024 * 1024


@app.command("import")
@cli_command
def import_command(
    project: str,
    file: Path,
    format: Annotated[
        str, typer.Option(help="auto, jsonl, csv, tsv, parquet or label-studio.")
    ] = "auto",
    skip_invalid: Annotated[bool, typer.Option(help="Land valid rows; report the rest.")] = False,
    report: Annotated[Path | None, typer.Option(help="Where rejected rows go.")] = None,
    annotations_vendor: Annotated[
        str | None,
        typer.Option(help="Label Studio: land annotations as labels of this vendor's labellers."),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="FIELD=COLUMN: read an item field from a column of another name, "
            "e.g. --column external_id=id, or by position, --column text=#2 (repeatable)."
        ),
    ] = None,
    header: Annotated[
        bool,
        typer.Option(
            help="CSV/TSV: the first line names the columns; --no-header: it is a row, "
            "and the columns are #1, #2, ..."
        ),
    ] = True,
    hash_ids: Annotated[
        bool,
        typer.Option(
            help="The file has no ids: each item's external_id is a hash of its row "
            "(the same row always gets the same id)."
        ),
    ] = False,
    media_root: Annotated[
        Path | None,
        typer.Option(
            help="A folder inside the media root (LABELOPS_MEDIA_ROOT, default "
            "LABELOPS_HOME/media) that the file's media paths are relative to; items "
            "store them relative to the media root."
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Import items into a project (all or nothing unless --skip-invalid).

    Media paths are relative to the media root (or to --media-root inside it); absolute
    paths, '..', folders, devices and links leading out of it are refused.
    """
    if format not in ("auto", "jsonl", "csv", "tsv", "parquet", "label-studio"):
        raise InvalidInput("errors.import.format", field="format", value=format)
    columns = parse_column_map(column or [])
    if not file.is_file():
        raise InvalidInput("errors.file.missing", file=str(file))
    with open_session() as session, _progress() as bar:
        target = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        vendor_id = (
            directory.get_vendor_by_name(session, annotations_vendor).id
            if annotations_vendor
            else None
        )
        task = bar.add_task(_t("cli.import.reading", file=file.name), total=None)
        result = imports.import_items(
            session,
            SYSTEM_ACTOR,
            target.id,
            file,
            format=cast(ImportFormat, format),
            skip_invalid=skip_invalid,
            report_path=report,
            on_progress=lambda n: bar.update(task, completed=n),
            annotations_vendor_id=vendor_id,
            columns=columns,
            header=header,
            hash_ids=hash_ids,
            media_root=settings().resolved_media_root,
            media_folder=media_root,
            # Large files are read and checked in a second process while this one writes.
            read_ahead=file.stat().st_size >= _READ_AHEAD_BYTES,
        )
    summary = {
        "import_id": result.import_id,
        "n_rows": result.n_rows,
        "n_created": result.n_created,
        "n_duplicates": result.n_duplicates,
        "n_rejected": result.n_rejected,
        "n_labels": result.n_labels,
        "report": result.report_path,
    }
    if json:
        emit_json({**summary, "duplicates": result.duplicates[:100]})
    else:
        console.print(_t("cli.import.done", **summary))


@app.command("finalize")
@cli_command
def finalize_command(
    project: str,
    method: Annotated[str, typer.Option(help=", ".join(finals.FINALIZE_METHODS))] = "majority",
    json: JsonOption = False,
) -> None:
    """Compute every final label and freeze them as a snapshot."""
    with open_session() as session:
        target = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        summary = finals.finalize_project(session, SYSTEM_ACTOR, target.id, method=method)
    if json:
        emit_json(summary.__dict__)
    else:
        console.print(_t("cli.finalize.done", **summary.__dict__))


@app.command("export")
@cli_command
def export_command(
    project: str,
    out: Annotated[Path, typer.Option(help="Output file.")],
    format: Annotated[str, typer.Option(help="jsonl, csv, parquet or label-studio.")] = "jsonl",
    snapshot: Annotated[int | None, typer.Option(help="Snapshot id (default: newest).")] = None,
    raw: Annotated[bool, typer.Option(help="Include every labeller's labels.")] = False,
    mask_pii: Annotated[
        bool,
        typer.Option(
            "--mask-pii",
            help="Replace phone numbers, LINE IDs and e-mail addresses in item text "
            "with [PHONE], [LINE_ID], [EMAIL] (stated in the manifest).",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Export a snapshot's final labels; the same snapshot gives identical bytes.

    A manifest (FILE.manifest.json) describes the export; every export is recorded in
    the audit trail."""
    if format not in ("jsonl", "csv", "parquet", "label-studio"):
        raise InvalidInput("errors.export.format", field="format", value=format)
    with open_session() as session:
        target = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        summary = export.export_project(
            session,
            SYSTEM_ACTOR,
            target.id,
            out,
            format=cast(ExportFormat, format),
            snapshot_id=snapshot,
            raw=raw,
            mask_personal_data=mask_pii,
            via="cli",
        )
    if json:
        emit_json({k: v for k, v in summary.__dict__.items() if k != "manifest"})
    else:
        console.print(_t("cli.export.done", **summary.__dict__))
        manifest = summary.path + export.MANIFEST_SUFFIX
        message = "confid.export.masked" if summary.pii_masked else "confid.export.manifest"
        console.print(_t(message, manifest=manifest), markup=False)


@app.command("demo")
@cli_command
def demo_command(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve afterwards.")
    ] = True,
    items: Annotated[int, typer.Option(help="Demo items to generate.")] = 3000,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Seed the demo (vendors, users, taxonomy, project, items) and serve it."""
    from labelops.services.demo import seed_demo
    from labelops.store.migrate import upgrade as run_upgrade

    config = settings()
    engine = create_engine_for(config.resolved_database_url)
    run_upgrade(engine)
    with make_session_factory(engine)() as session:
        result = seed_demo(session, n_items=items)
    console.print(_t("cli.demo.seeded", project=result.project_name, items=result.n_items))
    for account in result.accounts:
        console.print(
            f"  {account.username:<14} {account.role:<15} {account.password}", markup=False
        )
    if serve_after:
        serve(host=host, port=port, workers=1)


def main() -> None:
    """Console-script entry point."""
    app()

"""``labelops audit ...``: the audit workflow on the local database (issue #4).

Adds to the ``audit`` sub-app of :mod:`labelops.cli.audit`: ``lots``, ``lot-create``,
``start``, ``items``, ``review``, ``verdict``, ``report``, ``close``, ``rework``, ``disputes``,
``error-types``, ``error-types-set``, ``switching``,
``dispute-open``, ``dispute-resolve``, ``feedback`` and the ``gold`` group (``add``,
``import``, ``accuracy``). Local commands act as the machine's operator
(``SYSTEM_ACTOR``, an admin); every listing and report has ``--json``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from labelops.cli._common import cli_command, console, emit_json, settings
from labelops.cli.audit import app
from labelops.errors import InvalidInput
from labelops.i18n import translate
from labelops.services import (
    audit_trail,
    audits,
    directory,
    disputes,
    feedback,
    gold,
    lots,
    projects,
    rework,
)
from labelops.services.json_errors import json_syntax_message
from labelops.services.policy import SYSTEM_ACTOR

__all__ = ["gold_app"]

gold_app = typer.Typer(help="Gold items: known answers mixed into the queue.", no_args_is_help=True)
app.add_typer(gold_app, name="gold")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _t(message_id: str, /, **params: object) -> str:
    return translate(message_id, settings().lang, **params)


def _time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("errors.lot.naive_time", field=field, value=value) from exc
    return parsed


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _lot_payload(lot: lots.LotSummary) -> dict[str, Any]:
    payload: dict[str, Any] = _plain(asdict(lot))
    return payload


@app.command("lots")
@cli_command
def lots_command(project: str, json: JsonOption = False) -> None:
    """List a project's lots with size and status."""
    from labelops.cli.main import open_session

    with open_session() as session:
        found = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        rows = lots.list_lots(session, SYSTEM_ACTOR, found.id)
    if json:
        emit_json([_lot_payload(lot) for lot in rows])
        return
    if not rows:
        console.print(_t("audit.cli.no_lots"))
        return
    table = Table(
        _t("audit.col.lot"),
        _t("audit.col.vendor"),
        _t("audit.col.kind"),
        _t("audit.col.size"),
        _t("audit.col.status"),
        _t("audit.col.window"),
        _t("audit.col.audit"),
    )
    for lot in rows:
        window = " → ".join(
            t.isoformat(timespec="minutes") if t else "…" for t in (lot.since, lot.until)
        )
        table.add_row(
            str(lot.id),
            str(lot.vendor_id),
            lot.kind,
            str(lot.n_labels),
            lot.status,
            window,
            str(lot.audit_id or ""),
        )
    console.print(table)


@app.command("lot-create")
@cli_command
def lot_create(
    project: str,
    vendor: Annotated[str, typer.Option(help="Vendor name.")],
    since: Annotated[str | None, typer.Option(help="ISO time with zone, inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time with zone, exclusive.")] = None,
    import_batch: Annotated[int | None, typer.Option(help="Only this import batch.")] = None,
    rework_of: Annotated[int | None, typer.Option(help="Reworked labels of this lot.")] = None,
    json: JsonOption = False,
) -> None:
    """Put a vendor's labels that are in no lot yet into a new lot."""
    from labelops.cli.main import open_session

    with open_session() as session:
        found = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        vendor_id = directory.get_vendor_by_name(session, vendor).id
        lot = lots.create_lot(
            session,
            SYSTEM_ACTOR,
            found.id,
            vendor_id,
            since=_time(since, "since"),
            until=_time(until, "until"),
            import_batch_id=import_batch,
            rework_of_lot_id=rework_of,
        )
    if json:
        emit_json(_lot_payload(lot))
    else:
        console.print(
            _t("audit.cli.lot_created", id=lot.id, n=lot.n_labels, vendor=vendor, status=lot.status)
        )


def _audit_payload(audit: audits.AuditSummary) -> dict[str, Any]:
    payload: dict[str, Any] = _plain(asdict(audit))
    return payload


@app.command("start")
@cli_command
def start(
    lot: int,
    plan: Annotated[str, typer.Option(help="aql, margin or stratified.")] = "aql",
    aql: Annotated[str, typer.Option(help="AQL (percent defective), e.g. 1.0.")] = "1.0",
    level: Annotated[str, typer.Option(help="I, II, III or S-1 ... S-4.")] = "II",
    inspection: Annotated[
        str | None, typer.Option(help="normal, tightened or reduced (default: switching).")
    ] = None,
    margin: Annotated[float, typer.Option(help="Margin of error (margin, stratified).")] = 0.05,
    allocation: Annotated[str, typer.Option(help="neyman, proportional or equal.")] = "neyman",
    targeted: Annotated[int, typer.Option(help="Extra risk-targeted labels.")] = 0,
    target_accuracy: Annotated[
        float, typer.Option(help="Accuracy to accept (margin, stratified).")
    ] = 0.95,
    seed: Annotated[int | None, typer.Option(help="Seed of the draw (recorded).")] = None,
    json: JsonOption = False,
) -> None:
    """Freeze a lot and draw its audit sample."""
    from labelops.cli.main import open_session

    with open_session() as session:
        audit = audits.start_audit(
            session,
            SYSTEM_ACTOR,
            lot,
            plan=plan,
            aql=aql,
            level=level,
            inspection=inspection,
            margin=margin,
            allocation=allocation,
            targeted=targeted,
            target_accuracy=target_accuracy,
            seed=seed,
        )
    if json:
        emit_json(_audit_payload(audit))
    else:
        console.print(
            _t(
                "audit.cli.started",
                id=audit.id,
                lot=lot,
                n_random=audit.n_random,
                n_targeted=audit.n_targeted,
                plan=plan,
                seed=audit.seed,
            )
        )


def _item_payload(view: audits.AuditItemView) -> dict[str, Any]:
    payload: dict[str, Any] = _plain(asdict(view))
    return payload


@app.command("items")
@cli_command
def items(audit: int, json: JsonOption = False) -> None:
    """List an audit's sample; labels still to answer blind show no vendor label."""
    from labelops.cli.main import open_session

    with open_session() as session:
        views = audits.list_audit_items(session, SYSTEM_ACTOR, audit)
        audit_trail.record_sample_read(session, SYSTEM_ACTOR, audit, len(views), via="cli")
    if json:
        emit_json([_item_payload(v) for v in views])
        return
    table = Table("label_id", "part", "stage", "external_id", _t("audit.col.label"), "verdict")
    for view in views:
        table.add_row(
            str(view.label_id),
            view.part,
            view.stage,
            str(view.item["external_id"]),
            ", ".join(view.vendor_value or []) or "—",
            view.verdict or "",
        )
    console.print(table)


@app.command("review")
@cli_command
def review(audit: int, json: JsonOption = False) -> None:
    """Show the next label to review, blind (answer it with: labelops audit verdict)."""
    from labelops.cli.main import open_session

    with open_session() as session:
        view = audits.next_audit_item(session, SYSTEM_ACTOR, audit)
    if json:
        emit_json(None if view is None else _item_payload(view))
        return
    if view is None:
        console.print(_t("audit.cli.review_done", audit=audit))
        return
    console.print(
        _t(
            "audit.cli.review_next",
            label=view.label_id,
            part=view.part,
            labels=", ".join(view.labels),
        )
    )
    console.print(view.item.get("text") or "", markup=False, highlight=False)


@app.command("verdict")
@cli_command
def verdict(
    audit: int,
    label_id: int,
    answer: Annotated[list[str], typer.Option(help="Your own label key (repeatable).")],
    verdict: Annotated[str, typer.Option(help="correct or incorrect.")],
    error_type: Annotated[str | None, typer.Option(help="Error type key.")] = None,
    severity: Annotated[str | None, typer.Option(help="critical, major or minor.")] = None,
    corrected: Annotated[
        list[str] | None, typer.Option(help="Right label key (default: your answer).")
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Comment for the vendor.")] = None,
    json: JsonOption = False,
) -> None:
    """Answer a sampled label blind, then record the verdict (non-interactive review)."""
    from labelops.cli.main import open_session

    with open_session() as session:
        audits.submit_blind_answer(session, SYSTEM_ACTOR, audit, label_id, answer)
        view = audits.record_verdict(
            session,
            SYSTEM_ACTOR,
            audit,
            label_id,
            verdict,
            error_type=error_type,
            severity=severity,
            corrected=corrected,
            comment=comment,
        )
        summary = audits.get_audit(session, SYSTEM_ACTOR, audit)
    if json:
        emit_json({"item": _item_payload(view), "audit": _audit_payload(summary)})
        return
    console.print(
        _t(
            "audit.cli.verdict",
            label=label_id,
            verdict=view.verdict,
            reviewed=summary.n_reviewed,
            total=summary.n_sample,
        )
    )
    if summary.decision:
        console.print(_t("audit.cli.decided", decision=summary.decision))


def _report_payload(report: audits.AuditReport) -> dict[str, Any]:
    payload: dict[str, Any] = _plain(asdict(report))
    payload["class_quality"] = [
        {**entry, "label": str(entry["label"])} for entry in payload["class_quality"]
    ]
    return payload


@app.command("report")
@cli_command
def report(audit: int, json: JsonOption = False) -> None:
    """Show an audit's decision, the lot's estimated accuracy and per-class quality."""
    from labelops.cli.main import open_session

    with open_session() as session:
        result = audits.get_audit_report(session, SYSTEM_ACTOR, audit)
    if json:
        emit_json(_report_payload(result))
        return
    summary = result.audit
    table = Table(title=_t("audit.report.title", id=summary.id, lot=summary.lot_id))
    table.add_column(_t("audit.col.field"))
    table.add_column(_t("audit.col.value"), justify="right")
    pending = _t("audit.report.pending")
    rows = [
        ("audit.report.plan", summary.plan),
        ("audit.report.lot_size", str(result.lot_size)),
        ("audit.report.sample", f"{summary.n_random} + {summary.n_targeted}"),
        ("audit.report.reviewed", f"{summary.n_reviewed} / {summary.n_sample}"),
        ("audit.report.defects", f"{summary.n_defects_random} / {summary.n_defects}"),
    ]
    if result.accept is not None:
        rows.append(("audit.report.ac_re", f"{result.accept} / {result.reject}"))
    rows.append(("audit.report.decision", summary.decision or pending))
    if result.estimate is not None:
        estimate = result.estimate
        rows.append(
            (
                "audit.report.accuracy",
                f"{estimate.accuracy_rate:.1%} [{estimate.ci_low:.1%}, {estimate.ci_high:.1%}]",
            )
        )
    rows.append(
        ("audit.report.targeted", f"{result.n_targeted_defects} / {result.n_targeted_reviewed}")
    )
    if result.next_inspection:
        rows.append(("audit.report.next_inspection", result.next_inspection))
    for message_id, value in rows:
        table.add_row(_t(message_id), value)
    console.print(table)
    if result.class_quality:
        classes = Table(
            _t("audit.col.class"), _t("audit.col.precision"), _t("audit.col.recall"), title=None
        )
        for entry in result.class_quality:
            classes.add_row(
                str(entry.label),
                "—" if math.isnan(entry.precision_rate) else f"{entry.precision_rate:.1%}",
                "—" if math.isnan(entry.recall_rate) else f"{entry.recall_rate:.1%}",
            )
        console.print(classes)
    if result.errors_by_type:
        errors = Table(_t("audit.col.error_type"), _t("audit.col.count"))
        for key, count in result.errors_by_type.items():
            errors.add_row(key, str(count))
        console.print(errors)


@app.command("close")
@cli_command
def close(audit: int, json: JsonOption = False) -> None:
    """Decide a complete audit (the last verdict already does)."""
    from labelops.cli.main import open_session

    with open_session() as session:
        summary = audits.close_audit(session, SYSTEM_ACTOR, audit)
    if json:
        emit_json(_audit_payload(summary))
    else:
        console.print(_t("audit.cli.decided", decision=summary.decision))


@app.command("rework")
@cli_command
def rework_command(
    audit: int,
    vendor: Annotated[str | None, typer.Option(help="Vendor doing the rework.")] = None,
    priority: Annotated[int, typer.Option(help="Higher first (-1000..1000).")] = 10,
    json: JsonOption = False,
) -> None:
    """Send a rejected lot's labels back as rework."""
    from labelops.cli.main import open_session

    with open_session() as session:
        vendor_id = directory.get_vendor_by_name(session, vendor).id if vendor else None
        summary = rework.create_rework(
            session, SYSTEM_ACTOR, audit, target_vendor_id=vendor_id, priority=priority
        )
    if json:
        emit_json(asdict(summary))
    else:
        console.print(
            _t(
                "audit.cli.rework_created",
                n=summary.n_items,
                vendor=vendor or summary.target_vendor_id,
                priority=summary.priority,
            )
        )


@app.command("disputes")
@cli_command
def disputes_command(
    status: Annotated[str | None, typer.Option(help="open, upheld or overturned.")] = None,
    json: JsonOption = False,
) -> None:
    """List disputes."""
    from labelops.cli.main import open_session

    with open_session() as session:
        rows = disputes.list_disputes(session, SYSTEM_ACTOR, status=status)
    if json:
        emit_json([_plain(asdict(d)) for d in rows])
        return
    table = Table(
        _t("audit.col.dispute"),
        _t("audit.col.audit"),
        _t("audit.col.label"),
        _t("audit.col.status"),
        _t("audit.col.reason"),
    )
    for row in rows:
        table.add_row(str(row.id), str(row.audit_id), str(row.label_id), row.status, row.reason)
    console.print(table)


@app.command("dispute-open")
@cli_command
def dispute_open(
    audit: int, label_id: int, reason: Annotated[str, typer.Option(help="Why.")]
) -> None:
    """Dispute an 'incorrect' verdict."""
    from labelops.cli.main import open_session

    with open_session() as session:
        view = disputes.open_dispute(session, SYSTEM_ACTOR, audit, label_id, reason)
    console.print(_t("audit.cli.dispute_opened", id=view.id))


@app.command("dispute-resolve")
@cli_command
def dispute_resolve(
    dispute: int,
    outcome: Annotated[str, typer.Option(help="uphold or overturn.")],
    comment: Annotated[str | None, typer.Option(help="Comment.")] = None,
) -> None:
    """Uphold or overturn a dispute."""
    from labelops.cli.main import open_session

    with open_session() as session:
        view = disputes.resolve_dispute(session, SYSTEM_ACTOR, dispute, outcome, comment=comment)
    console.print(_t("audit.cli.dispute_resolved", id=view.id, status=view.status))


@app.command("feedback")
@cli_command
def feedback_command(
    project: Annotated[str | None, typer.Option(help="Project name.")] = None,
    json: JsonOption = False,
) -> None:
    """Audited mistakes with the right answer and the guideline."""
    from labelops.cli.main import open_session

    with open_session() as session:
        project_id = (
            projects.get_project_by_name(session, SYSTEM_ACTOR, project).id if project else None
        )
        rows = feedback.list_feedback(session, SYSTEM_ACTOR, project_id=project_id)
    if json:
        emit_json([_plain(asdict(row)) for row in rows])
        return
    table = Table("external_id", _t("audit.col.labeller"), "→", _t("audit.col.error_type"))
    for row in rows:
        table.add_row(
            row.external_id,
            str(row.labeller_id),
            f"{'+'.join(row.your_value)} → {'+'.join(row.right_value)}",
            row.error_type or "",
        )
    console.print(table)


@app.command("switching")
@cli_command
def switching(
    project: str,
    vendor: Annotated[str, typer.Option(help="Vendor name.")],
    resume: Annotated[
        bool, typer.Option("--resume", help="Resume discontinued inspection (tightened).")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Show (or resume) a vendor's normal / tightened / reduced inspection state."""
    from labelops.cli.main import open_session

    with open_session() as session:
        found = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        vendor_id = directory.get_vendor_by_name(session, vendor).id
        if resume:
            state = audits.resume_switching(session, SYSTEM_ACTOR, found.id, vendor_id)
        else:
            state = audits.read_switching_state(session, SYSTEM_ACTOR, found.id, vendor_id)
    if json:
        emit_json(_plain(asdict(state)))
        return
    table = Table(_t("audit.col.field"), _t("audit.col.value"))
    for key, value in asdict(state).items():
        table.add_row(key, str(value))
    console.print(table)


@app.command("error-types")
@cli_command
def error_types(json: JsonOption = False) -> None:
    """Show the newest error-type list."""
    from labelops.cli.main import open_session

    with open_session() as session:
        rows = audits.list_error_types(session, SYSTEM_ACTOR)
    if json:
        emit_json([asdict(row) for row in rows])
        return
    table = Table("key", "en", "zh-Hant", "v")
    for row in rows:
        table.add_row(row.key, row.name_en, row.name_zh, str(row.list_version))
    console.print(table)


@app.command("error-types-set")
@cli_command
def error_types_set(file: Path) -> None:
    """Save a new error-type list version from a JSON file of {key, name_en, name_zh}."""
    import json as json_module

    from labelops.cli.main import open_session

    try:
        data = json_module.loads(file.read_text(encoding="utf-8"))
    except json_module.JSONDecodeError as exc:
        message_id, params = json_syntax_message(exc)
        raise InvalidInput(message_id, file=str(file), line=exc.lineno, **params) from exc
    except (OSError, ValueError) as exc:
        raise InvalidInput("errors.audit.error_types_file", file=str(file)) from exc
    try:
        types = [(str(t["key"]), str(t["name_en"]), str(t["name_zh"])) for t in data]
    except (KeyError, TypeError) as exc:
        raise InvalidInput("errors.audit.error_types_file", file=str(file)) from exc
    with open_session() as session:
        rows = audits.create_error_type_list(session, SYSTEM_ACTOR, types)
    console.print(_t("audit.cli.error_types_saved", version=rows[0].list_version, n=len(rows)))


@gold_app.command("add")
@cli_command
def gold_add(
    project: str,
    external_id: str,
    label: Annotated[list[str], typer.Option(help="Label key (repeatable).")],
    explanation_en: Annotated[str, typer.Option(help="Explanation in English.")],
    explanation_zh: Annotated[str, typer.Option(help="Explanation in Traditional Chinese.")],
) -> None:
    """Mark an item as gold with its answer and explanations."""
    from labelops.cli.main import open_session

    with open_session() as session:
        found = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        answer = gold.mark_gold(
            session,
            SYSTEM_ACTOR,
            found.id,
            external_id,
            label,
            explanation_en=explanation_en,
            explanation_zh=explanation_zh,
        )
    console.print(_t("audit.cli.gold_marked", item=external_id, label="+".join(answer.value)))


@gold_app.command("import")
@cli_command
def gold_import(project: str, file: Path, json: JsonOption = False) -> None:
    """Import gold answers from CSV or JSONL (external_id,label,explanation_en,explanation_zh)."""
    from labelops.cli.main import open_session

    with open_session() as session:
        found = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        result = gold.import_gold_file(session, SYSTEM_ACTOR, found.id, file)
    if json:
        emit_json(asdict(result))
    else:
        console.print(
            _t(
                "audit.cli.gold_imported",
                rows=result.n_rows,
                created=result.n_created,
                updated=result.n_updated,
            )
        )


@gold_app.command("accuracy")
@cli_command
def gold_accuracy(project: str, json: JsonOption = False) -> None:
    """Each labeller's live accuracy on gold with a 95 % Wilson interval."""
    from labelops.cli.main import open_session

    with open_session() as session:
        found = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        rows = gold.compute_gold_accuracy(session, SYSTEM_ACTOR, found.id)
    if json:
        emit_json([asdict(row) for row in rows])
        return
    table = Table(
        _t("audit.col.labeller"),
        _t("audit.col.answers"),
        _t("audit.col.accuracy"),
        _t("audit.col.ci"),
    )
    for row in rows:
        table.add_row(
            row.username,
            str(row.n_answers),
            f"{row.accuracy_rate:.1%}",
            f"[{row.ci_low:.1%}, {row.ci_high:.1%}]",
        )
    console.print(table)

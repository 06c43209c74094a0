"""Gold items: known answers mixed into the queue unseen, and labellers' live gold accuracy.

Marking an item as gold sets ``Task.is_gold`` (the queue then serves it to every
labeller at the project's gold rate) and stores a :class:`GoldAnswer` with an
explanation in both languages. Gold answers are validated against the project's
taxonomy version. A gold file is CSV or JSONL with the fields
``external_id,label,explanation_en,explanation_zh`` (several keys of a multi-label
answer are separated by ``|``); it lands whole or not at all.

Accuracy on gold is measured from each labeller's *current* labels on gold tasks
against the gold answers, with a Wilson interval (Wilson 1927).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput, InvalidRows, NotFound, RowProblem
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.json_errors import json_syntax_message
from labelops.services.labelling import validate_label_value
from labelops.services.policy import Actor, authorize, scope_to_vendor
from labelops.services.projects import ProjectContext, get_project, load_project_context
from labelops.store.models import GoldAnswer, Item, Label, Task, User
from labelops.store.types import utcnow
from labelops.types import TaskStatus

if TYPE_CHECKING:
    pass

__all__ = [
    "GoldAccuracy",
    "GoldImportReport",
    "GoldRow",
    "compute_gold_accuracy",
    "import_gold_file",
    "import_gold_rows",
    "list_gold",
    "mark_gold",
    "read_gold_file",
]

MAX_EXPLANATION = 5000
GOLD_FIELDS = ("external_id", "label", "explanation_en", "explanation_zh")


@dataclass(frozen=True)
class GoldRow:
    """One gold answer to store: the item, its label key(s) and both explanations."""

    external_id: str
    value: tuple[str, ...]
    explanation_en: str
    explanation_zh: str
    line: int | None = None
    """1-based line in the source file (header = line 1 for CSV), if from a file."""


@dataclass(frozen=True)
class GoldImportReport:
    """What a gold import stored."""

    n_rows: int
    n_created: int
    n_updated: int


@dataclass(frozen=True)
class GoldAccuracy:
    """One labeller's accuracy on gold items with a Wilson interval."""

    labeller_id: int
    username: str
    vendor_id: int
    n_answers: int
    """Gold items the labeller answered (current labels)."""
    n_correct: int
    accuracy_rate: float
    """n_correct / n_answers, in [0, 1]."""
    ci_low: float
    ci_high: float
    confidence: float


def _check_explanations(row: GoldRow) -> list[tuple[str, str]]:
    problems = []
    for field, text in (
        ("explanation_en", row.explanation_en),
        ("explanation_zh", row.explanation_zh),
    ):
        if not text.strip():
            problems.append((field, "errors.gold.explanation_missing"))
        elif len(text) > MAX_EXPLANATION:
            problems.append((field, "errors.gold.explanation_too_long"))
    return problems


def _store(
    session: Session,
    actor: Actor,
    context: ProjectContext,
    task: Task,
    keys: list[str],
    row: GoldRow,
    now: datetime,
) -> bool:
    """Create or update one gold answer; returns True when created."""
    gold = session.scalar(
        select(GoldAnswer).where(
            GoldAnswer.project_id == context.project.id, GoldAnswer.item_id == task.item_id
        )
    )
    before = None
    created = gold is None
    if gold is None:
        gold = GoldAnswer(
            project_id=context.project.id, item_id=task.item_id, created_by=actor.user_id
        )
        session.add(gold)
    else:
        before = {
            "value": list(gold.value),
            "explanation_en": gold.explanation_en,
            "explanation_zh": gold.explanation_zh,
            "is_gold": task.is_gold,
        }
    gold.value = keys
    gold.explanation_en = row.explanation_en.strip()
    gold.explanation_zh = row.explanation_zh.strip()
    gold.created_at = now
    task.is_gold = True
    # A gold task is answered by every labeller, so it never completes.
    task.status = TaskStatus.OPEN.value
    session.flush()
    record_event(
        session,
        actor,
        "gold.mark",
        "gold_answer",
        gold.id,
        before=before,
        after={
            "project_id": context.project.id,
            "task_id": task.id,
            "external_id": row.external_id,
            "value": keys,
            "explanation_en": gold.explanation_en,
            "explanation_zh": gold.explanation_zh,
        },
        now=now,
    )
    return created


def _tasks_by_external_id(
    session: Session, project_id: int, external_ids: Iterable[str]
) -> dict[str, Task]:
    wanted = sorted(set(external_ids))
    found: dict[str, Task] = {}
    for start in range(0, len(wanted), 5000):
        rows = session.execute(
            select(Item.external_id, Task)
            .join(Task, Task.item_id == Item.id)
            .where(
                Task.project_id == project_id, Item.external_id.in_(wanted[start : start + 5000])
            )
            .execution_options(populate_existing=True)
        )
        for external_id, task in rows:
            found[external_id] = task
    return found


def mark_gold(
    session: Session,
    actor: Actor,
    project_id: int,
    external_id: str,
    value: Sequence[str],
    *,
    explanation_en: str,
    explanation_zh: str,
    now: datetime | None = None,
) -> GoldAnswer:
    """Mark an item of a project as gold with its answer and explanations.

    Marking it again replaces the answer (the audit trail keeps the old one).

    Args:
        project_id: The project.
        external_id: The item's external id.
        value: Label key(s) from the project's taxonomy version.
        explanation_en: Why this is the answer, in English.
        explanation_zh: The same in Traditional Chinese.

    Raises:
        PermissionDenied: The actor may not manage gold.
        NotFound: Unknown project, or the item is not in it.
        InvalidInput: A key outside the taxonomy, or a missing explanation.
    """
    authorize(actor, "gold.manage")
    get_project(session, actor, project_id)
    row = GoldRow(external_id, tuple(value), explanation_en, explanation_zh)
    problems = _check_explanations(row)
    if problems:
        field, message_id = problems[0]
        raise InvalidInput(message_id, field=field, max=MAX_EXPLANATION)
    now = now or utcnow()
    with transaction(session):
        context = load_project_context(session, project_id)
        keys = validate_label_value(list(value), context.label_keys, context.taxonomy.mode)
        task = _tasks_by_external_id(session, project_id, [external_id]).get(external_id)
        if task is None:
            raise NotFound("errors.gold.item_not_in_project", item=external_id, project=project_id)
        _store(session, actor, context, task, keys, row, now)
        gold = session.scalar(
            select(GoldAnswer).where(
                GoldAnswer.project_id == project_id, GoldAnswer.item_id == task.item_id
            )
        )
        if gold is None:  # pragma: no cover - just stored in this transaction
            raise NotFound("errors.gold.item_not_in_project", item=external_id, project=project_id)
        return gold


def read_gold_file(path: Path) -> list[GoldRow]:
    """Read a gold file (``.csv`` with a header, or ``.jsonl``) without validating labels.

    Raises:
        InvalidInput: Unreadable file, not UTF-8, unknown format, bad JSON or a missing
            column (with file and line).
    """
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("errors.file.unreadable", file=file, reason=str(exc)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("errors.file.not_utf8", file=file) from exc
    suffix = path.suffix.lower()
    records: list[tuple[int, Mapping[str, Any]]] = []
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [f for f in GOLD_FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput("errors.gold.missing_column", file=file, line=1, field=missing[0])
        for record in reader:
            records.append((reader.line_num, dict(record)))
    elif suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError as exc:
                message_id, params = json_syntax_message(exc)
                raise InvalidInput(message_id, file=file, line=number, **params) from exc
            if not isinstance(parsed, dict):
                raise InvalidInput("errors.gold.not_object", file=file, line=number)
            records.append((number, parsed))
    else:
        raise InvalidInput("errors.gold.format", file=file, value=suffix or path.name)
    rows = []
    for number, fields in records:
        label = fields.get("label")
        if isinstance(label, list):
            keys = tuple(str(key).strip() for key in label)
        else:
            keys = tuple(key.strip() for key in str(label or "").split("|") if key.strip())
        rows.append(
            GoldRow(
                external_id=str(fields.get("external_id") or "").strip(),
                value=keys,
                explanation_en=str(fields.get("explanation_en") or ""),
                explanation_zh=str(fields.get("explanation_zh") or ""),
                line=number,
            )
        )
    if not rows:
        raise InvalidInput("errors.gold.no_rows", file=file)
    return rows


def import_gold_file(
    session: Session,
    actor: Actor,
    project_id: int,
    path: Path,
    *,
    now: datetime | None = None,
) -> GoldImportReport:
    """Import a gold file into a project: every row lands, or none does.

    Raises:
        InvalidRows: Rows with an unknown item, a label outside the taxonomy, a missing
            explanation or a repeated item (each with its line and field); nothing stored.
        InvalidInput: The file cannot be read.
    """
    authorize(actor, "gold.manage")
    get_project(session, actor, project_id)
    rows = read_gold_file(path)
    return import_gold_rows(session, actor, project_id, rows, file=str(path), now=now)


def import_gold_rows(
    session: Session,
    actor: Actor,
    project_id: int,
    rows: Sequence[GoldRow],
    *,
    file: str | None = None,
    now: datetime | None = None,
) -> GoldImportReport:
    """Store many gold answers at once (all or nothing); see :func:`import_gold_file`."""
    authorize(actor, "gold.manage")
    get_project(session, actor, project_id)
    if not rows:
        raise InvalidInput("errors.gold.no_rows", file=file)
    now = now or utcnow()
    with transaction(session):
        context = load_project_context(session, project_id)
        tasks = _tasks_by_external_id(session, project_id, (r.external_id for r in rows))
        problems: list[RowProblem] = []
        checked: list[tuple[GoldRow, Task, list[str]]] = []
        seen: set[str] = set()
        for index, row in enumerate(rows, start=1):
            line = row.line if row.line is not None else index
            if row.external_id in seen:
                problems.append(
                    RowProblem(
                        line, "external_id", "errors.gold.duplicate", {"item": row.external_id}
                    )
                )
                continue
            seen.add(row.external_id)
            task = tasks.get(row.external_id)
            if task is None:
                problems.append(
                    RowProblem(
                        line,
                        "external_id",
                        "errors.gold.item_not_in_project",
                        {"item": row.external_id, "project": project_id},
                    )
                )
                continue
            try:
                keys = validate_label_value(
                    list(row.value), context.label_keys, context.taxonomy.mode
                )
            except InvalidInput as exc:
                params = {
                    key: value
                    for key, value in exc.params.items()
                    if key not in ("file", "line", "field")
                }
                problems.append(RowProblem(line, "label", exc.message_id, params))
                continue
            bad = _check_explanations(row)
            if bad:
                field, message_id = bad[0]
                problems.append(RowProblem(line, field, message_id, {"max": MAX_EXPLANATION}))
                continue
            checked.append((row, task, keys))
        if problems:
            raise InvalidRows(file, problems)
        created = sum(
            _store(session, actor, context, task, keys, row, now) for row, task, keys in checked
        )
    return GoldImportReport(n_rows=len(rows), n_created=created, n_updated=len(rows) - created)


def list_gold(session: Session, actor: Actor, project_id: int) -> list[tuple[str, GoldAnswer]]:
    """A project's gold answers with their items' external ids (in-house roles only).

    Raises:
        PermissionDenied: Vendor roles (gold stays unseen).
    """
    authorize(actor, "gold.manage")
    get_project(session, actor, project_id)
    rows = session.execute(
        select(Item.external_id, GoldAnswer)
        .join(GoldAnswer, GoldAnswer.item_id == Item.id)
        .where(GoldAnswer.project_id == project_id)
        .order_by(GoldAnswer.id)
    )
    return [(external_id, gold) for external_id, gold in rows]


def compute_gold_accuracy(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    labeller_id: int | None = None,
    confidence: float = 0.95,
) -> list[GoldAccuracy]:
    """Every labeller's live accuracy on the project's gold items, with a Wilson interval.

    Computed from current labels on gold tasks against the gold answers (a revision
    counts, the superseded label does not). Vendor managers see their vendor's labellers.

    Args:
        labeller_id: Only this labeller.
        confidence: Two-sided level of the interval, in (0, 1).

    Returns:
        One entry per labeller with at least one gold answer, by labeller id.

    Raises:
        NotFound: Unknown project, or not the actor's vendor's.
    """
    from labelops.quality.intervals import wilson_interval

    authorize(actor, "quality.read")
    get_project(session, actor, project_id)
    query = (
        select(Label.labeller_id, Label.vendor_id, User.username, Label.value, GoldAnswer.value)
        .join(Task, Task.id == Label.task_id)
        .join(
            GoldAnswer,
            (GoldAnswer.item_id == Task.item_id) & (GoldAnswer.project_id == Task.project_id),
        )
        .join(User, User.id == Label.labeller_id)
        .where(Label.project_id == project_id, Label.is_current.is_(True), Task.is_gold.is_(True))
        .order_by(Label.labeller_id)
    )
    if labeller_id is not None:
        query = query.where(Label.labeller_id == labeller_id)
    # The typed multi-column Select does not match the helper's bound; the cast only
    # satisfies the type checker, the scoping is the same one every query gets.
    query = scope_to_vendor(cast("Select[Any]", query), actor, Label.vendor_id)
    counts: dict[int, list[Any]] = {}
    found: list[tuple[int, int, str, list[str], list[str]]] = [
        (row[0], row[1], row[2], row[3], row[4]) for row in session.execute(query)
    ]
    for who, vendor_id, username, answer, truth in found:
        entry = counts.setdefault(who, [username, vendor_id, 0, 0])
        entry[2] += 1
        entry[3] += int(sorted(answer) == sorted(truth))
    result = []
    for who, (username, vendor_id, n, correct) in sorted(counts.items()):
        interval = wilson_interval(correct, n, confidence=confidence)
        result.append(
            GoldAccuracy(
                labeller_id=who,
                username=username,
                vendor_id=vendor_id,
                n_answers=n,
                n_correct=correct,
                accuracy_rate=correct / n,
                ci_low=interval.low,
                ci_high=interval.high,
                confidence=confidence,
            )
        )
    return result

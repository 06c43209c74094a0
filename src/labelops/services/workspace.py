"""Read services for the web workspace: what the pages show that no other service gives.

Each function authorises first and scopes vendor-visible data to the actor's vendor,
like the other services. Nothing here writes, so there is no transaction to own; the
shells end the read transaction themselves.

When to use what:

- ``list_labeller_projects`` / ``count_labels_today`` / ``get_assignment_card`` /
  ``get_assignment_media`` / ``get_project_guide``: the labeller's queue page.
- ``list_import_batches`` / ``get_import_batch``: the admin's import reports.
- ``get_vendor_overview``: a vendor manager's (or in-house user's) view of one vendor.
- ``get_project_quality``: progress per day and agreement statistics of a project.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput, NotFound
from labelops.media import MediaInfo, missing_media, open_media, probe_open_media
from labelops.services.policy import Actor, authorize, require_vendor_in, scope_to_vendor
from labelops.services.projects import get_project, list_projects, project_vendor_ids
from labelops.services.queue import item_payload
from labelops.services.taxonomies import list_taxonomy_labels
from labelops.store.models import (
    Assignment,
    GoldAnswer,
    ImportBatch,
    Item,
    Label,
    Project,
    Task,
    TaxonomyLabel,
    User,
)
from labelops.text import Span, find_spans
from labelops.types import AssignmentStatus, Role

if TYPE_CHECKING:
    from labelops.quality.agreement import AgreementResult

__all__ = [
    "AgreementSummary",
    "AssignmentCard",
    "DayCount",
    "LabellerProject",
    "LabellerStats",
    "MediaEntry",
    "ProjectQuality",
    "VendorOverview",
    "count_labels_today",
    "get_assignment_card",
    "get_assignment_media",
    "get_import_batch",
    "get_project_guide",
    "get_project_quality",
    "get_vendor_overview",
    "highlight_parts",
    "list_import_batches",
    "list_labeller_projects",
]

AGREEMENT_METRICS = ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1")
MAX_AGREEMENT_LABELS = 200_000
HANDLE_TIME_DAYS = 30


@dataclass(frozen=True)
class LabellerProject:
    """A project a labeller may work on."""

    project_id: int
    name: str
    n_open_tasks: int
    """Tasks still wanting labels (any labeller)."""
    n_my_labels: int
    """The labeller's current labels in the project."""


@dataclass(frozen=True)
class MediaEntry:
    """One media file of an item, probed on disk."""

    index: int
    """Position in the item's media list (addresses the file in URLs)."""
    kind: str
    """``image``, ``audio``, ``video`` (declared by the item)."""
    path: str
    """The path as imported."""
    info: MediaInfo
    """What is on disk (``info.exists`` False: show a placeholder)."""


@dataclass(frozen=True)
class AssignmentCard:
    """Everything the queue page paints for one leased (or submitted) assignment."""

    assignment_id: int
    project_id: int
    status: str
    item: dict[str, Any]
    """The labeller's view of the item (never whether it is gold)."""
    text_parts: tuple[tuple[str, str | None], ...]
    """The text cut at highlight spans: ``(text, kind or None)`` in order."""
    media: tuple[MediaEntry, ...]
    current_label: tuple[str, ...] | None


@dataclass(frozen=True)
class DayCount:
    """Labels submitted on one day (workspace time zone)."""

    day: str
    """ISO date."""
    n_labels: int


@dataclass(frozen=True)
class LabellerStats:
    """One labeller's work, as their vendor manager sees it."""

    user_id: int
    username: str
    n_labels: int
    n_labels_today: int
    n_skipped: int
    n_gold_answered: int
    n_gold_correct: int
    median_active_s: float | None
    """Median active time per label over the last ``HANDLE_TIME_DAYS`` days (s)."""


@dataclass(frozen=True)
class VendorOverview:
    """A vendor's labellers and projects."""

    vendor_id: int
    labellers: tuple[LabellerStats, ...]
    projects: tuple[tuple[int, str, int], ...]
    """``(project_id, name, n_labels_of_this_vendor)``."""


@dataclass(frozen=True)
class AgreementSummary:
    """One agreement statistic (from ``labelops.quality``), ready to show."""

    metric: str
    value: float
    ci_low: float | None
    ci_high: float | None
    n_items: int
    n_labellers: int


@dataclass(frozen=True)
class ProjectQuality:
    """Progress per day and agreement statistics of a project."""

    project_id: int
    days: tuple[DayCount, ...]
    agreement: tuple[AgreementSummary, ...]
    per_label: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    """One-vs-rest Krippendorff's alpha per label key."""
    n_labels_used: int = 0


def list_labeller_projects(session: Session, actor: Actor) -> list[LabellerProject]:
    """Projects the labeller's vendor works on, with open tasks and their own labels."""
    authorize(actor, "queue.work")
    result = []
    for project in list_projects(session, actor):
        if project.archived_at is not None:
            continue
        n_open = session.scalar(
            select(func.count(Task.id)).where(
                Task.project_id == project.id,
                Task.status == "open",
                Task.is_gold.is_(False),
            )
        )
        n_mine = session.scalar(
            select(func.count(Label.id)).where(
                Label.project_id == project.id,
                Label.labeller_id == actor.user_id,
                Label.is_current.is_(True),
            )
        )
        result.append(LabellerProject(project.id, project.name, int(n_open or 0), int(n_mine or 0)))
    return result


def count_labels_today(session: Session, actor: Actor, *, since: datetime) -> int:
    """Items the labeller answered since ``since`` (first answers; revisions not counted)."""
    authorize(actor, "queue.work")
    return int(
        session.scalar(
            select(func.count(Label.id)).where(
                Label.labeller_id == actor.user_id,
                Label.revision == 1,
                Label.submitted_at >= since,
            )
        )
        or 0
    )


def _own_assignment(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    authorize(actor, "queue.work")
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.labeller_id != actor.user_id:
        raise NotFound("errors.assignment.not_found", assignment=assignment_id)
    return assignment


def highlight_parts(text: str | None) -> tuple[tuple[str, str | None], ...]:
    """Cut ``text`` at its highlight spans (``find_spans``): ``(text, kind or None)`` parts."""
    if not text:
        return ()
    parts: list[tuple[str, str | None]] = []
    position = 0
    spans: list[Span] = find_spans(text)
    for span in spans:
        if span.start < position:
            continue  # overlapping spans: the earlier one wins
        if span.start > position:
            parts.append((text[position : span.start], None))
        parts.append((text[span.start : span.end], span.kind))
        position = span.end
    if position < len(text):
        parts.append((text[position:], None))
    return tuple(parts)


def _media_list(item: Item) -> list[tuple[str, str]]:
    """``(kind, path)`` of each media entry of the item, as stored."""
    entries = []
    for entry in item.media or []:
        kind = str(entry.get("kind", "unknown")) if isinstance(entry, dict) else "unknown"
        raw = str(entry.get("path", "")) if isinstance(entry, dict) else str(entry)
        entries.append((kind, raw))
    return entries


def _probe(raw: str, media_root: Path) -> MediaInfo:
    """What the card shows of one path: a file outside the root looks missing."""
    opened = open_media(raw, media_root)
    if opened is None:
        return missing_media(raw)
    handle, status = opened
    with handle:
        return probe_open_media(handle, raw, status.st_size)


def _media_entries(item: Item, media_root: Path) -> tuple[MediaEntry, ...]:
    return tuple(
        MediaEntry(index, kind, raw, _probe(raw, media_root))
        for index, (kind, raw) in enumerate(_media_list(item))
    )


def get_assignment_card(
    session: Session, actor: Actor, assignment_id: int, *, media_root: Path
) -> AssignmentCard:
    """The item of one of the labeller's own assignments, cut at highlights, media probed.

    Args:
        media_root: The media root: the only folder media paths are resolved in; a path
            leading outside it is shown as missing (nothing tells whether it exists).

    Raises:
        NotFound: No such assignment, or it is someone else's.
    """
    assignment = _own_assignment(session, actor, assignment_id)
    item = session.execute(
        select(Item).join(Task, Task.item_id == Item.id).where(Task.id == assignment.task_id)
    ).scalar_one()
    current = session.scalar(
        select(Label.value).where(
            and_(Label.assignment_id == assignment.id, Label.is_current.is_(True))
        )
    )
    return AssignmentCard(
        assignment_id=assignment.id,
        project_id=assignment.project_id,
        status=assignment.status,
        item=item_payload(item),
        text_parts=highlight_parts(item.text),
        media=_media_entries(item, media_root),
        current_label=tuple(current) if current else None,
    )


def get_assignment_media(
    session: Session, actor: Actor, assignment_id: int, index: int, *, media_root: Path
) -> tuple[BinaryIO, os.stat_result, MediaInfo]:
    """The file behind one media entry of one of the labeller's assignments, opened.

    The path is resolved inside ``media_root`` only (:func:`labelops.media.open_media`),
    again at every call: a path outside it, a symbolic link leading out of it, or anything
    but a regular file is answered like a missing file.

    Returns:
        The open file (the caller serves it and closes it), its status and what it is.

    Raises:
        NotFound: Not the actor's assignment, no such entry, or no such file in the root.
    """
    assignment = _own_assignment(session, actor, assignment_id)
    if assignment.status == AssignmentStatus.EXPIRED.value:
        raise NotFound("errors.assignment.not_found", assignment=assignment_id)
    item = session.execute(
        select(Item).join(Task, Task.item_id == Item.id).where(Task.id == assignment.task_id)
    ).scalar_one()
    entries = _media_list(item)
    opened = open_media(entries[index][1], media_root) if 0 <= index < len(entries) else None
    if opened is None:
        raise NotFound("errors.not_found.generic")
    handle, status = opened
    try:
        info = probe_open_media(handle, entries[index][1], status.st_size)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle, status, info


def get_project_guide(session: Session, actor: Actor, project_id: int) -> list[TaxonomyLabel]:
    """The labels of a project's taxonomy version (names, definitions, examples).

    Raises:
        NotFound: No such project, or the actor's vendor is not assigned to it.
    """
    authorize(actor, "taxonomy.read")
    project = get_project(session, actor, project_id)
    return list_taxonomy_labels(session, project.taxonomy_id)


def list_import_batches(
    session: Session, actor: Actor, *, project_id: int | None = None, limit: int = 200
) -> list[ImportBatch]:
    """Newest imports first (admins: whoever may import)."""
    authorize(actor, "item.import")
    query = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(min(limit, 1000))
    if project_id is not None:
        query = query.where(ImportBatch.project_id == project_id)
    return list(session.scalars(query))


def get_import_batch(session: Session, actor: Actor, import_id: int) -> ImportBatch:
    """One import with its report.

    Raises:
        NotFound: No such import.
    """
    authorize(actor, "item.import")
    batch = session.get(ImportBatch, import_id)
    if batch is None:
        raise NotFound("errors.not_found.generic")
    return batch


def get_vendor_overview(
    session: Session, actor: Actor, vendor_id: int, *, today_since: datetime
) -> VendorOverview:
    """A vendor's labellers with their counts, and the vendor's projects.

    Args:
        today_since: Start of "today" (workspace time zone), for the daily counts.

    Raises:
        NotFound: A vendor-scoped actor asked about another vendor.
    """
    authorize(actor, "label.read", vendor_id=vendor_id)
    labellers = session.scalars(
        select(User)
        .where(User.vendor_id == vendor_id, User.role == Role.LABELLER.value)
        .where(User.deleted_at.is_(None))
        .order_by(User.username)
    ).all()
    # ``authorize`` above made ``vendor_id`` the actor's own for vendor roles, so
    # filtering on it is the vendor scope.
    label_rows = session.execute(
        select(
            Label.labeller_id,
            func.count(Label.id),
            func.count(Label.id).filter(Label.submitted_at >= today_since),
        )
        .where(Label.vendor_id == vendor_id, Label.is_current.is_(True))
        .group_by(Label.labeller_id)
    ).all()
    counts = {row[0]: (int(row[1]), int(row[2])) for row in label_rows}
    skip_rows = session.execute(
        select(Assignment.labeller_id, func.count(Assignment.id))
        .where(Assignment.vendor_id == vendor_id, Assignment.status == "skipped")
        .group_by(Assignment.labeller_id)
    ).all()
    skips = {row[0]: int(row[1]) for row in skip_rows}
    gold_rows = session.execute(
        select(Label.labeller_id, Label.value, GoldAnswer.value)
        .join(Task, Task.id == Label.task_id)
        .join(
            GoldAnswer,
            and_(GoldAnswer.project_id == Task.project_id, GoldAnswer.item_id == Task.item_id),
        )
        .where(Label.vendor_id == vendor_id, Label.is_current.is_(True), Task.is_gold.is_(True))
    ).all()
    gold: dict[int, list[int]] = {}
    for labeller_id, value, truth in gold_rows:
        answered = gold.setdefault(labeller_id, [0, 0])
        answered[0] += 1
        answered[1] += int(sorted(value) == sorted(truth))
    # Handle time over the last HANDLE_TIME_DAYS only: recent work is what a manager
    # acts on, and it bounds the rows read for a vendor with years of labels.
    active_rows = session.execute(
        select(Label.labeller_id, Label.active_ms).where(
            Label.vendor_id == vendor_id,
            Label.is_current.is_(True),
            Label.active_ms.is_not(None),
            Label.submitted_at >= today_since - timedelta(days=HANDLE_TIME_DAYS),
        )
    ).all()
    active: dict[int, list[int]] = {}
    for labeller_id, active_ms in active_rows:
        active.setdefault(labeller_id, []).append(int(active_ms or 0))
    stats = []
    for user in labellers:
        total, today = counts.get(user.id, (0, 0))
        gold_answered, gold_correct = gold.get(user.id, [0, 0])
        times = sorted(active.get(user.id, []))
        median = times[len(times) // 2] / 1000 if times else None
        stats.append(
            LabellerStats(
                user.id,
                user.username,
                total,
                today,
                skips.get(user.id, 0),
                gold_answered,
                gold_correct,
                median,
            )
        )
    project_rows = []
    for project in list_projects(session, actor):
        if vendor_id not in project_vendor_ids(session, project.id):
            continue
        n = session.scalar(
            select(func.count(Label.id)).where(
                Label.project_id == project.id,
                Label.vendor_id == vendor_id,
                Label.is_current.is_(True),
            )
        )
        project_rows.append((project.id, project.name, int(n or 0)))
    return VendorOverview(vendor_id, tuple(stats), tuple(project_rows))


def get_project_quality(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    since: datetime,
    day_offset: timedelta,
    n_days: int = 14,
    n_resamples: int = 200,
) -> ProjectQuality:
    """Labels per day and inter-labeller agreement (Krippendorff's alpha, Fleiss' kappa,
    Gwet's AC1, each with a bootstrap interval) of a project's non-gold items.

    Vendor-scoped actors see their own vendor's labels only.

    Args:
        since: First day of the progress series (its midnight, as an aware datetime).
        day_offset: Offset of the workspace time zone from UTC (days are cut there).
        n_days: Days in the progress series.
        n_resamples: Bootstrap replicates for the intervals.

    Raises:
        NotFound: No such project, or not the actor's vendor's.
        InvalidInput: ``n_days`` out of 1..366.
    """
    import pandas as pd

    from labelops.quality.agreement import compute_agreement

    authorize(actor, "quality.read")
    if not 1 <= n_days <= 366:
        raise InvalidInput("errors.request.invalid", field="n_days", value=n_days, count=1)
    project: Project = get_project(session, actor, project_id)
    require_vendor_in(actor, project_vendor_ids(session, project_id))
    times = session.scalars(
        scope_to_vendor(
            select(Label.submitted_at).where(
                Label.project_id == project.id, Label.revision == 1, Label.submitted_at >= since
            ),
            actor,
            Label.vendor_id,
        )
    ).all()
    per_day: dict[str, int] = {}
    for stamp in times:
        key = (stamp + day_offset).date().isoformat()
        per_day[key] = per_day.get(key, 0) + 1
    start = (since + day_offset).date()
    days = tuple(
        DayCount(
            (start + timedelta(days=i)).isoformat(),
            per_day.get((start + timedelta(days=i)).isoformat(), 0),
        )
        for i in range(n_days)
    )
    answers = (
        select(Label.task_id, Label.labeller_id, Label.value)
        .join(Task, Task.id == Label.task_id)
        .where(
            Label.project_id == project.id,
            Label.is_current.is_(True),
            Task.is_gold.is_(False),
        )
        .limit(MAX_AGREEMENT_LABELS)
    )
    if actor.is_vendor_scoped:
        answers = answers.where(Label.vendor_id == actor.vendor_id)
    rows = session.execute(answers).all()
    frame = pd.DataFrame(
        {
            "item_id": [row[0] for row in rows],
            "labeller_id": [row[1] for row in rows],
            "label": ["+".join(row[2]) for row in rows],
        }
    )
    summaries: list[AgreementSummary] = []
    per_label: tuple[tuple[str, float], ...] = ()
    n_pairable = (
        int((frame.groupby("item_id")["labeller_id"].transform("size") >= 2).sum())
        if len(frame)
        else 0
    )
    if n_pairable >= 2 and frame["label"].nunique() >= 2:
        for metric in AGREEMENT_METRICS:
            result: AgreementResult = compute_agreement(
                frame,
                metric=metric,  # type: ignore[arg-type]
                per_class=metric == "krippendorff_alpha",
                n_resamples=n_resamples,
                duplicates="last",
            )
            summaries.append(
                AgreementSummary(
                    metric,
                    float(result.value),
                    result.ci_low,
                    result.ci_high,
                    result.n_items,
                    result.n_labellers,
                )
            )
            if metric == "krippendorff_alpha":
                per_label = tuple((str(c.label), float(c.value)) for c in result.per_class)
    return ProjectQuality(project.id, days, tuple(summaries), per_label, len(frame))

"""Projects: labelling work on items under one taxonomy version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.policy import Actor, authorize, require_vendor_in
from labelops.store.models import FinalLabel, Label, Project, ProjectVendor, Task, Taxonomy, Vendor

__all__ = [
    "ProjectContext",
    "ProjectProgress",
    "create_project",
    "get_project",
    "get_project_by_name",
    "get_project_progress",
    "list_projects",
    "load_project_context",
    "project_vendor_ids",
    "update_project",
]

MAX_OVERLAP = 50


@dataclass(frozen=True)
class ProjectContext:
    """What the queue and labelling services need to know about a project."""

    project: Project
    taxonomy: Taxonomy
    label_keys: tuple[str, ...]
    vendor_ids: frozenset[int]


@dataclass(frozen=True)
class ProjectProgress:
    """Counts of a project's work."""

    n_tasks: int
    n_gold_tasks: int
    n_complete: int
    n_labels: int
    n_final: int
    n_needs_adjudication: int


def _validate_settings(overlap: int, gold_rate: float, sla_hours: float | None) -> None:
    if overlap < 1 or overlap > MAX_OVERLAP:
        raise InvalidInput(
            "errors.project.bad_overlap", field="overlap", value=overlap, max=MAX_OVERLAP
        )
    if not 0.0 <= gold_rate <= 0.5:
        raise InvalidInput("errors.project.bad_gold_rate", field="gold_rate", value=gold_rate)
    if sla_hours is not None and sla_hours <= 0:
        raise InvalidInput("errors.project.bad_sla", field="sla_hours", value=sla_hours)


def create_project(
    session: Session,
    actor: Actor,
    name: str,
    *,
    taxonomy_id: int,
    overlap: int,
    gold_rate: float = 0.0,
    vendor_ids: Sequence[int] = (),
    sla_hours: float | None = None,
    lease_seconds: int | None = None,
) -> Project:
    """Create a project.

    Args:
        overlap: Labels wanted per item (1..50).
        gold_rate: Share of served tasks that are gold items (0..0.5).
        vendor_ids: Vendors whose labellers work on it.
        sla_hours: Hours within which an item should be final.
        lease_seconds: Lease length for this project (default: settings).

    Raises:
        InvalidInput: A setting out of range.
        NotFound: Unknown taxonomy or vendor.
        Conflict: The name is taken.
    """
    authorize(actor, "project.manage")
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("errors.name.invalid", field="name", value=name)
    _validate_settings(overlap, gold_rate, sla_hours)
    with transaction(session):
        if session.get(Taxonomy, taxonomy_id) is None:
            raise NotFound("errors.taxonomy.not_found", taxonomy=taxonomy_id)
        for vendor_id in vendor_ids:
            if session.get(Vendor, vendor_id) is None:
                raise NotFound("errors.vendor.not_found", vendor=vendor_id)
        if session.scalar(select(Project.id).where(Project.name == name)) is not None:
            raise Conflict("errors.project.exists", name=name)
        project = Project(
            name=name,
            taxonomy_id=taxonomy_id,
            overlap=overlap,
            gold_rate=gold_rate,
            sla_hours=sla_hours,
            lease_seconds=lease_seconds,
        )
        session.add(project)
        session.flush()
        for vendor_id in sorted(set(vendor_ids)):
            session.add(ProjectVendor(project_id=project.id, vendor_id=vendor_id))
        record_event(
            session,
            actor,
            "project.create",
            "project",
            project.id,
            after={
                "name": name,
                "taxonomy_id": taxonomy_id,
                "overlap": overlap,
                "gold_rate": gold_rate,
                "vendor_ids": sorted(set(vendor_ids)),
                "sla_hours": sla_hours,
            },
        )
    return project


def update_project(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    overlap: int | None = None,
    gold_rate: float | None = None,
    sla_hours: float | None = None,
    vendor_ids: Sequence[int] | None = None,
) -> Project:
    """Change a project's settings (the taxonomy version never changes)."""
    authorize(actor, "project.manage")
    with transaction(session):
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound("errors.project.not_found", project=project_id)
        before = {
            "overlap": project.overlap,
            "gold_rate": project.gold_rate,
            "sla_hours": project.sla_hours,
            "vendor_ids": sorted(project_vendor_ids(session, project_id)),
        }
        new_overlap = project.overlap if overlap is None else overlap
        new_gold = project.gold_rate if gold_rate is None else gold_rate
        new_sla = project.sla_hours if sla_hours is None else sla_hours
        _validate_settings(new_overlap, new_gold, new_sla)
        project.overlap, project.gold_rate, project.sla_hours = new_overlap, new_gold, new_sla
        if vendor_ids is not None:
            for vendor_id in vendor_ids:
                if session.get(Vendor, vendor_id) is None:
                    raise NotFound("errors.vendor.not_found", vendor=vendor_id)
            session.query(ProjectVendor).filter(ProjectVendor.project_id == project_id).delete()
            for vendor_id in sorted(set(vendor_ids)):
                session.add(ProjectVendor(project_id=project_id, vendor_id=vendor_id))
        if overlap is not None:
            # Tasks re-open or complete according to the new overlap.
            session.execute(
                update(Task)
                .where(Task.project_id == project_id, Task.is_gold.is_(False))
                .values(status=_status_case(new_overlap))
            )
        after = {
            "overlap": new_overlap,
            "gold_rate": new_gold,
            "sla_hours": new_sla,
            "vendor_ids": sorted(project_vendor_ids(session, project_id)),
        }
        record_event(
            session, actor, "project.update", "project", project_id, before=before, after=after
        )
    return project


def _status_case(overlap: int) -> object:
    from sqlalchemy import case

    return case((Task.n_labels >= overlap, "complete"), else_="open")


def project_vendor_ids(session: Session, project_id: int) -> set[int]:
    """Vendors assigned to a project."""
    return set(
        session.scalars(
            select(ProjectVendor.vendor_id).where(ProjectVendor.project_id == project_id)
        )
    )


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    """A project the actor may see.

    Raises:
        NotFound: No such project, or the actor's vendor is not assigned to it.
    """
    authorize(actor, "project.read")
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("errors.project.not_found", project=project_id)
    require_vendor_in(actor, project_vendor_ids(session, project_id))
    return project


def get_project_by_name(session: Session, actor: Actor, name: str) -> Project:
    """A project by name (the CLI addresses projects by name)."""
    project_id = session.scalar(select(Project.id).where(Project.name == name))
    if project_id is None:
        raise NotFound("errors.project.not_found", project=name)
    return get_project(session, actor, project_id)


def list_projects(session: Session, actor: Actor) -> list[Project]:
    """Projects the actor may see (vendor roles: projects their vendor works on)."""
    authorize(actor, "project.read")
    query = select(Project).order_by(Project.id)
    if actor.is_vendor_scoped:
        query = query.join(ProjectVendor, ProjectVendor.project_id == Project.id).where(
            ProjectVendor.vendor_id == actor.vendor_id
        )
    return list(session.scalars(query))


def load_project_context(session: Session, project_id: int) -> ProjectContext:
    """Project, taxonomy, allowed keys and vendors in one go (no authorisation)."""
    from labelops.services.taxonomies import label_keys

    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("errors.project.not_found", project=project_id)
    taxonomy = session.get(Taxonomy, project.taxonomy_id)
    if taxonomy is None:
        raise NotFound("errors.taxonomy.not_found", taxonomy=project.taxonomy_id)
    return ProjectContext(
        project=project,
        taxonomy=taxonomy,
        label_keys=tuple(label_keys(session, taxonomy.id)),
        vendor_ids=frozenset(project_vendor_ids(session, project_id)),
    )


def get_project_progress(session: Session, actor: Actor, project_id: int) -> ProjectProgress:
    """Task, label and final-label counts of a project.

    Vendor roles see only their own work: tasks counted without gold (whose existence
    stays hidden), and completion, labels and final labels only on tasks their
    vendor labelled.
    """
    get_project(session, actor, project_id)
    task_filter = [Task.project_id == project_id]
    if actor.is_vendor_scoped:
        task_filter.append(Task.is_gold.is_(False))
    n_tasks, n_gold = session.execute(
        select(
            func.count(Task.id),
            func.coalesce(func.sum(func.cast(Task.is_gold, type_=Task.priority.type)), 0),
        ).where(*task_filter)
    ).one()
    own_work = (
        select(Label.task_id)
        .where(Label.project_id == project_id, Label.vendor_id == actor.vendor_id)
        .scalar_subquery()
    )
    complete_query = select(func.count(Task.id)).where(*task_filter, Task.status == "complete")
    label_query = select(func.count(Label.id)).where(
        Label.project_id == project_id, Label.is_current.is_(True)
    )
    final_query = select(
        func.count(FinalLabel.id).filter(FinalLabel.status != "needs_adjudication"),
        func.count(FinalLabel.id).filter(FinalLabel.status == "needs_adjudication"),
    ).where(FinalLabel.project_id == project_id, FinalLabel.snapshot_id.is_(None))
    if actor.is_vendor_scoped:
        complete_query = complete_query.where(Task.id.in_(own_work))
        label_query = label_query.where(Label.vendor_id == actor.vendor_id)
        final_query = final_query.where(FinalLabel.task_id.in_(own_work))
    n_complete = session.scalar(complete_query) or 0
    n_labels = session.scalar(label_query) or 0
    n_final, n_adjudicate = session.execute(final_query).one()
    return ProjectProgress(
        int(n_tasks), int(n_gold), int(n_complete), int(n_labels), int(n_final), int(n_adjudicate)
    )

"""Versioned taxonomies: parse a YAML/JSON file, validate, store; versions are immutable."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.json_errors import json_syntax_message
from labelops.services.policy import Actor, authorize
from labelops.store.models import Project, Taxonomy, TaxonomyLabel
from labelops.types import LabelMode

__all__ = [
    "TaxonomySpec",
    "create_taxonomy",
    "get_taxonomy",
    "get_taxonomy_by_ref",
    "label_keys",
    "list_taxonomies",
    "list_taxonomy_labels",
    "parse_taxonomy",
    "read_taxonomy_file",
]

_LANGS = ("en", "zh-Hant")


@dataclass(frozen=True)
class TaxonomySpec:
    """A validated taxonomy file."""

    key: str
    version: int
    mode: LabelMode
    name: Mapping[str, str]
    labels: tuple[Mapping[str, Any], ...]
    source: Mapping[str, Any]


def read_taxonomy_file(path: Path, *, display: str | None = None) -> TaxonomySpec:
    """Read and validate a taxonomy YAML or JSON file.

    Args:
        display: The file's name in messages (an upload's own name, not the temporary
            copy's); default: ``path``.

    Raises:
        InvalidInput: Unreadable file, bad syntax (with line) or a bad field.
    """
    file = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("errors.file.unreadable", file=file, reason=str(exc)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput("errors.file.not_utf8", file=file, line=line) from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        message_id, params = json_syntax_message(exc)
        raise InvalidInput(message_id, file=file, line=exc.lineno, **params) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        mark_line: int | None = int(mark.line) + 1 if mark is not None else None
        mark_column: int | None = int(mark.column) + 1 if mark is not None else None
        reason = " ".join(
            str(part)
            for part in (getattr(exc, "context", None), getattr(exc, "problem", None))
            if part
        )
        raise InvalidInput(
            "errors.yaml.syntax" if mark_column is not None else "errors.yaml.invalid",
            file=file,
            line=mark_line,
            column=mark_column,
            reason=reason or str(exc),
        ) from exc
    return parse_taxonomy(data, file=file)


def parse_taxonomy(data: Any, *, file: str | None = None) -> TaxonomySpec:
    """Validate a taxonomy document (already parsed from YAML/JSON).

    Raises:
        InvalidInput: Naming the field that is wrong.
    """
    if not isinstance(data, dict):
        raise InvalidInput("errors.taxonomy.not_object", file=file)
    key = data.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("errors.taxonomy.field_required", file=file, field="key")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInput("errors.taxonomy.bad_version", file=file, field="version", value=version)
    mode_value = data.get("mode", "single")
    try:
        mode = LabelMode(mode_value)
    except ValueError as exc:
        raise InvalidInput(
            "errors.taxonomy.bad_mode", file=file, field="mode", value=mode_value
        ) from exc
    labels = data.get("labels")
    if not isinstance(labels, list) or not labels:
        raise InvalidInput("errors.taxonomy.no_labels", file=file, field="labels")
    seen: set[str] = set()
    cleaned: list[dict[str, Any]] = []
    for index, label in enumerate(labels):
        where = f"labels[{index}]"
        if not isinstance(label, dict):
            raise InvalidInput("errors.taxonomy.not_object", file=file, field=where)
        label_key = label.get("key")
        if not isinstance(label_key, str) or not label_key.strip() or len(label_key) > 100:
            raise InvalidInput("errors.taxonomy.field_required", file=file, field=f"{where}.key")
        if label_key in seen:
            raise InvalidInput(
                "errors.taxonomy.duplicate_label", file=file, field=f"{where}.key", value=label_key
            )
        seen.add(label_key)
        name = label.get("name")
        if not isinstance(name, dict):
            raise InvalidInput("errors.taxonomy.field_required", file=file, field=f"{where}.name")
        for lang in _LANGS:
            if not isinstance(name.get(lang), str) or not name[lang].strip():
                raise InvalidInput(
                    "errors.taxonomy.label_name_missing",
                    file=file,
                    field=f"{where}.name.{lang}",
                    label=label_key,
                    language=lang,
                )
        definition = label.get("definition") or {}
        if not isinstance(definition, dict):
            raise InvalidInput("errors.taxonomy.not_object", file=file, field=f"{where}.definition")
        for lang in _LANGS:
            if not isinstance(definition.get(lang, ""), str):
                raise InvalidInput(
                    "errors.taxonomy.label_definition_not_text",
                    file=file,
                    field=f"{where}.definition.{lang}",
                    label=label_key,
                    language=lang,
                )
        examples = label.get("examples") or []
        if not isinstance(examples, list):
            raise InvalidInput("errors.taxonomy.bad_examples", file=file, field=f"{where}.examples")
        cleaned.append(
            {
                "key": label_key,
                "name": {lang: name[lang] for lang in _LANGS},
                "definition": {lang: definition.get(lang, "") for lang in _LANGS},
                "examples": examples,
            }
        )
    raw_name = data.get("name")
    name_field: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    return TaxonomySpec(
        key=key.strip(),
        version=version,
        mode=mode,
        name={lang: str(name_field.get(lang, key)) for lang in _LANGS},
        labels=tuple(cleaned),
        source=data,
    )


def create_taxonomy(session: Session, actor: Actor, spec: TaxonomySpec) -> tuple[Taxonomy, bool]:
    """Store a taxonomy version. Returns ``(taxonomy, created)``.

    Adding the identical version again changes nothing (``created`` is False).

    Raises:
        Conflict: The version exists with different content (versions are immutable:
            publish a new version instead).
    """
    authorize(actor, "taxonomy.manage")
    with transaction(session):
        existing = session.scalar(
            select(Taxonomy).where(Taxonomy.key == spec.key, Taxonomy.version == spec.version)
        )
        if existing is not None:
            if _canonical(existing.source) == _canonical(dict(spec.source)):
                return existing, False
            raise Conflict("errors.taxonomy.version_exists", key=spec.key, version=spec.version)
        taxonomy = Taxonomy(
            key=spec.key,
            version=spec.version,
            mode=spec.mode.value,
            name_en=spec.name["en"],
            name_zh=spec.name["zh-Hant"],
            source=dict(spec.source),
        )
        session.add(taxonomy)
        session.flush()
        for position, label in enumerate(spec.labels):
            session.add(
                TaxonomyLabel(
                    taxonomy_id=taxonomy.id,
                    key=label["key"],
                    position=position,
                    name_en=label["name"]["en"],
                    name_zh=label["name"]["zh-Hant"],
                    definition_en=label["definition"]["en"],
                    definition_zh=label["definition"]["zh-Hant"],
                    examples=list(label["examples"]),
                )
            )
        record_event(
            session,
            actor,
            "taxonomy.create",
            "taxonomy",
            taxonomy.id,
            after={
                "key": spec.key,
                "version": spec.version,
                "labels": [label["key"] for label in spec.labels],
            },
        )
    return taxonomy, True


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


def get_taxonomy_by_ref(session: Session, reference: str) -> Taxonomy:
    """A taxonomy by ``KEY@VERSION`` (or ``KEY`` for the newest version).

    Raises:
        InvalidInput: The reference is malformed.
        NotFound: No such taxonomy version.
    """
    key, _, version_text = reference.partition("@")
    query = select(Taxonomy).where(Taxonomy.key == key)
    if version_text:
        if not version_text.isdigit():
            raise InvalidInput("errors.taxonomy.bad_ref", field="taxonomy", value=reference)
        query = query.where(Taxonomy.version == int(version_text))
    taxonomy = session.scalar(query.order_by(Taxonomy.version.desc()).limit(1))
    if taxonomy is None:
        raise NotFound("errors.taxonomy.not_found", taxonomy=reference)
    return taxonomy


def get_taxonomy(session: Session, actor: Actor, taxonomy_id: int) -> Taxonomy:
    """A taxonomy by id."""
    authorize(actor, "taxonomy.read")
    taxonomy = session.get(Taxonomy, taxonomy_id)
    if taxonomy is None:
        raise NotFound("errors.taxonomy.not_found", taxonomy=taxonomy_id)
    return taxonomy


def list_taxonomies(session: Session, actor: Actor) -> list[Taxonomy]:
    """Every taxonomy version, by key then version."""
    authorize(actor, "taxonomy.read")
    return list(session.scalars(select(Taxonomy).order_by(Taxonomy.key, Taxonomy.version)))


def list_taxonomy_labels(session: Session, taxonomy_id: int) -> list[TaxonomyLabel]:
    """A taxonomy version's labels in file order."""
    return list(
        session.scalars(
            select(TaxonomyLabel)
            .where(TaxonomyLabel.taxonomy_id == taxonomy_id)
            .order_by(TaxonomyLabel.position)
        )
    )


def label_keys(session: Session, taxonomy_id: int) -> list[str]:
    """The label keys of a taxonomy version, in file order."""
    return [label.key for label in list_taxonomy_labels(session, taxonomy_id)]


def is_in_use(session: Session, taxonomy_id: int) -> bool:
    """Whether a project uses this version (then it can never change)."""
    return (
        session.scalar(select(Project.id).where(Project.taxonomy_id == taxonomy_id).limit(1))
        is not None
    )

"""Taxonomy versions."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from labelops.api.deps import CurrentActor, SessionDep
from labelops.api.schemas.fields import Id, JsonObject
from labelops.api.schemas.projects import TaxonomyLabelPublic, TaxonomyPublic
from labelops.services import taxonomies
from labelops.store.models import Taxonomy

router = APIRouter(prefix="/api/taxonomies", tags=["taxonomies"])


def _public(session: SessionDep, taxonomy: Taxonomy) -> TaxonomyPublic:
    labels = [
        TaxonomyLabelPublic(
            key=label.key,
            name={"en": label.name_en, "zh-Hant": label.name_zh},
            definition={"en": label.definition_en, "zh-Hant": label.definition_zh},
            examples=list(label.examples),
        )
        for label in taxonomies.list_taxonomy_labels(session, taxonomy.id)
    ]
    return TaxonomyPublic(
        id=taxonomy.id,
        key=taxonomy.key,
        version=taxonomy.version,
        mode=taxonomy.mode,
        labels=labels,
    )


@router.get("")
def list_taxonomies(session: SessionDep, actor: CurrentActor) -> list[TaxonomyPublic]:
    """Every taxonomy version."""
    return [_public(session, t) for t in taxonomies.list_taxonomies(session, actor)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_taxonomy(
    body: JsonObject, session: SessionDep, actor: CurrentActor, response: Response
) -> TaxonomyPublic:
    """Add a taxonomy version (the taxonomy file's JSON); identical re-adds return 200."""
    spec = taxonomies.parse_taxonomy(body)
    taxonomy, created = taxonomies.create_taxonomy(session, actor, spec)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _public(session, taxonomy)


@router.get("/{taxonomy_id}")
def read_taxonomy(taxonomy_id: Id, session: SessionDep, actor: CurrentActor) -> TaxonomyPublic:
    """One taxonomy version with its labels."""
    return _public(session, taxonomies.get_taxonomy(session, actor, taxonomy_id))

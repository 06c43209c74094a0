"""Dependencies of the pages: the logged-in actor (or a redirect to the login page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from labelops.api.deps import SessionDep
from labelops.services.policy import Actor
from labelops.web.render import LoginRequired, WebRoute
from labelops.web.session import session_actor

__all__ = ["MaybeActor", "PageActor", "make_router", "safe_next"]


def _page_actor(request: Request, session: SessionDep) -> Actor:
    actor = session_actor(request, session)
    session.commit()  # end the lookup's read transaction before the services run
    if actor is None:
        raise LoginRequired()
    return actor


def _maybe_actor(request: Request, session: SessionDep) -> Actor | None:
    actor = session_actor(request, session)
    session.commit()
    return actor


PageActor = Annotated[Actor, Depends(_page_actor)]
"""The logged-in actor; anonymous visitors are redirected to the login page."""
MaybeActor = Annotated[Actor | None, Depends(_maybe_actor)]
"""The logged-in actor, or None."""


def make_router() -> APIRouter:
    """A router whose routes render errors as pages and check CSRF on unsafe methods."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to (never another site: ``//host`` and schemes are refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target

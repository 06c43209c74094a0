"""Access pages: a user's own sessions; the admins' security page (login locks) and
a user's access (tokens, disable/enable)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Id
from labelops.errors import PermissionDenied
from labelops.services import audit_trail, directory, login_throttle, sessions
from labelops.services.policy import Actor
from labelops.store.types import utcnow
from labelops.types import Role
from labelops.web.render import render_page
from labelops.web.routes._deps import PageActor, make_router
from labelops.web.session import read_session

__all__ = ["router"]

router = make_router()

_OK = frozenset(
    {
        "web.ok.session_ended",
        "web.ok.sessions_ended",
        "web.ok.unlocked",
        "web.ok.token_revoked",
        "web.ok.user_disabled",
        "web.ok.user_enabled",
    }
)


def _ok(request: Request) -> str | None:
    value = request.query_params.get("ok")
    return value if value in _OK else None


def _idle(request: Request) -> int:
    seconds: int = request.app.state.settings.session_idle_seconds
    return seconds


def _current_id(request: Request) -> int | None:
    current = read_session(request)
    return current.session_id if current is not None else None


# ----------------------------------------------------------------------------- own sessions


@router.get("/account/sessions")
def sessions_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """The user's live sessions (created, last seen, address, browser), this one marked."""
    rows = sessions.list_sessions(session, actor, idle_seconds=_idle(request))
    session.commit()
    return render_page(
        request,
        "account_sessions.html",
        actor,
        title_id="web.sessions.title",
        sessions=rows,
        current_id=_current_id(request),
        ok=_ok(request),
    )


@router.post("/account/sessions/others/end")
def sessions_end_others(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """End every session of the user but this one."""
    sessions.end_other_sessions(session, actor, _current_id(request) or 0)
    return RedirectResponse("/account/sessions?ok=web.ok.sessions_ended", status_code=303)


@router.post("/account/sessions/{session_id}/end")
def sessions_end_one(
    request: Request, session: SessionDep, actor: PageActor, session_id: Id
) -> Response:
    """End one of the user's sessions (this one too: that is a logout)."""
    sessions.end_session(session, actor, session_id, reason="ended")
    if session_id == _current_id(request):
        return RedirectResponse("/", status_code=303)
    return RedirectResponse("/account/sessions?ok=web.ok.session_ended", status_code=303)


# ----------------------------------------------------------------------------- security


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied("web.error.forbidden")


@router.get("/admin/security")
def security_page(request: Request, session: SessionDep, actor: PageActor) -> HTMLResponse:
    """Login locks now, and the recent lockouts of the audit trail (admin)."""
    locks = login_throttle.list_locks(session, actor)
    events = [
        event
        for kind in (login_throttle.ACCOUNT, login_throttle.ADDRESS)
        for event in audit_trail.list_events(session, actor, entity_type=kind, limit=50)
    ]
    events.sort(key=lambda event: event.id, reverse=True)
    session.commit()
    return render_page(
        request,
        "admin/security.html",
        actor,
        title_id="web.security.title",
        locks=locks,
        events=events[:50],
        now=utcnow(),
        ok=_ok(request),
    )


@router.post("/admin/security/unlock")
def security_unlock(
    session: SessionDep,
    actor: PageActor,
    kind: Annotated[str, Form(max_length=16)],
    key: Annotated[str, Form(max_length=200)],
) -> Response:
    """Clear the failures of an account name or address (admin)."""
    login_throttle.clear_lock(session, actor, kind, key)
    return RedirectResponse("/admin/security?ok=web.ok.unlocked", status_code=303)


# ----------------------------------------------------------------------------- user access


def _access_page(
    request: Request, session: SessionDep, actor: Actor, user_id: Id, *, token: str | None = None
) -> HTMLResponse:
    user = directory.get_user(session, actor, user_id)
    tokens = directory.list_tokens(session, actor, user_id)
    session.commit()
    return render_page(
        request,
        "admin/user_access.html",
        actor,
        title_id="web.access.title",
        user=user,
        tokens=tokens,
        token=token,
        now=utcnow(),
        default_days=request.app.state.settings.token_days,
        ok=_ok(request),
    )


@router.get("/admin/users/{user_id}/access")
def access_page(
    request: Request, session: SessionDep, actor: PageActor, user_id: Id
) -> HTMLResponse:
    """A user's tokens (prefix, expiry, last use) and their disable switch (admin)."""
    _require_admin(actor)
    return _access_page(request, session, actor, user_id)


@router.post("/admin/users/{user_id}/access/token")
def access_new_token(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    user_id: Id,
    name: Annotated[str, Form(max_length=100)] = "web",
    days: Annotated[str, Form(max_length=6)] = "",
) -> HTMLResponse:
    """Issue a token valid ``days`` (default: the setting), shown once."""
    expires_days = int(days) if days.strip().isdigit() else request.app.state.settings.token_days
    token = directory.create_token(
        session, actor, user_id, name=name.strip() or "web", expires_days=expires_days
    )
    return _access_page(request, session, actor, user_id, token=token)


@router.post("/admin/tokens/{token_id}/revoke")
def access_revoke_token(session: SessionDep, actor: PageActor, token_id: Id) -> Response:
    """Revoke one token."""
    token = directory.revoke_token(session, actor, token_id)
    return RedirectResponse(
        f"/admin/users/{token.user_id}/access?ok=web.ok.token_revoked", status_code=303
    )


@router.post("/admin/users/{user_id}/disable")
def access_disable(session: SessionDep, actor: PageActor, user_id: Id) -> Response:
    """Disable a user: their sessions end, their tokens stop working."""
    directory.disable_user(session, actor, user_id)
    return RedirectResponse(
        f"/admin/users/{user_id}/access?ok=web.ok.user_disabled", status_code=303
    )


@router.post("/admin/users/{user_id}/enable")
def access_enable(session: SessionDep, actor: PageActor, user_id: Id) -> Response:
    """Enable a disabled user again."""
    directory.enable_user(session, actor, user_id)
    return RedirectResponse(
        f"/admin/users/{user_id}/access?ok=web.ok.user_enabled", status_code=303
    )

"""Login, logout, the language switch and the home redirect."""

from __future__ import annotations

import secrets
import time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Text
from labelops.errors import AuthenticationFailed
from labelops.i18n import normalise_language
from labelops.services import auth, directory
from labelops.services.workspace import get_login_user, password_fingerprint
from labelops.web.render import HOME_BY_ROLE, render_page
from labelops.web.routes._deps import MaybeActor, make_router, safe_next
from labelops.web.session import LANG_COOKIE, WebSession, clear_session, set_session

__all__ = ["router"]

router = make_router()


@router.get("/")
def home(request: Request, actor: MaybeActor, next: str | None = None) -> Response:
    """The login page for visitors; the role's home page for logged-in users."""
    if actor is not None:
        return RedirectResponse(safe_next(next, HOME_BY_ROLE[actor.role]), status_code=303)
    return render_page(
        request, "login.html", None, title_id="web.login.title", next=safe_next(next, "")
    )


@router.get("/login")
def login_page(next: str | None = None) -> Response:
    """``/login`` typed or bookmarked: the form lives at ``/``, which also sends a
    logged-in user home."""
    wanted = safe_next(next, "")
    return RedirectResponse(f"/?{urlencode({'next': wanted})}" if wanted else "/", status_code=303)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[Text, Form(max_length=200)],
    password: Annotated[Text, Form(max_length=1000)],
    next: Annotated[Text, Form(max_length=2000)] = "",
) -> Response:
    """Check the password and start a session (a new CSRF token is issued at login)."""
    try:
        actor = auth.authenticate_password(session, username.strip(), password)
    except AuthenticationFailed:
        session.rollback()
        return render_page(
            request,
            "login.html",
            None,
            title_id="web.login.title",
            status_code=401,
            next=safe_next(next, ""),
            error_id="web.login.failed",
            username=username,
        )
    user = get_login_user(session, actor.user_id or 0)
    session.commit()
    set_session(
        request,
        WebSession(
            user_id=actor.user_id,
            csrf=secrets.token_urlsafe(32),
            last_seen=int(time.time()),
            fingerprint=password_fingerprint(user.password_hash if user else None),
        ),
    )
    return RedirectResponse(safe_next(next, HOME_BY_ROLE[actor.role]), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session."""
    clear_session(request)
    return RedirectResponse("/", status_code=303)


@router.post("/lang")
def switch_language(
    request: Request,
    session: SessionDep,
    actor: MaybeActor,
    lang: Annotated[Text, Form(max_length=16)],
    next: Annotated[Text, Form(max_length=2000)] = "/",
) -> Response:
    """Switch zh-Hant / English: remembered for the user, and in a cookie for visitors."""
    chosen = normalise_language(lang)
    if actor is not None:
        directory.set_user_language(session, actor, chosen)
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
    )
    return response

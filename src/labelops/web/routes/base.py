"""Login, logout, the language switch and the home redirect."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from labelops.api.deps import SessionDep
from labelops.api.schemas.fields import Text
from labelops.config import Settings
from labelops.errors import AuthenticationFailed, TooManyAttempts
from labelops.i18n import normalise_language
from labelops.services import directory, login_throttle
from labelops.web.render import HOME_BY_ROLE, render_page
from labelops.web.routes._deps import MaybeActor, make_router, safe_next
from labelops.web.session import LANG_COOKIE, cookie_is_secure, end_session, start_session

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


def throttle_policy(settings: Settings) -> login_throttle.ThrottlePolicy:
    """The login throttle's policy from the settings."""
    return login_throttle.ThrottlePolicy(
        account_free=settings.login_account_free,
        address_free=settings.login_address_free,
        max_seconds=settings.login_lock_max_seconds,
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[Text, Form(max_length=200)],
    password: Annotated[Text, Form(max_length=1000)],
    next: Annotated[Text, Form(max_length=2000)] = "",
) -> Response:
    """Check the password (unless the account or address is locked: 429) and start a
    server-side session (with a new CSRF token).

    A language chosen with the switch before logging in (the ``lo_lang`` cookie) is
    explicit: it becomes the user's remembered language (audited as ``user.language``)
    instead of being overridden by the one remembered before.
    """
    settings: Settings = request.app.state.settings
    try:
        actor = login_throttle.password_login(
            session,
            username.strip(),
            password,
            address=request.client.host if request.client else None,
            policy=throttle_policy(settings),
        )
    except (AuthenticationFailed, TooManyAttempts) as error:
        session.rollback()
        wait = error.retry_after if isinstance(error, TooManyAttempts) else 0
        locked = wait > 0
        response = render_page(
            request,
            "login.html",
            None,
            title_id="web.login.title",
            status_code=429 if locked else 401,
            next=safe_next(next, ""),
            error_id="web.login.locked" if locked else "web.login.failed",
            error_params={"seconds": wait} if locked else {},
            username=username,
        )
        if locked:
            response.headers["Retry-After"] = str(wait)
        return response
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen and normalise_language(chosen) != actor.language:
        directory.set_user_language(session, actor, chosen)
    start_session(request, session, actor)
    return RedirectResponse(safe_next(next, HOME_BY_ROLE[actor.role]), status_code=303)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the session (its row, so a copied cookie stops working too)."""
    end_session(request, session)
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
        secure=cookie_is_secure(request),
    )
    return response

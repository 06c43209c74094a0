"""Rendering: the Jinja environment, the page registry, language and locale formatting.

Every visible string comes from the ``web.json`` catalog through ``t(message_id)``;
item text and other data are rendered with autoescaping (never ``|safe``).

The page registry lists every navigable page once: path, title message id and the
roles allowed. The navigation of the layout is built from it, so adding a page for a
role is one ``Page(...)`` line plus its route.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from labelops.api.errors import status_for
from labelops.errors import InvalidInput, LabelopsError, PermissionDenied
from labelops.i18n import negotiate_language, normalise_language, translate
from labelops.services.policy import Action, Actor, can
from labelops.types import Role
from labelops.web.session import (
    CSRF_HEADER,
    LANG_COOKIE,
    UNSAFE_METHODS,
    check_csrf,
    ensure_session,
)

__all__ = [
    "PAGES",
    "WORKSPACE_TZ",
    "LoginRequired",
    "Page",
    "WebRoute",
    "Named",
    "format_datetime",
    "format_number",
    "name_in",
    "names_by_key",
    "nav_for",
    "page_language",
    "render_page",
    "start_of_today",
    "templates_dir",
]

WORKSPACE_TZ = ZoneInfo("Asia/Taipei")
"""Days ("labels today", charts) are cut at midnight Taiwan time, where the work is done."""

_IN_HOUSE = (Role.ADMIN, Role.AUDITOR)
_ALL = (Role.ADMIN, Role.AUDITOR, Role.VENDOR_MANAGER, Role.LABELLER)


@dataclass(frozen=True)
class Page:
    """One navigable page."""

    path: str
    title_id: str
    """Message id of the title (``web.json``)."""
    roles: tuple[Role, ...]
    """Roles the page is meant for (the services still decide access)."""
    action: Action | None = None
    """What the page's service requires (``services.policy``): a role without it is not
    shown the link, so no navigation link leads to a refusal."""


PAGES: tuple[Page, ...] = (
    Page("/work", "web.nav.work", (Role.LABELLER,), "queue.work"),
    Page("/vendor", "web.nav.vendor", (Role.VENDOR_MANAGER,), "vendor.read"),
    Page("/quality", "web.nav.quality", _ALL, "quality.read"),
    Page("/audit", "web.nav.audits", _IN_HOUSE, "audit.run"),
    Page("/audit/disputes", "web.nav.disputes", _IN_HOUSE, "dispute.resolve"),
    Page("/admin/vendors", "web.nav.vendors", (Role.ADMIN,), "vendor.manage"),
    Page("/admin/users", "web.nav.users", (Role.ADMIN,), "user.manage"),
    Page("/admin/taxonomies", "web.nav.taxonomies", _IN_HOUSE, "taxonomy.read"),
    Page("/admin/projects", "web.nav.projects", (Role.ADMIN,), "project.manage"),
    Page("/admin/imports", "web.nav.imports", (Role.ADMIN,), "item.import"),
    Page("/admin/audit-events", "confid.nav.audit_events", _IN_HOUSE, "audit_trail.read"),
    Page("/admin/security", "web.nav.security", (Role.ADMIN,), "user.manage"),
    Page("/account/sessions", "web.nav.sessions", _ALL),
)

HOME_BY_ROLE: dict[Role, str] = {
    Role.LABELLER: "/work",
    Role.VENDOR_MANAGER: "/vendor",
    Role.AUDITOR: "/quality",
    Role.ADMIN: "/admin/projects",
}


def templates_dir() -> Path:
    """The packaged templates folder."""
    return Path(str(resources.files("labelops.web") / "templates"))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(["html", "svg"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class LoginRequired(Exception):
    """The page needs a logged-in user; the visitor is sent to the login page."""


def page_language(request: Request, actor: Actor | None) -> str:
    """The user's remembered choice, else the language cookie, else ``Accept-Language``."""
    if actor is not None and actor.language:
        return normalise_language(actor.language)
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen:
        return normalise_language(chosen)
    return negotiate_language(request.headers.get("accept-language"))


def format_number(value: float | int | None, lang: str, *, digits: int = 0) -> str:
    """``1,234`` / ``0.85`` style (Taiwan and English both group by thousands with commas);
    an em dash for missing values."""
    if value is None:
        return "—"
    del lang  # same digits and separators in en and zh-TW; kept for symmetry with dates
    return f"{value:,.{digits}f}"


def format_percent(value: float | None, lang: str) -> str:
    """``85.2%``; an em dash for missing values."""
    if value is None:
        return "—"
    del lang
    return f"{value * 100:.1f}%"


def format_datetime(value: datetime | None, lang: str) -> str:
    """A timestamp in Taiwan time with its zone: ``2026-11-25 18:42 UTC+8`` or
    ``2026年11月25日 18:42 UTC+8`` (an em dash for missing values)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(WORKSPACE_TZ)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    zone = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    if lang == "zh-Hant":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M} {zone}"
    return f"{local:%Y-%m-%d %H:%M} {zone}"


class Named(Protocol):
    """Anything with a key and a name in both languages (taxonomy labels, error types)."""

    @property
    def key(self) -> str: ...

    @property
    def name_en(self) -> str: ...

    @property
    def name_zh(self) -> str: ...


def name_in(thing: Named, lang: str) -> str:
    """A label's or error type's name in the page language."""
    return thing.name_zh if lang == "zh-Hant" else thing.name_en


def names_by_key(things: Iterable[Named], lang: str) -> dict[str, str]:
    """``{key: name in lang}`` of taxonomy labels or error types, for the pages that
    show keys stored in the data (never the raw key)."""
    return {thing.key: name_in(thing, lang) for thing in things}


def named(keys: Sequence[str] | str | None, names: dict[str, str]) -> str:
    """Keys as their names, comma-separated (an em dash when there are none)."""
    if not keys:
        return "—"
    if isinstance(keys, str):
        keys = [keys]
    return ", ".join(names.get(key, key) for key in keys)


def format_day(iso_day: str, lang: str) -> str:
    """A date label for charts: ``11-25`` / ``11月25日``."""
    month, day = int(iso_day[5:7]), int(iso_day[8:10])
    return f"{month}月{day}日" if lang == "zh-Hant" else f"{month:02d}-{day:02d}"


def start_of_today(now: datetime | None = None) -> datetime:
    """Midnight today in the workspace time zone, as an aware UTC datetime."""
    local = (now or datetime.now(UTC)).astimezone(WORKSPACE_TZ)
    return datetime.combine(local.date(), time(0), tzinfo=WORKSPACE_TZ).astimezone(UTC)


def workspace_offset() -> timedelta:
    """UTC offset of the workspace time zone (Taiwan has no daylight saving)."""
    offset = datetime.now(UTC).astimezone(WORKSPACE_TZ).utcoffset()
    return offset or timedelta(0)


def path_has_prefix(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def nav_for(actor: Actor | None) -> list[Page]:
    """Pages of the actor's role that the policy lets it open, in registry order."""
    if actor is None:
        return []
    return [
        page
        for page in PAGES
        if actor.role in page.roles and (page.action is None or can(actor, page.action))
    ]


def render_page(
    request: Request,
    template: str,
    actor: Actor | None,
    *,
    title_id: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a full page (the layout adds navigation, language switch and CSRF token)."""
    lang = page_language(request, actor)
    web_session = ensure_session(request)

    def t(message_id: str, /, **params: Any) -> str:
        return translate(message_id, lang, **params)

    html = (
        _environment()
        .get_template(template)
        .render(
            request=request,
            actor=actor,
            lang=lang,
            html_lang="zh-Hant-TW" if lang == "zh-Hant" else "en",
            csrf=web_session.csrf,
            t=t,
            num=lambda value, digits=0: format_number(value, lang, digits=digits),
            pct=lambda value: format_percent(value, lang),
            dt=lambda value: format_datetime(value, lang),
            may=lambda action: actor is not None and can(actor, action),
            day=lambda value: format_day(value, lang),
            named=named,
            nav=nav_for(actor),
            current_nav=max(
                (p.path for p in nav_for(actor) if path_has_prefix(request.url.path, p.path)),
                key=len,
                default="",
            ),
            title=t(title_id),
            path=request.url.path,
            role_name=t(f"web.role.{actor.role.value}") if actor else "",
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def render_fragment(request: Request, template: str, actor: Actor, **context: Any) -> str:
    """Render a partial template (no layout) in the actor's language."""
    lang = page_language(request, actor)

    def t(message_id: str, /, **params: Any) -> str:
        return translate(message_id, lang, **params)

    return (
        _environment()
        .get_template(template)
        .render(
            t=t,
            lang=lang,
            num=lambda value, digits=0: format_number(value, lang, digits=digits),
            **context,
        )
    )


def error_page(request: Request, error: LabelopsError, actor: Actor | None) -> HTMLResponse:
    """A labelops error as a page, with the status the API would give it."""
    lang = page_language(request, actor)
    message = error.render(lang)
    if isinstance(error, PermissionDenied) and error.message_id == "errors.permission.action":
        # The core message names the role and action codes; a page says it in words.
        message = translate("web.error.forbidden", lang)
    return render_page(
        request,
        "error.html",
        actor,
        title_id="web.error.title",
        status_code=status_for(error),
        message=message,
    )


def login_redirect(request: Request) -> RedirectResponse:
    """Send the visitor to the login page, coming back here afterwards."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse("/?next=" + quote(target, safe="/"), status_code=303)


class WebRoute(APIRoute):
    """Route class of the pages: CSRF on unsafe methods, errors rendered as HTML pages.

    The form is read here once (Starlette caches it, so the endpoint's ``Form``
    parameters see the same data).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def web_handler(request: Request) -> Response:
            try:
                if request.method.upper() in UNSAFE_METHODS:
                    submitted = request.headers.get(CSRF_HEADER)
                    if not submitted:
                        content_type = request.headers.get("content-type", "")
                        if content_type.startswith(
                            ("application/x-www-form-urlencoded", "multipart/form-data")
                        ):
                            form = await request.form()
                            value = form.get("csrf_token")
                            submitted = value if isinstance(value, str) else None
                    check_csrf(request, submitted)
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except LabelopsError as error:
                actor = getattr(request.state, "web_actor_cached", None)
                return error_page(request, error, actor if isinstance(actor, Actor) else None)
            except RequestValidationError as error:
                # A form field missing or malformed: say so on a page, not in JSON.
                actor = getattr(request.state, "web_actor_cached", None)
                # (No field names: InvalidInput renders its "field" prefix in English.)
                del error
                invalid = InvalidInput("web.error.form")
                return error_page(request, invalid, actor if isinstance(actor, Actor) else None)

        return web_handler

"""The edge of the HTTP server: what every request goes through before FastAPI, and
every response after it.

* Security headers on every response (pages, ``/api/*``, ``/docs``, ``/openapi.json``,
  errors): ``secured(send)`` adds those a response has not set itself. The labeller's
  fast lane (``labelops.api.hot``) appends the same headers, preassembled, to the
  responses it sends itself (``SECURITY_HEADER_PAIRS``).
* Request bodies (``BodyGuard``): a body that may be big (no ``Content-Length``, or more
  than ``PREAUTH_BYTES``) is read only for an authenticated caller (401 before a byte of
  it is read otherwise), and no body may be bigger than ``Settings.max_body_bytes``
  (``Settings.max_import_bytes`` for the import routes): 413 at once when
  ``Content-Length`` says so, else as soon as the bytes received pass the limit (a
  chunked body is counted while it arrives). Both answers carry the error envelope.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from labelops.api.errors import error_response
from labelops.errors import AuthenticationFailed, ContentTooLarge, LabelopsError

__all__ = [
    "BodyGuard",
    "BodyTooLarge",
    "PREAUTH_BYTES",
    "SECURITY_HEADERS",
    "SECURITY_HEADER_PAIRS",
    "content_security_policy",
    "secured",
]

_CSP_SOURCES = {
    "default-src": "'self'",
    # No inline script or style anywhere: item text can never become code.
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def content_security_policy(*, script_hashes: tuple[str, ...] = ()) -> str:
    """The one Content-Security-Policy, optionally allowing inline scripts by their
    ``sha256-...`` hashes (the API docs page's start-up script)."""
    sources = dict(_CSP_SOURCES)
    if script_hashes:
        sources["script-src"] += "".join(f" '{digest}'" for digest in script_hashes)
    return "; ".join(f"{name} {value}" for name, value in sources.items())


SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""Headers every response carries (a response may set its own value of any of them)."""

SECURITY_HEADER_PAIRS: tuple[tuple[bytes, bytes], ...] = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
)
"""``SECURITY_HEADERS`` as ASGI raw header pairs, built once."""
_SECURITY_NAMES = frozenset(name for name, _value in SECURITY_HEADER_PAIRS)

PREAUTH_BYTES = 64 * 1024
"""A body announced bigger than this (or not announced: chunked) is read only after
the caller is authenticated; smaller ones are read as usual, and the route
authenticates."""

_LARGE_BODY_PATHS = re.compile(
    r"/api/projects/[0-9]+/items|/api/projects/[0-9]+/gold/batch"
    r"|/admin/imports|/audit/gold/[0-9]+/upload"
)
"""The import routes, whose limit is ``max_import_bytes`` (file uploads are spooled to
disk by the multipart parser; JSON batches are held in memory)."""
_PUBLIC_PATHS = frozenset({"/login", "/lang", "/logout"})
"""Routes that take a body from anonymous visitors (small forms: the plain limit)."""
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def secured(send: Send) -> Send:
    """``send`` that adds the ``SECURITY_HEADERS`` a response lacks."""

    async def send_secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _value in headers} & _SECURITY_NAMES
            headers.extend(pair for pair in SECURITY_HEADER_PAIRS if pair[0] not in present)
            message["headers"] = headers
        await send(message)

    return send_secured


class BodyTooLarge(StarletteHTTPException):
    """The request body passed its limit while it was being received (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail="Content Too Large")
        self.limit = limit


Authenticator = Callable[[Request], bool]
"""Whether a request's credentials (Bearer token or session cookie) are valid; runs on
a worker thread."""


class BodyGuard:
    """Authentication before big bodies, and the body size limits (see the module).

    Args:
        max_body_bytes: Limit of every request body.
        max_import_bytes: Limit of the import routes' bodies.
        authenticated: Checks a request's credentials (on a worker thread).
    """

    def __init__(
        self,
        *,
        max_body_bytes: int,
        max_import_bytes: int,
        authenticated: Authenticator,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_import_bytes = max_import_bytes
        self._authenticated = authenticated

    def limit_for(self, path: str) -> int:
        """The body limit of ``path``."""
        if _LARGE_BODY_PATHS.fullmatch(path):
            return max(self.max_import_bytes, self.max_body_bytes)
        return self.max_body_bytes

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The ``receive`` to run the request with, or None when it was answered here
        (401 or 413) without reading its body."""
        if scope["method"] in _NO_BODY_METHODS and not _has_body_headers(scope):
            return receive
        length, has_length = _content_length(scope)
        path: str = scope["path"]
        limit = self.limit_for(path)
        if path not in _PUBLIC_PATHS and (length is None or length > PREAUTH_BYTES):
            request = Request(scope)
            if not await anyio.to_thread.run_sync(self._authenticated, request):
                await self._answer(
                    scope, receive, send, AuthenticationFailed("errors.auth.missing")
                )
                return None
        if length is not None and length > limit:
            too_large = ContentTooLarge("errors.request.too_large", limit=limit)
            await self._answer(scope, receive, send, too_large)
            return None
        if has_length and length is not None:
            return receive  # the server reads no more than Content-Length
        return _counted(receive, limit)

    @staticmethod
    async def _answer(scope: Scope, receive: Receive, send: Send, error: LabelopsError) -> None:
        response = error_response(Request(scope), error)
        response.headers["Connection"] = "close"  # the unread body is not drained
        await response(scope, receive, send)


def _counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises ``BodyTooLarge`` once more than ``limit`` bytes came."""
    received = 0

    async def receive_counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_counted


def _content_length(scope: Scope) -> tuple[int | None, bool]:
    """(declared length or None, whether a valid ``Content-Length`` was given)."""
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.strip().isdigit():
        return None, False
    return int(value), True


def _has_body_headers(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False

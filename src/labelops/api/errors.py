"""The single mapping from labelops errors to HTTP, with one envelope for every error.

Envelope::

    {"error": {"code": "invalid_input", "message": "...", "message_id": "...",
               "params": {...}, "problems": [{"line", "field", "message"}]}}
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from labelops.errors import (
    AuthenticationFailed,
    Conflict,
    ContentTooLarge,
    InvalidInput,
    InvalidRows,
    InvariantViolated,
    LabelopsError,
    NotFound,
    PermissionDenied,
    SchemaMismatch,
    StorageUnavailable,
    TooManyAttempts,
)
from labelops.i18n import negotiate_language, translate
from labelops.store.failures import storage_failure_cause

__all__ = [
    "STATUS_CODES",
    "EnvelopeResponse",
    "error_envelope",
    "error_response",
    "install_error_handlers",
    "request_language",
]

STATUS_CODES: dict[type[LabelopsError], int] = {
    ContentTooLarge: 413,
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    TooManyAttempts: 429,
    SchemaMismatch: 503,
    StorageUnavailable: 503,
    InvariantViolated: 500,
}


class EnvelopeResponse(JSONResponse):
    """A JSON response that renders whatever the input was: a number that is not finite
    becomes its name (``"nan"``, ``"inf"``), a lone surrogate its ``\\udXXX`` escape
    (the standard encoder fails on both, and the error response itself was a 500)."""

    def render(self, content: Any) -> bytes:
        """``content`` as UTF-8 JSON, made safe first."""
        return json.dumps(
            _safe(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(_safe(key)): _safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(item) for item in value]
    if value is None or isinstance(value, int | float | bool):
        return value
    return _safe(str(value))


def status_for(error: LabelopsError) -> int:
    """HTTP status of ``error`` (most specific class wins)."""
    for kind in type(error).__mro__:
        if kind in STATUS_CODES:
            return STATUS_CODES[kind]  # type: ignore[index]
    return 500


def request_language(request: Request) -> str:
    """The language of the response: the user's choice, else ``Accept-Language``."""
    chosen = getattr(request.state, "language", None)
    if chosen:
        return str(chosen)
    return negotiate_language(request.headers.get("accept-language"))


def error_envelope(error: LabelopsError, lang: str) -> dict[str, Any]:
    """The JSON body of an error response."""
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.render(lang),
        "message_id": error.message_id,
        "params": {key: _plain(value) for key, value in error.params.items()},
    }
    if isinstance(error, InvalidRows):
        body["problems"] = [
            {"line": p.line, "field": p.field, "message": p.render(lang, None).split(": ", 1)[-1]}
            for p in error.problems[:1000]
        ]
        body["n_problems"] = len(error.problems)
    return {"error": body}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def error_response(request: Request, error: LabelopsError) -> EnvelopeResponse:
    """The response of ``error``: its HTTP status and the envelope in the request's language."""
    status = status_for(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    return EnvelopeResponse(
        error_envelope(error, request_language(request)), status_code=status, headers=headers
    )


def storage_unavailable(error: BaseException) -> StorageUnavailable | None:
    """``StorageUnavailable`` naming the cause when ``error`` says the database cannot
    write now (disk full, read-only); None for any other error."""
    cause = storage_failure_cause(error)
    if cause is None:
        return None
    return StorageUnavailable(f"errors.storage.{cause}")


def _problem(entry: Any, lang: str) -> str:
    """A validation problem's message: the catalog's, in ``lang``, for the checks of
    ``labelops.api.schemas.fields``; pydantic's own otherwise."""
    context = entry.get("ctx") or {}
    if entry.get("type") == "labelops" and "message_id" in context:
        return translate(context["message_id"], lang, **context.get("params", {}))
    return str(entry.get("msg", ""))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one envelope."""

    @app.exception_handler(LabelopsError)
    async def _labelops_error(request: Request, error: LabelopsError) -> JSONResponse:
        return error_response(request, error)

    async def _database_error(request: Request, error: Exception) -> JSONResponse:
        unavailable = storage_unavailable(error)
        if unavailable is None:
            raise error  # a bug: the server's 500
        return error_response(request, unavailable)

    storage_errors: list[type[Exception]] = [DBAPIError, sqlite3.Error, OSError]
    if app.state.engine.dialect.name == "postgresql":
        import asyncpg  # only PostgreSQL deployments load the driver

        storage_errors.append(asyncpg.PostgresError)
    for kind in storage_errors:
        app.add_exception_handler(kind, _database_error)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        lang = request_language(request)
        problems = []
        for entry in error.errors():
            location = [str(part) for part in entry.get("loc", ()) if part != "body"]
            where = ".".join(location)
            path = ((entry.get("ctx") or {}).get("params") or {}).get("path")
            if path:  # inside a JSON value (``fields.JsonObject``)
                where = f"{where}.{path}" if where else str(path)
            problems.append({"field": where or None, "message": _problem(entry, lang)})
        body = {
            "code": "invalid_input",
            "message": translate("errors.request.invalid", lang, count=len(problems)),
            "message_id": "errors.request.invalid",
            "params": {},
            "problems": problems,
        }
        return EnvelopeResponse({"error": body}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 413:  # a body that passed its limit while it came
            limit = getattr(error, "limit", None)
            return error_response(request, ContentTooLarge("errors.request.too_large", limit=limit))
        lang = request_language(request)
        message_id = {404: "errors.http.not_found", 405: "errors.http.method"}.get(
            error.status_code, "errors.http.other"
        )
        body = {
            "code": "not_found" if error.status_code == 404 else "http_error",
            "message": translate(message_id, lang, status=error.status_code),
            "message_id": message_id,
            "params": {"status": error.status_code},
        }
        return EnvelopeResponse(
            {"error": body}, status_code=error.status_code, headers=getattr(error, "headers", None)
        )

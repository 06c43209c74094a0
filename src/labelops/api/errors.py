"""The single mapping from labelops errors to HTTP, with one envelope for every error.

Envelope::

    {"error": {"code": "invalid_input", "message": "...", "message_id": "...",
               "params": {...}, "problems": [{"line", "field", "message"}]}}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from labelops.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    InvalidRows,
    InvariantViolated,
    LabelopsError,
    NotFound,
    PermissionDenied,
    SchemaMismatch,
    TooManyAttempts,
)
from labelops.i18n import negotiate_language, translate

__all__ = ["STATUS_CODES", "error_envelope", "install_error_handlers", "request_language"]

STATUS_CODES: dict[type[LabelopsError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    TooManyAttempts: 429,
    SchemaMismatch: 503,
    InvariantViolated: 500,
}


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


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one envelope."""

    @app.exception_handler(LabelopsError)
    async def _labelops_error(request: Request, error: LabelopsError) -> JSONResponse:
        status = status_for(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(error, TooManyAttempts):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(
            error_envelope(error, request_language(request)), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        lang = request_language(request)
        problems = []
        for entry in error.errors():
            location = [str(part) for part in entry.get("loc", ()) if part != "body"]
            problems.append({"field": ".".join(location) or None, "message": entry.get("msg", "")})
        body = {
            "code": "invalid_input",
            "message": translate("errors.request.invalid", lang, count=len(problems)),
            "message_id": "errors.request.invalid",
            "params": {},
            "problems": problems,
        }
        return JSONResponse({"error": body}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
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
        return JSONResponse(
            {"error": body}, status_code=error.status_code, headers=getattr(error, "headers", None)
        )

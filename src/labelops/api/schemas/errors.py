"""The error envelope as a schema, and the error statuses every route documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ERROR_RESPONSES", "ErrorBody", "ErrorEnvelope", "ErrorProblem"]


class ErrorProblem(BaseModel):
    """One bad row or field."""

    line: int | None = None
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    """What went wrong, in the request's language, with its catalog id and parameters."""

    code: str = Field(description="invalid_input, not_found, conflict, permission_denied, ...")
    message: str
    message_id: str
    params: dict[str, Any]
    problems: list[ErrorProblem] | None = None
    n_problems: int | None = None


class ErrorEnvelope(BaseModel):
    """Every error response: ``{"error": {...}}`` (``labelops.api.errors``)."""

    error: ErrorBody


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorEnvelope, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed request (a body that cannot be parsed)."),
    401: _error("No valid token or session."),
    403: _error("The caller may not do this (role, vendor, CSRF token)."),
    404: _error("Not found, or not visible to the caller."),
    405: _error("Method not allowed on this path."),
    409: _error("The state forbids it, or it exists already."),
    413: _error("The request body is over its limit (LABELOPS_MAX_BODY_BYTES)."),
    422: _error("Invalid input: the problems name each field or row and why."),
    503: _error("The database cannot serve now (un-migrated, disk full, read-only)."),
}
"""The error statuses of every route, each with the envelope (given to ``FastAPI``)."""

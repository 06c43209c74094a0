"""The one error tree of labelops.

Every error carries a bilingual message id (see ``labelops.i18n``) and structured
fields, never an HTTP status or an exit code: the API maps the tree to HTTP once in
``labelops.api.errors`` and the CLI maps it to exit codes once in ``labelops.cli``.

::

    LabelopsError                      message_id + params, .render(lang)
     +-- InvalidInput                  bad data: file, line, field, value, reason      HTTP 422, exit 2
     |    +-- InvalidRows              many InvalidInput rows from one file or batch  HTTP 422, exit 2
     |    +-- ContentTooLarge          a request body over its size limit             HTTP 413, exit 2
     +-- NotFound                      the thing does not exist (or is not yours)      HTTP 404, exit 3
     +-- Conflict                      it exists already / state forbids it           HTTP 409, exit 4
     +-- PermissionDenied              the user may not do this                       HTTP 403, exit 5
     |    +-- AuthenticationFailed     no valid token, password or session            HTTP 401, exit 5
     |    +-- TooManyAttempts          too many failed logins: wait retry_after s     HTTP 429, exit 5
     +-- InvariantViolated             the system is not in a state it can work in    HTTP 500/503, exit 6
          +-- SchemaMismatch           database un-migrated or newer than the code    HTTP 503, exit 6
          +-- StorageUnavailable       disk full, read-only database: cannot write    HTTP 503, exit 6
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "ContentTooLarge",
    "InvalidInput",
    "InvalidRows",
    "InvariantViolated",
    "LabelopsError",
    "NotFound",
    "PermissionDenied",
    "RowProblem",
    "SchemaMismatch",
    "StorageUnavailable",
    "TooManyAttempts",
]


class LabelopsError(Exception):
    """Base of every error labelops raises on purpose.

    Args:
        message_id: Key in the en + zh-Hant catalog (``labelops.i18n``).
        **params: Values substituted into the message and returned to API clients.
    """

    code: str = "error"

    def __init__(self, message_id: str, /, **params: Any) -> None:
        # Positional-only: a message placeholder may be called ``message_id`` or ``self``.
        self.message_id = message_id
        self.params: dict[str, Any] = dict(params)
        super().__init__(self.render("en"))

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"en"`` or ``"zh-Hant"``)."""
        from labelops.i18n import translate  # local: i18n must stay importable without errors

        return translate(self.message_id, lang, **self.params)


class InvalidInput(LabelopsError):
    """Input that cannot be accepted, with where and why.

    Args:
        message_id: Catalog key of the reason.
        file: Source file name, if the input came from a file.
        line: 1-based line (or row) number in that file or batch.
        field: Field or column that is wrong.
        value: The offending value (shortened to 200 characters).
    """

    code = "invalid_input"

    def __init__(
        self,
        message_id: str,
        /,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: Any = None,
        **params: Any,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.value = _shorten(value)
        super().__init__(message_id, file=file, line=line, field=field, value=self.value, **params)

    def render(self, lang: str = "en") -> str:
        from labelops.i18n import translate

        reason = translate(self.message_id, lang, **self.params)
        where = [
            f"{self.file}" if self.file else "",
            translate("errors.where.line", lang, line=self.line) if self.line is not None else "",
            translate("errors.where.field", lang, field=self.field) if self.field else "",
        ]
        prefix = ", ".join(part for part in where if part)
        return f"{prefix}: {reason}" if prefix else reason


@dataclass(frozen=True)
class RowProblem:
    """One bad row of a file or batch."""

    line: int
    """1-based line (JSONL, CSV with header = line 1) or row number (Parquet, JSON array)."""
    field: str | None
    """Field or column that is wrong, if one is."""
    message_id: str
    """Catalog key of the reason."""
    params: Mapping[str, Any]
    """Values for the message."""

    def render(self, lang: str = "en", file: str | None = None) -> str:
        """``file, line N, field 'f': reason`` in ``lang``."""
        return InvalidInput(
            self.message_id, file=file, line=self.line, field=self.field, **dict(self.params)
        ).render(lang)


class InvalidRows(InvalidInput):
    """Several bad rows from one file or batch; nothing was written."""

    def __init__(self, file: str | None, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        super().__init__("errors.invalid_rows", file=file, count=len(self.problems))

    def render(self, lang: str = "en") -> str:
        from labelops.i18n import translate

        head = translate("errors.invalid_rows", lang, count=len(self.problems), file=self.file)
        shown = [p.render(lang, self.file) for p in self.problems[:50]]
        more = len(self.problems) - len(shown)
        tail = [translate("errors.more_rows", lang, count=more)] if more > 0 else []
        return "\n".join([head, *shown, *tail])


class NotFound(LabelopsError):
    """The thing does not exist, or the user may not know that it does."""

    code = "not_found"


class Conflict(LabelopsError):
    """It exists already, or its state forbids the change."""

    code = "conflict"


class PermissionDenied(LabelopsError):
    """The user is known but may not do this."""

    code = "permission_denied"


class AuthenticationFailed(PermissionDenied):
    """No valid token, password or session."""

    code = "authentication_failed"


class InvariantViolated(LabelopsError):
    """The system is in a state it cannot work in; a bug or an operator action is needed."""

    code = "invariant_violated"


class TooManyAttempts(PermissionDenied):
    """Refused without checking: too many failed logins; try again in ``retry_after``
    seconds (HTTP 429 with a ``Retry-After`` header)."""

    code = "too_many_attempts"

    def __init__(self, message_id: str, *, retry_after: int, **params: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message_id, seconds=retry_after, **params)


class SchemaMismatch(InvariantViolated):
    """The database schema is not the one this code expects."""

    code = "schema_mismatch"


class StorageUnavailable(InvariantViolated):
    """The database cannot store anything now (disk full, read-only file or server);
    ``cause`` says which, in words. Nothing of the request was stored."""

    code = "storage_unavailable"


class ContentTooLarge(InvalidInput):
    """A request body bigger than its limit (``limit`` bytes); it was not read."""

    code = "content_too_large"


def _shorten(value: Any, limit: int = 200) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value

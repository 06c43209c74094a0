"""Settings, validated once and passed down (read only by the shells and the store).

Explicit arguments win over the environment: shells build ``Settings(**overrides)``
and hand the object to ``create_app`` / services; nothing reads the environment at
import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """labelops settings, from ``LABELOPS_*`` environment variables or arguments."""

    model_config = SettingsConfigDict(env_prefix="LABELOPS_", extra="ignore")

    home: Path = Field(default=Path(".labelops"))
    """Folder for the default SQLite database, the session secret and (in ``media/``) the
    media files (``LABELOPS_HOME``)."""
    media_root: Path | None = None
    """The only folder item media are read from (``LABELOPS_MEDIA_ROOT``; default
    ``home/media``): items name their files relative to it, and the import, the item cards
    and ``/w/media`` all resolve them inside it (``labelops.media.paths``). It may not be
    the filesystem root, nor hold the database file or ``home/session_secret``."""
    database_url: str | None = None
    """SQLAlchemy URL (``LABELOPS_DATABASE_URL``); default: SQLite file in ``home``."""
    lang: str = "en"
    """CLI language, ``en`` or ``zh-Hant`` (``LABELOPS_LANG``)."""
    lease_seconds: int = Field(default=600, ge=10, le=86_400)
    """How long a served task stays reserved for its labeller (s)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest request body (bytes) of every route but the imports
    (``LABELOPS_MAX_BODY_BYTES``); bigger ones get 413 unread."""
    max_import_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    """Largest request body (bytes) of the import routes: item and gold files uploaded
    on the pages (spooled to disk) and the API's JSON batches of items and gold
    (``LABELOPS_MAX_IMPORT_BYTES``)."""
    session_secret: str | None = None
    """Secret for web session cookies; generated and stored in ``home`` when unset."""
    cookie_secure: bool = False
    """Mark session cookies ``Secure`` (set true behind HTTPS). Requests that arrive
    over HTTPS get ``Secure`` cookies anyway."""
    session_idle_seconds: int = Field(default=2 * 3600, ge=60, le=30 * 86_400)
    """A web session unused this long ends (``LABELOPS_SESSION_IDLE_SECONDS``)."""
    session_max_seconds: int = Field(default=12 * 3600, ge=300, le=90 * 86_400)
    """A web session ends this long after login, however active
    (``LABELOPS_SESSION_MAX_SECONDS``)."""
    token_days: int = Field(default=90, ge=1, le=3650)
    """Lifetime of a new API token unless its creator gives another (days)."""
    login_account_free: int = Field(default=5, ge=1, le=1000)
    """Failed logins of one account name before it is locked with back-off."""
    login_address_free: int = Field(default=30, ge=1, le=100_000)
    """Failed logins from one client address before it is locked with back-off."""
    login_lock_max_seconds: int = Field(default=900, ge=1, le=86_400)
    """The longest lock (the back-off doubles from 1 s up to this)."""
    pool_size: int = Field(default=10, ge=1, le=200)
    """Connection pool size per process for PostgreSQL."""
    hot_threads: int = Field(default=3, ge=1, le=200)
    """Labeller calls (next task, submit) that run on worker threads at once, per
    process (at most ``pool_size``); the others wait their turn on the event loop.

    Those calls go to threads on PostgreSQL, and on SQLite while another process
    writes. Each thread takes Python's global lock again after every round trip to the
    database, so more threads than cores queue on it: on the 2-core bench machine
    (PostgreSQL on the same host) the realistic load's p99 was 17-57 ms with 10
    threads and 12-17 ms with 3, at the same saturation throughput. Raise it when the
    database is far away and calls spend most of their time waiting on the network.
    """
    loop_statements: int = Field(default=3, ge=1, le=64)
    """PostgreSQL: labeller calls done as one statement that the event loop runs at once,
    on as many connections of its own (``labelops.api.alone``), per process.

    Unlike threads, these take no turns on Python's global lock; but on the 2-core bench
    machine, with PostgreSQL on the same host, more did not help: in interleaved runs 6
    was 6 % ahead of 3 in one set, 7 % behind in another, and 6 or 8 were 14-16 %
    behind with two requests a label (level with ``submit?next``) in a third; with 16,
    PostgreSQL spent more CPU per label on lock contention. Raise it when the database
    is on another host.
    """

    @field_validator("lang")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from labelops.i18n import normalise_language

        return normalise_language(value)

    @model_validator(mode="after")
    def _media_root_holds_no_secret(self) -> Settings:
        """Refuse a media root that would serve the database file or the session secret."""
        from sqlalchemy.engine import make_url

        from labelops.errors import InvalidInput

        root = os.path.realpath(self.resolved_media_root)
        if root == os.path.realpath(os.sep):
            raise InvalidInput("media.root_filesystem", field="media_root", root=root)
        secrets = [self.home / "session_secret"]
        database = make_url(self.resolved_database_url)
        if database.get_backend_name() == "sqlite" and database.database not in (
            None,
            "",
            ":memory:",
        ):
            secrets.append(Path(database.database))
        for secret in secrets:
            real = os.path.realpath(secret)
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                raise InvalidInput(
                    "media.root_holds_secret", field="media_root", root=root, secret=real
                )
        return self

    @property
    def resolved_media_root(self) -> Path:
        """The media root actually used (``home/media`` unless one is set)."""
        return self.media_root if self.media_root is not None else self.home / "media"

    @property
    def resolved_database_url(self) -> str:
        """The database URL actually used (SQLite in ``home`` unless one is set)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'labelops.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an embedded SQLite file."""
        return self.resolved_database_url.startswith("sqlite")


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit ``overrides`` winning."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)  # type: ignore[arg-type]

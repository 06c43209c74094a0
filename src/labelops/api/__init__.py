"""The REST API (FastAPI): a thin shell over the services. Build it with ``create_app``."""

from labelops.api.app import create_app

__all__ = ["create_app"]

"""The API's interactive documentation (``/docs``), served from the package.

Swagger UI's files are vendored in ``labelops/api/static/swagger-ui`` (see its README)
and served at ``/docs/assets``: nothing is loaded from a CDN. The page's one inline
script (FastAPI's start-up of Swagger UI) is allowed by its SHA-256 hash in the page's
Content-Security-Policy, which is otherwise the one of every response.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from labelops.api.edge import content_security_policy

__all__ = ["ASSETS_PATH", "install_docs"]

ASSETS_PATH = "/docs/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI over ``app.openapi_url``) and its assets."""
    folder = Path(str(resources.files("labelops.api") / "static" / "swagger-ui"))
    app.mount(ASSETS_PATH, StaticFiles(directory=folder), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        oauth2_redirect_url=None,
    )
    html = bytes(page.body).decode("utf-8")
    hashes = tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        for script in _INLINE_SCRIPT.findall(html)
    )
    policy = content_security_policy(script_hashes=hashes)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI."""
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

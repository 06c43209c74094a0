"""Issue 19, item 7: Swagger UI at ``/docs`` runs in Debian's chromium from the package's
own files, under the Content-Security-Policy every response carries (no CDN, no
policy violation)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_from_the_package_under_the_policy(live_server, browser):
    page = browser.new_page()
    errors: list[str] = []
    hosts: set[str] = set()
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    try:
        page.goto(f"{live_server.url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.locator(".opblock").count() > 40
        assert "labelops" in page.locator(".info .title").first.inner_text()
        assert page.get_by_text("/api/projects/{project_id}/items").count() >= 1
    finally:
        page.close()
    assert errors == []  # a blocked script or style is reported here
    assert hosts == {urlparse(live_server.url).netloc}

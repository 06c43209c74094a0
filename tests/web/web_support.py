"""Helpers of the web tests (imported as ``web.web_support``; fixtures are in conftest)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from labelops.services import directory
from labelops.services.policy import SYSTEM_ACTOR

PASSWORD = "correct horse battery"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    """The chromium the browser tests drive: ``LABELOPS_CHROMIUM``, else the first of
    ``chromium`` / ``chromium-browser`` on the PATH; fails saying how to get one."""
    configured = os.environ.get("LABELOPS_CHROMIUM", "")
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(f"LABELOPS_CHROMIUM={configured} is not an executable file")
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "chromium not found: `make test` installs Debian's chromium when run as root; "
        "else run `sudo apt-get install chromium` or set LABELOPS_CHROMIUM=/path/to/chromium"
    )


def give_passwords(session: Session, world, *usernames: str) -> None:
    """Set ``PASSWORD`` for the users who log in (argon2 is slow, so only these)."""
    for username in usernames:
        directory.set_password(session, SYSTEM_ACTOR, world.actors[username].user_id, PASSWORD)


def csrf_of(html: str) -> str:
    """The CSRF token of a rendered page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    assert home.status_code == 200, home.text
    return csrf_of(home.text)


def browser_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the form (typing, then Enter)."""
    page.goto(base_url + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_load_state("domcontentloaded")


def run_axe(page) -> list[dict[str, object]]:
    """Serious and critical axe-core violations of the page."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]

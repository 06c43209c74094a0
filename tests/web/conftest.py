"""Fixtures of the web tests: a world with passwords and a logged-in TestClient helper."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from labelops.services import directory
from labelops.services.policy import SYSTEM_ACTOR

PASSWORD = "correct horse battery"


def give_passwords(session: Session, world, *usernames: str) -> None:
    """Set ``PASSWORD`` for the users who log in (argon2 is slow, so only these)."""
    for username in usernames:
        user_id = world.actors[username].user_id
        directory.set_password(session, SYSTEM_ACTOR, user_id, PASSWORD)


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


@pytest.fixture()
def web_password() -> str:
    """The password ``give_passwords`` sets."""
    return PASSWORD


@pytest.fixture()
def set_passwords() -> Callable[..., None]:
    """``set_passwords(session, world, *usernames)``."""
    return give_passwords


@pytest.fixture()
def log_in() -> Callable[..., str]:
    """``log_in(client, username) -> csrf``."""
    return login


@pytest.fixture()
def page_csrf() -> Callable[[str], str]:
    """``page_csrf(html) -> token``."""
    return csrf_of

"""What a password must be: checked wherever one is set (CLI, API, admin page).

- at least ``MIN_LENGTH`` characters;
- not one character repeated (``aaaaaaaa``);
- not containing the user name, in any case (nor contained in it), for names of 3
  characters or more;
- not one of the 5,000 most common passwords of breach corpora (``data/common_passwords.txt``,
  its source and licence in its header), compared lower-cased.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from labelops.errors import InvalidInput

__all__ = ["MIN_LENGTH", "check_password"]

MIN_LENGTH = 8


@cache
def _common_passwords() -> frozenset[str]:
    text = (resources.files("labelops.services") / "data" / "common_passwords.txt").read_text(
        encoding="utf-8"
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, username: str) -> None:
    """Refuse a weak password for ``username``.

    Raises:
        InvalidInput: Too short, one repeated character, containing the user name, or
            a common password (field ``password``; the password is never echoed).
    """
    if len(password) < MIN_LENGTH:
        raise InvalidInput("errors.user.short_password", field="password")
    if len(set(password)) == 1:
        raise InvalidInput("errors.password.one_character", field="password")
    folded = password.casefold()
    name = username.strip().casefold()
    if len(name) >= 3 and (name in folded or folded in name):
        raise InvalidInput("errors.password.has_username", field="password")
    if folded in _common_passwords():
        raise InvalidInput("errors.password.common", field="password")

"""What every CLI command shares: the error -> exit code map, JSON output, language.

Exit codes are decided here and nowhere else.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console, ConsoleDimensions

from labelops.config import Settings, get_settings
from labelops.errors import (
    Conflict,
    InvalidInput,
    InvariantViolated,
    LabelopsError,
    NotFound,
    PermissionDenied,
)

__all__ = [
    "EXIT_CODES",
    "PipeFriendlyConsole",
    "cli_command",
    "console",
    "emit_json",
    "err_console",
    "settings",
]

_UNWRAPPED_WIDTH = 100_000
"""Width of a console that is not a terminal: wide enough that no line is ever wrapped."""


class PipeFriendlyConsole(Console):
    """A Rich console that wraps lines only on a terminal.

    Rich assumes 80 columns (or the width of whichever standard stream is a terminal) when
    its output is piped or redirected, and breaks long messages there, in the middle of a
    word or a file name. A script or a log reading the output wants each message on one
    line and each table at its natural width, so off a terminal the console is as wide as
    it needs to be. Whether the file is a terminal is asked on every print, because the
    same console object serves every command (and ``CliRunner`` swaps ``sys.stdout``).
    """

    @property
    def size(self) -> ConsoleDimensions:
        """The terminal's size; off a terminal, an unbounded width."""
        dimensions = super().size
        if self._width is None and not self.is_terminal:
            return ConsoleDimensions(_UNWRAPPED_WIDTH, dimensions.height)
        return dimensions

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = PipeFriendlyConsole()
err_console = PipeFriendlyConsole(stderr=True)

EXIT_CODES: dict[type[LabelopsError], int] = {
    InvalidInput: 2,
    NotFound: 3,
    Conflict: 4,
    PermissionDenied: 5,
    InvariantViolated: 6,
}

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    """Settings from the environment (``LABELOPS_*``)."""
    return get_settings()


def _language() -> str:
    """The messages' language; English when the settings themselves are what is wrong."""
    try:
        return settings().lang
    except LabelopsError:
        return "en"


def exit_code_for(error: LabelopsError) -> int:
    """The process exit code of ``error`` (1 for an unmapped LabelopsError)."""
    for kind in type(error).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]  # type: ignore[index]
    return 1


def cli_command(func: Callable[P, R]) -> Callable[P, R]:
    """Turn labelops errors raised by a command into a bilingual message and exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LabelopsError as error:
            err_console.print(error.render(_language()), markup=False, highlight=False)
            raise typer.Exit(exit_code_for(error)) from error

    return wrapper


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (UTF-8, zh-Hant unescaped)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()

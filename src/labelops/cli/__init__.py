"""The ``labelops`` command line: a Typer root with one sub-app per area."""

from __future__ import annotations

from labelops.cli.main import app, main

__all__ = ["app", "main"]

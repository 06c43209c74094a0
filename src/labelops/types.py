"""Shared aliases and persisted enums (one place, as the house style asks)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = [
    "AssignmentStatus",
    "FinalStatus",
    "ImportFormat",
    "ExportFormat",
    "Language",
    "LabelMode",
    "Role",
    "TaskStatus",
]

Language = Literal["en", "zh-Hant"]
ImportFormat = Literal["auto", "jsonl", "csv", "tsv", "parquet", "label-studio"]
ExportFormat = Literal["jsonl", "csv", "parquet", "label-studio"]


class Role(StrEnum):
    """What a user may do; ``vendor_manager`` and ``labeller`` belong to one vendor."""

    ADMIN = "admin"
    AUDITOR = "auditor"
    VENDOR_MANAGER = "vendor_manager"
    LABELLER = "labeller"


class LabelMode(StrEnum):
    """One label per item, or any subset of the taxonomy's labels."""

    SINGLE = "single"
    MULTI = "multi"


class TaskStatus(StrEnum):
    """Where a task is in its life."""

    OPEN = "open"
    """Still wants labels."""
    COMPLETE = "complete"
    """Has ``overlap`` labels."""


class AssignmentStatus(StrEnum):
    """State of one labeller's lease on one task."""

    LEASED = "leased"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    EXPIRED = "expired"


class FinalStatus(StrEnum):
    """State of an item's final label."""

    FINAL = "final"
    NEEDS_ADJUDICATION = "needs_adjudication"
    AUDITED = "audited"
    INCOMPLETE = "incomplete"
    """Fewer labels than the project's overlap so far."""

"""Where an item's media path leads: the one rule, used by import, hashing, cards and serving.

Items name their media files by paths *relative to the media root* (the ``media_root``
setting, ``LABELOPS_MEDIA_ROOT``, default ``LABELOPS_HOME/media``). A path may name a file
only inside that folder:

* refused outright (:func:`media_path_problem`, without touching the disk): an absolute
  path (``/etc/passwd``, ``C:\\x``, ``\\\\server\\share``) and any path with a ``..``
  part (``/`` and ``\\`` both count as separators);
* refused after looking (:func:`media_path_problem` with a root): a path whose real
  location (symbolic links followed, :func:`os.path.realpath`) is outside the root, a
  folder, or anything but a regular file (a device, a FIFO, a socket);
* accepted: a regular file inside the root, a symbolic link that stays inside it, and a
  missing file (the card shows a placeholder; the path still identifies the item).

The import refuses a row with such a path; the workspace checks again on every use
(:func:`open_media`): a path that got into the database some other way, or a file swapped
for a symbolic link after the import, is treated exactly like a missing file, so nothing
tells a labeller whether a file outside the root exists.

:func:`open_media` opens the real path with ``O_NOFOLLOW`` (its last part cannot have
become a symbolic link since it was resolved) and ``O_NONBLOCK`` (a FIFO cannot hang the
server), then checks the open file is regular with ``fstat``: the caller reads or serves
that open file, never the path again.
"""

from __future__ import annotations

__all__ = ["media_path_problem", "media_subfolder", "open_media"]

import os
import re
import stat
from pathlib import Path, PureWindowsPath
from typing import BinaryIO

_SEPARATORS = re.compile(r"[/\\]")
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _lexical_problem(raw: str) -> str | None:
    if "\x00" in raw:
        return "itemfiles.nul_character"
    if raw.startswith(("/", "\\")) or PureWindowsPath(raw).drive:
        return "media.path_absolute"
    if ".." in _SEPARATORS.split(raw):
        return "media.path_parent"
    return None


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _real(root: Path, raw: str) -> tuple[str, str]:
    """``(real path of raw under root, real path of root)``."""
    base = os.path.realpath(root)
    return os.path.realpath(os.path.join(base, raw)), base


def media_path_problem(raw: str, root: Path | None = None) -> str | None:
    """Why ``raw`` may not name a media file, as a message id; None: it may.

    Args:
        raw: The path as the item gives it.
        root: The media root; None checks the path's form only (no disk access).

    Returns:
        ``media.path_absolute``, ``media.path_parent``, ``media.path_outside_root``,
        ``media.path_directory``, ``media.path_not_regular`` (each takes ``{path}``), or
        None for a regular file inside the root or a missing one.

    Example:
        >>> media_path_problem("../session_secret")
        'media.path_parent'
        >>> media_path_problem("banners/a.png") is None
        True
    """
    problem = _lexical_problem(raw)
    if problem is not None or root is None:
        return problem
    real, base = _real(root, raw)
    if not _inside(real, base):
        return "media.path_outside_root"
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return None  # missing (or unreadable): a placeholder, never served
    if stat.S_ISDIR(mode):
        return "media.path_directory"
    if not stat.S_ISREG(mode):
        return "media.path_not_regular"
    return None


def open_media(raw: str, root: Path | None) -> tuple[BinaryIO, os.stat_result] | None:
    """The media file ``raw`` names inside ``root``, opened for reading, with its status.

    Returns:
        ``(binary file, os.stat_result)``, the caller closes the file; None when the
        path is refused by :func:`media_path_problem`'s rules, missing, or not a regular
        file at the moment it is opened (all alike: the caller shows a placeholder or
        answers 404, and so reveals nothing about files outside the root).
    """
    if root is None or _lexical_problem(raw) is not None:
        return None
    real, base = _real(root, raw)
    if not _inside(real, base):
        return None
    try:
        descriptor = os.open(real, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            os.close(descriptor)
            return None
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb"), status
    except OSError:
        os.close(descriptor)
        return None


def media_subfolder(root: Path, folder: Path) -> str | None:
    """``folder`` as a path relative to ``root`` (``""`` for the root itself), or None when
    it is not a folder inside the root.

    An import's own media folder (the CLI's ``--media-root``) must lie inside the served
    root: its rows' paths are stored prefixed with this, so that the path checked at import
    is the path served.
    """
    real, base = os.path.realpath(folder), os.path.realpath(root)
    if not _inside(real, base) or not os.path.isdir(real):
        return None
    relative = os.path.relpath(real, base)
    return "" if relative == "." else Path(relative).as_posix()

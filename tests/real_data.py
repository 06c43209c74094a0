"""Where the real data sets live for the tests (imported as ``real_data``; the fixture of
the same name is in the root conftest).

One rule: a test over a real data set runs on the small samples committed under
``tests/data`` (always) and on the full sets in ``../shared/data`` (or the folder named
by ``LABELOPS_SHARED_DATA``) when they are present, skipped with the reason when not.
Both roots lay the files out the same way, so a test reads ``root / "<set>/<file>"``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO_ROOT / "tests" / "data"
FULL_DATA = Path(os.environ.get("LABELOPS_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


def is_full(root: Path) -> bool:
    """Whether ``root`` (a ``real_data`` fixture value) is the full sets, not the samples."""
    return root != SAMPLE_DATA

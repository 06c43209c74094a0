"""Every public module declares its surface in ``__all__``, and every declared name
exists; the error tree and the API factory are pinned."""

from __future__ import annotations

import importlib
import pkgutil

import labelops


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(labelops.__path__, prefix="labelops."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or ".migrations" in info.name:
            continue
        names.append(info.name)
    return names


def test_every_public_module_declares_existing_names():
    problems = []
    for name in _public_modules():
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            if name.startswith(("labelops.api.routers", "labelops.web")) or name.endswith(
                ("__main__",)
            ):
                continue  # routers and pages export an app object, not a library surface
            problems.append(f"{name}: no __all__")
            continue
        problems.extend(f"{name}: {item} missing" for item in exported if not hasattr(module, item))
    assert not problems, problems


def test_error_tree_is_pinned():
    from labelops import errors

    assert sorted(errors.__all__) == [
        "AuthenticationFailed",
        "Conflict",
        "ContentTooLarge",
        "InvalidInput",
        "InvalidRows",
        "InvariantViolated",
        "LabelopsError",
        "NotFound",
        "PermissionDenied",
        "RowProblem",
        "SchemaMismatch",
        "StorageUnavailable",
        "TooManyAttempts",
    ]
    for name in errors.__all__:
        kind = getattr(errors, name)
        if isinstance(kind, type) and name != "RowProblem":
            assert issubclass(kind, errors.LabelopsError)


def test_importing_labelops_does_no_io():
    import subprocess
    import sys

    import labelops as package

    assert package.__all__ == ["__version__"]
    # A bare import loads neither the database layer nor the statistics stack.
    probe = "import sys, labelops; print(sorted(m for m in ('sqlalchemy', 'pandas', 'fastapi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

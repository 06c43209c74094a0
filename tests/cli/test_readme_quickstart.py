"""The README's command-line quick start runs as written, on an empty home, and ends with
final labels; ``make demo PORT=... HOST=...`` reaches ``labelops demo`` (issue #19)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelops.cli import app

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MARKER = "<!-- quick-start -->\n```sh\n"


def quickstart_script() -> str:
    """The shell block that follows the quick-start marker in the README."""
    text = README.read_text(encoding="utf-8")
    start = text.index(MARKER) + len(MARKER)
    return text[start : text.index("\n```\n", start)] + "\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_readme_quickstart_ends_with_final_labels(tmp_path):
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "labelops").exists() or shutil.which("curl") is None:
        pytest.skip("needs the labelops console script beside this Python, and curl")
    script = re.sub(r"\b8000\b", str(_free_port()), quickstart_script())
    assert "finalize" in script and "--overlap 3" in script
    (tmp_path / "src").symlink_to(REPO / "src")  # the block runs from the repository
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELOPS_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    process = subprocess.Popen(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the server the block starts dies with its group below
    )
    try:
        output, _ = process.communicate(timeout=240)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, output
    assert "3 final, 0 need adjudication, 0 incomplete" in output
    rows = [
        json.loads(line)
        for line in (tmp_path / "quickstart" / "final.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert sorted(
        (r["external_id"], r["status"], r["final_label"], r["n_labels"]) for r in rows
    ) == [
        ("ad-1", "final", "compliant", 3),
        ("ad-2", "final", "financial_scam", 3),
        ("ad-3", "final", "compliant", 3),
    ]


def test_make_demo_passes_port_and_host_to_labelops_demo(tmp_path):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")

    def demo_line(*args: str, host_env: str | None = None) -> str:
        env = dict(os.environ)
        if host_env is not None:
            env["HOST"] = host_env
        stamp = tmp_path / "stamp"  # -n prints the set-up recipe without running it
        result = subprocess.run(
            [make, "-n", "-C", str(REPO), "demo", f"STAMP={stamp}", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return next(line for line in result.stdout.splitlines() if "labelops demo" in line)

    assert demo_line("PORT=8123", "HOST=0.0.0.0").endswith("demo --host '0.0.0.0' --port '8123'")
    # Shells often export HOST as the machine's name: only the command line sets it.
    assert demo_line(host_env="build-box-7").endswith("demo --host '127.0.0.1' --port '8000'")
    help_text = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--host" in help_text and "--port" in help_text

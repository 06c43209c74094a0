"""``labelops serve``: a real uvicorn process on the configured database."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

LABELOPS = str(Path(sys.executable).with_name("labelops"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(cli_env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **cli_env, "LABELOPS_SESSION_SECRET": "test-secret"}


def test_serve_answers_over_http_until_stopped(cli_env):
    port = _free_port()
    server = subprocess.Popen(
        [LABELOPS, "serve", "--port", str(port)],
        env=_environment(cli_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/api/health")
                response = connection.getresponse()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_served_app_keeps_its_start_up_objects_out_of_the_collector(cli_env):
    # What ``labelops serve`` builds in each worker (``create_server_app``): the
    # objects made at start are frozen, so full collections do not walk them.
    probe = (
        "import gc; from labelops.api.app import create_server_app; "
        "create_server_app(); print(gc.get_freeze_count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=_environment(cli_env),
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(done.stdout.strip()) > 50_000

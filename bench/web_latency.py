"""Labeller page latency and weight, measured in Debian's chromium against a real server.

Builds a project of 100 000 tasks (SQLite in a temporary folder, or the database named by
``LABELOPS_DATABASE_URL``), starts ``uvicorn`` in a subprocess on 127.0.0.1, logs a
labeller in with Playwright and labels ~200 items with the keyboard. The page itself
records, for every Enter, ``performance.now()`` at the key handler and again in a
``requestAnimationFrame`` after the next item is in the DOM (``window.labelopsLatency``),
so the figure is keypress-submit -> next item painted. Page weight is the sum of the
transferred bytes (headers + body) of the HTML, CSS and JS of the labeller page.

Targets: p95 <= 100 ms, page weight <= 200 kB.

Usage::

    .venv/bin/python bench/web_latency.py [--tasks 100000] [--items 200] [--think-ms 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

# ``python bench/web_latency.py`` puts bench/ first on sys.path, where bench/queue.py
# would shadow the standard library's ``queue`` (psycopg imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from urllib.request import urlopen  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-password-1"


def build_world(url: str, n_tasks: int) -> int:
    """A vendor, a labeller with a password and a project of ``n_tasks`` tasks."""
    from labelops.services import directory, imports, projects, taxonomies
    from labelops.services.policy import SYSTEM_ACTOR
    from labelops.store.engine import create_engine_for, make_session_factory
    from labelops.store.migrate import upgrade

    engine = create_engine_for(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        vendor = directory.create_vendor(session, SYSTEM_ACTOR, "bench-vendor")
        directory.create_user(
            session,
            SYSTEM_ACTOR,
            "bench-labeller",
            role="labeller",
            vendor_id=vendor.id,
            password=PASSWORD,
        )
        spec = taxonomies.parse_taxonomy(
            {
                "key": "bench",
                "version": 1,
                "mode": "single",
                "labels": [
                    {"key": key, "name": {"en": key, "zh-Hant": zh}}
                    for key, zh in (
                        ("ok", "合規"),
                        ("scam", "詐騙"),
                        ("gambling", "賭博"),
                        ("adult", "成人"),
                    )
                ],
            }
        )
        taxonomy, _ = taxonomies.create_taxonomy(session, SYSTEM_ACTOR, spec)
        project = projects.create_project(
            session,
            SYSTEM_ACTOR,
            "bench-project",
            taxonomy_id=taxonomy.id,
            overlap=3,
            vendor_ids=[vendor.id],
        )
        started = time.perf_counter()
        batch = 10_000
        for offset in range(0, n_tasks, batch):
            records = [
                {
                    "external_id": f"bench-{i:07d}",
                    "text": f"限時優惠 第{i}號 保證獲利 月入十萬 加LINE @bench{i} 詳洽 0912-345-678 "
                    f"NT${100 + i % 900} https://bench{i}.example.com.tw/offer",
                }
                for i in range(offset, min(offset + batch, n_tasks))
            ]
            imports.import_item_records(session, SYSTEM_ACTOR, project.id, records)
        print(f"built {n_tasks:,} tasks in {time.perf_counter() - started:.1f} s")
        project_id = project.id
    engine.dispose()
    return project_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, home: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        LABELOPS_DATABASE_URL=url,
        LABELOPS_HOME=str(home),
        LABELOPS_SESSION_SECRET="bench-secret",
    )
    # The product's own command (it execs the same uvicorn with the server's settings).
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "labelops"), "serve", "--port", str(port)],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(base: str, project_id: int, n_items: int, think_ms: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-TW")
        page.goto(base + "/")
        page.fill("#username", "bench-labeller")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_load_state("domcontentloaded")

        responses = []

        def on_response(response):  # type: ignore[no-untyped-def]
            if response.request.resource_type in ("document", "stylesheet", "script"):
                responses.append(response)

        # Cold weight: nothing from the login page's cache counts as free.
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.on("response", on_response)
        load_started = time.perf_counter()
        page.goto(f"{base}/work/{project_id}")
        page.wait_for_selector("#card .item-card")
        first_item_s = time.perf_counter() - load_started
        page.remove_listener("response", on_response)
        # No compression is configured, so the wire carries the body and the headers.
        weights = {
            r.url: len(r.body()) + sum(len(k) + len(v) + 4 for k, v in r.all_headers().items())
            for r in responses
        }
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        page.wait_for_timeout(500)
        for index in range(n_items):
            page.wait_for_timeout(think_ms)  # the labeller reads the item
            page.keyboard.press(str(1 + index % 4))
            page.keyboard.press("Enter")
            page.wait_for_function("n => window.labelopsLatency.length >= n", arg=index + 1)
        latencies: list[float] = page.evaluate("() => window.labelopsLatency")
        page.wait_for_timeout(1000)
        browser.close()
    total = sum(weights.values())
    print(f"first item painted after page load: {first_item_s * 1000:.0f} ms")
    print(
        f"keypress-submit -> next item painted over {len(latencies)} items "
        f"(think time {think_ms} ms):"
    )
    print(
        f"  p50 {statistics.median(latencies):.1f} ms   p95 {percentile(latencies, 0.95):.1f} ms"
        f"   max {max(latencies):.1f} ms   (target p95 <= 100 ms)"
    )
    print(
        f"labeller page weight (HTML + CSS + JS, transferred): {total / 1024:.1f} kB "
        f"(target <= 200 kB)"
    )
    for url, size in sorted(weights.items()):
        print(f"  {size / 1024:7.1f} kB  {url.replace(base, '')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--think-ms", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labelops-bench-web-") as folder:
        home = Path(folder)
        url = os.environ.get("LABELOPS_DATABASE_URL") or f"sqlite:///{home / 'labelops.db'}"
        if "postgresql" in url:
            print("using", url.split("@")[-1], "(its tables are dropped and rebuilt)")
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        project_id = build_world(url, args.tasks)
        port = free_port()
        server = start_server(url, home, port)
        try:
            measure(f"http://127.0.0.1:{port}", project_id, args.items, args.think_ms)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
